// SPDX-License-Identifier: Apache-2.0
// The Storage contract, run against both back-ends: SQLite in a temporary file and a real
// PostgreSQL 15 started for this process (one fresh database per test).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "ward/collector/storage/secrets.h"
#include "ward/collector/storage/storage.h"
#include "ward/testing/postgres_server.h"

namespace ward::collector {
namespace {

class SqliteBackend {
 public:
  static constexpr bool kShared = false;
  Result<std::unique_ptr<Storage>> Open() {
    if (dir_.empty()) {
      dir_ = std::filesystem::temp_directory_path() /
             ("ward-storage-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
      std::filesystem::create_directories(dir_);
    }
    return OpenSqliteStorage((dir_ / "collector.db").string());
  }
  ~SqliteBackend() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

class PostgresBackend {
 public:
  static constexpr bool kShared = true;
  static testing::PostgresServer* Server() {
    static std::unique_ptr<testing::PostgresServer> server = [] {
      auto s = testing::PostgresServer::Start();
      if (!s) {
        ADD_FAILURE() << s.error().ToString();
        return std::unique_ptr<testing::PostgresServer>();
      }
      return std::move(*s);
    }();
    return server.get();
  }
  Result<std::unique_ptr<Storage>> Open() {
    if (conninfo_.empty()) {
      testing::PostgresServer* server = Server();
      if (server == nullptr) {
        return UnavailableError("no test PostgreSQL");
      }
      WARD_ASSIGN_OR_RETURN(conninfo_,
                            server->CreateDatabase("contract_" + std::to_string(counter_++)));
    }
    return OpenPostgresStorage(conninfo_);
  }

 private:
  static inline int counter_ = 0;
  std::string conninfo_;
};

template <typename Backend>
class StorageContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = backend_.Open();
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->CreateGroup({"learners-under-18", std::string(64, 'a')}).has_value());
  }

  DeviceRecord Device(const std::string& id) {
    DeviceRecord d;
    d.id = id;
    d.group = "learners-under-18";
    d.hostname = "laptop-" + id;
    d.os = "debian 12";
    d.agent_version = "0.1.0";
    d.machine_hash = "mh-" + id;
    d.credential_hash = HashSecret("cred-" + id);
    d.enrolled_at_ms = 1000;
    d.last_seen_ms = 1000;
    return d;
  }

  static EventRow Event(const std::string& id, const std::string& body = "body") {
    EventRow e;
    e.id = id;
    e.device_time_ms = 42;
    e.priority = 2;
    e.kind = "usb";
    e.body = body;
    return e;
  }

  static EventRow ConcernEventRow(const std::string& id, const std::string& text) {
    EventRow e = Event(id);
    e.priority = 4;
    e.kind = "concern";
    e.concern =
        ConcernRow{"K7QF-2M9X", 1, text, false, true, "learner1", std::string("\x89PNG\0x", 6)};
    return e;
  }

  Backend backend_;
  std::unique_ptr<Storage> store_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "Sqlite" : "Postgres";
  }
};
TYPED_TEST_SUITE(StorageContractTest, Backends, BackendNames);

TYPED_TEST(StorageContractTest, AppliesAllMigrationsAndReopensAtTheSameVersion) {
  const int version = this->store_->SchemaVersion();
  EXPECT_GE(version, 2);
  this->store_.reset();
  auto again = this->backend_.Open();
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ((*again)->SchemaVersion(), version);
  auto group = (*again)->GetGroup("learners-under-18");
  ASSERT_TRUE(group.has_value());
}

TYPED_TEST(StorageContractTest, RejectsDuplicateGroupAndReportsUnknownGroup) {
  auto dup = this->store_->CreateGroup({"learners-under-18", "bb"});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  auto missing = this->store_->GetGroup("staff");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto groups = this->store_->ListGroups();
  ASSERT_TRUE(groups.has_value());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(groups->front().signing_public_key, std::string(64, 'a'));
}

TYPED_TEST(StorageContractTest, EnrolmentSecretNamesItsGroup) {
  const std::string hash = HashSecret("wes_secret");
  ASSERT_TRUE(this->store_->AddEnrolmentSecret(hash, "learners-under-18", 5).has_value());
  auto group = this->store_->GroupForEnrolmentSecret(hash);
  ASSERT_TRUE(group.has_value());
  EXPECT_EQ(*group, "learners-under-18");
  auto unknown = this->store_->GroupForEnrolmentSecret(HashSecret("guess"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  auto bad_group = this->store_->AddEnrolmentSecret(HashSecret("x"), "nope", 5);
  ASSERT_FALSE(bad_group.has_value());
  EXPECT_EQ(bad_group.error().code(), ErrorCode::kNotFound);
}

TYPED_TEST(StorageContractTest, StoresDevicesAndFindsThemByMachineHash) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d2")).has_value());
  auto d1 = this->store_->GetDevice("d1");
  ASSERT_TRUE(d1.has_value());
  EXPECT_EQ(d1->hostname, "laptop-d1");
  EXPECT_EQ(d1->credential_hash, HashSecret("cred-d1"));
  EXPECT_FALSE(d1->revoked);
  auto found = this->store_->FindDeviceByMachineHash("learners-under-18", "mh-d2");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, "d2");
  ASSERT_TRUE(this->store_->SetDeviceRevoked("d2", true).has_value());
  found = this->store_->FindDeviceByMachineHash("learners-under-18", "mh-d2");
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
  EXPECT_TRUE(this->store_->GetDevice("d2")->revoked);
  auto all = this->store_->ListDevices();
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(this->store_->GetDevice("d3").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->SetDeviceRevoked("d3", true).error().code(), ErrorCode::kNotFound);
}

TYPED_TEST(StorageContractTest, RecordsDeviceStatus) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  ASSERT_TRUE(
      this->store_->RecordDeviceStatus("d1", std::string("\x01\x00\x02", 3), 7, 9000).has_value());
  auto d = this->store_->GetDevice("d1");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->policy_version, 7u);
  EXPECT_EQ(d->last_seen_ms, 9000);
  EXPECT_EQ(d->last_status, std::string("\x01\x00\x02", 3));
}

TYPED_TEST(StorageContractTest, IngestDeduplicatesByEventId) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->Event("e1", std::string("\x00\x01", 2)), this->Event("e2")};
  auto first = this->store_->IngestEvents("d1", batch, 100);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->inserted, 2u);
  EXPECT_EQ(first->duplicates, 0u);
  batch.push_back(this->Event("e3"));
  auto second = this->store_->IngestEvents("d1", batch, 200);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->inserted, 1u);
  EXPECT_EQ(second->duplicates, 2u);
  EXPECT_EQ(*this->store_->CountEvents(), 3u);
  auto events = this->store_->ListEvents(0, 10);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].id, "e1");
  EXPECT_EQ((*events)[0].body, std::string("\x00\x01", 2));
  EXPECT_EQ((*events)[0].received_ms, 100);
  EXPECT_EQ((*events)[2].id, "e3");
  auto tail = this->store_->ListEvents((*events)[1].seq, 10);
  ASSERT_TRUE(tail.has_value());
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ(tail->front().id, "e3");
}

TYPED_TEST(StorageContractTest, RepeatedIdWithinOneBatchIsStoredOnce) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->Event("e1"), this->Event("e2"), this->Event("e1")};
  for (int i = 0; i < 300; ++i) {  // more than one multi-row insert on PostgreSQL
    batch.push_back(this->Event("bulk-" + std::to_string(i)));
  }
  auto r = this->store_->IngestEvents("d1", batch, 100);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->inserted, 302u);
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(*this->store_->CountEvents(), 302u);
}

TYPED_TEST(StorageContractTest, IngestForUnknownDeviceStoresNothing) {
  std::vector<EventRow> batch = {this->Event("e1")};
  auto r = this->store_->IngestEvents("ghost", batch, 100);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(*this->store_->CountEvents(), 0u);
}

TYPED_TEST(StorageContractTest, ConcernsGoToTheInboxOnceWithNotesAndStatus) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->ConcernEventRow("c1", "someone keeps messaging me"),
                                 this->Event("e2")};
  auto r = this->store_->IngestEvents("d1", batch, 100);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->new_concern_ids, std::vector<std::string>{"c1"});
  auto again = this->store_->IngestEvents("d1", batch, 200);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->new_concern_ids.empty());

  auto list = this->store_->ListConcerns({.status = {}, .since_ms = 0, .limit = 10});
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  const Concern& c = list->front();
  EXPECT_EQ(c.id, "c1");
  EXPECT_EQ(c.group, "learners-under-18");
  EXPECT_EQ(c.status, ConcernStatus::kNew);
  EXPECT_EQ(c.content.text, "someone keeps messaging me");
  EXPECT_TRUE(c.content.in_danger);
  EXPECT_EQ(c.content.screenshot_png, std::string("\x89PNG\0x", 6));

  ASSERT_TRUE(this->store_->SetConcernStatus("c1", ConcernStatus::kReferred).has_value());
  ASSERT_TRUE(this->store_->AddConcernNote({"c1", "Ms Patel", "called parent", 300}).has_value());
  ASSERT_TRUE(this->store_->AddConcernNote({"c1", "Ms Patel", "referred", 400}).has_value());
  EXPECT_EQ(this->store_->GetConcern("c1")->status, ConcernStatus::kReferred);
  auto notes = this->store_->ListConcernNotes("c1");
  ASSERT_TRUE(notes.has_value());
  ASSERT_EQ(notes->size(), 2u);
  EXPECT_EQ((*notes)[1].text, "referred");
  EXPECT_EQ(this->store_->AddConcernNote({"zz", "x", "y", 1}).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->GetConcern("zz").error().code(), ErrorCode::kNotFound);
}

TYPED_TEST(StorageContractTest, ConcernsAreFilteredByStatusAndTime) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> first = {this->ConcernEventRow("c1", "one")};
  std::vector<EventRow> second = {this->ConcernEventRow("c2", "two")};
  std::vector<EventRow> third = {this->ConcernEventRow("c3", "three")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", first, 1000).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d1", second, 2000).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d1", third, 3000).has_value());
  ASSERT_TRUE(this->store_->SetConcernStatus("c2", ConcernStatus::kInProgress).has_value());
  ASSERT_TRUE(this->store_->SetConcernStatus("c3", ConcernStatus::kInProgress).has_value());

  auto ids = [&](const ConcernFilter& f) {
    std::vector<std::string> out;
    auto list = this->store_->ListConcerns(f);
    EXPECT_TRUE(list.has_value());
    for (const Concern& c : list.value_or(std::vector<Concern>{})) {
      out.push_back(c.id);
    }
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<std::string>{"c3", "c2", "c1"}));
  EXPECT_EQ(ids({.status = ConcernStatus::kInProgress}), (std::vector<std::string>{"c3", "c2"}));
  EXPECT_EQ(ids({.status = ConcernStatus::kNew}), (std::vector<std::string>{"c1"}));
  EXPECT_EQ(ids({.status = {}, .since_ms = 2000}), (std::vector<std::string>{"c3", "c2"}));
  EXPECT_EQ(ids({.status = ConcernStatus::kInProgress, .since_ms = 2500}),
            (std::vector<std::string>{"c3"}));
  EXPECT_TRUE(ids({.status = ConcernStatus::kClosed}).empty());
  EXPECT_EQ(ids({.status = {}, .since_ms = 0, .limit = 1}), (std::vector<std::string>{"c3"}));
}

TYPED_TEST(StorageContractTest, ConcernAlertIsClaimedExactlyOnceAcrossStores) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->ConcernEventRow("c1", "please help")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  auto unalerted = this->store_->ListUnalertedConcerns(10);
  ASSERT_TRUE(unalerted.has_value());
  ASSERT_EQ(unalerted->size(), 1u);
  EXPECT_EQ(unalerted->front().id, "c1");

  // Two stores on one database (two collectors), racing for the same concern.
  auto other = this->backend_.Open();
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  std::atomic<int> wins{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < 8; ++i) {
    Storage* store = (i % 2 == 0) ? this->store_.get() : other->get();
    racers.emplace_back([store, i, &wins, &errors] {
      auto claimed = store->ClaimConcernAlert("c1", 200 + i);
      if (!claimed.has_value()) {
        errors.fetch_add(1);
      } else if (*claimed) {
        wins.fetch_add(1);
      }
    });
  }
  for (auto& t : racers) {
    t.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wins.load(), 1);
  EXPECT_FALSE(*this->store_->ClaimConcernAlert("c1", 300));
  EXPECT_TRUE(this->store_->ListUnalertedConcerns(10)->empty());
  EXPECT_EQ(this->store_->ClaimConcernAlert("zz", 300).error().code(), ErrorCode::kNotFound);
}

TYPED_TEST(StorageContractTest, PoliciesMustIncreaseInVersion) {
  EXPECT_FALSE(this->store_->LatestPolicy("learners-under-18")->has_value());
  ASSERT_TRUE(this->store_->PutPolicy({"learners-under-18", 3, std::string("s\0p3", 4), 10, "it"})
                  .has_value());
  auto same = this->store_->PutPolicy({"learners-under-18", 3, "x", 11, "it"});
  ASSERT_FALSE(same.has_value());
  EXPECT_EQ(same.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(this->store_->PutPolicy({"learners-under-18", 2, "x", 11, "it"}).error().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(this->store_->PutPolicy({"nope", 9, "x", 11, "it"}).error().code(),
            ErrorCode::kNotFound);
  ASSERT_TRUE(this->store_->PutPolicy({"learners-under-18", 4, "p4", 12, "it"}).has_value());
  auto latest = this->store_->LatestPolicy("learners-under-18");
  ASSERT_TRUE(latest.has_value());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->version, 4u);
  EXPECT_EQ((*latest)->signed_policy, "p4");
}

TYPED_TEST(StorageContractTest, StaffTokensAreFoundByHashAndCanBeRevoked) {
  const std::string hash = HashSecret("wst_token");
  ASSERT_TRUE(this->store_->CreateStaffToken("Ms Patel", StaffRole::kDsl, hash, 1).has_value());
  EXPECT_EQ(
      this->store_->CreateStaffToken("Ms Patel", StaffRole::kIt, HashSecret("o"), 1).error().code(),
      ErrorCode::kAlreadyExists);
  auto who = this->store_->FindStaffByTokenHash(hash);
  ASSERT_TRUE(who.has_value());
  EXPECT_EQ(who->name, "Ms Patel");
  EXPECT_EQ(who->role, StaffRole::kDsl);
  ASSERT_TRUE(this->store_->RevokeStaffToken("Ms Patel").has_value());
  EXPECT_EQ(this->store_->FindStaffByTokenHash(hash).error().code(), ErrorCode::kUnauthenticated);
}

TYPED_TEST(StorageContractTest, AuditLogKeepsEveryEntryNewestFirst) {
  ASSERT_TRUE(this->store_->AppendAudit({1, "Ms Patel", "concern.read", "c1"}).has_value());
  ASSERT_TRUE(this->store_->AppendAudit({2, "Mr Jones", "concern.list", ""}).has_value());
  auto log = this->store_->ListAudit(10);
  ASSERT_TRUE(log.has_value());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].staff_name, "Mr Jones");
  EXPECT_EQ((*log)[1].concern_id, "c1");
}

TYPED_TEST(StorageContractTest, ConcurrentIngestFromManyThreadsLosesNothing) {
  for (int d = 0; d < 4; ++d) {
    ASSERT_TRUE(this->store_->PutDevice(this->Device("d" + std::to_string(d))).has_value());
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int d = 0; d < 4; ++d) {
    threads.emplace_back([&, d] {
      for (int b = 0; b < 10; ++b) {
        std::vector<EventRow> batch;
        for (int i = 0; i < 20; ++i) {
          batch.push_back(this->Event("d" + std::to_string(d) + "-" + std::to_string(b * 20 + i)));
        }
        if (!this->store_->IngestEvents("d" + std::to_string(d), batch, 1).has_value()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*this->store_->CountEvents(), 800u);
}

TYPED_TEST(StorageContractTest, PolicyPushNotifiesOtherStoresSharingTheDatabase) {
  auto subscription_owner = this->backend_.Open();
  ASSERT_TRUE(subscription_owner.has_value());
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;
  auto sub = (*subscription_owner)->SubscribePolicyChanges([&](const std::string& group) {
    std::scoped_lock lock(mu);
    seen.push_back(group);
    cv.notify_all();
  });
  ASSERT_TRUE(sub.has_value()) << sub.error().ToString();
  if constexpr (!TypeParam::kShared) {
    EXPECT_EQ(sub->get(), nullptr);  // one file, one collector: nothing to listen to
    return;
  } else {
    ASSERT_NE(sub->get(), nullptr);
    ASSERT_TRUE(this->store_->PutPolicy({"learners-under-18", 1, "p1", 1, "it"}).has_value());
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !seen.empty(); }));
    EXPECT_EQ(seen.front(), "learners-under-18");
  }
}

}  // namespace
}  // namespace ward::collector
