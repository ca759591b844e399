// SPDX-License-Identifier: Apache-2.0
// Key files, on every OS (key_files_posix.cpp, key_files_windows.cpp).
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "key_files_test.h"
#include "ward/policy/signing.h"
#include "ward/testing/temp_dir.h"

namespace ward::policy {
namespace {

using ::testing::HasSubstr;
using testing::NewKey;
using ward::testing::TempDir;

TEST(KeyFilesTest, KeysReadBackAndAreNeverOverwritten) {
  TempDir dir;
  const SigningKey key = NewKey();
  const auto private_path = dir.path() / "ward-signing.key";
  const auto public_path = dir.path() / "ward-signing.pub";
  const Status wrote_private = key.WriteFile(private_path);
  const Status wrote_public = key.public_key().WriteFile(public_path);
  ASSERT_TRUE(wrote_private.has_value()) << wrote_private.error().ToString();
  ASSERT_TRUE(wrote_public.has_value()) << wrote_public.error().ToString();

  auto read_private = SigningKey::ReadFile(private_path);
  ASSERT_TRUE(read_private.has_value()) << read_private.error().ToString();
  EXPECT_EQ(read_private->key_id(), key.key_id());
  auto read_public = PublicKey::ReadFile(public_path);
  ASSERT_TRUE(read_public.has_value()) << read_public.error().ToString();
  EXPECT_EQ(read_public->key_id(), key.key_id());

  const SigningKey other = NewKey();
  const Status overwrite = other.WriteFile(private_path);
  ASSERT_FALSE(overwrite.has_value());
  EXPECT_EQ(overwrite.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(SigningKey::ReadFile(private_path)->key_id(), key.key_id());
  const Status overwrite_public = other.public_key().WriteFile(public_path);
  ASSERT_FALSE(overwrite_public.has_value());
  EXPECT_EQ(overwrite_public.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(PublicKey::ReadFile(public_path)->key_id(), key.key_id());
}

TEST(KeyFilesTest, ReportsMissingAndMalformedKeyFiles) {
  TempDir dir;
  auto missing = PublicKey::ReadFile(dir.path() / "nope.pub");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("nope.pub"));
  auto missing_private = SigningKey::ReadFile(dir.path() / "nope.key");
  ASSERT_FALSE(missing_private.has_value());
  EXPECT_EQ(missing_private.error().code(), ErrorCode::kNotFound);

  const auto junk = dir.path() / "junk.pub";
  std::ofstream(junk) << "hello\n";
  auto malformed = PublicKey::ReadFile(junk);
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(malformed.error().message(), HasSubstr("junk.pub: not a public key PEM"));

  const auto big = dir.path() / "big.pub";
  std::ofstream(big) << std::string(kMaxKeyFileBytes + 1, 'A');
  auto too_big = PublicKey::ReadFile(big);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(too_big.error().message(), HasSubstr("a key file is at most"));

  auto directory = PublicKey::ReadFile(dir.path());
  ASSERT_FALSE(directory.has_value());
  EXPECT_THAT(directory.error().message(), HasSubstr("is not a regular file"));
}

TEST(KeyFilesTest, AFailedWriteLeavesNoFile) {
  TempDir dir;
  const auto path = dir.path() / "no-such-folder" / "ward-signing.key";
  const Status wrote = NewKey().WriteFile(path);
  ASSERT_FALSE(wrote.has_value());
  EXPECT_EQ(wrote.error().code(), ErrorCode::kNotFound) << wrote.error().ToString();
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace ward::policy
