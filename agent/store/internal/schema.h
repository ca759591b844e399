// SPDX-License-Identifier: Apache-2.0
// The event store's schema, as numbered migrations. Header-only SQL text so the plain-SQLite
// benchmark binary can build the same schema without linking the store (or SQLCipher).
#pragma once

#include <array>
#include <string_view>

namespace ward::agent::store::internal {

// kMigrations[i] takes a database from PRAGMA user_version i to i + 1. Append only: a shipped
// migration never changes.
inline constexpr std::array<std::string_view, 3> kMigrations = {
    // 1: events. seq orders by age (insertion); id is the event's UUIDv7, stored once.
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  priority INTEGER NOT NULL,"
    "  appended_ms INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  payload BLOB NOT NULL);"
    "CREATE UNIQUE INDEX events_by_id ON events(id);"
    "CREATE INDEX events_by_priority ON events(priority, seq);",
    // 2: the agent's own small state (device credential, policy in force).
    "CREATE TABLE state ("
    "  key TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL,"
    "  updated_ms INTEGER NOT NULL) WITHOUT ROWID;",
    // 3: counters that must survive restarts (evictions since the store was created).
    "CREATE TABLE counters ("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters(name, value) VALUES ('evicted_total', 0);",
};

inline constexpr int kSchemaVersion = static_cast<int>(kMigrations.size());

inline constexpr std::string_view kInsertEvent =
    "INSERT OR IGNORE INTO events(id, priority, appended_ms, size, payload) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

}  // namespace ward::agent::store::internal
