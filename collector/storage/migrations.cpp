// SPDX-License-Identifier: Apache-2.0
#include <Poco/Data/DataException.h>
#include <Poco/Data/LOB.h>
#include <Poco/Data/Statement.h>

#include <chrono>
#include <map>
#include <vector>

#include "internal/migrations.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/check.h"
#include "ward/common/hex.h"
#include "ward/v1/event.pb.h"

namespace ward::collector {
namespace {

using namespace Poco::Data::Keywords;

// A step in C++ for what SQL cannot do (decode an event, make a key). Runs after the
// migration's statements, in the same transaction. Throws Poco::Exception on database errors.
using MigrationStep = void (*)(Poco::Data::Session& session, Dialect dialect);

struct Migration {
  int version;
  std::vector<std::string_view> statements;
  // Run after `statements`, on one engine only (triggers are written differently on each).
  std::vector<std::string_view> sqlite = {};
  std::vector<std::string_view> postgres = {};
  // Run last, on both engines.
  MigrationStep step = nullptr;
};

// Migration 10's C++ part (docs/adr/0013-concern-stored-once.md): each concern's content leaves
// its event row, anonymous concerns lose any name an agent sent, the collector gets its account
// key, and events and concerns get the keyed hash of their account where it can be computed.
void ConcernStoredOnce(Poco::Data::Session& session, Dialect dialect) {
  using Poco::Data::BLOB;
  const auto sql = [dialect](std::string_view text) { return TranslateSql(dialect, text); };
  // The concern event's body held the whole concern (text, screenshot, any name): the inbox
  // row has all of it already (ingest wrote both in one transaction since migration 1).
  session << sql(
      "UPDATE events SET body = {EMPTY_BLOB} WHERE kind = 'concern' AND EXISTS "
      "(SELECT 1 FROM concerns c WHERE c.id = events.id)"),
      now;
  session << "UPDATE concerns SET user_name = '' WHERE anonymous <> 0", now;

  std::string key_hex = NewSecret();
  std::int64_t at = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  session << sql(
      "INSERT INTO collector_keys(purpose, key_hex, created_at_ms) VALUES('account', "
      "?, ?)"),
      use(key_hex), use(at), now;
  const auto key = HexDecode(key_hex);
  WARD_CHECK(key.has_value());  // NewSecret writes hex
  const std::string key_bytes(key->begin(), key->end());

  std::map<std::string, std::int64_t> account_ids;  // by name
  const auto account_id = [&](const std::string& name) {
    auto [it, added] = account_ids.try_emplace(name, 0);
    if (added) {
      it->second = AccountIdFor(session, dialect, HmacSha256Hex(key_bytes, name));
    }
    return it->second;
  };
  // Concerns (and their events) carry the account of a learner who gave their name.
  {
    std::vector<std::string> ids;
    std::vector<std::string> users;
    session << "SELECT id, user_name FROM concerns WHERE anonymous = 0 AND user_name <> ''",
        into(ids), into(users), now;
    std::string id;
    std::int64_t account = 0;
    Poco::Data::Statement concern(session);
    concern << sql("UPDATE concerns SET account_id = ? WHERE id = ?"), use(account), use(id);
    Poco::Data::Statement event(session);
    event << sql("UPDATE events SET account_id = ? WHERE id = ?"), use(account), use(id);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      id = ids[i];
      account = account_id(users[i]);
      concern.execute();
      event.execute();
    }
  }
  // Every other event names its account inside its protobuf body (ward.v1.Event.user). A
  // page at a time, so a large store is not read into memory at once.
  constexpr int kPage = 1000;
  std::int64_t after = 0;
  for (;;) {
    std::vector<std::int64_t> seqs;
    std::vector<BLOB> bodies;
    int page = kPage;
    session << sql(
        "SELECT seq, body FROM events WHERE kind <> 'concern' AND seq > ? ORDER BY "
        "seq LIMIT ?"),
        use(after), use(page), into(seqs), into(bodies), now;
    if (seqs.empty()) {
      break;
    }
    std::int64_t seq = 0;
    std::int64_t account = 0;
    Poco::Data::Statement update(session);
    update << sql("UPDATE events SET account_id = ? WHERE seq = ?"), use(account), use(seq);
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      ward::v1::Event event;
      // A body that does not parse keeps no account (NULL), like an event without one.
      if (bodies[i].size() > 0 &&
          event.ParseFromArray(bodies[i].rawContent(), static_cast<int>(bodies[i].size())) &&
          !event.user().empty()) {
        seq = seqs[i];
        account = account_id(event.user());
        update.execute();
      }
    }
    after = seqs.back();
  }
}

// Numbered, append-only: never edit a released migration, add the next number instead.
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       {
           "CREATE TABLE device_groups(name TEXT PRIMARY KEY, signing_public_key TEXT NOT NULL, "
           "created_at_ms BIGINT NOT NULL)",
           "CREATE TABLE enrolment_secrets(secret_hash TEXT PRIMARY KEY, group_name TEXT NOT "
           "NULL REFERENCES device_groups(name), created_at_ms BIGINT NOT NULL, revoked INTEGER "
           "NOT NULL DEFAULT 0)",
           "CREATE TABLE devices(id TEXT PRIMARY KEY, group_name TEXT NOT NULL REFERENCES "
           "device_groups(name), hostname TEXT NOT NULL, os TEXT NOT NULL, agent_version TEXT "
           "NOT NULL, machine_hash TEXT NOT NULL, credential_hash TEXT NOT NULL, revoked "
           "INTEGER NOT NULL DEFAULT 0, enrolled_at_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT "
           "NULL, policy_version BIGINT NOT NULL DEFAULT 0, last_status {BLOB})",
           "CREATE INDEX devices_by_machine ON devices(group_name, machine_hash)",
           "CREATE TABLE events(seq {SERIAL}, id TEXT NOT NULL UNIQUE, device_id TEXT NOT NULL, "
           "device_time_ms BIGINT NOT NULL, received_ms BIGINT NOT NULL, priority INTEGER NOT "
           "NULL, kind TEXT NOT NULL, body {BLOB} NOT NULL)",
           "CREATE TABLE policies(group_name TEXT NOT NULL REFERENCES device_groups(name), "
           "version BIGINT NOT NULL, signed_policy {BLOB} NOT NULL, pushed_at_ms BIGINT NOT "
           "NULL, pushed_by TEXT NOT NULL, PRIMARY KEY(group_name, version))",
           "CREATE TABLE concerns(id TEXT PRIMARY KEY, device_id TEXT NOT NULL, group_name TEXT "
           "NOT NULL, device_time_ms BIGINT NOT NULL, received_ms BIGINT NOT NULL, status TEXT "
           "NOT NULL, reference TEXT NOT NULL, category INTEGER NOT NULL, text TEXT NOT NULL, "
           "anonymous INTEGER NOT NULL, in_danger INTEGER NOT NULL, user_name TEXT NOT NULL, "
           "screenshot {BLOB})",
           "CREATE TABLE concern_notes(seq {SERIAL}, concern_id TEXT NOT NULL REFERENCES "
           "concerns(id), author TEXT NOT NULL, text TEXT NOT NULL, at_ms BIGINT NOT NULL)",
           "CREATE TABLE staff_tokens(token_hash TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
           "role TEXT NOT NULL, created_at_ms BIGINT NOT NULL, revoked INTEGER NOT NULL DEFAULT "
           "0)",
           "CREATE TABLE audit_log(seq {SERIAL}, at_ms BIGINT NOT NULL, staff_name TEXT NOT "
           "NULL, action TEXT NOT NULL, concern_id TEXT NOT NULL)",
       }},
      {2,
       {
           "CREATE INDEX events_by_device ON events(device_id, seq)",
           "CREATE INDEX concerns_by_received ON concerns(received_ms)",
       }},
      {3,
       {
           // The incident log's statuses are now new, in-progress, referred, closed.
           "UPDATE concerns SET status = 'in-progress' WHERE status = 'acknowledged'",
           "UPDATE concerns SET status = 'referred' WHERE status = 'escalated'",
           // Set once, by the one collector that alerts the DSL about the concern. Concerns
           // stored before alerts existed were announced in the log; do not alert them again.
           "ALTER TABLE concerns ADD COLUMN alert_claimed_ms BIGINT",
           "UPDATE concerns SET alert_claimed_ms = received_ms",
       }},
      {4,
       {
           // The alert outbox: a claim lapses at alert_lease_until_ms unless its collector
           // renews it, so an alert whose collector died is sent again; done is final.
           "ALTER TABLE concerns ADD COLUMN alert_claimed_by TEXT",
           "ALTER TABLE concerns ADD COLUMN alert_lease_until_ms BIGINT",
           "ALTER TABLE concerns ADD COLUMN alert_done_ms BIGINT",
           // Alerts claimed before the outbox were sent, given up, or lost with no way to tell:
           // count them done rather than alert the DSL again about old concerns.
           "UPDATE concerns SET alert_done_ms = alert_claimed_ms WHERE alert_claimed_ms IS NOT "
           "NULL",
           "CREATE INDEX concerns_alert_due ON concerns(received_ms) WHERE alert_done_ms IS NULL",
       }},
      {5,
       {
           // Staff console sessions (docs/console.md): the hash of the session id (the id is
           // only in the browser's cookie) and of the staff token it was opened with.
           "CREATE TABLE console_sessions(id_hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL, "
           "created_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL, ended_ms BIGINT)",
           "CREATE INDEX console_sessions_by_last_seen ON console_sessions(last_seen_ms)",
       }},
      {6,
       {
           // The console's pages: typed incident-log entries (a note's kind; untyped notes
           // are plain notes), which concerns the safeguarding team has opened, and the
           // indexes its paged lists walk.
           "CREATE TABLE concern_log_kinds(note_seq BIGINT PRIMARY KEY, kind TEXT NOT NULL)",
           "CREATE TABLE concern_reads(concern_id TEXT PRIMARY KEY, first_read_ms BIGINT NOT "
           "NULL, first_reader TEXT NOT NULL)",
           "CREATE INDEX concern_notes_by_concern ON concern_notes(concern_id, seq)",
           "CREATE INDEX devices_by_hostname ON devices(hostname, id)",
       }},
      {8,
       {
           // Device trust (docs/adr/0012-device-trust.md): when IT last let this device's laptop
           // enrol again (after a revocation, or to replace its credential without the old
           // one), and when an enrolment with its machine hash was last refused; 0 for never.
           // Needs nothing from migration 7, so the two can land in either order. (7 stays
           // unused: see migration 10.)
           "ALTER TABLE devices ADD COLUMN readmitted_ms BIGINT NOT NULL DEFAULT 0",
           "ALTER TABLE devices ADD COLUMN enrol_refused_ms BIGINT NOT NULL DEFAULT 0",
       }},
      {9,
       {
           // One audit row per request: `subjects` holds every concern id the request
           // returned or changed, separated by spaces (concern_id keeps the first). Rows from
           // before named one concern each.
           "ALTER TABLE audit_log ADD COLUMN subjects TEXT NOT NULL DEFAULT ''",
           "UPDATE audit_log SET subjects = concern_id WHERE action LIKE 'concern.%'",
       },
       // The audit log is append-only: the database itself refuses to change or delete a row
       // (a later migration that must rewrite it drops these first).
       {
           "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT "
           "RAISE(ABORT, 'the audit log cannot be changed'); END",
           "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT "
           "RAISE(ABORT, 'the audit log cannot be changed'); END",
       },
       {
           "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
           "'BEGIN RAISE EXCEPTION ''the audit log cannot be changed''; END'",
           "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH "
           "ROW EXECUTE FUNCTION audit_log_append_only()",
           "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH "
           "STATEMENT EXECUTE FUNCTION audit_log_append_only()",
       }},
      {10,
       {
           // A concern is stored once, in `concerns`; its event row keeps an empty body and
           // refers to it by id (the concern's id is its event's id). Events and concerns carry
           // their account as the id in `accounts` of its keyed hash (HMAC-SHA256 under the key
           // in collector_keys; NULL for none and for anonymous concerns), indexed for a
           // person's records, and concerns are indexed by device (the per-device quota).
           // ConcernStoredOnce moves the old rows over. Not numbered 7 (the number left free for
           // it): a collector of a release that knows 8 or 9 would run on this schema without
           // seeing that it is newer; at 10 it refuses to start and says to upgrade.
           "CREATE TABLE collector_keys(purpose TEXT PRIMARY KEY, key_hex TEXT NOT NULL, "
           "created_at_ms BIGINT NOT NULL)",
           "CREATE TABLE accounts(id {SERIAL}, hash TEXT NOT NULL UNIQUE)",
           "ALTER TABLE events ADD COLUMN account_id BIGINT",
           "ALTER TABLE concerns ADD COLUMN account_id BIGINT",
           // Partial: an event without an account (most of the agent's own) costs ingest no
           // index entry; `account_id = ?` implies the condition, so lookups use them.
           "CREATE INDEX concerns_by_account ON concerns(account_id, received_ms) WHERE "
           "account_id IS NOT NULL",
           "CREATE INDEX concerns_by_device ON concerns(device_id, received_ms)",
       },
       // SQLite keeps the rowid (seq) in every index entry already, in order.
       {"CREATE INDEX events_by_account ON events(account_id) WHERE account_id IS NOT NULL"},
       {"CREATE INDEX events_by_account ON events(account_id, seq) WHERE account_id IS NOT "
        "NULL"},
       &ConcernStoredOnce},
      {11,
       {
           // Retention (docs/adr/0015-uk-gdpr-rights.md): a closed concern is kept for a time
           // after the DSL closed it. closed_ms is set when the status moves to closed and
           // cleared when it is reopened; concerns closed before this migration take the time
           // of their last status entry in the incident log, else their received time.
           "ALTER TABLE concerns ADD COLUMN closed_ms BIGINT",
           "UPDATE concerns SET closed_ms = COALESCE((SELECT MAX(n.at_ms) FROM concern_notes n "
           "JOIN concern_log_kinds k ON k.note_seq = n.seq WHERE n.concern_id = concerns.id AND "
           "k.kind = 'status'), received_ms) WHERE status = 'closed'",
           "CREATE INDEX concerns_by_closed ON concerns(closed_ms) WHERE closed_ms IS NOT NULL",
           // Telemetry and AUP acceptances leave by received time, found by seq
           // (sql_storage.cpp, LastSeqReceivedBy): no index on events.received_ms, which would
           // cost every insert at ingest.
           "CREATE INDEX audit_log_by_time ON audit_log(at_ms)",
           // The audit log's rows leave only through the retention job: the DELETE trigger
           // refuses any row at or after `delete_before_ms`, which is 0 except inside the job's
           // own transaction (it sets the bound, deletes, and puts 0 back before committing).
           "CREATE TABLE audit_retention(id INTEGER PRIMARY KEY CHECK (id = 1), "
           "delete_before_ms BIGINT NOT NULL)",
           "INSERT INTO audit_retention(id, delete_before_ms) VALUES(1, 0)",
       },
       {
           "DROP TRIGGER audit_log_no_delete",
           "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log WHEN OLD.at_ms >= "
           "COALESCE((SELECT delete_before_ms FROM audit_retention WHERE id = 1), 0) BEGIN "
           "SELECT RAISE(ABORT, 'the audit log cannot be changed'); END",
       },
       {
           "CREATE FUNCTION audit_log_delete_expired() RETURNS trigger LANGUAGE plpgsql AS "
           "'BEGIN IF OLD.at_ms < COALESCE((SELECT delete_before_ms FROM audit_retention WHERE "
           "id = 1), 0) THEN RETURN OLD; END IF; RAISE EXCEPTION ''the audit log cannot be "
           "changed''; END'",
           "DROP TRIGGER audit_log_no_change ON audit_log",
           "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE "
           "FUNCTION audit_log_append_only()",
           "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE "
           "FUNCTION audit_log_delete_expired()",
       }},
      {12,
       {
           // Erasure and safeguarding holds (docs/adr/0015-uk-gdpr-rights.md). A hold is on one
           // concern or on one account (its id in `accounts`), never both; rows are never
           // deleted (the triggers below), and lifting one fills the lifted_* columns.
           "CREATE TABLE holds(id {SERIAL}, concern_id TEXT, account_id BIGINT, reason TEXT NOT "
           "NULL, set_by TEXT NOT NULL, set_ms BIGINT NOT NULL, lifted_by TEXT, lifted_ms BIGINT, "
           "lift_reason TEXT, CHECK ((concern_id IS NULL) <> (account_id IS NULL)))",
           "CREATE INDEX holds_by_concern ON holds(concern_id) WHERE concern_id IS NOT NULL",
           "CREATE INDEX holds_by_account ON holds(account_id) WHERE account_id IS NOT NULL",
           // One row per erasure that reaches the laptops: the salt and HMAC-SHA256(salt,
           // account name) the laptops match their events with, never the name.
           "CREATE TABLE erasures(id TEXT PRIMARY KEY, account_hash TEXT NOT NULL, salt_hex TEXT "
           "NOT NULL, account_mac_hex TEXT NOT NULL, requested_by TEXT NOT NULL, requested_ms "
           "BIGINT NOT NULL)",
           // Which laptops were told, and when each confirmed (NULL while pending).
           "CREATE TABLE erase_targets(erasure_id TEXT NOT NULL, device_id TEXT NOT NULL, "
           "confirmed_ms BIGINT, PRIMARY KEY(erasure_id, device_id))",
           "CREATE INDEX erase_targets_pending ON erase_targets(device_id) WHERE confirmed_ms IS "
           "NULL",
           // A hold's reason and an erasure's tombstone (account hash, reason, counts).
           "ALTER TABLE audit_log ADD COLUMN detail TEXT NOT NULL DEFAULT ''",
       },
       {
           "CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds BEGIN SELECT RAISE(ABORT, "
           "'holds are never deleted'); END",
       },
       {
           "CREATE FUNCTION holds_keep() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RAISE "
           "EXCEPTION ''holds are never deleted''; END'",
           "CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds FOR EACH ROW EXECUTE FUNCTION "
           "holds_keep()",
           "CREATE TRIGGER holds_no_truncate BEFORE TRUNCATE ON holds FOR EACH STATEMENT EXECUTE "
           "FUNCTION holds_keep()",
       }},
  };
  return kMigrations;
}

}  // namespace

std::string TranslateSql(Dialect dialect, std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int placeholder = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char ch = sql[i];
    if (ch == '?' && dialect == Dialect::kPostgres) {
      out += '$';
      out += std::to_string(++placeholder);
      continue;
    }
    if (ch == '{') {
      const std::size_t end = sql.find('}', i);
      const std::string_view token = sql.substr(i + 1, end - i - 1);
      if (token == "BLOB") {
        out += dialect == Dialect::kSqlite ? "BLOB" : "BYTEA";
      } else if (token == "EMPTY_BLOB") {
        out += dialect == Dialect::kSqlite ? "X''" : "''::bytea";
      } else if (token == "SERIAL") {
        out += dialect == Dialect::kSqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                           : "BIGSERIAL PRIMARY KEY";
      } else {
        out += token;
      }
      i = end;
      continue;
    }
    out += ch;
  }
  return out;
}

Result<int> ApplyMigrations(Poco::Data::Session& session, Dialect dialect) {
  return ApplyMigrationsUpTo(session, dialect, Migrations().back().version);
}

Result<int> ApplyMigrationsUpTo(Poco::Data::Session& session, Dialect dialect, int last) {
  session << "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
             "applied_at_ms BIGINT NOT NULL)",
      now;
  int current = 0;
  for (const Migration& m : Migrations()) {
    if (m.version > last) {
      break;
    }
    session.begin();
    try {
      if (dialect == Dialect::kPostgres) {
        // Held until commit: a second collector starting now waits, then sees the new version.
        int one = 0;
        session << "SELECT 1 FROM (SELECT pg_advisory_xact_lock(7771001)) AS l", into(one), now;
      }
      int applied = 0;
      int version = m.version;
      session << TranslateSql(dialect, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?"),
          use(version), into(applied), now;
      if (applied == 0) {
        for (std::string_view statement : m.statements) {
          session << TranslateSql(dialect, statement), now;
        }
        for (std::string_view statement : dialect == Dialect::kSqlite ? m.sqlite : m.postgres) {
          session << std::string(statement), now;
        }
        if (m.step != nullptr) {
          m.step(session, dialect);
        }
        auto at = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
        session << TranslateSql(dialect,
                                "INSERT INTO schema_migrations(version, applied_at_ms) "
                                "VALUES(?, ?)"),
            use(version), use(at), now;
      }
      session.commit();
    } catch (...) {
      session.rollback();
      throw;
    }
    current = m.version;
  }
  int newest = 0;
  session << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", into(newest), now;
  if (newest > current) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the store has schema version " + std::to_string(newest) +
                         " but this collector knows only up to " + std::to_string(current) +
                         "; upgrade the collector");
  }
  return current;
}

std::int64_t AccountIdFor(Poco::Data::Session& session, Dialect dialect, const std::string& hash) {
  std::string key = hash;
  std::vector<std::int64_t> ids;
  session << TranslateSql(dialect, "SELECT id FROM accounts WHERE hash = ?"), use(key), into(ids),
      now;
  if (ids.empty()) {
    session << TranslateSql(dialect, "INSERT INTO accounts(hash) VALUES(?) ON CONFLICT DO NOTHING"),
        use(key), now;
    session << TranslateSql(dialect, "SELECT id FROM accounts WHERE hash = ?"), use(key), into(ids),
        now;
  }
  if (ids.empty()) {
    throw Poco::Data::DataException("the account was not added");
  }
  return ids.front();
}

}  // namespace ward::collector
