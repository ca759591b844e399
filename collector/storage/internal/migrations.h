// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <Poco/Data/Session.h>

#include <string>
#include <string_view>

#include "ward/common/result.h"

namespace ward::collector {

enum class Dialect : std::uint8_t { kSqlite, kPostgres };

// The PostgreSQL NOTIFY channel that carries the name of a group whose policy changed.
inline constexpr std::string_view kPolicyChannel = "ward_policy";
// The channel that says a concern arrived (the staff console's open inboxes refresh).
inline constexpr std::string_view kConcernChannel = "ward_concerns";

// Rewrites portable SQL for one engine: `?` placeholders become `$1, $2...` on PostgreSQL, and
// {BLOB} / {SERIAL} become the engine's binary and auto-increment key types, {EMPTY_BLOB} an
// empty binary value.
std::string TranslateSql(Dialect dialect, std::string_view sql);

// Applies every numbered migration newer than the store's, each in its own transaction, and
// returns the resulting schema version. Safe when several collectors start at once on one
// PostgreSQL (an advisory lock serialises them). Throws Poco::Exception on database errors.
Result<int> ApplyMigrations(Poco::Data::Session& session, Dialect dialect);
// The same, stopping after migration `last`: tests build a store as an earlier release left it.
Result<int> ApplyMigrationsUpTo(Poco::Data::Session& session, Dialect dialect, int last);

// The id in `accounts` of an account's keyed hash, added when new (schema 10). Events and
// concerns carry this small id, not the 64-character hash, so their rows and indexes stay small
// at ingest (docs/adr/0013-concern-stored-once.md). Runs in the caller's transaction; safe when
// collectors sharing a PostgreSQL add the same hash at once. Throws Poco::Exception.
std::int64_t AccountIdFor(Poco::Data::Session& session, Dialect dialect, const std::string& hash);

}  // namespace ward::collector
