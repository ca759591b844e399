// SPDX-License-Identifier: Apache-2.0
// The store with this OS's own key provider (Linux: the key file; Windows: the DPAPI-protected key
// file, run under Wine in CI): events written, read back by a new provider and store, no clear
// text in the files, and only that key opens the database.
#include <gtest/gtest.h>

#include "internal/sqlite.h"
#include "store_test_util.h"
#include "ward/agent/store/event_store.h"
#include "ward/common/hex.h"

namespace ward::agent::store {
namespace {

using internal::Database;
using testing::FixedKey;
using testing::kPlainMarker;
using testing::TempDir;
namespace fs = std::filesystem;

class StorePlatformKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The store makes the state directory (platform::CreatePrivateDirectory) and the key
    // provider then checks it: the two agree on what "private" means.
    key_options_.state_dir = dir_.path() / "state";
    key_options_.credentials_directory = dir_.path() / "no-credentials";
    options_.path = key_options_.state_dir / "events.db";
    key_options_.key_expected_if_exists = options_.path;
    auto keys = platform::CreateKeyProvider(key_options_);
    testing::WriteMarkedStore(options_, *keys);
  }

  // Opens the database file with `key_sql` ("" for none) and counts its events.
  Result<std::int64_t> CountEvents(const std::string& key_sql) {
    WARD_ASSIGN_OR_RETURN(Database db, Database::Open(options_.path, false));
    if (!key_sql.empty()) {
      WARD_RETURN_IF_ERROR(db.Exec(key_sql));
    }
    return db.QueryInt("SELECT count(*) FROM events");
  }

  TempDir dir_;
  platform::KeyProviderOptions key_options_;
  StoreOptions options_;
};

TEST_F(StorePlatformKeyTest, ANewProviderAndStoreReadTheEventsBack) {
  auto keys = platform::CreateKeyProvider(key_options_);
  OpenReport report;
  auto store = EventStore::Open(options_, *keys, &report);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_FALSE(report.created);
  EXPECT_FALSE(report.quarantined) << report.reason;
  EXPECT_FALSE(report.key_source.empty());
  auto lease = (*store)->Lease(100, 1u << 20);
  ASSERT_TRUE(lease) << lease.error().ToString();
  ASSERT_EQ(lease->events.size(), 20u);
  EXPECT_TRUE(lease->events[0].has_concern());
  EXPECT_NE(lease->events[0].concern().text().find(kPlainMarker), std::string::npos);
  EXPECT_EQ(*(*store)->GetState("device.credential"), testing::kSecretMarker);
}

TEST_F(StorePlatformKeyTest, FilesHoldNoClearText) {
  testing::ExpectNoClearTextIn(key_options_.state_dir);
}

TEST_F(StorePlatformKeyTest, OnlyTheProvidersKeyOpensTheDatabase) {
  auto none = CountEvents("");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kDataLoss) << none.error().ToString();
  auto other = CountEvents(testing::KeyPragma(99));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kDataLoss) << other.error().ToString();

  auto key = platform::CreateKeyProvider(key_options_)->GetOrCreateStoreKey();
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_FALSE(key->newly_created);
  auto count = CountEvents("PRAGMA key = \"x'" + HexEncode(key->bytes) + "'\";");
  ASSERT_TRUE(count) << count.error().ToString();
  EXPECT_EQ(*count, 20);
}

TEST_F(StorePlatformKeyTest, TheStoreWillNotOpenWithAnotherKey) {
  platform::FakeKeyProvider other(FixedKey(3));
  OpenReport report;
  auto store = EventStore::Open(options_, other, &report);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_TRUE(report.quarantined);  // a fresh store; the old one kept aside, still encrypted
  EXPECT_TRUE(fs::exists(report.quarantined_to));
}

}  // namespace
}  // namespace ward::agent::store
