// SPDX-License-Identifier: Apache-2.0
#include <Poco/Data/Statement.h>

#include <chrono>
#include <vector>

#include "internal/migrations.h"

namespace ward::collector {
namespace {

using namespace Poco::Data::Keywords;

struct Migration {
  int version;
  std::vector<std::string_view> statements;
  // Run after `statements`, on one engine only (triggers are written differently on each).
  std::vector<std::string_view> sqlite = {};
  std::vector<std::string_view> postgres = {};
};

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
           // Needs nothing from migration 7, so the two can land in either order.
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

}  // namespace ward::collector
