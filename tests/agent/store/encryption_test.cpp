// SPDX-License-Identifier: Apache-2.0
// The store's files hold no clear text, and the SQLCipher library in this binary cannot read them
// without the key or with another key, only with the key (every OS; the Linux command-line tools
// and the linkage check are in encryption_linux_test.cpp).
#include <gtest/gtest.h>

#include "internal/sqlite.h"
#include "store_test_util.h"
#include "ward/agent/store/event_store.h"

namespace ward::agent::store {
namespace {

using internal::Database;
using testing::FixedKey;
using testing::KeyPragma;
using testing::OptionsIn;
using testing::TempDir;

class StoreEncryptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform::FakeKeyProvider keys(FixedKey());
    testing::WriteMarkedStore(OptionsIn(dir_.path()), keys);
  }

  // Opens the store's file with `key_sql` ("" for none) and counts its events.
  Result<std::int64_t> CountEvents(const std::string& key_sql) {
    WARD_ASSIGN_OR_RETURN(Database db, Database::Open(dir_.path() / "events.db", false));
    if (!key_sql.empty()) {
      WARD_RETURN_IF_ERROR(db.Exec(key_sql));
    }
    return db.QueryInt("SELECT count(*) FROM events");
  }

  TempDir dir_;
};

TEST_F(StoreEncryptionTest, FilesOnDiskHoldNoClearText) {
  testing::ExpectNoClearTextIn(dir_.path());
}

TEST_F(StoreEncryptionTest, CannotBeReadWithoutTheKey) {
  auto count = CountEvents("");
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code(), ErrorCode::kDataLoss) << count.error().ToString();
}

TEST_F(StoreEncryptionTest, CannotBeReadWithAnotherKey) {
  auto count = CountEvents(KeyPragma(99));
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code(), ErrorCode::kDataLoss) << count.error().ToString();
}

TEST_F(StoreEncryptionTest, ReadsWithTheRawKey) {
  auto count = CountEvents(KeyPragma());
  ASSERT_TRUE(count) << count.error().ToString();
  EXPECT_EQ(*count, 20);
}

}  // namespace
}  // namespace ward::agent::store
