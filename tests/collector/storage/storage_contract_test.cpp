// SPDX-License-Identifier: Apache-2.0
// The Storage contract, run against both back-ends: SQLite in a temporary file and a real
// PostgreSQL 15 started for this process (one fresh database per test).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <Poco/Data/LOB.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include "internal/migrations.h"
#include "ward/collector/storage/secrets.h"
#include "ward/collector/storage/storage.h"
#include "ward/testing/postgres_server.h"
#include "ward/v1/event.pb.h"

namespace ward::collector {
namespace {

class SqliteBackend {
 public:
  static constexpr bool kShared = false;
  static constexpr Dialect kDialect = Dialect::kSqlite;
  static constexpr const char* kConnector = "SQLite";
  // A new, empty database nobody has opened yet, and how to open it as a Storage.
  Result<std::string> NewLocation() {
    WARD_RETURN_IF_ERROR(Open());  // makes the directory (and registers the connectors)
    return (dir_ / ("fresh-" + std::to_string(counter_++) + ".db")).string();
  }
  static Result<std::unique_ptr<Storage>> OpenAt(const std::string& location) {
    return OpenSqliteStorage(location);
  }
  Result<std::unique_ptr<Storage>> Open() {
    if (dir_.empty()) {
      dir_ = std::filesystem::temp_directory_path() /
             ("ward-storage-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
      std::filesystem::create_directories(dir_);
    }
    return OpenSqliteStorage((dir_ / "collector.db").string());
  }
  // Where Open's store lives, for a second connection to it.
  std::string location() const { return (dir_ / "collector.db").string(); }
  // The files the store at `location` is made of, as they are on disk.
  static std::vector<std::filesystem::path> Files(const std::string& location) {
    return {location, location + "-wal", location + "-shm"};
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
  static constexpr Dialect kDialect = Dialect::kPostgres;
  static constexpr const char* kConnector = "PostgreSQL";
  Result<std::string> NewLocation() {
    WARD_RETURN_IF_ERROR(Open());  // starts the server (and registers the connectors)
    return Server()->CreateDatabase("fresh_" + std::to_string(counter_++));
  }
  static Result<std::unique_ptr<Storage>> OpenAt(const std::string& location) {
    return OpenPostgresStorage(location);
  }
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
  std::string location() const { return conninfo_; }
  // The database server's files are not the store's to read.
  static std::vector<std::filesystem::path> Files(const std::string& /*location*/) { return {}; }

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

  // The DSL's changes, each in one transaction with its audit row (a status change here
  // writes no incident-log entry).
  Status SetStatus(const std::string& id, ConcernStatus status) {
    return store_->ApplyConcernChange(
        {.concern_id = id, .author = "Ms Patel", .at_ms = 1, .status = status});
  }
  Status AddEntry(IncidentKind kind, const ConcernNote& note) {
    return store_->ApplyConcernChange({.concern_id = note.concern_id,
                                       .author = note.author,
                                       .at_ms = note.at_ms,
                                       .kind = kind,
                                       .text = note.text,
                                       .action = "concern.note"});
  }
  Status AddNote(const ConcernNote& note) { return AddEntry(IncidentKind::kNote, note); }

  // Runs `sql` on a second connection to the store's database, as another program could;
  // false (with a test failure) when it fails.
  bool Exec(const std::string& sql, bool expect_ok = true) {
    try {
      Poco::Data::Session s(Backend::kConnector, backend_.location());
      s << sql, Poco::Data::Keywords::now;
    } catch (const Poco::Exception& e) {
      EXPECT_FALSE(expect_ok) << sql << ": " << e.displayText();
      return false;
    }
    EXPECT_TRUE(expect_ok) << sql << " was not refused";
    return true;
  }
  // Makes every insert into `table` fail for real (a trigger), until MendInserts.
  void BreakInserts(const std::string& table) {
    if constexpr (Backend::kDialect == Dialect::kSqlite) {
      Exec("CREATE TRIGGER break_" + table + " BEFORE INSERT ON " + table +
           " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    } else {
      Exec(
          "CREATE OR REPLACE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS "
          "'BEGIN RAISE EXCEPTION ''refused by the test''; END'");
      Exec("CREATE TRIGGER break_" + table + " BEFORE INSERT ON " + table +
           " FOR EACH ROW EXECUTE FUNCTION refuse_for_test()");
    }
  }
  void MendInserts(const std::string& table) {
    Exec(Backend::kDialect == Dialect::kSqlite ? "DROP TRIGGER break_" + table
                                               : "DROP TRIGGER break_" + table + " ON " + table);
  }
  // A new database as the release with schema `version` left it, holding what `statements`
  // put in; where it is, for OpenAt.
  Result<std::string> OldStore(int version, std::initializer_list<std::string_view> statements) {
    WARD_ASSIGN_OR_RETURN(std::string location, backend_.NewLocation());
    Poco::Data::Session s(Backend::kConnector, location);
    WARD_ASSIGN_OR_RETURN(int reached, ApplyMigrationsUpTo(s, Backend::kDialect, version));
    if (reached != version) {
      return InternalError("the old store reached schema " + std::to_string(reached));
    }
    for (std::string_view sql : statements) {
      s << std::string(sql), Poco::Data::Keywords::now;
    }
    return location;
  }
  // Every "table.column" of the database at `location` in which some row holds `needle`, as
  // text or inside a binary value, with how many rows do. `needle` must hold no NUL byte.
  static std::map<std::string, std::int64_t> ColumnsHolding(const std::string& location,
                                                            const std::string& needle) {
    using namespace Poco::Data::Keywords;
    Poco::Data::Session s(Backend::kConnector, location);
    std::vector<std::string> tables, columns, types;
    if constexpr (Backend::kDialect == Dialect::kSqlite) {
      s << "SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p "
           "WHERE m.type = 'table'",
          into(tables), into(columns), into(types), now;
    } else {
      s << "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE "
           "table_schema = 'public'",
          into(tables), into(columns), into(types), now;
    }
    EXPECT_GT(tables.size(), 20u);  // the scan sees the whole schema
    std::map<std::string, std::int64_t> hits;
    for (std::size_t i = 0; i < tables.size(); ++i) {
      const std::string column = "\"" + columns[i] + "\"";
      std::string where;
      if constexpr (Backend::kDialect == Dialect::kSqlite) {
        where = "instr(CAST(" + column + " AS BLOB), CAST(? AS BLOB)) > 0";
      } else if (types[i] == "bytea") {
        where = "position(convert_to($1, 'UTF8') in " + column + ") > 0";
      } else {
        where = "strpos(CAST(" + column + " AS TEXT), $1) > 0";
      }
      std::int64_t n = 0;
      std::string value = needle;
      s << "SELECT COUNT(*) FROM \"" + tables[i] + "\" WHERE " + where, use(value), into(n), now;
      if (n > 0) {
        hits[tables[i] + "." + columns[i]] = n;
      }
    }
    return hits;
  }

  // Whether any of the store's files on disk (SQLite: the database, its WAL and shared memory)
  // holds `needle` anywhere, free pages included.
  static bool FilesHold(const std::string& location, const std::string& needle) {
    for (const std::filesystem::path& file : Backend::Files(location)) {
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      if (bytes.find(needle) != std::string::npos) {
        ADD_FAILURE() << file << " holds \"" << needle << "\"";
        return true;
      }
    }
    return false;
  }

  static std::vector<std::string> Indexes(const std::string& location) {
    using namespace Poco::Data::Keywords;
    Poco::Data::Session s(Backend::kConnector, location);
    std::vector<std::string> names;
    if constexpr (Backend::kDialect == Dialect::kSqlite) {
      s << "SELECT name FROM sqlite_master WHERE type = 'index'", into(names), now;
    } else {
      s << "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'", into(names), now;
    }
    return names;
  }

  // The one number `sql` answers, read on a second connection to the store's database.
  std::int64_t Count(const std::string& sql) {
    std::int64_t n = -1;
    try {
      Poco::Data::Session s(Backend::kConnector, backend_.location());
      s << sql, Poco::Data::Keywords::into(n), Poco::Data::Keywords::now;
    } catch (const Poco::Exception& e) {
      ADD_FAILURE() << sql << ": " << e.displayText();
    }
    return n;
  }

  // PurgeExpired at `now_ms` (with the default limits unless given); a failed call fails the
  // test.
  RetentionCounts Purge(std::int64_t now_ms, std::size_t max_rows = 1000,
                        const RetentionLimits& limits = {}) {
    auto counts = store_->PurgeExpired(now_ms, limits, max_rows);
    EXPECT_TRUE(counts.has_value()) << counts.error().ToString();
    return counts.value_or(RetentionCounts{});
  }

  std::size_t AuditRows() {
    auto rows = store_->ListAudit(1000);
    EXPECT_TRUE(rows.has_value()) << rows.error().ToString();
    return rows.has_value() ? rows->size() : 0;
  }

  Backend backend_;
  std::unique_ptr<Storage> store_;
};

// The audit entry of the tests' reads of concerns.
const AuditEntry kRead{.at_ms = 7,
                       .staff_name = "Ms Patel",
                       .action = "concern.read",
                       .concern_id = "",
                       .concern_ids = {}};

// IT's reads return a type with no field for the learner's words: the concept below would see
// one if it were added (it does see them on the full types).
template <typename T>
concept CarriesLearnersWords =
    requires(const T& c) { c.text; } || requires(const T& c) { c.reference; } ||
    requires(const T& c) { c.user; } || requires(const T& c) { c.category; } ||
    requires(const T& c) { c.in_danger; } || requires(const T& c) { c.content; };
static_assert(CarriesLearnersWords<ConcernRow> && CarriesLearnersWords<Concern>);
static_assert(!CarriesLearnersWords<RedactedConcern>);
static_assert(std::is_same_v<decltype(std::declval<Storage&>().ListRedactedConcerns({}, kRead)),
                             Result<std::vector<RedactedConcern>>>);
static_assert(std::is_same_v<decltype(std::declval<Storage&>().GetRedactedConcern("", kRead)),
                             Result<RedactedConcern>>);

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
  EXPECT_TRUE(this->store_->GetDevice("d2")->revoked);
  auto all = this->store_->ListDevices();
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(this->store_->GetDevice("d3").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->SetDeviceRevoked("d3", true).error().code(), ErrorCode::kNotFound);
}

// Finding 4 of issue 14: a revoked laptop stays known by its machine hash, so it cannot come back
// as a new device; a device that is not revoked is preferred over an older revoked one.
TYPED_TEST(StorageContractTest, Regression_Issue14_FindsRevokedDevicesByMachineHash) {
  DeviceRecord old = this->Device("d1");
  old.machine_hash = "mh-shared";
  ASSERT_TRUE(this->store_->PutDevice(old).has_value());
  ASSERT_TRUE(this->store_->SetDeviceRevoked("d1", true).has_value());
  auto found = this->store_->FindDeviceByMachineHash("learners-under-18", "mh-shared");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, "d1");
  DeviceRecord newer = this->Device("d2");
  newer.machine_hash = "mh-shared";
  newer.enrolled_at_ms = 500;  // older than d1, but not revoked
  ASSERT_TRUE(this->store_->PutDevice(newer).has_value());
  found = this->store_->FindDeviceByMachineHash("learners-under-18", "mh-shared");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, "d2");
  found = this->store_->FindDeviceByMachineHash("learners-under-18", "mh-nobody");
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
}

TYPED_TEST(StorageContractTest, ReadmitsDevicesAndRecordsRefusedEnrolments) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  EXPECT_EQ(this->store_->GetDevice("d1")->readmitted_ms, 0);
  EXPECT_EQ(this->store_->GetDevice("d1")->enrol_refused_ms, 0);
  ASSERT_TRUE(this->store_->RecordEnrolmentRefused("d1", 2000).has_value());
  EXPECT_EQ(this->store_->GetDevice("d1")->enrol_refused_ms, 2000);
  ASSERT_TRUE(this->store_->ReadmitDevice("d1", 3000).has_value());
  auto d1 = this->store_->GetDevice("d1");
  ASSERT_TRUE(d1.has_value());
  EXPECT_EQ(d1->readmitted_ms, 3000);
  EXPECT_EQ(d1->enrol_refused_ms, 0);
  // PutDevice writes both back (an enrolment that used the readmission clears it).
  d1->readmitted_ms = 0;
  d1->enrol_refused_ms = 4000;
  ASSERT_TRUE(this->store_->PutDevice(*d1).has_value());
  EXPECT_EQ(this->store_->GetDevice("d1")->readmitted_ms, 0);
  EXPECT_EQ(this->store_->GetDevice("d1")->enrol_refused_ms, 4000);
  EXPECT_EQ(this->store_->ReadmitDevice("nope", 1).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->RecordEnrolmentRefused("nope", 1).error().code(), ErrorCode::kNotFound);
}

// Schema 8 (device trust) on a store left by every earlier schema version: devices keep their
// credential and revocation, nobody is readmitted, no refusal is waiting.
TYPED_TEST(StorageContractTest, MigrationToDeviceTrustFromEveryEarlierVersion) {
  for (int from = 1; from <= 6; ++from) {
    SCOPED_TRACE("from schema " + std::to_string(from));
    auto location = this->backend_.NewLocation();
    ASSERT_TRUE(location.has_value()) << location.error().ToString();
    {
      Poco::Data::Session s(TypeParam::kConnector, *location);
      auto version = ApplyMigrationsUpTo(s, TypeParam::kDialect, from);
      ASSERT_TRUE(version.has_value());
      ASSERT_EQ(*version, from);
      s << "INSERT INTO device_groups(name, signing_public_key, created_at_ms) VALUES('g', 'k', "
           "1)",
          Poco::Data::Keywords::now;
      s << "INSERT INTO devices(id, group_name, hostname, os, agent_version, machine_hash, "
           "credential_hash, revoked, enrolled_at_ms, last_seen_ms) VALUES('old', 'g', 'h', "
           "'linux', 'v', 'mh', 'ch', 1, 10, 20)",
          Poco::Data::Keywords::now;
    }
    auto store = TypeParam::OpenAt(*location);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    EXPECT_GE((*store)->SchemaVersion(), 8);
    auto old = (*store)->GetDevice("old");
    ASSERT_TRUE(old.has_value()) << old.error().ToString();
    EXPECT_TRUE(old->revoked);
    EXPECT_EQ(old->credential_hash, "ch");
    EXPECT_EQ(old->readmitted_ms, 0);
    EXPECT_EQ(old->enrol_refused_ms, 0);
    auto found = (*store)->FindDeviceByMachineHash("g", "mh");
    ASSERT_TRUE(found.has_value());
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ(**found, "old");
  }
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
  auto listed = this->store_->ListEvents(0, {.reader = StaffRole::kIt, .limit = 10}, kRead);
  ASSERT_TRUE(listed.has_value()) << listed.error().ToString();
  const auto& events = listed->events;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_FALSE(listed->more);
  EXPECT_EQ(events[0].id, "e1");
  EXPECT_EQ(events[0].body, std::string("\x00\x01", 2));
  EXPECT_EQ(events[0].received_ms, 100);
  EXPECT_EQ(events[2].id, "e3");
  auto tail =
      this->store_->ListEvents(events[1].seq, {.reader = StaffRole::kIt, .limit = 10}, kRead);
  ASSERT_TRUE(tail.has_value());
  ASSERT_EQ(tail->events.size(), 1u);
  EXPECT_EQ(tail->events.front().id, "e3");
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

// Ingest inserts many rows per statement (SQLite: 50, PostgreSQL: 200). Every field of every
// row must land in its own row, in the batch's order, whatever the split, and a batch whose
// rows are partly stored already stores only the new ones.
TYPED_TEST(StorageContractTest, ManyRowsPerStatementKeepEachRowsFields) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> first;
  for (int i = 0; i < 120; ++i) {
    EventRow e = this->Event("m-" + std::to_string(i), "body-" + std::to_string(i));
    e.device_time_ms = 1000 + i;
    e.priority = i % 5;
    e.kind = i % 2 == 0 ? "usb" : "exec";
    first.push_back(e);
  }
  std::vector<EventRow> second(first.begin() + 60, first.end());
  for (int i = 120; i < 331; ++i) {
    second.push_back(this->Event("m-" + std::to_string(i), "body-" + std::to_string(i)));
  }
  auto r1 = this->store_->IngestEvents("d1", first, 100);
  ASSERT_TRUE(r1.has_value()) << r1.error().ToString();
  EXPECT_EQ(r1->inserted, 120u);
  auto r2 = this->store_->IngestEvents("d1", second, 200);
  ASSERT_TRUE(r2.has_value()) << r2.error().ToString();
  EXPECT_EQ(r2->inserted, 211u);
  EXPECT_EQ(r2->duplicates, 60u);

  std::vector<StoredEvent> all;
  std::int64_t after = 0;
  for (;;) {
    auto page = this->store_->ListEvents(after, {.reader = StaffRole::kIt, .limit = 100}, kRead);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    all.insert(all.end(), page->events.begin(), page->events.end());
    if (!page->more || page->events.empty()) {
      break;
    }
    after = page->events.back().seq;
  }
  ASSERT_EQ(all.size(), 331u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const StoredEvent& e = all[i];
    SCOPED_TRACE(e.id);
    EXPECT_EQ(e.id, "m-" + std::to_string(i));
    EXPECT_EQ(e.body, "body-" + std::to_string(i));
    EXPECT_EQ(e.device_id, "d1");
    EXPECT_EQ(e.received_ms, i < 120 ? 100 : 200);
    if (i < 120) {
      EXPECT_EQ(e.device_time_ms, 1000 + static_cast<std::int64_t>(i));
      EXPECT_EQ(e.priority, static_cast<int>(i % 5));
      EXPECT_EQ(e.kind, i % 2 == 0 ? "usb" : "exec");
    }
    if (i > 0) {
      EXPECT_GT(e.seq, all[i - 1].seq);
    }
  }
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

  auto list = this->store_->ListConcerns({.status = {}, .since_ms = 0, .limit = 10}, kRead);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  const Concern& c = list->front();
  EXPECT_EQ(c.id, "c1");
  EXPECT_EQ(c.group, "learners-under-18");
  EXPECT_EQ(c.status, ConcernStatus::kNew);
  EXPECT_EQ(c.content.text, "someone keeps messaging me");
  EXPECT_TRUE(c.content.in_danger);
  // Lists never load the screenshot; it is fetched on its own.
  EXPECT_TRUE(c.content.screenshot_png.empty());
  EXPECT_TRUE(c.content.has_screenshot);
  EXPECT_EQ(*this->store_->GetConcernScreenshot("c1", kRead), std::string("\x89PNG\0x", 6));
  EXPECT_EQ(this->store_->GetConcernScreenshot("zz", kRead).error().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(this->SetStatus("c1", ConcernStatus::kReferred).has_value());
  ASSERT_TRUE(this->AddNote({"c1", "Ms Patel", "called parent", 300}).has_value());
  ASSERT_TRUE(this->AddNote({"c1", "Ms Patel", "referred", 400}).has_value());
  EXPECT_EQ(this->store_->GetConcern("c1", kRead)->status, ConcernStatus::kReferred);
  auto notes = this->store_->ListConcernNotes("c1");
  ASSERT_TRUE(notes.has_value());
  ASSERT_EQ(notes->size(), 2u);
  EXPECT_EQ((*notes)[1].text, "referred");
  EXPECT_EQ(this->AddNote({"zz", "x", "y", 1}).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->GetConcern("zz", kRead).error().code(), ErrorCode::kNotFound);
}

TYPED_TEST(StorageContractTest, ConcernsAreFilteredByStatusAndTime) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> first = {this->ConcernEventRow("c1", "one")};
  std::vector<EventRow> second = {this->ConcernEventRow("c2", "two")};
  std::vector<EventRow> third = {this->ConcernEventRow("c3", "three")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", first, 1000).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d1", second, 2000).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d1", third, 3000).has_value());
  ASSERT_TRUE(this->SetStatus("c2", ConcernStatus::kInProgress).has_value());
  ASSERT_TRUE(this->SetStatus("c3", ConcernStatus::kInProgress).has_value());

  auto ids = [&](const ConcernFilter& f) {
    std::vector<std::string> out;
    auto list = this->store_->ListConcerns(f, kRead);
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
  auto due = this->store_->ListAlertsDue(150, 0, 10);
  ASSERT_TRUE(due.has_value());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().concern_id, "c1");
  EXPECT_EQ(due->front().reference, "K7QF-2M9X");
  EXPECT_EQ(due->front().received_ms, 100);
  EXPECT_TRUE(due->front().in_danger);
  EXPECT_FALSE(due->front().claimed_before);

  // Two stores on one database (two collectors), racing for the same concern.
  auto other = this->backend_.Open();
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  std::atomic<int> wins{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < 8; ++i) {
    Storage* store = (i % 2 == 0) ? this->store_.get() : other->get();
    racers.emplace_back([store, i, &wins, &errors] {
      auto claimed =
          store->ClaimConcernAlert("c1", "collector-" + std::to_string(i), 200 + i, 10'000);
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
  EXPECT_FALSE(*this->store_->ClaimConcernAlert("c1", "late", 300, 10'000));
  EXPECT_TRUE(this->store_->ListAlertsDue(300, 0, 10)->empty());
  EXPECT_EQ(this->store_->ClaimConcernAlert("zz", "a", 300, 10'000).error().code(),
            ErrorCode::kNotFound);
}

// Schema 4 (the alert outbox) on a store an earlier release left: an alert claimed then counts as
// done (it was sent, given up or lost, which cannot be told apart), one never claimed is due.
TYPED_TEST(StorageContractTest, MigrationToTheOutboxKeepsOldClaimedAlertsDone) {
  auto location = this->backend_.NewLocation();
  ASSERT_TRUE(location.has_value()) << location.error().ToString();
  {
    Poco::Data::Session s(TypeParam::kConnector, *location);
    auto version = ApplyMigrationsUpTo(s, TypeParam::kDialect, 3);
    ASSERT_TRUE(version.has_value());
    ASSERT_EQ(*version, 3);
    s << "INSERT INTO device_groups(name, signing_public_key, created_at_ms) VALUES('g', 'k', 1)",
        Poco::Data::Keywords::now;
    for (const char* values : {"'old-claimed', 1000, 1000", "'never-claimed', 2000, NULL"}) {
      s << std::string(
               "INSERT INTO concerns(id, received_ms, alert_claimed_ms, device_id, "
               "group_name, device_time_ms, status, reference, category, text, "
               "anonymous, in_danger, user_name) VALUES(") +
               values + ", 'd1', 'g', 1, 'new', 'R', 1, 't', 0, 1, '')",
          Poco::Data::Keywords::now;
    }
  }
  auto store = TypeParam::OpenAt(*location);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_GE((*store)->SchemaVersion(), 4);
  auto due = (*store)->ListAlertsDue(1'000'000, 0, 10);
  ASSERT_TRUE(due.has_value()) << due.error().ToString();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().concern_id, "never-claimed");
  EXPECT_TRUE(due->front().in_danger);
  EXPECT_FALSE(due->front().claimed_before);
  EXPECT_FALSE(*(*store)->ClaimConcernAlert("old-claimed", "a", 1'000'000, 2'000'000));
  EXPECT_TRUE(*(*store)->ClaimConcernAlert("never-claimed", "a", 1'000'000, 2'000'000));
}

// The alert outbox: a claim lapses unless its holder renews it, so the alert of a collector
// that died is claimed and sent again; only done is final.
TYPED_TEST(StorageContractTest, ConcernAlertClaimLapsesAndIsClaimedAgainUntilDone) {
  Storage& store = *this->store_;
  ASSERT_TRUE(store.PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->ConcernEventRow("c1", "please help")};
  ASSERT_TRUE(store.IngestEvents("d1", batch, 100).has_value());

  ASSERT_TRUE(*store.ClaimConcernAlert("c1", "a", 200, 1200));  // a holds it until 1200
  EXPECT_FALSE(*store.ClaimConcernAlert("c1", "b", 500, 1500));
  EXPECT_TRUE(store.ListAlertsDue(1199, 0, 10)->empty());
  // a died: at 1250 its claim has lapsed and the alert is due again.
  auto due = store.ListAlertsDue(1250, 0, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_TRUE(due->front().claimed_before);
  ASSERT_TRUE(*store.ClaimConcernAlert("c1", "b", 1300, 2300));
  // Only the holder renews: a's late renewal does not extend b's claim.
  ASSERT_TRUE(store.RenewConcernAlertClaims(std::vector<std::string>{"c1"}, "a", 9000));
  EXPECT_EQ(store.ListAlertsDue(2400, 0, 10)->size(), 1u);
  ASSERT_TRUE(store.RenewConcernAlertClaims(std::vector<std::string>{"c1"}, "b", 9000));
  EXPECT_TRUE(store.ListAlertsDue(2400, 0, 10)->empty());
  // A holder that stops releases its claims: due at once.
  ASSERT_TRUE(store.RenewConcernAlertClaims(std::vector<std::string>{"c1"}, "b", 0));
  EXPECT_EQ(store.ListAlertsDue(2400, 0, 10)->size(), 1u);
  // Only concerns received since the given time.
  EXPECT_TRUE(store.ListAlertsDue(2400, 101, 10)->empty());

  ASSERT_TRUE(*store.ClaimConcernAlert("c1", "b", 2500, 3500));
  ASSERT_TRUE(store.FinishConcernAlert("c1", 2600));
  EXPECT_TRUE(store.FinishConcernAlert("c1", 2700).has_value()) << "finishing twice is fine";
  EXPECT_TRUE(store.ListAlertsDue(100'000, 0, 10)->empty());
  EXPECT_FALSE(*store.ClaimConcernAlert("c1", "c", 100'000, 200'000));
  ASSERT_TRUE(store.RenewConcernAlertClaims(std::vector<std::string>{"c1"}, "b", 0));
  EXPECT_TRUE(store.ListAlertsDue(100'000, 0, 10)->empty()) << "done is final";
  EXPECT_EQ(store.FinishConcernAlert("zz", 1).error().code(), ErrorCode::kNotFound);
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

TYPED_TEST(StorageContractTest, EveryStaffRoleRoundTrips) {
  for (const StaffRole role :
       {StaffRole::kIt, StaffRole::kDsl, StaffRole::kViewer, StaffRole::kMetrics}) {
    const std::string name(StaffRoleName(role));
    ASSERT_TRUE(this->store_->CreateStaffToken(name, role, HashSecret("wst_" + name), 1));
    auto who = this->store_->FindStaffByTokenHash(HashSecret("wst_" + name));
    ASSERT_TRUE(who.has_value()) << name;
    EXPECT_EQ(who->role, role) << name;
    EXPECT_EQ(ParseStaffRole(name).value(), role);
  }
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

// --- The staff console's storage (docs/console.md) ---

TYPED_TEST(StorageContractTest, ConsoleSessionsEndWhenIdleOldSignedOutOrTheTokenIsRevoked) {
  const std::string token = HashSecret("wst_dsl");
  ASSERT_TRUE(this->store_->CreateStaffToken("Ms Patel", StaffRole::kDsl, token, 1).has_value());
  const SessionLimits limits{.idle_ms = 1000, .absolute_ms = 5000};
  ASSERT_TRUE(this->store_->CreateConsoleSession({"s1", token, 10'000}).has_value());
  EXPECT_EQ(this->store_->CreateConsoleSession({"s1", token, 10'000}).error().code(),
            ErrorCode::kAlreadyExists);
  auto who = this->store_->ResumeConsoleSession("s1", 10'500, limits, true);
  ASSERT_TRUE(who.has_value()) << who.error().ToString();
  EXPECT_EQ(who->name, "Ms Patel");
  EXPECT_EQ(who->role, StaffRole::kDsl);
  // Activity at 10.5 s keeps it alive until 11.5 s; a background request does not.
  EXPECT_TRUE(this->store_->ResumeConsoleSession("s1", 11'400, limits, false).has_value());
  EXPECT_TRUE(this->store_->ResumeConsoleSession("s1", 11'450, limits, true).has_value());
  EXPECT_TRUE(this->store_->ResumeConsoleSession("s1", 12'400, limits, true).has_value());
  EXPECT_EQ(this->store_->ResumeConsoleSession("s1", 13'500, limits, true).error().code(),
            ErrorCode::kUnauthenticated);  // idle for more than a second
  // Busy, but too old: absolute limit of 5 s after sign-in at 10 s.
  ASSERT_TRUE(this->store_->CreateConsoleSession({"s2", token, 10'000}).has_value());
  for (std::int64_t t = 10'500; t <= 14'500; t += 500) {
    EXPECT_TRUE(this->store_->ResumeConsoleSession("s2", t, limits, true).has_value()) << t;
  }
  EXPECT_EQ(this->store_->ResumeConsoleSession("s2", 15'001, limits, true).error().code(),
            ErrorCode::kUnauthenticated);
  // Signed out.
  ASSERT_TRUE(this->store_->CreateConsoleSession({"s3", token, 20'000}).has_value());
  ASSERT_TRUE(this->store_->EndConsoleSession("s3", 20'100).has_value());
  EXPECT_EQ(this->store_->ResumeConsoleSession("s3", 20'200, limits, true).error().code(),
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(this->store_->EndConsoleSession("nope", 1).error().code(), ErrorCode::kNotFound);
  // The token revoked: its live session ends at once.
  ASSERT_TRUE(this->store_->CreateConsoleSession({"s4", token, 30'000}).has_value());
  EXPECT_TRUE(this->store_->ResumeConsoleSession("s4", 30'100, limits, true).has_value());
  ASSERT_TRUE(this->store_->RevokeStaffToken("Ms Patel").has_value());
  EXPECT_EQ(this->store_->ResumeConsoleSession("s4", 30'200, limits, true).error().code(),
            ErrorCode::kUnauthenticated);
  EXPECT_EQ(this->store_->ResumeConsoleSession("unknown", 1, limits, true).error().code(),
            ErrorCode::kUnauthenticated);
  // Purge: the ended session and those last active before 25 s go; s4 stays.
  auto purged = this->store_->PurgeConsoleSessions(25'000);
  ASSERT_TRUE(purged.has_value()) << purged.error().ToString();
  EXPECT_EQ(*purged, 3u);
}

TYPED_TEST(StorageContractTest, DevicePagesFollowTheCursorAndFilters) {
  for (const char* host : {"c-host", "a-host", "b-host", "d-host"}) {
    DeviceRecord d = this->Device(std::string("id-") + host);
    d.hostname = host;
    // Real times in ms: beyond a 32-bit integer, as PostgreSQL must bind them.
    d.last_seen_ms = host[0] == 'b' || host[0] == 'd' ? 1'790'000'000'000 : 1'796'000'000'000;
    ASSERT_TRUE(this->store_->PutDevice(d).has_value());
  }
  ASSERT_TRUE(this->store_->CreateGroup({"staff-laptops", std::string(64, 'b')}).has_value());
  DeviceRecord other = this->Device("id-e");
  other.hostname = "e-host";
  other.group = "staff-laptops";
  ASSERT_TRUE(this->store_->PutDevice(other).has_value());
  auto hosts = [&](const DeviceQuery& q) {
    std::vector<std::string> out;
    for (const DeviceRecord& d :
         this->store_->ListDevicePage(q).value_or(std::vector<DeviceRecord>{})) {
      out.push_back(d.hostname);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(hosts({.limit = 2}), (V{"a-host", "b-host"}));
  EXPECT_EQ(hosts({.after_hostname = "b-host", .after_id = "id-b-host", .limit = 2}),
            (V{"c-host", "d-host"}));
  EXPECT_EQ(hosts({.after_hostname = "d-host", .after_id = "id-d-host", .limit = 2}),
            (V{"e-host"}));
  EXPECT_EQ(hosts({.group = "staff-laptops"}), (V{"e-host"}));
  EXPECT_EQ(hosts({.group = "learners-under-18", .seen_before_ms = 1'795'000'000'000}),
            (V{"b-host", "d-host"}));
}

TYPED_TEST(StorageContractTest, ADevicesEventsPageNewestFirst) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d2")).has_value());
  std::vector<EventRow> mine = {this->Event("e1"), this->Event("e2"), this->Event("e3")};
  std::vector<EventRow> theirs = {this->Event("x1")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", mine, 5).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d2", theirs, 5).has_value());
  const EventPage two{.reader = StaffRole::kViewer, .limit = 2};
  auto first = this->store_->ListDeviceEvents("d1", 0, two, kRead);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_EQ(first->events.size(), 2u);
  EXPECT_TRUE(first->more);
  EXPECT_EQ(first->events[0].id, "e3");
  EXPECT_EQ(first->events[1].id, "e2");
  EXPECT_EQ(first->events[0].device_id, "d1");
  auto rest = this->store_->ListDeviceEvents("d1", first->events.back().seq, two, kRead);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->events.size(), 1u);
  EXPECT_FALSE(rest->more);
  EXPECT_EQ(rest->events[0].id, "e1");
  EXPECT_EQ(rest->events[0].body, "body");
}

TYPED_TEST(StorageContractTest, PolicyHistoryAndPushProgress) {
  for (int v = 1; v <= 3; ++v) {
    ASSERT_TRUE(this->store_
                    ->PutPolicy({"learners-under-18", static_cast<std::uint64_t>(v),
                                 "p" + std::to_string(v), 100 * v, "it-" + std::to_string(v)})
                    .has_value());
  }
  auto history = this->store_->ListPolicyHistory("learners-under-18", 0, 2);
  ASSERT_TRUE(history.has_value()) << history.error().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].version, 3u);
  EXPECT_EQ((*history)[0].pushed_by, "it-3");
  EXPECT_EQ((*history)[0].pushed_at_ms, 300);
  EXPECT_TRUE((*history)[0].signed_policy.empty());
  auto older = this->store_->ListPolicyHistory("learners-under-18", 2, 10);
  ASSERT_TRUE(older.has_value());
  ASSERT_EQ(older->size(), 1u);
  EXPECT_EQ((*older)[0].version, 1u);
  auto two = this->store_->GetPolicyVersion("learners-under-18", 2);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->signed_policy, "p2");
  EXPECT_EQ(this->store_->GetPolicyVersion("learners-under-18", 9).error().code(),
            ErrorCode::kNotFound);

  for (int i = 0; i < 4; ++i) {
    DeviceRecord d = this->Device("d" + std::to_string(i));
    d.policy_version = static_cast<std::uint64_t>(i);  // 0, 1, 2, 3
    d.revoked = i == 0;
    ASSERT_TRUE(this->store_->PutDevice(d).has_value());
  }
  auto counts = this->store_->CountGroupDevices("learners-under-18", 2);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->total, 3u);  // the revoked one is not counted
  EXPECT_EQ(counts->on_version, 2u);
}

TYPED_TEST(StorageContractTest, TheIncidentLogKeepsTypedEntriesInOrder) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->ConcernEventRow("c1", "help")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  ASSERT_TRUE(this->AddNote({"c1", "Ms Patel", "spoke to tutor", 200}).has_value());
  ASSERT_TRUE(this->AddEntry(IncidentKind::kParentContacted,
                             {"c1", "Ms Patel", "Parent or guardian contacted", 300})
                  .has_value());
  ASSERT_TRUE(this->AddEntry(IncidentKind::kReferredExternal,
                             {"c1", "Mr Khan", "Referred: children's services", 400})
                  .has_value());
  EXPECT_EQ(this->AddEntry(IncidentKind::kNote, {"zz", "x", "y", 1}).error().code(),
            ErrorCode::kNotFound);
  auto log = this->store_->ListIncidentLog("c1", 0, 10, kRead);
  ASSERT_TRUE(log.has_value()) << log.error().ToString();
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[0].kind, IncidentKind::kNote);
  EXPECT_EQ((*log)[0].note.text, "spoke to tutor");
  EXPECT_EQ((*log)[1].kind, IncidentKind::kParentContacted);
  EXPECT_EQ((*log)[2].kind, IncidentKind::kReferredExternal);
  EXPECT_EQ((*log)[2].note.author, "Mr Khan");
  EXPECT_EQ((*log)[2].note.at_ms, 400);
  auto rest = this->store_->ListIncidentLog("c1", (*log)[0].seq, 1, kRead);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].kind, IncidentKind::kParentContacted);
  // The typed entries are notes too: wardctl's incident log shows them.
  EXPECT_EQ(this->store_->ListConcernNotes("c1")->size(), 3u);
}

TYPED_TEST(StorageContractTest, CountsUnreadAndUrgentConcerns) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  for (int i = 1; i <= 3; ++i) {
    std::vector<EventRow> batch = {this->ConcernEventRow("c" + std::to_string(i), "x")};
    batch[0].concern->in_danger = i != 2;
    ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100 * i).has_value());
  }
  ASSERT_TRUE(this->SetStatus("c3", ConcernStatus::kClosed).has_value());
  ASSERT_TRUE(this->store_->MarkConcernOpened("c1", "Ms Patel", 500).has_value());
  ASSERT_TRUE(this->store_->MarkConcernOpened("c1", "Mr Khan", 600).has_value());  // kept once
  auto counts = this->store_->CountConcerns(10);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->new_count, 2u);    // c1, c2
  EXPECT_EQ(counts->unread, 1u);       // c2
  EXPECT_EQ(counts->urgent_open, 1u);  // c1 (c3 is closed)
  EXPECT_EQ(counts->unread_ids, (std::vector<std::string>{"c2"}));
}

TYPED_TEST(StorageContractTest, ConcernsPageByGroupDateCursorAndUrgency) {
  ASSERT_TRUE(this->store_->CreateGroup({"staff-laptops", std::string(64, 'b')}).has_value());
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  DeviceRecord other = this->Device("d2");
  other.group = "staff-laptops";
  ASSERT_TRUE(this->store_->PutDevice(other).has_value());
  for (int i = 1; i <= 4; ++i) {
    std::vector<EventRow> batch = {this->ConcernEventRow("c" + std::to_string(i), "x")};
    batch[0].concern->in_danger = i == 3;
    ASSERT_TRUE(
        this->store_->IngestEvents(i == 4 ? "d2" : "d1", batch, 1'796'000'000'000).has_value());
  }
  auto ids = [&](const ConcernFilter& f) {
    std::vector<std::string> out;
    for (const Concern& c : this->store_->ListConcerns(f, kRead).value_or(std::vector<Concern>{})) {
      out.push_back(c.id);
    }
    return out;
  };
  using V = std::vector<std::string>;
  // One received time for all: the id breaks the tie, and the cursor carries both.
  EXPECT_EQ(ids({.status = {}, .limit = 2}), (V{"c4", "c3"}));
  EXPECT_EQ(
      ids({.status = {}, .limit = 2, .before_received_ms = 1'796'000'000'000, .before_id = "c3"}),
      (V{"c2", "c1"}));
  EXPECT_EQ(ids({.status = {}, .group = "staff-laptops"}), (V{"c4"}));
  EXPECT_EQ(ids({.status = {}, .until_ms = 1'796'000'000'000}), V{});
  EXPECT_EQ(ids({.status = {}, .until_ms = 1'796'000'000'001}).size(), 4u);
  EXPECT_EQ(ids({.status = {}, .urgent_open = true}), (V{"c3"}));
  ASSERT_TRUE(this->SetStatus("c3", ConcernStatus::kClosed).has_value());
  EXPECT_EQ(ids({.status = {}, .urgent_open = true}), V{});
}

TYPED_TEST(StorageContractTest, AuditPagesWalkBackwards) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(this->store_->AppendAudit({i, "Ms Patel", "concern.read", "c" + std::to_string(i)})
                    .has_value());
  }
  auto first = this->store_->ListAuditPage(0, 2);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].entry.concern_id, "c5");
  EXPECT_EQ((*first)[1].entry.concern_id, "c4");
  auto next = this->store_->ListAuditPage(first->back().seq, 10);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->size(), 3u);
  EXPECT_EQ((*next)[2].entry.concern_id, "c1");
  EXPECT_EQ((*next)[2].entry.at_ms, 1);
}

TYPED_TEST(StorageContractTest, ConcernArrivalsReachOtherStoresSharingTheDatabase) {
  auto listener = this->backend_.Open();
  ASSERT_TRUE(listener.has_value());
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;
  auto sub = (*listener)->SubscribeConcernArrivals([&](const std::string& origin) {
    std::scoped_lock lock(mu);
    seen.push_back(origin);
    cv.notify_all();
  });
  ASSERT_TRUE(sub.has_value()) << sub.error().ToString();
  ASSERT_TRUE(this->store_->AnnounceConcernArrival("collector-a").has_value());
  if constexpr (!TypeParam::kShared) {
    EXPECT_EQ(sub->get(), nullptr);
  } else {
    ASSERT_NE(sub->get(), nullptr);
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !seen.empty(); }));
    EXPECT_EQ(seen.front(), "collector-a");
  }
}

// Issue 14, finding 5: concern events were listed to every role (device, time, reference).
// The store's own query leaves them out of every event list for any role but the DSL.
TYPED_TEST(StorageContractTest, Regression_Issue14_ConcernEventsAreListedToTheDslOnly) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  // One batch each: PostgreSQL stores a batch's plain events after its concerns.
  for (const EventRow& e :
       {this->Event("e1"), this->ConcernEventRow("c1", "help"), this->Event("e2")}) {
    ASSERT_TRUE(this->store_->IngestEvents("d1", std::span(&e, 1), 100).has_value());
  }
  auto ids = [](const EventList& list) {
    std::vector<std::string> out;
    for (const StoredEvent& e : list.events) {
      out.push_back(e.id);
    }
    return out;
  };
  using V = std::vector<std::string>;
  for (const StaffRole role :
       {StaffRole::kIt, StaffRole::kViewer, StaffRole::kMetrics, StaffRole::kDsl}) {
    SCOPED_TRACE(std::string(StaffRoleName(role)));
    const V expected = role == StaffRole::kDsl ? V{"e1", "c1", "e2"} : V{"e1", "e2"};
    auto all = this->store_->ListEvents(0, {.reader = role, .limit = 10}, kRead);
    ASSERT_TRUE(all.has_value()) << all.error().ToString();
    EXPECT_EQ(ids(*all), expected);
    auto device = this->store_->ListDeviceEvents("d1", 0, {.reader = role, .limit = 10}, kRead);
    ASSERT_TRUE(device.has_value()) << device.error().ToString();
    EXPECT_EQ(ids(*device), V(expected.rbegin(), expected.rend()));
  }
}

// Issue 14, finding 3: lists loaded every screenshot (and a concern event's body holds one).
// The DSL's event list carries the concern from the inbox's columns, without its screenshot.
TYPED_TEST(StorageContractTest, Regression_Issue14_ListsNeverLoadScreenshots) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  EventRow concern = this->ConcernEventRow("c1", "someone keeps messaging me");
  concern.body = std::string(64 * 1024, 'S');  // stands for a body holding a screenshot
  std::vector<EventRow> batch = {concern};
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  auto listed = this->store_->ListEvents(0, {.reader = StaffRole::kDsl, .limit = 10}, kRead);
  ASSERT_TRUE(listed.has_value()) << listed.error().ToString();
  ASSERT_EQ(listed->events.size(), 1u);
  const StoredEvent& e = listed->events.front();
  EXPECT_TRUE(e.body.empty());
  ASSERT_TRUE(e.concern.has_value());
  EXPECT_EQ(e.concern->text, "someone keeps messaging me");
  EXPECT_EQ(e.concern->reference, "K7QF-2M9X");
  EXPECT_EQ(e.concern->user, "learner1");
  EXPECT_TRUE(e.concern->in_danger);
  EXPECT_TRUE(e.concern->has_screenshot);
  EXPECT_TRUE(e.concern->screenshot_png.empty());
  auto one = this->store_->GetConcern("c1", kRead);
  ASSERT_TRUE(one.has_value());
  EXPECT_TRUE(one->content.has_screenshot);
  EXPECT_TRUE(one->content.screenshot_png.empty());
  // A redacted list does not read the learner's words at all.
  auto redacted =
      this->store_->ListConcerns({.status = {}, .limit = 10, .with_contents = false}, kRead);
  ASSERT_TRUE(redacted.has_value()) << redacted.error().ToString();
  ASSERT_EQ(redacted->size(), 1u);
  EXPECT_EQ(redacted->front().id, "c1");
  EXPECT_TRUE(redacted->front().content.text.empty());
  EXPECT_TRUE(redacted->front().content.reference.empty());
  EXPECT_TRUE(redacted->front().content.user.empty());
}

// A page stops before its event bodies (or concern texts) pass max_bytes, after at least one,
// and says there is more.
TYPED_TEST(StorageContractTest, Regression_Issue14_PagesStopAtTheirByteBound) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(this->Event("e" + std::to_string(i), std::string(1000, 'x')));
  }
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  auto page = this->store_->ListEvents(
      0, {.reader = StaffRole::kIt, .limit = 10, .max_bytes = 2500}, kRead);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->events.size(), 2u);
  EXPECT_TRUE(page->more);
  auto tiny =
      this->store_->ListEvents(0, {.reader = StaffRole::kIt, .limit = 10, .max_bytes = 10}, kRead);
  ASSERT_TRUE(tiny.has_value());
  EXPECT_EQ(tiny->events.size(), 1u);
  EXPECT_TRUE(tiny->more);
  auto rest = this->store_->ListEvents(
      page->events.back().seq, {.reader = StaffRole::kIt, .limit = 10, .max_bytes = 1 << 20},
      kRead);
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->events.size(), 3u);
  EXPECT_FALSE(rest->more);

  std::vector<EventRow> concerns = {this->ConcernEventRow("c1", std::string(1000, 'a')),
                                    this->ConcernEventRow("c2", std::string(1000, 'b'))};
  ASSERT_TRUE(this->store_->IngestEvents("d1", concerns, 200).has_value());
  auto bounded = this->store_->ListConcerns({.status = {}, .limit = 10, .max_bytes = 1500}, kRead);
  ASSERT_TRUE(bounded.has_value()) << bounded.error().ToString();
  EXPECT_EQ(bounded->size(), 1u);
}

// The collector's per-device concern quota counts what a device sent recently, leaving out
// concerns whose learner is in danger now.
TYPED_TEST(StorageContractTest, CountsADevicesRecentConcernsButNotUrgentOnes) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d2")).has_value());
  EventRow calm = this->ConcernEventRow("c1", "abcd");
  calm.concern->in_danger = false;
  EventRow old = this->ConcernEventRow("c0", "old");
  old.concern->in_danger = false;
  std::vector<EventRow> early = {old};
  std::vector<EventRow> batch = {calm, this->ConcernEventRow("c2", "urgent")};
  std::vector<EventRow> other = {this->ConcernEventRow("x1", "x")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", early, 10).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d2", other, 100).has_value());
  auto usage = this->store_->CountDeviceConcerns("d1", 50);
  ASSERT_TRUE(usage.has_value()) << usage.error().ToString();
  EXPECT_EQ(usage->count, 1u);
  EXPECT_EQ(usage->bytes, 4u + 6u);  // "abcd" and the 6-byte screenshot
  auto none = this->store_->CountDeviceConcerns("d3", 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->count, 0u);
}

// Issue 15: audit fails closed. With the audit log refusing inserts, every read of concerns for
// staff fails with an audit error and returns nothing; a read without concerns needs no row.
TYPED_TEST(StorageContractTest, Regression_Issue15_AFailedAuditWriteReturnsNoConcern) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->ConcernEventRow("c1", "someone keeps messaging me"),
                                 this->Event("e1")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  this->BreakInserts("audit_log");
  auto refused = [](const auto& result) {
    EXPECT_FALSE(result.has_value());
    if (!result.has_value()) {
      EXPECT_TRUE(IsAuditWriteFailure(result.error())) << result.error().ToString();
    }
  };
  const EventPage dsl{.reader = StaffRole::kDsl, .limit = 10};
  refused(this->store_->ListConcerns({.status = {}, .limit = 10}, kRead));
  refused(this->store_->ListConcerns({.status = {}, .limit = 10, .with_contents = false}, kRead));
  refused(this->store_->GetConcern("c1", kRead));
  refused(this->store_->ListRedactedConcerns({.status = {}, .limit = 10}, kRead));
  refused(this->store_->GetRedactedConcern("c1", kRead));
  refused(this->store_->GetConcernScreenshot("c1", kRead));
  refused(this->store_->ListEvents(0, dsl, kRead));
  refused(this->store_->ListDeviceEvents("d1", 0, dsl, kRead));
  refused(this->store_->ListIncidentLog("c1", 0, 10, kRead));
  // IT's event list holds no concern: nothing to audit, so it still works.
  auto it = this->store_->ListEvents(0, {.reader = StaffRole::kIt, .limit = 10}, kRead);
  ASSERT_TRUE(it.has_value()) << it.error().ToString();
  EXPECT_EQ(it->events.size(), 1u);
  // Unknown concerns stay "not found".
  EXPECT_EQ(this->store_->GetConcern("zz", kRead).error().code(), ErrorCode::kNotFound);
  this->MendInserts("audit_log");
  EXPECT_EQ(this->AuditRows(), 0u);
  ASSERT_TRUE(this->store_->GetConcern("c1", kRead).has_value());
  EXPECT_EQ(this->AuditRows(), 1u);
}

// Issue 15: a list wrote one audit row per concern after the read. Now one request is one row,
// naming every concern it returned, in order; a read that returns none writes none.
TYPED_TEST(StorageContractTest, Regression_Issue15_ListingNConcernsWritesOneRowNamingThem) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  for (int i = 1; i <= 3; ++i) {
    std::vector<EventRow> batch = {this->ConcernEventRow("c" + std::to_string(i), "x"),
                                   this->Event("e" + std::to_string(i))};
    ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100 * i).has_value());
  }
  using V = std::vector<std::string>;
  const AuditEntry list{.at_ms = 9,
                        .staff_name = "Ms Patel",
                        .action = "concern.list",
                        .concern_id = "",
                        .concern_ids = {}};
  auto concerns = this->store_->ListConcerns({.status = {}, .limit = 10}, list);
  ASSERT_TRUE(concerns.has_value()) << concerns.error().ToString();
  ASSERT_EQ(concerns->size(), 3u);
  auto rows = this->store_->ListAudit(10);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().action, "concern.list");
  EXPECT_EQ(rows->front().staff_name, "Ms Patel");
  EXPECT_EQ(rows->front().at_ms, 9);
  EXPECT_EQ(rows->front().concern_id, "c3");
  EXPECT_EQ(rows->front().concern_ids, (V{"c3", "c2", "c1"}));

  auto events = this->store_->ListEvents(0, {.reader = StaffRole::kDsl, .limit = 10}, kRead);
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  EXPECT_EQ(events->events.size(), 6u);
  auto page = this->store_->ListAuditPage(0, 10);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ(page->front().entry.concern_ids.size(), 3u);  // the page's three concern events

  // Nothing returned, nothing audited.
  ASSERT_TRUE(this->store_->ListConcerns({.status = ConcernStatus::kClosed, .limit = 10}, list)
                  .has_value());
  ASSERT_TRUE(
      this->store_->ListEvents(0, {.reader = StaffRole::kIt, .limit = 10}, kRead).has_value());
  EXPECT_EQ(this->AuditRows(), 2u);
}

// Issue 15: a status change and its incident-log entry were two writes. If any part of a
// change cannot be written (the entry, or the audit row), none of it is.
TYPED_TEST(StorageContractTest, Regression_Issue15_AStatusChangeIsAllOrNothing) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->ConcernEventRow("c1", "help")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  const ConcernChange change{.concern_id = "c1",
                             .author = "Ms Patel",
                             .at_ms = 200,
                             .status = ConcernStatus::kInProgress,
                             .status_text = "status set to in-progress"};
  auto status = [&] { return this->store_->GetConcern("c1", kRead)->status; };
  auto log_size = [&] { return this->store_->ListIncidentLog("c1", 0, 10, kRead)->size(); };
  for (const std::string table : {"concern_notes", "concern_log_kinds", "audit_log"}) {
    SCOPED_TRACE(table);
    this->BreakInserts(table);
    EXPECT_FALSE(this->store_->ApplyConcernChange(change).has_value());
    this->MendInserts(table);
    EXPECT_EQ(status(), ConcernStatus::kNew);
    EXPECT_EQ(log_size(), 0u);
  }
  const std::size_t reads = this->AuditRows();
  ASSERT_TRUE(this->store_->ApplyConcernChange(change).has_value());
  EXPECT_EQ(status(), ConcernStatus::kInProgress);
  auto log = this->store_->ListIncidentLog("c1", 0, 10, kRead);
  ASSERT_TRUE(log.has_value());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ(log->front().kind, IncidentKind::kStatus);
  EXPECT_EQ(log->front().note.text, "status set to in-progress");
  auto rows = this->store_->ListAudit(100);
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->size(), reads + 3);  // the change, then the two reads above
  EXPECT_EQ((*rows)[2].action, "concern.status");
  EXPECT_EQ((*rows)[2].concern_ids, std::vector<std::string>{"c1"});
  EXPECT_EQ(this->store_->ApplyConcernChange({.concern_id = "zz", .author = "x", .at_ms = 1})
                .error()
                .code(),
            ErrorCode::kNotFound);
}

// A referral moves an open concern to referred in the same transaction as its entry; a closed
// concern stays closed.
TYPED_TEST(StorageContractTest, Regression_Issue15_AReferralMovesTheStatusInTheSameChange) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> batch = {this->ConcernEventRow("c1", "help"),
                                 this->ConcernEventRow("c2", "help")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  ASSERT_TRUE(this->SetStatus("c2", ConcernStatus::kClosed).has_value());
  for (const std::string id : {"c1", "c2"}) {
    ASSERT_TRUE(this->store_
                    ->ApplyConcernChange({.concern_id = id,
                                          .author = "Mr Khan",
                                          .at_ms = 300,
                                          .kind = IncidentKind::kReferredExternal,
                                          .text = "Referred: children's services",
                                          .action = "concern.referred-external",
                                          .status = ConcernStatus::kReferred,
                                          .status_text = "status set to referred",
                                          .status_only_if_open = true})
                    .has_value());
  }
  EXPECT_EQ(this->store_->GetConcern("c1", kRead)->status, ConcernStatus::kReferred);
  EXPECT_EQ(this->store_->GetConcern("c2", kRead)->status, ConcernStatus::kClosed);
  auto c1 = this->store_->ListIncidentLog("c1", 0, 10, kRead);
  ASSERT_TRUE(c1.has_value());
  ASSERT_EQ(c1->size(), 2u);
  EXPECT_EQ((*c1)[0].kind, IncidentKind::kReferredExternal);
  EXPECT_EQ((*c1)[1].kind, IncidentKind::kStatus);
  EXPECT_EQ(this->store_->ListIncidentLog("c2", 0, 10, kRead)->size(), 1u);
}

// Issue 15: the audit log cannot be changed or deleted, not even by a program that bypasses
// the collector and talks to the database.
TYPED_TEST(StorageContractTest, Regression_Issue15_TheDatabaseRefusesToChangeTheAuditLog) {
  ASSERT_TRUE(this->store_->AppendAudit({1, "Ms Patel", "concern.read", "c1"}).has_value());
  this->Exec("UPDATE audit_log SET staff_name = 'nobody'", false);
  this->Exec("UPDATE audit_log SET concern_id = 'c2', subjects = 'c2' WHERE seq > 0", false);
  this->Exec("DELETE FROM audit_log", false);
  if constexpr (TypeParam::kDialect == Dialect::kPostgres) {
    this->Exec("TRUNCATE audit_log", false);
  }
  auto rows = this->store_->ListAudit(10);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().staff_name, "Ms Patel");
  EXPECT_EQ(rows->front().concern_id, "c1");
  // Appending still works.
  ASSERT_TRUE(this->store_->AppendAudit({2, "Mr Khan", "concern.read", "c1"}).has_value());
  EXPECT_EQ(this->AuditRows(), 2u);
}

// Schema 9 keeps the audit rows written before it, each naming its one concern.
TYPED_TEST(StorageContractTest, MigrationToOneAuditRowPerRequestKeepsOldRows) {
  auto location = this->OldStore(
      8, {"INSERT INTO audit_log(at_ms, staff_name, action, concern_id) VALUES(5, 'Ms Patel', "
          "'concern.read', 'c1')",
          "INSERT INTO audit_log(at_ms, staff_name, action, concern_id) VALUES(6, "
          "'ward-collector', 'device.readmit', 'd1')"});
  ASSERT_TRUE(location.has_value()) << location.error().ToString();
  auto store = TypeParam::OpenAt(*location);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_GE((*store)->SchemaVersion(), 9);
  auto rows = (*store)->ListAudit(10);
  ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].concern_id, "d1");
  EXPECT_TRUE((*rows)[0].concern_ids.empty());
  EXPECT_EQ((*rows)[1].concern_id, "c1");
  EXPECT_EQ((*rows)[1].concern_ids, std::vector<std::string>{"c1"});
}

// Issue 15: an anonymous concern kept the name an agent sent in its event's body, and its text
// and screenshot were stored twice. Whatever the agent sends, the name is in no table and no
// column (nor in the SQLite files), not even as its account hash.
TYPED_TEST(StorageContractTest, Regression_Issue15_AnAnonymousConcernNamesNobodyAnywhere) {
  const std::string name = "zq-anon-learner-7731";
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  EventRow anonymous = this->ConcernEventRow("c-anon", "please do not say it was me");
  anonymous.concern->anonymous = true;
  anonymous.concern->user = name;  // as a faulty or hostile agent might send it
  anonymous.account = name;
  anonymous.body = "stands for the serialised event, naming " + name;
  EventRow named = this->ConcernEventRow("c-named", "someone keeps messaging me");
  named.account = "learner1";
  EventRow usb = this->Event("e1");
  usb.account = "learner1";
  std::vector<EventRow> batch = {anonymous, named, usb};
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  auto hash = this->store_->AccountHash(name);
  ASSERT_TRUE(hash.has_value()) << hash.error().ToString();
  ASSERT_EQ(hash->size(), 64u);
  const std::string location = this->backend_.location();
  EXPECT_EQ(this->ColumnsHolding(location, name), (std::map<std::string, std::int64_t>{}));
  EXPECT_EQ(this->ColumnsHolding(location, *hash), (std::map<std::string, std::int64_t>{}));
  EXPECT_FALSE(this->FilesHold(location, name));
  // The scan does find what is there: the named learner's hash, once (in `accounts`; their
  // concern and events carry its id).
  const std::string learner1 = *this->store_->AccountHash("learner1");
  EXPECT_EQ(this->ColumnsHolding(location, learner1),
            (std::map<std::string, std::int64_t>{{"accounts.hash", 1}}));
  auto counts = this->store_->CountAccountRecords(learner1);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->events, 2u);
  EXPECT_EQ(counts->concerns, 1u);
  // The DSL still reads the anonymous concern, without a name.
  auto concern = this->store_->GetConcern("c-anon", kRead);
  ASSERT_TRUE(concern.has_value());
  EXPECT_TRUE(concern->content.anonymous);
  EXPECT_TRUE(concern->content.user.empty());
  EXPECT_EQ(concern->content.text, "please do not say it was me");
}

TYPED_TEST(StorageContractTest, Regression_Issue15_AConcernIsStoredOnce) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::string shot = "\x89PNG";
  for (int i = 0; i < 4096; ++i) {
    shot += "ward-shot-marker-" + std::to_string(i) + ";";
  }
  const std::string text = "ward-text-marker: an older boy keeps messaging me";
  EventRow concern = this->ConcernEventRow("c1", text);
  concern.concern->screenshot_png = shot;
  concern.body = "stands for the serialised event: " + text + shot;
  std::vector<EventRow> batch = {concern};
  ASSERT_TRUE(this->store_->IngestEvents("d1", batch, 100).has_value());
  const std::string location = this->backend_.location();
  using Hits = std::map<std::string, std::int64_t>;
  EXPECT_EQ(this->ColumnsHolding(location, "ward-shot-marker-4095;"),
            (Hits{{"concerns.screenshot", 1}}));
  EXPECT_EQ(this->ColumnsHolding(location, "ward-text-marker"), (Hits{{"concerns.text", 1}}));
  EXPECT_EQ(*this->store_->GetConcernScreenshot("c1", kRead), shot);
  // Its event is still there, listed to the DSL with the concern read from the inbox.
  EXPECT_EQ(*this->store_->CountEvents(), 1u);
  auto listed = this->store_->ListEvents(0, {.reader = StaffRole::kDsl, .limit = 10}, kRead);
  ASSERT_TRUE(listed.has_value()) << listed.error().ToString();
  ASSERT_EQ(listed->events.size(), 1u);
  EXPECT_TRUE(listed->events.front().body.empty());
  ASSERT_TRUE(listed->events.front().concern.has_value());
  EXPECT_EQ(listed->events.front().concern->text, text);
  EXPECT_EQ(listed->events.front().concern->user, "learner1");
  EXPECT_TRUE(listed->events.front().concern->has_screenshot);
}

TYPED_TEST(StorageContractTest, Regression_Issue15_ItReadsConcernsAsTheRedactedType) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  EventRow plain = this->ConcernEventRow("c2", "two");
  plain.concern->screenshot_png.clear();
  std::vector<EventRow> first = {this->ConcernEventRow("c1", "one")};
  std::vector<EventRow> second = {plain};
  ASSERT_TRUE(this->store_->IngestEvents("d1", first, 1000).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d1", second, 2000).has_value());
  ASSERT_TRUE(this->SetStatus("c1", ConcernStatus::kInProgress).has_value());
  auto list = this->store_->ListRedactedConcerns({.status = {}, .limit = 10}, kRead);
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "c2");
  EXPECT_EQ((*list)[0].device_id, "d1");
  EXPECT_EQ((*list)[0].group, "learners-under-18");
  EXPECT_EQ((*list)[0].received_ms, 2000);
  EXPECT_EQ((*list)[0].device_time_ms, 42);
  EXPECT_FALSE((*list)[0].has_screenshot);
  EXPECT_EQ((*list)[1].status, ConcernStatus::kInProgress);
  EXPECT_TRUE((*list)[1].has_screenshot);
  auto in_progress = this->store_->ListRedactedConcerns(
      {.status = ConcernStatus::kInProgress, .limit = 10}, kRead);
  ASSERT_TRUE(in_progress.has_value());
  ASSERT_EQ(in_progress->size(), 1u);
  EXPECT_EQ(in_progress->front().id, "c1");
  auto one = this->store_->GetRedactedConcern("c1", kRead);
  ASSERT_TRUE(one.has_value()) << one.error().ToString();
  EXPECT_EQ(one->id, "c1");
  EXPECT_EQ(one->status, ConcernStatus::kInProgress);
  EXPECT_EQ(this->store_->GetRedactedConcern("zz", kRead).error().code(), ErrorCode::kNotFound);
}

// Per-person queries (the base of subject access and erasure) are indexed queries on a keyed
// hash of the account; events without an account, and anonymous concerns, have none.
TYPED_TEST(StorageContractTest, APersonsRecordsAreFoundByAccountHash) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d2")).has_value());
  auto with = [](EventRow e, const std::string& account) {
    e.account = account;
    return e;
  };
  EventRow anonymous = with(this->ConcernEventRow("c-anon", "x"), "learner1");
  anonymous.concern->anonymous = true;
  std::vector<EventRow> one = {with(this->Event("e1"), "learner1"),
                               with(this->Event("e2"), "learner2"), with(this->Event("e3"), ""),
                               with(this->ConcernEventRow("c1", "y"), "learner1"), anonymous};
  std::vector<EventRow> two = {with(this->Event("e4"), "learner1")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", one, 100).has_value());
  ASSERT_TRUE(this->store_->IngestEvents("d2", two, 200).has_value());

  const std::string h1 = *this->store_->AccountHash("learner1");
  const std::string h2 = *this->store_->AccountHash("learner2");
  EXPECT_EQ(h1.size(), 64u);
  EXPECT_NE(h1, h2);
  EXPECT_EQ(*this->store_->AccountHash(""), "");
  auto counts = this->store_->CountAccountRecords(h1);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->events, 3u);
  EXPECT_EQ(counts->concerns, 1u);
  EXPECT_EQ(this->store_->CountAccountRecords(h2)->events, 1u);
  EXPECT_EQ(this->store_->CountAccountRecords(h2)->concerns, 0u);
  auto page = this->store_->ListAccountEvents(h1, 0, 2);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_TRUE(page->more);
  auto rest = this->store_->ListAccountEvents(h1, page->events.back().seq, 2);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->events.size(), 1u);
  EXPECT_FALSE(rest->more);
  std::set<std::string> ids = {page->events[0].id, page->events[1].id, rest->events[0].id};
  EXPECT_EQ(ids, (std::set<std::string>{"e1", "c1", "e4"}));
  for (const StoredEvent& e : page->events) {
    EXPECT_FALSE(e.concern.has_value());
    if (e.kind == "concern") {
      EXPECT_TRUE(e.body.empty());
    }
  }
  EXPECT_EQ(rest->events[0].device_id, "d2");
  // The key is the store's: the same name hashes the same after a restart.
  this->store_.reset();
  auto again = this->backend_.Open();
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(*(*again)->AccountHash("learner1"), h1);
  const auto indexes = this->Indexes(this->backend_.location());
  for (const char* index :
       {"events_by_account", "concerns_by_account", "concerns_by_device", "events_by_device"}) {
    EXPECT_NE(std::find(indexes.begin(), indexes.end(), index), indexes.end()) << index;
  }
}

// Subject access (docs/adr/0015): pages of one person's events, AUP acceptances, concerns with
// their incident log, devices and screenshots, filtered by device and date, each page audited
// with its read, naming the account hash and the filters.
TYPED_TEST(StorageContractTest, SubjectAccessPagesHoldOnlyThatPersonsRecords) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d2")).has_value());
  auto with = [](EventRow e, const std::string& account, const std::string& kind = "usb") {
    e.account = account;
    if (e.kind != "concern") {
      e.kind = kind;
    }
    return e;
  };
  EventRow anonymous = with(this->ConcernEventRow("c-anon", "anon words"), "learner1");
  anonymous.concern->anonymous = true;
  std::vector<EventRow> at100 = {with(this->Event("e1"), "learner1"),
                                 with(this->Event("a1"), "learner1", "aup"),
                                 with(this->Event("e2"), "learner2"),
                                 with(this->ConcernEventRow("c1", "my words"), "learner1"),
                                 with(this->ConcernEventRow("c3", "theirs"), "learner2"),
                                 anonymous};
  ASSERT_TRUE(this->store_->IngestEvents("d1", at100, 100).has_value());
  std::vector<EventRow> at200 = {with(this->Event("e4"), "learner1"),
                                 with(this->ConcernEventRow("c2", "more words"), "learner1")};
  ASSERT_TRUE(this->store_->IngestEvents("d2", at200, 200).has_value());
  std::vector<EventRow> many;
  for (int i = 0; i < 25; ++i) {
    many.push_back(with(this->Event("m" + std::to_string(100 + i)), "learner1"));
  }
  ASSERT_TRUE(this->store_->IngestEvents("d1", many, 300).has_value());
  ASSERT_TRUE(this->AddNote({"c1", "Ms Patel", "spoke to the learner", 150}).has_value());
  const std::string h1 = *this->store_->AccountHash("learner1");
  const AuditEntry audit{
      .at_ms = 9, .staff_name = "Ms Patel", .action = "subject.export", .concern_id = {}};
  const std::size_t audit_before = this->AuditRows();

  // Every page of events, in pages of 7: complete, in order, without duplicates.
  auto all_events = [&](const SubjectQuery& q, SubjectEvents which) {
    std::vector<std::string> ids;
    std::int64_t after = 0;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = this->store_->ListSubjectEvents(q, which, after, audit);
      EXPECT_TRUE(page.has_value()) << page.error().ToString();
      if (!page.has_value()) {
        break;
      }
      for (const StoredEvent& e : page->events) {
        ids.push_back(e.id);
        EXPECT_GT(e.seq, after);
        EXPECT_NE(e.kind, "concern");
        EXPECT_FALSE(e.body.empty());
      }
      if (!page->more) {
        break;
      }
      after = page->events.back().seq;
    }
    return ids;
  };
  SubjectQuery q{.account_hash = h1, .limit = 7};
  std::vector<std::string> events = all_events(q, SubjectEvents::kTelemetry);
  std::vector<std::string> expected = {"e1", "e4"};
  for (int i = 0; i < 25; ++i) {
    expected.push_back("m" + std::to_string(100 + i));
  }
  EXPECT_EQ(events, expected);
  EXPECT_EQ(std::set<std::string>(events.begin(), events.end()).size(), events.size());
  EXPECT_EQ(all_events(q, SubjectEvents::kAup), std::vector<std::string>{"a1"});
  EXPECT_EQ(all_events({.account_hash = h1, .device_id = "d2"}, SubjectEvents::kTelemetry),
            std::vector<std::string>{"e4"});
  EXPECT_EQ(all_events({.account_hash = h1, .to_ms = 200}, SubjectEvents::kTelemetry),
            std::vector<std::string>{"e1"});
  EXPECT_EQ(
      all_events({.account_hash = h1, .from_ms = 200, .to_ms = 300}, SubjectEvents::kTelemetry),
      std::vector<std::string>{"e4"});
  EXPECT_TRUE(
      all_events({.account_hash = *this->store_->AccountHash("nobody")}, SubjectEvents::kTelemetry)
          .empty());

  // Concerns with their incident log: never the anonymous one, never another person's.
  auto concerns = this->store_->ListSubjectConcerns({.account_hash = h1, .limit = 1}, "", audit);
  ASSERT_TRUE(concerns.has_value()) << concerns.error().ToString();
  ASSERT_EQ(concerns->size(), 1u);
  EXPECT_EQ(concerns->front().first.id, "c1");
  EXPECT_EQ(concerns->front().first.content.text, "my words");
  EXPECT_TRUE(concerns->front().first.content.has_screenshot);
  ASSERT_EQ(concerns->front().second.size(), 1u);
  EXPECT_EQ(concerns->front().second.front().note.text, "spoke to the learner");
  auto rest = this->store_->ListSubjectConcerns({.account_hash = h1, .limit = 10}, "c1", audit);
  ASSERT_TRUE(rest.has_value()) << rest.error().ToString();
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front().first.id, "c2");
  EXPECT_TRUE(rest->front().second.empty());
  auto on_d1 =
      this->store_->ListSubjectConcerns({.account_hash = h1, .device_id = "d1"}, "", audit);
  ASSERT_TRUE(on_d1.has_value());
  ASSERT_EQ(on_d1->size(), 1u);
  EXPECT_EQ(on_d1->front().first.id, "c1");
  auto later = this->store_->ListSubjectConcerns({.account_hash = h1, .from_ms = 101}, "", audit);
  ASSERT_TRUE(later.has_value());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ(later->front().first.id, "c2");

  // The laptops: two, with how many of the person's events each sent (concerns included).
  auto devices = this->store_->ListSubjectDevices({.account_hash = h1}, "", audit);
  ASSERT_TRUE(devices.has_value()) << devices.error().ToString();
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].id, "d1");
  EXPECT_EQ((*devices)[0].hostname, "laptop-d1");
  EXPECT_EQ((*devices)[0].events, 28u);  // e1, a1, c1 and 25 more
  EXPECT_EQ((*devices)[0].first_received_ms, 100);
  EXPECT_EQ((*devices)[0].last_received_ms, 300);
  EXPECT_EQ((*devices)[1].id, "d2");
  EXPECT_EQ((*devices)[1].events, 2u);
  auto after_d1 = this->store_->ListSubjectDevices({.account_hash = h1, .limit = 5}, "d1", audit);
  ASSERT_TRUE(after_d1.has_value());
  ASSERT_EQ(after_d1->size(), 1u);
  EXPECT_EQ(after_d1->front().id, "d2");

  // Screenshots one at a time, only of the person's concerns.
  auto shot = this->store_->GetSubjectScreenshot({.account_hash = h1}, "c1", audit);
  ASSERT_TRUE(shot.has_value()) << shot.error().ToString();
  EXPECT_EQ(*shot, std::string("\x89PNG\0x", 6));
  EXPECT_EQ(this->store_->GetSubjectScreenshot({.account_hash = h1}, "c3", audit).error().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(
      this->store_->GetSubjectScreenshot({.account_hash = h1}, "c-anon", audit).error().code(),
      ErrorCode::kNotFound);

  // One audit row per page, naming the account hash, the filters and the concerns returned.
  auto rows = this->store_->ListAudit(1000);
  ASSERT_TRUE(rows.has_value());
  // Events: 4 pages of all, then 1 each of AUP, by device, by date twice, and one empty; 4
  // concern pages, 2 device pages, 1 screenshot (a refused read leaves nothing and no row).
  const std::size_t pages = 4 + 1 + 1 + 1 + 1 + 1 + 4 + 2 + 1;
  ASSERT_EQ(rows->size() - audit_before, pages);
  std::set<std::string> actions;
  for (std::size_t i = 0; i < pages; ++i) {
    const AuditEntry& row = (*rows)[i];
    actions.insert(row.action);
    EXPECT_EQ(row.staff_name, "Ms Patel");
    EXPECT_TRUE(row.concern_id == "account:" + h1 ||
                row.concern_id == "account:" + *this->store_->AccountHash("nobody"))
        << row.concern_id;
    for (const std::string& id : row.concern_ids) {
      EXPECT_EQ(id.find("learner"), std::string::npos) << "a plain account name in the audit log";
    }
  }
  EXPECT_EQ(actions, std::set<std::string>{"subject.export"});
  const AuditEntry& newest_concerns = (*rows)[3];  // the page "from 101"
  EXPECT_EQ(newest_concerns.concern_ids,
            (std::vector<std::string>{"account:" + h1, "from:101", "page:concerns", "c2"}));
}

// A subject-access page whose audit row cannot be written returns nothing (fails closed), even
// an empty page.
TYPED_TEST(StorageContractTest, SubjectAccessPageIsRefusedWhenItsAuditRowCannotBeWritten) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  EventRow e = this->Event("e1");
  e.account = "learner1";
  ASSERT_TRUE(this->store_->IngestEvents("d1", std::vector<EventRow>{e}, 100).has_value());
  EventRow c = this->ConcernEventRow("c1", "words");
  c.account = "learner1";
  ASSERT_TRUE(this->store_->IngestEvents("d1", std::vector<EventRow>{c}, 100).has_value());
  const SubjectQuery q{.account_hash = *this->store_->AccountHash("learner1")};
  const AuditEntry audit{
      .at_ms = 9, .staff_name = "Ms Patel", .action = "subject.export", .concern_id = {}};
  this->BreakInserts("audit_log");
  auto events = this->store_->ListSubjectEvents(q, SubjectEvents::kTelemetry, 0, audit);
  ASSERT_FALSE(events.has_value());
  EXPECT_TRUE(IsAuditWriteFailure(events.error())) << events.error().ToString();
  auto empty = this->store_->ListSubjectEvents(q, SubjectEvents::kAup, 0, audit);
  ASSERT_FALSE(empty.has_value());
  EXPECT_TRUE(IsAuditWriteFailure(empty.error()));
  auto concerns = this->store_->ListSubjectConcerns(q, "", audit);
  ASSERT_FALSE(concerns.has_value());
  EXPECT_TRUE(IsAuditWriteFailure(concerns.error()));
  auto devices = this->store_->ListSubjectDevices(q, "", audit);
  ASSERT_FALSE(devices.has_value());
  EXPECT_TRUE(IsAuditWriteFailure(devices.error()));
  auto shot = this->store_->GetSubjectScreenshot(q, "c1", audit);
  ASSERT_FALSE(shot.has_value());
  EXPECT_TRUE(IsAuditWriteFailure(shot.error()));
  this->MendInserts("audit_log");
  auto again = this->store_->ListSubjectEvents(q, SubjectEvents::kTelemetry, 0, audit);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->events.size(), 1u);
}

// Migration 10 on a store left by every earlier release: each concern's contents leave its
// event row (stored once), an anonymous concern's name is gone from every table (and the
// SQLite files), and events and concerns get their account hash from what old rows hold.
TYPED_TEST(StorageContractTest, Regression_Issue15_MigrationStoresConcernsOnceFromEveryVersion) {
  using namespace Poco::Data::Keywords;
  using Poco::Data::BLOB;
  const std::string anonymous_name = "zq-anon-learner-5521";
  const std::string shot = "\x89PNG ward-shot-marker-old";
  const auto body = [](const std::string& id, const std::string& user, bool concern, bool anonymous,
                       const std::string& shot_png) {
    ward::v1::Event e;
    e.set_id(id);
    e.set_user(user);
    if (concern) {
      e.mutable_concern()->set_reference("R-1");
      e.mutable_concern()->set_text("ward-text-marker-old " + id);
      e.mutable_concern()->set_anonymous(anonymous);
      e.mutable_concern()->set_screenshot_png(shot_png);
    } else {
      e.mutable_usb()->mutable_device()->set_name("a usb stick");
    }
    const std::string bytes = e.SerializeAsString();
    BLOB blob;
    blob.assignRaw(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return blob;
  };
  for (int from : {1, 2, 3, 4, 5, 6, 8, 9}) {
    SCOPED_TRACE("from schema " + std::to_string(from));
    auto location = this->OldStore(
        from, {"INSERT INTO device_groups(name, signing_public_key, created_at_ms) VALUES('g', "
               "'k', 1)",
               "INSERT INTO devices(id, group_name, hostname, os, agent_version, machine_hash, "
               "credential_hash, revoked, enrolled_at_ms, last_seen_ms) VALUES('d1', 'g', 'h', "
               "'linux', 'v', 'mh', 'ch', 0, 10, 20)"});
    ASSERT_TRUE(location.has_value()) << location.error().ToString();
    {
      Poco::Data::Session s(TypeParam::kConnector, *location);
      struct Old {
        std::string id;
        std::string kind;
        BLOB body;
      };
      std::vector<Old> events = {
          {"e-named", "usb", body("e-named", "learner-old", false, false, "")},
          {"e-nobody", "usb", body("e-nobody", "", false, false, "")},
          {"c-named", "concern", body("c-named", "learner-old", true, false, shot + "-named")},
          {"c-anon", "concern", body("c-anon", anonymous_name, true, true, shot + "-anon")},
      };
      for (Old& e : events) {
        s << TranslateSql(TypeParam::kDialect,
                          "INSERT INTO events(id, device_id, device_time_ms, received_ms, "
                          "priority, kind, body) VALUES(?, 'd1', 1, 2, 2, ?, ?)"),
            use(e.id), use(e.kind), use(e.body), now;
      }
      for (const bool anonymous : {false, true}) {
        std::string id = anonymous ? "c-anon" : "c-named";
        std::string text = "ward-text-marker-old " + id;
        std::string user = anonymous ? anonymous_name : "learner-old";
        int anon = anonymous ? 1 : 0;
        const std::string png = shot + (anonymous ? "-anon" : "-named");
        BLOB screenshot;
        screenshot.assignRaw(reinterpret_cast<const unsigned char*>(png.data()), png.size());
        s << TranslateSql(TypeParam::kDialect,
                          "INSERT INTO concerns(id, device_id, group_name, device_time_ms, "
                          "received_ms, status, reference, category, text, anonymous, "
                          "in_danger, user_name, screenshot) VALUES(?, 'd1', 'g', 1, 2, 'new', "
                          "'R-1', 1, ?, ?, 0, ?, ?)"),
            use(id), use(text), use(anon), use(user), use(screenshot), now;
      }
    }
    auto store = TypeParam::OpenAt(*location);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    EXPECT_GE((*store)->SchemaVersion(), 10);
    using Hits = std::map<std::string, std::int64_t>;
    EXPECT_EQ(this->ColumnsHolding(*location, anonymous_name), Hits{});
    EXPECT_FALSE(this->FilesHold(*location, anonymous_name));
    EXPECT_EQ(this->ColumnsHolding(*location, "ward-shot-marker-old"),
              (Hits{{"concerns.screenshot", 2}}));
    EXPECT_EQ(this->ColumnsHolding(*location, "ward-text-marker-old"),
              (Hits{{"concerns.text", 2}}));
    const auto indexes = this->Indexes(*location);
    for (const char* index : {"events_by_account", "concerns_by_account", "concerns_by_device"}) {
      EXPECT_NE(std::find(indexes.begin(), indexes.end(), index), indexes.end()) << index;
    }
    // The account hashes, from the concern row and from the old events' bodies.
    const std::string learner = *(*store)->AccountHash("learner-old");
    auto counts = (*store)->CountAccountRecords(learner);
    ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
    EXPECT_EQ(counts->events, 2u);  // e-named, c-named
    EXPECT_EQ(counts->concerns, 1u);
    EXPECT_EQ(this->ColumnsHolding(*location, *(*store)->AccountHash(anonymous_name)), Hits{});
    // The DSL's event list still shows both concerns, from the inbox, and the old events.
    auto listed = (*store)->ListEvents(0, {.reader = StaffRole::kDsl, .limit = 10}, kRead);
    ASSERT_TRUE(listed.has_value()) << listed.error().ToString();
    ASSERT_EQ(listed->events.size(), 4u);
    for (const StoredEvent& e : listed->events) {
      SCOPED_TRACE(e.id);
      if (e.kind == "concern") {
        ASSERT_TRUE(e.concern.has_value());
        EXPECT_EQ(e.concern->text, "ward-text-marker-old " + e.id);
        EXPECT_EQ(e.concern->user, e.id == "c-anon" ? "" : "learner-old");
        EXPECT_TRUE(e.concern->has_screenshot);
      } else {
        ward::v1::Event parsed;
        EXPECT_TRUE(parsed.ParseFromString(e.body));
        EXPECT_EQ(parsed.id(), e.id);
      }
    }
    EXPECT_EQ(*(*store)->GetConcernScreenshot("c-anon", kRead), shot + "-anon");
  }
}

// --- Retention (docs/adr/0015-uk-gdpr-rights.md, "Retention, automatic") ---

constexpr std::int64_t kDay = RetentionLimits::kDayMs;
constexpr std::int64_t kYear = 365 * kDay;

EventRow OfKind(EventRow e, const std::string& kind, const std::string& account = "") {
  e.kind = kind;
  e.account = account;
  return e;
}

// Telemetry goes 90 days after it arrived, to the millisecond, whatever its device; concern
// events and AUP acceptances of the same age stay.
TYPED_TEST(StorageContractTest, TelemetryExpiresExactlyNinetyDaysAfterItArrived) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d2")).has_value());
  const std::int64_t t0 = 1'000'000;
  std::vector<EventRow> old = {
      OfKind(this->Event("usb1"), "usb"), OfKind(this->Event("exec1"), "exec"),
      OfKind(this->Event("set1"), "settings"), OfKind(this->Event("aup1"), "aup", "learner1"),
      this->ConcernEventRow("c1", "help")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", old, t0).has_value());
  std::vector<EventRow> other = {OfKind(this->Event("agent2"), "agent")};
  ASSERT_TRUE(this->store_->IngestEvents("d2", other, t0).has_value());
  std::vector<EventRow> young = {OfKind(this->Event("usb3"), "usb")};
  ASSERT_TRUE(this->store_->IngestEvents("d2", young, t0 + 1).has_value());

  EXPECT_EQ(this->Purge(t0 + 90 * kDay - 1).Total(), 0u);
  EXPECT_EQ(*this->store_->CountEvents(), 7u);
  const RetentionCounts at_limit = this->Purge(t0 + 90 * kDay);
  EXPECT_EQ(at_limit.telemetry, 4u);
  EXPECT_EQ(at_limit.Total(), 4u);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM events WHERE id IN ('usb3', 'aup1', 'c1')"), 3);
  EXPECT_EQ(*this->store_->CountEvents(), 3u);
  EXPECT_EQ(this->Purge(t0 + 90 * kDay + 1).telemetry, 1u);  // usb3, one ms younger
  EXPECT_EQ(this->store_->ListDevices()->size(), 2u);        // devices are never deleted
}

// Expired events are found by a binary search over seq, not by an index on received_ms: every
// cutoff, with gaps left by earlier purges and by concerns kept among them, deletes exactly the
// events that arrived by it.
TYPED_TEST(StorageContractTest, TelemetryCutoffIsExactAtEveryPointOfTheStore) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  const std::int64_t t0 = 1'000'000;
  for (int i = 0; i < 40; ++i) {
    std::vector<EventRow> batch = {OfKind(this->Event("e" + std::to_string(i)), "usb")};
    if (i % 7 == 3) {
      batch.push_back(this->ConcernEventRow("c" + std::to_string(i), "kept"));
    }
    ASSERT_TRUE(this->store_->IngestEvents("d1", batch, t0 + i * 10).has_value());
  }
  std::uint64_t deleted = 0;
  for (int cutoff : {-1, 0, 5, 10, 11, 95, 96, 200, 393, 1000}) {
    SCOPED_TRACE("cutoff " + std::to_string(cutoff));
    deleted += this->Purge(t0 + cutoff + 90 * kDay).telemetry;
    const auto arrived_by =
        static_cast<std::uint64_t>(cutoff < 0 ? 0 : std::min(40, cutoff / 10 + 1));
    EXPECT_EQ(deleted, arrived_by);
    EXPECT_EQ(this->Count("SELECT COUNT(*) FROM events WHERE kind = 'usb'"),
              static_cast<std::int64_t>(40 - arrived_by));
  }
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM events WHERE kind = 'concern'"), 6);
}

// An AUP acceptance goes a year after the newest event the store holds for its account (after
// its own arrival when it has no account).
TYPED_TEST(StorageContractTest, AupAcceptancesExpireAYearAfterTheAccountsLastEvent) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  const std::int64_t t0 = 1'000'000;
  std::vector<EventRow> first = {OfKind(this->Event("a1"), "aup", "learner1"),
                                 OfKind(this->Event("a2"), "aup", "learner2"),
                                 OfKind(this->Event("a3"), "aup")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", first, t0).has_value());
  std::vector<EventRow> later = {OfKind(this->Event("a4"), "aup", "learner2")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", later, t0 + 200 * kDay).has_value());

  EXPECT_EQ(this->Purge(t0 + kYear - 1).Total(), 0u);
  const RetentionCounts year = this->Purge(t0 + kYear);
  EXPECT_EQ(year.aup, 2u);
  EXPECT_EQ(year.Total(), 2u);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM events WHERE id IN ('a2', 'a4')"), 2);
  EXPECT_EQ(this->Purge(t0 + 200 * kDay + kYear - 1).Total(), 0u);
  EXPECT_EQ(this->Purge(t0 + 200 * kDay + kYear).aup, 2u);
  EXPECT_EQ(*this->store_->CountEvents(), 0u);
}

// A closed concern goes 12 years after the DSL closed it, with its incident log, read mark,
// screenshot and event row; an open or reopened concern is never deleted, however old.
TYPED_TEST(StorageContractTest, ClosedConcernsExpireTwelveYearsAfterClosingOpenOnesNever) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> rows = {
      this->ConcernEventRow("c-open", "a"), this->ConcernEventRow("c-closed", "b"),
      this->ConcernEventRow("c-reopened", "c"), this->ConcernEventRow("c-late", "d")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", rows, 1000).has_value());
  const std::int64_t closed = 5 * kYear;
  auto close = [&](const std::string& id, std::int64_t at, ConcernStatus status) {
    return this->store_->ApplyConcernChange({.concern_id = id,
                                             .author = "Ms Patel",
                                             .at_ms = at,
                                             .kind = IncidentKind::kNote,
                                             .text = "note on " + id,
                                             .action = "concern.note",
                                             .status = status,
                                             .status_text = "status of " + id});
  };
  ASSERT_TRUE(close("c-closed", closed, ConcernStatus::kClosed).has_value());
  ASSERT_TRUE(close("c-reopened", closed, ConcernStatus::kClosed).has_value());
  ASSERT_TRUE(close("c-reopened", closed + 1, ConcernStatus::kInProgress).has_value());
  ASSERT_TRUE(close("c-late", closed + 1, ConcernStatus::kClosed).has_value());
  ASSERT_TRUE(this->store_->MarkConcernOpened("c-closed", "Ms Patel", closed).has_value());
  ASSERT_TRUE(this->store_->MarkConcernOpened("c-late", "Ms Patel", closed).has_value());

  // The audit rows of these changes would expire first: kept here, to see only concerns go.
  const RetentionLimits keep_audit{.audit_ms = 200 * kYear};
  EXPECT_EQ(this->Purge(closed + 12 * kYear - 1, 1000, keep_audit).Total(), 0u);
  const RetentionCounts at_limit = this->Purge(closed + 12 * kYear, 1000, keep_audit);
  EXPECT_EQ(at_limit.concerns, 1u);
  EXPECT_EQ(at_limit.Total(), 1u);
  EXPECT_EQ(this->store_->GetConcern("c-closed", kRead).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM events WHERE id = 'c-closed'"), 0);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM concern_notes WHERE concern_id = 'c-closed'"), 0);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM concern_reads WHERE concern_id = 'c-closed'"), 0);
  // c-late keeps its two entries and c-reopened its four, each with its kind.
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM concern_notes"), 6);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM concern_log_kinds"), 6);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM concern_reads"), 1);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM concerns WHERE screenshot IS NOT NULL"), 3);

  const RetentionCounts much_later = this->Purge(closed + 100 * kYear, 1000, keep_audit);
  EXPECT_EQ(much_later.concerns, 1u);  // c-late; c-open and c-reopened stay
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM concerns"), 2);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM events WHERE kind = 'concern'"), 2);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM concerns WHERE closed_ms IS NOT NULL"), 0);
  // The deletions wrote nothing to the audit log; the DSL's changes did.
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM audit_log WHERE action = 'concern.status'"), 4);
}

// Audit rows go 6 years after they were written, and only through PurgeExpired: the database
// still refuses every other DELETE.
TYPED_TEST(StorageContractTest, AuditRowsExpireAfterSixYearsAndOnlyThroughRetention) {
  const std::int64_t t0 = 1'000'000;
  ASSERT_TRUE(this->store_->AppendAudit({t0, "Ms Patel", "concern.read", "c1"}).has_value());
  ASSERT_TRUE(this->store_->AppendAudit({t0 + 1, "Mr Khan", "concern.read", "c2"}).has_value());
  this->Exec("DELETE FROM audit_log WHERE at_ms = " + std::to_string(t0), false);
  EXPECT_EQ(this->Purge(t0 + 6 * kYear - 1).Total(), 0u);
  const RetentionCounts at_limit = this->Purge(t0 + 6 * kYear);
  EXPECT_EQ(at_limit.audit, 1u);
  EXPECT_EQ(at_limit.Total(), 1u);
  auto rows = this->store_->ListAudit(10);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().staff_name, "Mr Khan");
  // The bound is back at 0: the younger row cannot be deleted or changed by anyone else.
  EXPECT_EQ(this->Count("SELECT delete_before_ms FROM audit_retention"), 0);
  this->Exec("DELETE FROM audit_log", false);
  this->Exec("UPDATE audit_log SET staff_name = 'nobody'", false);
  if constexpr (TypeParam::kDialect == Dialect::kPostgres) {
    this->Exec("TRUNCATE audit_log", false);
  }
  EXPECT_EQ(this->AuditRows(), 1u);
  ASSERT_TRUE(this->store_->AppendAudit({t0 + 2, "Mr Khan", "concern.read", "c3"}).has_value());
  EXPECT_EQ(this->AuditRows(), 2u);
}

// At most `max_rows` records per call, classes in order: 3 events and 2 audit rows take three
// calls of 2, and each reports what it deleted.
TYPED_TEST(StorageContractTest, RetentionDeletesInBoundedBatches) {
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d1")).has_value());
  std::vector<EventRow> rows = {this->Event("e1"), this->Event("e2"), this->Event("e3")};
  ASSERT_TRUE(this->store_->IngestEvents("d1", rows, 1000).has_value());
  ASSERT_TRUE(this->store_->AppendAudit({1000, "Ms Patel", "concern.read", "c1"}).has_value());
  ASSERT_TRUE(this->store_->AppendAudit({1001, "Ms Patel", "concern.read", "c2"}).has_value());
  const std::int64_t now = 1001 + 6 * kYear;
  const RetentionCounts first = this->Purge(now, 2);
  EXPECT_EQ(first.telemetry, 2u);
  EXPECT_EQ(first.Total(), 2u);
  const RetentionCounts second = this->Purge(now, 2);
  EXPECT_EQ(second.telemetry, 1u);
  EXPECT_EQ(second.audit, 1u);
  const RetentionCounts third = this->Purge(now, 2);
  EXPECT_EQ(third.audit, 1u);
  EXPECT_EQ(third.Total(), 1u);  // below the batch size: the run is over
  EXPECT_EQ(this->Purge(now, 2).Total(), 0u);
  EXPECT_EQ(*this->store_->CountEvents(), 0u);
  EXPECT_EQ(this->AuditRows(), 0u);
  EXPECT_FALSE(this->store_->PurgeExpired(now, RetentionLimits{}, 0).has_value());
}

// Migration 11 gives each closed concern its close time: its last status entry, else when it
// arrived; other concerns get none.
TYPED_TEST(StorageContractTest, MigrationGivesClosedConcernsTheirCloseTime) {
  auto location = this->OldStore(
      10, {"INSERT INTO concerns(id, device_id, group_name, device_time_ms, received_ms, status, "
           "reference, category, text, anonymous, in_danger, user_name) VALUES('c1', 'd1', 'g', "
           "1, 100, 'closed', 'R1', 1, 't', 0, 0, ''), ('c2', 'd1', 'g', 1, 200, 'closed', 'R2', "
           "1, 't', 0, 0, ''), ('c3', 'd1', 'g', 1, 300, 'new', 'R3', 1, 't', 0, 0, '')",
           "INSERT INTO concern_notes(concern_id, author, text, at_ms) VALUES('c1', 'Ms Patel', "
           "'in progress', 400), ('c1', 'Ms Patel', 'closed', 500), ('c1', 'Ms Patel', 'a note "
           "after', 900)",
           "INSERT INTO concern_log_kinds(note_seq, kind) SELECT seq, 'status' FROM "
           "concern_notes WHERE at_ms < 900",
           "INSERT INTO concern_log_kinds(note_seq, kind) SELECT seq, 'note' FROM "
           "concern_notes WHERE at_ms = 900"});
  ASSERT_TRUE(location.has_value()) << location.error().ToString();
  auto store = TypeParam::OpenAt(*location);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  using namespace Poco::Data::Keywords;
  Poco::Data::Session s(TypeParam::kConnector, *location);
  std::vector<std::string> ids;
  std::vector<Poco::Nullable<std::int64_t>> closed;
  s << "SELECT id, closed_ms FROM concerns ORDER BY id", into(ids), into(closed), now;
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(closed[0].value(), 500);
  EXPECT_EQ(closed[1].value(), 200);
  EXPECT_TRUE(closed[2].isNull());
  auto counts = (*store)->PurgeExpired(500 + 12 * kYear, RetentionLimits{}, 1000);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->concerns, 2u);
}

// The retention job's helpers: one collector at a time on a shared database, devices not seen
// counted, and free pages given back on a SQLite store created with incremental auto_vacuum.
TYPED_TEST(StorageContractTest, RetentionLeaseUnseenDevicesAndFreePages) {
  auto lease = this->store_->TryRetentionLease();
  ASSERT_TRUE(lease.has_value()) << lease.error().ToString();
  EXPECT_NE(*lease, nullptr);
  auto other = TypeParam::OpenAt(this->backend_.location());
  ASSERT_TRUE(other.has_value()) << other.error().ToString();
  if constexpr (TypeParam::kShared) {
    EXPECT_EQ(*(*other)->TryRetentionLease(), nullptr);
    lease->reset();
    auto now_free = (*other)->TryRetentionLease();
    ASSERT_TRUE(now_free.has_value());
    EXPECT_NE(*now_free, nullptr);
  }

  DeviceRecord seen = this->Device("d1");
  seen.last_seen_ms = 5000;
  ASSERT_TRUE(this->store_->PutDevice(seen).has_value());
  ASSERT_TRUE(this->store_->PutDevice(this->Device("d2")).has_value());  // last seen 1000
  DeviceRecord revoked = this->Device("d3");
  revoked.revoked = true;
  ASSERT_TRUE(this->store_->PutDevice(revoked).has_value());
  EXPECT_EQ(*this->store_->CountDevicesLastSeenBy(999), 0u);
  EXPECT_EQ(*this->store_->CountDevicesLastSeenBy(1000), 1u);
  EXPECT_EQ(*this->store_->CountDevicesLastSeenBy(5000), 2u);

  auto reclaimed = this->store_->ReclaimFreePages();
  ASSERT_TRUE(reclaimed.has_value()) << reclaimed.error().ToString();
  EXPECT_EQ(*reclaimed, TypeParam::kDialect == Dialect::kSqlite);
  // A file made before auto_vacuum was set keeps its mode: nothing to reclaim.
  auto old = this->OldStore(10, {});
  ASSERT_TRUE(old.has_value()) << old.error().ToString();
  auto old_store = TypeParam::OpenAt(*old);
  ASSERT_TRUE(old_store.has_value()) << old_store.error().ToString();
  EXPECT_FALSE(*(*old_store)->ReclaimFreePages());
}

}  // namespace
}  // namespace ward::collector
