// SPDX-License-Identifier: Apache-2.0
// Ownership checks need a second user, so root.
#include <unistd.h>

#include <gtest/gtest.h>

#include "key_provider_test_util.h"
#include "ward/platform/key_provider.h"
#include "ward/testing/require.h"

namespace ward::platform {
namespace {

constexpr uid_t kNobody = 65534;

TEST(LinuxKeyProviderRootTest, RefusesKeyFileOwnedByAnotherUser) {
  WARD_REQUIRE_ROOT();
  testing::ScratchDir root;
  KeyProviderOptions options;
  options.state_dir = root.path() / "state";
  options.credentials_directory = root.path() / "none";
  ASSERT_TRUE(CreateKeyProvider(options)->GetOrCreateStoreKey());
  ASSERT_EQ(::chown((options.state_dir / "store.key").c_str(), kNobody, kNobody), 0);
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(key.error().message().find("owned by uid 65534"), std::string::npos)
      << key.error().message();
}

TEST(LinuxKeyProviderRootTest, RefusesStateDirectoryOwnedByAnotherUser) {
  WARD_REQUIRE_ROOT();
  testing::ScratchDir root;
  KeyProviderOptions options;
  options.state_dir = root.path() / "state";
  options.credentials_directory = root.path() / "none";
  std::filesystem::create_directory(options.state_dir);
  std::filesystem::permissions(options.state_dir, std::filesystem::perms::owner_all);
  ASSERT_EQ(::chown(options.state_dir.c_str(), kNobody, kNobody), 0);
  auto key = CreateKeyProvider(options)->GetOrCreateStoreKey();
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code(), ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace ward::platform
