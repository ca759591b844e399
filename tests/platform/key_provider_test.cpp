// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/key_provider.h"

#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <iterator>

#include <gtest/gtest.h>

#include "key_provider_test_util.h"
#include "ward/common/hex.h"
#include "ward/platform/fake_key_provider.h"

namespace ward::platform {
namespace {

using testing::ScratchDir;
using testing::WriteFile;
namespace fs = std::filesystem;

KeyProviderOptions OptionsFor(const fs::path& root) {
  KeyProviderOptions options;
  options.state_dir = root / "state";
  options.credentials_directory = root / "no-credentials";  // ignore the real environment
  return options;
}

unsigned Mode(const fs::path& p) {
  struct stat st{};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(LinuxKeyProviderTest, CreatesPrivateKeyFileOnFirstStart) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  auto provider = CreateKeyProvider(options);
  auto key = provider->GetOrCreateStoreKey();
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_TRUE(key->newly_created);
  EXPECT_FALSE(key->previous_key_missing);
  EXPECT_EQ(key->source, "key-file");
  fs::path file = options.state_dir / "store.key";
  EXPECT_EQ(Mode(options.state_dir), 0700u);
  EXPECT_EQ(Mode(file), 0600u);
  std::string bytes = ReadAll(file);
  ASSERT_EQ(bytes.size(), kStoreKeyBytes);
  EXPECT_EQ(std::string(key->bytes.begin(), key->bytes.end()), bytes);
  EXPECT_NE(bytes, std::string(kStoreKeyBytes, '\0'));
  // Nothing but the key is left behind (no temp file).
  EXPECT_EQ(std::distance(fs::directory_iterator(options.state_dir), fs::directory_iterator()), 1);
}

TEST(LinuxKeyProviderTest, ReturnsTheSameKeyLater) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  auto first = CreateKeyProvider(options)->GetOrCreateStoreKey();
  auto second = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(second->newly_created);
  EXPECT_EQ(first->bytes, second->bytes);
}

TEST(LinuxKeyProviderTest, NewKeysAreRandom) {
  ScratchDir a;
  ScratchDir b;
  auto ka = CreateKeyProvider(OptionsFor(a.path()))->GetOrCreateStoreKey();
  auto kb = CreateKeyProvider(OptionsFor(b.path()))->GetOrCreateStoreKey();
  ASSERT_TRUE(ka && kb);
  EXPECT_NE(ka->bytes, kb->bytes);
}

TEST(LinuxKeyProviderTest, RefusesKeyFileOthersCanRead) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  ASSERT_TRUE(CreateKeyProvider(options)->GetOrCreateStoreKey());
  fs::permissions(options.state_dir / "store.key", fs::perms::owner_read | fs::perms::owner_write |
                                                       fs::perms::group_read |
                                                       fs::perms::others_read);
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(key.error().message().find("0644"), std::string::npos) << key.error().message();
}

TEST(LinuxKeyProviderTest, RefusesStateDirectoryOthersCanEnter) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  fs::create_directory(options.state_dir);
  fs::permissions(options.state_dir, fs::perms::owner_all | fs::perms::group_read |
                                         fs::perms::group_exec | fs::perms::others_read |
                                         fs::perms::others_exec);
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(fs::exists(options.state_dir / "store.key"));
}

TEST(LinuxKeyProviderTest, RefusesKeyFileOfWrongLength) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  ASSERT_TRUE(CreateKeyProvider(options)->GetOrCreateStoreKey());
  WriteFile(options.state_dir / "store.key", std::string(16, 'k'));
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(key.error().message().find("16 bytes"), std::string::npos) << key.error().message();
  // Refused, not replaced: IT can still inspect it.
  EXPECT_EQ(ReadAll(options.state_dir / "store.key"), std::string(16, 'k'));
}

TEST(LinuxKeyProviderTest, RefusesSymlinkedKeyFile) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  fs::create_directory(options.state_dir);
  fs::permissions(options.state_dir, fs::perms::owner_all);
  WriteFile(root.path() / "elsewhere", std::string(kStoreKeyBytes, 'e'));
  fs::create_symlink(root.path() / "elsewhere", options.state_dir / "store.key");
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  EXPECT_FALSE(key);
}

TEST(LinuxKeyProviderTest, ReportsMissingKeyWhenTheStoreExists) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  options.key_expected_if_exists = root.path() / "events.db";
  WriteFile(options.key_expected_if_exists, "an existing store");
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->newly_created);
  EXPECT_TRUE(key->previous_key_missing);
  auto again = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->previous_key_missing);
}

TEST(LinuxKeyProviderTest, IgnoresATempFileLeftByACrash) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  fs::create_directory(options.state_dir);
  fs::permissions(options.state_dir, fs::perms::owner_all);
  WriteFile(options.state_dir / ".store.key.tmp", "half a ke");
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(ReadAll(options.state_dir / "store.key").size(), kStoreKeyBytes);
  EXPECT_FALSE(fs::exists(options.state_dir / ".store.key.tmp"));
}

TEST(LinuxKeyProviderTest, UsesSystemdCredentialRawOrHex) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  options.credentials_directory = root.path() / "creds";
  fs::create_directory(*options.credentials_directory);
  std::string raw(kStoreKeyBytes, '\x11');
  WriteFile(*options.credentials_directory / "ward-store-key", raw);
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->source, "systemd-credential");
  EXPECT_FALSE(key->newly_created);
  EXPECT_EQ(std::string(key->bytes.begin(), key->bytes.end()), raw);
  EXPECT_FALSE(fs::exists(options.state_dir / "store.key"));

  std::array<std::uint8_t, kStoreKeyBytes> expected{};
  expected.fill(0xab);
  WriteFile(*options.credentials_directory / "ward-store-key", HexEncode(expected) + "\n");
  auto hex = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_TRUE(hex) << hex.error().ToString();
  EXPECT_EQ(hex->bytes, expected);
}

TEST(LinuxKeyProviderTest, RefusesCredentialOfWrongLength) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  options.credentials_directory = root.path() / "creds";
  fs::create_directory(*options.credentials_directory);
  WriteFile(*options.credentials_directory / "ward-store-key", "short");
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), ErrorCode::kDataLoss);
}

TEST(LinuxKeyProviderTest, FallsBackToKeyFileWithoutTheCredential) {
  ScratchDir root;
  auto options = OptionsFor(root.path());
  options.credentials_directory = root.path() / "creds";
  fs::create_directory(*options.credentials_directory);
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_TRUE(key);
  EXPECT_EQ(key->source, "key-file");
}

TEST(FakeKeyProviderTest, CreatesOnceThenReportsALostKey) {
  FakeKeyProvider keys;
  auto first = keys.GetOrCreateStoreKey();
  auto second = keys.GetOrCreateStoreKey();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->newly_created);
  EXPECT_FALSE(second->newly_created);
  EXPECT_EQ(first->bytes, second->bytes);
  keys.LoseKey();
  auto third = keys.GetOrCreateStoreKey();
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->newly_created);
  EXPECT_TRUE(third->previous_key_missing);
  EXPECT_NE(third->bytes, first->bytes);
  keys.FailWith(Error(ErrorCode::kUnavailable, "no TPM"));
  EXPECT_FALSE(keys.GetOrCreateStoreKey());
  EXPECT_EQ(keys.calls(), 4);
}

}  // namespace
}  // namespace ward::platform

namespace ward::platform {
namespace {

// The contract every KeyProvider keeps, run against the fake and the native implementation so
// the two cannot drift apart.
struct ProviderUnderTest {
  const char* name;
  std::function<std::unique_ptr<KeyProvider>(const std::filesystem::path&)> make;
};

class KeyProviderContractTest : public ::testing::TestWithParam<ProviderUnderTest> {};

TEST_P(KeyProviderContractTest, CreatesOnceThenReturnsTheSameKey) {
  testing::ScratchDir root;
  auto provider = GetParam().make(root.path());
  auto first = provider->GetOrCreateStoreKey();
  auto second = provider->GetOrCreateStoreKey();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->newly_created);
  EXPECT_FALSE(first->previous_key_missing);
  EXPECT_FALSE(second->newly_created);
  EXPECT_EQ(first->bytes, second->bytes);
  EXPECT_FALSE(first->source.empty());
}

INSTANTIATE_TEST_SUITE_P(FakeAndNative, KeyProviderContractTest,
                         ::testing::Values(
                             ProviderUnderTest{
                                 "Fake",
                                 [](const std::filesystem::path&) -> std::unique_ptr<KeyProvider> {
                                   return std::make_unique<FakeKeyProvider>();
                                 }},
                             ProviderUnderTest{"Native",
                                               [](const std::filesystem::path& root) {
                                                 KeyProviderOptions options;
                                                 options.state_dir = root / "state";
                                                 options.credentials_directory = root / "none";
                                                 return CreateKeyProvider(options);
                                               }}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace ward::platform
