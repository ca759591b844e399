// SPDX-License-Identifier: Apache-2.0
// ward-collector vacuum (VacuumStore) on real SQLite files: an older store switches to
// incremental auto-vacuum once, and then gives deleted space back; a store another process has
// open is refused.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include "ward/collector/storage/secrets.h"
#include "ward/collector/storage/storage.h"

namespace ward::collector {
namespace {

using namespace Poco::Data::Keywords;

class VacuumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ward-vacuum-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "collector.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A store as a release before incremental auto-vacuum left it (auto_vacuum = NONE), holding
  // `events` events of 2 KiB received at time 1.
  void MakeOldStore(int events) {
    Poco::Data::SQLite::Connector::registerConnector();
    {
      Poco::Data::Session s("SQLite", path_);
      s << "PRAGMA auto_vacuum=NONE", now;
      s << "CREATE TABLE made_before_incremental_vacuum(x INTEGER)", now;
    }
    auto store = OpenSqliteStorage(path_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    ASSERT_EQ(Pragma("auto_vacuum"), 0);
    ASSERT_TRUE((*store)->CreateGroup({"g", std::string(64, 'a')}).has_value());
    DeviceRecord d;
    d.id = "d1";
    d.group = "g";
    d.credential_hash = HashSecret("c");
    ASSERT_TRUE((*store)->PutDevice(d).has_value());
    std::vector<EventRow> rows;
    for (int i = 0; i < events; ++i) {
      rows.push_back(EventRow{.id = "e" + std::to_string(i),
                              .device_time_ms = 1,
                              .priority = 2,
                              .kind = "usb",
                              .body = std::string(2048, static_cast<char>('a' + i % 26)),
                              .concern = std::nullopt});
    }
    ASSERT_TRUE((*store)->IngestEvents("d1", rows, 1).has_value());
  }

  std::int64_t Pragma(const std::string& name) {
    Poco::Data::Session s("SQLite", path_);
    std::int64_t v = -1;
    s << "PRAGMA " + name, into(v), now;
    return v;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(VacuumTest, SwitchesAnOlderStoreOnceThenDeletedSpaceIsGivenBack) {
  MakeOldStore(2000);
  {
    // Before: the retention job cannot give space back.
    auto store = OpenSqliteStorage(path_);
    ASSERT_TRUE(store.has_value());
    auto reclaimed = (*store)->ReclaimFreePages();
    ASSERT_TRUE(reclaimed.has_value());
    EXPECT_FALSE(*reclaimed);
  }
  auto report = VacuumStore("sqlite:" + path_);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->switched);
  EXPECT_FALSE(report->postgres);
  EXPECT_GT(report->pages_before, 1000);
  EXPECT_EQ(Pragma("auto_vacuum"), 2);
  const std::int64_t full = Pragma("page_count");
  {
    auto store = OpenSqliteStorage(path_);
    ASSERT_TRUE(store.has_value());
    RetentionLimits limits;
    limits.telemetry_ms = 1;
    std::uint64_t deleted = 0;
    for (int i = 0; i < 10; ++i) {
      auto counts = (*store)->PurgeExpired(1000, limits, 1000);
      ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
      deleted += counts->telemetry;
    }
    EXPECT_EQ(deleted, 2000u);
    auto reclaimed = (*store)->ReclaimFreePages();
    ASSERT_TRUE(reclaimed.has_value());
    EXPECT_TRUE(*reclaimed);
  }
  EXPECT_LT(Pragma("page_count") * 4, full) << "the freed pages went back to the disk";
  // Again: nothing to switch.
  auto again = VacuumStore("sqlite:" + path_);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_FALSE(again->switched);
}

TEST_F(VacuumTest, RefusesWhileAnotherProcessHasTheStoreOpen) {
  MakeOldStore(10);
  int ready[2];
  int done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Another collector: a connection to the store, open until told to go.
    sqlite3* db = nullptr;
    int rc = sqlite3_open(path_.c_str(), &db);
    rc |= sqlite3_exec(db, "SELECT COUNT(*) FROM events", nullptr, nullptr, nullptr);
    char byte = rc == SQLITE_OK ? 'y' : 'n';
    (void)!::write(ready[1], &byte, 1);
    (void)!::read(done[0], &byte, 1);
    sqlite3_close(db);
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  EXPECT_EQ(byte, 'y');
  auto refused = VacuumStore("sqlite:" + path_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("process " + std::to_string(child)), std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("Stop the collector first"), std::string::npos);
  EXPECT_EQ(Pragma("auto_vacuum"), 0);
  ASSERT_EQ(::write(done[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) {
    ::close(fd);
  }
  auto report = VacuumStore("sqlite:" + path_);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->switched);
}

TEST_F(VacuumTest, PostgresNeedsNothingAndAMissingFileIsNamed) {
  auto pg = VacuumStore("postgresql:host=/nonexistent dbname=ward");
  ASSERT_TRUE(pg.has_value());
  EXPECT_TRUE(pg->postgres);
  auto missing = VacuumStore("sqlite:" + (dir_ / "nope.db").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("nope.db"), std::string::npos);
}

}  // namespace
}  // namespace ward::collector
