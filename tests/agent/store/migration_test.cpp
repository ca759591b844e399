// SPDX-License-Identifier: Apache-2.0
// Opening a store written by every earlier schema version migrates it and keeps its data.
#include <gtest/gtest.h>

#include "internal/schema.h"
#include "internal/sqlite.h"
#include "store_test_util.h"
#include "ward/agent/store/event_store.h"
#include "ward/common/hex.h"
#include "ward/policy/data_inventory.h"

namespace ward::agent::store {
namespace {

using testing::FixedKey;
using testing::MakeEvent;
using testing::OptionsIn;
using testing::TempDir;

// Builds a store at schema `version` exactly as that version's agent left it.
void BuildAtVersion(const std::filesystem::path& path, int version, const v1::Event& event) {
  auto db = internal::Database::Open(path, true);
  ASSERT_TRUE(db) << db.error().ToString();
  ASSERT_TRUE(db->Exec(testing::KeyPragma()));
  ASSERT_TRUE(db->Exec("PRAGMA journal_mode = WAL"));
  for (int v = 0; v < version; ++v) {
    ASSERT_TRUE(db->Exec(std::string(internal::kMigrations[static_cast<std::size_t>(v)])));
  }
  ASSERT_TRUE(db->Exec("PRAGMA user_version = " + std::to_string(version)));
  if (version >= 1) {
    std::string payload = event.SerializeAsString();
    auto insert = db->Prepare(internal::kInsertEvent);
    ASSERT_TRUE(insert);
    insert->BindText(1, event.id())
        .Bind(2, event.priority())
        .Bind(3, std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count())
        .Bind(4, static_cast<std::int64_t>(payload.size()))
        .BindBlob(5, payload);
    ASSERT_TRUE(insert->Run());
  }
  if (version >= 2) {
    ASSERT_TRUE(
        db->Exec("INSERT INTO state(key, value, updated_ms) VALUES "
                 "('device.credential', 'cred-v" +
                 std::to_string(version) + "', 1)"));
  }
}

class EventStoreMigrationTest : public ::testing::TestWithParam<int> {};

TEST_P(EventStoreMigrationTest, MigratesToCurrentAndKeepsData) {
  const int from = GetParam();
  TempDir dir;
  StoreOptions options = OptionsIn(dir.path());
  auto event = MakeEvent(v1::PRIORITY_HIGH);
  BuildAtVersion(options.path, from, event);

  platform::FakeKeyProvider keys(FixedKey());
  OpenReport report;
  auto store = EventStore::Open(options, keys, &report);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_FALSE(report.quarantined);
  EXPECT_FALSE(report.created);

  auto lease = (*store)->Lease(10, 1 << 20);
  ASSERT_TRUE(lease);
  if (from >= 1) {
    ASSERT_EQ(lease->events.size(), 1u);
    EXPECT_EQ(lease->events[0].id(), event.id());
    EXPECT_EQ((*store)->GetStatus()->events_by_priority().at("HIGH"), 1u);
  } else {
    EXPECT_TRUE(lease->events.empty());
  }
  (*store)->Release(*lease);
  if (from >= 2) {
    EXPECT_EQ(*(*store)->GetState("device.credential"), "cred-v" + std::to_string(from));
  }
  // Everything of the newest schema works on the migrated store.
  ASSERT_TRUE((*store)->PutState("k", "v"));
  ASSERT_TRUE((*store)->Append(MakeEvent(v1::PRIORITY_CRITICAL)));
  EXPECT_EQ((*store)->GetStatus()->evicted_total(), 0u);
  EXPECT_TRUE((*store)->CheckIntegrity());
  store->reset();

  auto db = internal::Database::Open(options.path, false);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec(testing::KeyPragma()));
  EXPECT_EQ(*db->QueryInt("PRAGMA user_version"), internal::kSchemaVersion);
}

// docs/privacy.md's inventory (policy/data_inventory.cpp) names every column of the store: a
// migration that adds one fails here until the inventory says what it holds and why.
TEST(DataInventoryColumnsTest, AgentStoreHasNoColumnTheInventoryDoesNotName) {
  TempDir dir;
  StoreOptions options = OptionsIn(dir.path());
  BuildAtVersion(options.path, internal::kSchemaVersion, MakeEvent(v1::PRIORITY_NORMAL));
  auto db = internal::Database::Open(options.path, false);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec(testing::KeyPragma()));
  auto columns = db->Prepare(
      "SELECT m.name || '.' || p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p "
      "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1");
  ASSERT_TRUE(columns);
  std::vector<std::string> in_store;
  for (auto row = columns->Step(); row.has_value() && *row; row = columns->Step()) {
    in_store.emplace_back(columns->ColumnText(0));
  }
  ASSERT_FALSE(in_store.empty());
  EXPECT_EQ(in_store, policy::InventoryColumns(policy::DataHolder::kLaptop));
}

// Every version a shipped agent may have left behind: 0 (empty file) up to the one before now.
INSTANTIATE_TEST_SUITE_P(EveryEarlierVersion, EventStoreMigrationTest,
                         ::testing::Range(0, internal::kSchemaVersion), [](const auto& param_info) {
                           return "FromV" + std::to_string(param_info.param);
                         });

}  // namespace
}  // namespace ward::agent::store
