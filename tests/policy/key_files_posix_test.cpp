// SPDX-License-Identifier: Apache-2.0
// Key file modes on POSIX systems (key_files_posix.cpp).
#include <sys/stat.h>

#include <filesystem>

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

unsigned ModeOf(const std::filesystem::path& path) {
  struct stat info{};
  EXPECT_EQ(::stat(path.c_str(), &info), 0);
  return info.st_mode & 0777u;
}

TEST(KeyFilesPosixTest, WritesThePrivateKeyWithMode0600AndThePublicKeyWith0644) {
  TempDir dir;
  const SigningKey key = NewKey();
  const auto private_path = dir.path() / "ward-signing.key";
  const auto public_path = dir.path() / "ward-signing.pub";
  const mode_t old_umask = ::umask(0);  // a careless umask must not widen the private key
  const Status wrote_private = key.WriteFile(private_path);
  const Status wrote_public = key.public_key().WriteFile(public_path);
  ::umask(old_umask);
  ASSERT_TRUE(wrote_private.has_value()) << wrote_private.error().ToString();
  ASSERT_TRUE(wrote_public.has_value()) << wrote_public.error().ToString();
  EXPECT_EQ(ModeOf(private_path), 0600u);
  EXPECT_EQ(ModeOf(public_path), 0644u);
}

TEST(KeyFilesPosixTest, RefusesAPrivateKeyOtherUsersCanRead) {
  TempDir dir;
  const auto path = dir.path() / "shared.key";
  ASSERT_TRUE(NewKey().WriteFile(path).has_value());
  std::filesystem::permissions(path, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  auto key = SigningKey::ReadFile(path);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(key.error().message(), HasSubstr("(mode 0640); run: chmod 600"));
}

}  // namespace
}  // namespace ward::policy
