// SPDX-License-Identifier: Apache-2.0
// Minimal RAII wrapper over the SQLCipher C API, converting result codes to ward::Error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "ward/common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ward::agent::store::internal {

// A prepared statement. Thread-compatible (the store serialises access to its connection).
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  Statement& Bind(int index, std::int64_t value);
  // Text and blobs are bound without copying: they must outlive the next Step().
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);
  // true: a row is available; false: done.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();
  void Reset();

  std::int64_t ColumnInt(int column) const;
  std::string_view ColumnText(int column) const;
  std::string_view ColumnBlob(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// One database connection. Thread-compatible.
class Database {
 public:
  Database() = default;
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  ~Database();

  // Opens read-write; creates the file when `create`.
  static Result<Database> Open(const std::filesystem::path& path, bool create);
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // First column of the first row as text ("" when there is no row).
  Result<std::string> QueryText(std::string_view sql);
  Result<std::int64_t> QueryInt(std::string_view sql);
  int Changes() const;
  sqlite3* get() const { return db_; }
  void Close();

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// Maps a SQLite result code to an Error: SQLITE_FULL -> kResourceExhausted, NOTADB/CORRUPT ->
// kDataLoss, BUSY/LOCKED -> kUnavailable, CANTOPEN/PERM/READONLY -> kPermissionDenied.
Error SqliteError(sqlite3* db, int rc, std::string_view context);

}  // namespace ward::agent::store::internal
