// SPDX-License-Identifier: Apache-2.0
// POSIX file modes of the store (internal/os_posix.cpp). On Windows the store's directory gets a
// protected access list instead, which the DPAPI key provider checks (platform_key_test.cpp).
#include <filesystem>

#include <gtest/gtest.h>

#include "store_test_util.h"
#include "ward/agent/store/event_store.h"

namespace ward::agent::store {
namespace {

using testing::FixedKey;
using testing::OptionsIn;
using testing::TempDir;
namespace fs = std::filesystem;

TEST(EventStorePosixTest, CreatesFreshStoreWithPrivateFile) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  OpenReport report;
  auto store = EventStore::Open(OptionsIn(dir.path()), keys, &report);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_TRUE(report.created);
  EXPECT_FALSE(report.quarantined);
  auto perms = fs::status(dir.path() / "events.db").permissions();
  EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
}

TEST(EventStorePosixTest, CreatesAMissingDirectoryPrivate) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = EventStore::Open(OptionsIn(dir.path() / "state"), keys);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_EQ(fs::status(dir.path() / "state").permissions(), fs::perms::owner_all);
}

}  // namespace
}  // namespace ward::agent::store
