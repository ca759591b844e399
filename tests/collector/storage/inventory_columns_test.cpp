// SPDX-License-Identifier: Apache-2.0
// docs/privacy.md's inventory (policy/data_inventory.cpp) names every column the collector's
// store has, on both back-ends: a migration that adds a column fails here until the inventory
// says what it holds, why, for how long and who sees it.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include "ward/collector/storage/storage.h"
#include "ward/policy/data_inventory.h"
#include "ward/testing/postgres_server.h"
#include "ward/testing/temp_dir.h"

namespace ward::collector {
namespace {

using namespace Poco::Data::Keywords;

std::vector<std::string> CollectorInventory() {
  return policy::InventoryColumns(policy::DataHolder::kCollector);
}

TEST(DataInventoryColumnsTest, SqliteStoreHasNoColumnTheInventoryDoesNotName) {
  ward::testing::TempDir dir;
  const std::string path = (dir.path() / "collector.db").string();
  {
    auto store = OpenSqliteStorage(path);  // creates and migrates to the newest schema
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
  }
  Poco::Data::Session s("SQLite", path);
  std::vector<std::string> columns;
  s << "SELECT m.name || '.' || p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p "
       "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1",
      into(columns), now;
  ASSERT_FALSE(columns.empty());
  EXPECT_EQ(columns, CollectorInventory());
}

TEST(DataInventoryColumnsTest, PostgresStoreHasNoColumnTheInventoryDoesNotName) {
  auto server = ward::testing::PostgresServer::Start();
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  auto conninfo = (*server)->CreateDatabase("inventory");
  ASSERT_TRUE(conninfo.has_value()) << conninfo.error().ToString();
  {
    auto store = OpenPostgresStorage(*conninfo);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
  }
  Poco::Data::Session s("PostgreSQL", *conninfo);
  std::vector<std::string> columns;
  // COLLATE "C": the same byte order as SQLite's and std::sort's.
  try {
    s << "SELECT c FROM (SELECT CAST(table_name AS TEXT) || '.' || CAST(column_name AS TEXT) "
         "AS c FROM information_schema.columns WHERE table_schema = current_schema()) AS t "
         "ORDER BY c COLLATE \"C\"",
        into(columns), now;
  } catch (const Poco::Exception& e) {
    FAIL() << e.displayText();
  }
  ASSERT_FALSE(columns.empty());
  EXPECT_EQ(columns, CollectorInventory());
}

}  // namespace
}  // namespace ward::collector
