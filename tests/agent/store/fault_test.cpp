// SPDX-License-Identifier: Apache-2.0
// Faults at open: wrong key, corrupt file, lost key, newer schema.
#include <fstream>

#include <gtest/gtest.h>

#include "internal/sqlite.h"
#include "store_test_util.h"
#include "ward/agent/store/event_store.h"
#include "ward/common/hex.h"

namespace ward::agent::store {
namespace {

using testing::FixedKey;
using testing::MakeEvent;
using testing::OptionsIn;
using testing::TempDir;
namespace fs = std::filesystem;

// Writes a store with `n` events and closes it.
void WriteStore(const StoreOptions& options, platform::KeyProvider& keys, int n) {
  auto store = EventStore::Open(options, keys);
  ASSERT_TRUE(store) << store.error().ToString();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE((*store)->Append(MakeEvent(v1::PRIORITY_NORMAL, 300)));
  }
  ASSERT_TRUE((*store)->Flush());
}

std::vector<v1::AgentEvent::Kind> AgentKinds(EventStore& store) {
  auto lease = store.Lease(1000, 1u << 30);
  EXPECT_TRUE(lease);
  std::vector<v1::AgentEvent::Kind> kinds;
  for (const auto& e : lease->events) {
    if (e.has_agent()) {
      EXPECT_EQ(e.priority(), v1::PRIORITY_CRITICAL);
      kinds.push_back(e.agent().kind());
    }
  }
  store.Release(*lease);
  return kinds;
}

std::vector<fs::path> Quarantined(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with("events.db.quarantined-") &&
        !entry.path().string().ends_with("-wal")) {
      out.push_back(entry.path());
    }
  }
  return out;
}

TEST(EventStoreFaultTest, WrongKeyQuarantinesAndStartsFreshWithTamperEvents) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey(1));
  WriteStore(OptionsIn(dir.path()), keys, 10);
  auto original_size = fs::file_size(dir.path() / "events.db");

  keys.SetKey(FixedKey(2));
  OpenReport report;
  auto store = EventStore::Open(OptionsIn(dir.path()), keys, &report);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_TRUE(report.quarantined);
  EXPECT_TRUE(report.created);
  EXPECT_NE(report.reason.find("cannot decrypt"), std::string::npos) << report.reason;
  auto status = (*store)->GetStatus();
  EXPECT_EQ(status->events_by_priority().at("NORMAL"), 0u);
  EXPECT_EQ(AgentKinds(**store),
            (std::vector<v1::AgentEvent::Kind>{v1::AgentEvent::KIND_STORE_RESET,
                                               v1::AgentEvent::KIND_TAMPER}));
  // The old store is kept for IT, intact, and still opens with the old key.
  auto kept = Quarantined(dir.path());
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(report.quarantined_to, kept[0]);
  EXPECT_GE(fs::file_size(kept[0]), original_size);
  store->reset();
  fs::path check_dir = dir.path() / "check";
  fs::create_directory(check_dir);
  fs::copy_file(kept[0], check_dir / "events.db");
  if (fs::exists(kept[0].string() + "-wal")) {
    fs::copy_file(kept[0].string() + "-wal", check_dir / "events.db-wal");
  }
  platform::FakeKeyProvider old_keys(FixedKey(1));
  auto old = EventStore::Open(OptionsIn(check_dir), old_keys);
  ASSERT_TRUE(old);
  EXPECT_EQ((*old)->GetStatus()->events_by_priority().at("NORMAL"), 10u);
}

TEST(EventStoreFaultTest, CorruptFileIsQuarantined) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  WriteStore(OptionsIn(dir.path()), keys, 200);
  fs::path db = dir.path() / "events.db";
  ASSERT_FALSE(fs::exists(dir.path() / "events.db-wal"));  // checkpointed at close
  ASSERT_GT(fs::file_size(db), 8u * 4096u);
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5 * 4096 + 100);
    std::string junk(64, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  OpenReport report;
  auto store = EventStore::Open(OptionsIn(dir.path()), keys, &report);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_TRUE(report.quarantined);
  EXPECT_EQ(Quarantined(dir.path()).size(), 1u);
  auto kinds = AgentKinds(**store);
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds[0], v1::AgentEvent::KIND_STORE_RESET);
  EXPECT_TRUE((*store)->CheckIntegrity());
}

TEST(EventStoreFaultTest, GarbageFileIsQuarantined) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  {
    std::ofstream f(dir.path() / "events.db", std::ios::binary);
    f << std::string(10000, 'g');
  }
  OpenReport report;
  auto store = EventStore::Open(OptionsIn(dir.path()), keys, &report);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_TRUE(report.quarantined);
}

TEST(EventStoreFaultTest, LostKeyStartsFreshStoreWithTamperEventOnce) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  WriteStore(OptionsIn(dir.path()), keys, 5);
  keys.LoseKey();
  OpenReport report;
  {
    auto store = EventStore::Open(OptionsIn(dir.path()), keys, &report);
    ASSERT_TRUE(store) << store.error().ToString();
    EXPECT_TRUE(report.quarantined);
    EXPECT_NE(report.reason.find("key was missing"), std::string::npos) << report.reason;
    EXPECT_EQ(AgentKinds(**store),
              (std::vector<v1::AgentEvent::Kind>{v1::AgentEvent::KIND_STORE_RESET,
                                                 v1::AgentEvent::KIND_TAMPER}));
  }
  // Not a loop: the next start opens the fresh store normally.
  OpenReport second;
  auto store = EventStore::Open(OptionsIn(dir.path()), keys, &second);
  ASSERT_TRUE(store);
  EXPECT_FALSE(second.quarantined);
  EXPECT_FALSE(second.created);
  EXPECT_EQ(AgentKinds(**store).size(), 2u);
  EXPECT_EQ(Quarantined(dir.path()).size(), 1u);
}

// The same with the platform's own key provider: the key file is deleted between two starts.
TEST(EventStoreFaultTest, DeletedKeyFileStartsFreshStoreWithTamperEvent) {
  TempDir dir;
  platform::KeyProviderOptions key_options;
  key_options.state_dir = dir.path() / "state";
  key_options.credentials_directory = dir.path() / "no-credentials";
  StoreOptions options;
  options.path = key_options.state_dir / "events.db";
  key_options.key_expected_if_exists = options.path;
  {
    auto keys = platform::CreateKeyProvider(key_options);
    WriteStore(options, *keys, 3);
  }
  fs::remove(key_options.state_dir / "store.key");
  auto keys = platform::CreateKeyProvider(key_options);
  OpenReport report;
  auto store = EventStore::Open(options, *keys, &report);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_TRUE(report.quarantined);
  EXPECT_TRUE(report.key_source.ends_with("key-file")) << report.key_source;
  EXPECT_EQ(AgentKinds(**store),
            (std::vector<v1::AgentEvent::Kind>{v1::AgentEvent::KIND_STORE_RESET,
                                               v1::AgentEvent::KIND_TAMPER}));
  EXPECT_EQ((*store)->GetStatus()->events_by_priority().at("NORMAL"), 0u);
  store->reset();
  // The next start reads the new key file and the fresh store: no loop.
  OpenReport second;
  auto again = EventStore::Open(options, *platform::CreateKeyProvider(key_options), &second);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(second.quarantined);
}

TEST(EventStoreFaultTest, KeyProviderErrorIsReturnedAndNothingIsMoved) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  WriteStore(OptionsIn(dir.path()), keys, 1);
  keys.FailWith(Error(ErrorCode::kPermissionDenied, "key file has mode 0644"));
  auto store = EventStore::Open(OptionsIn(dir.path()), keys);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_TRUE(Quarantined(dir.path()).empty());
}

TEST(EventStoreFaultTest, NewerSchemaIsRefusedAndLeftUntouched) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  WriteStore(OptionsIn(dir.path()), keys, 3);
  {
    auto db = internal::Database::Open(dir.path() / "events.db", false);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->Exec(testing::KeyPragma()));
    ASSERT_TRUE(db->Exec("PRAGMA user_version = 99"));
  }
  auto store = EventStore::Open(OptionsIn(dir.path()), keys);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(Quarantined(dir.path()).empty());
}

TEST(EventStoreFaultTest, KeepsOnlyTheNewestQuarantinedStores) {
  TempDir dir;
  ManualClock clock;
  platform::FakeKeyProvider keys(FixedKey());
  StoreOptions options = OptionsIn(dir.path(), &clock);
  options.max_quarantined = 2;
  for (int i = 0; i < 4; ++i) {
    {
      std::ofstream f(dir.path() / "events.db", std::ios::binary | std::ios::trunc);
      f << std::string(5000, static_cast<char>('a' + i));
    }
    auto store = EventStore::Open(options, keys);
    ASSERT_TRUE(store);
    store->reset();
    clock.Advance(std::chrono::seconds(5));
  }
  EXPECT_EQ(Quarantined(dir.path()).size(), 2u);
}

}  // namespace
}  // namespace ward::agent::store
