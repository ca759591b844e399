// SPDX-License-Identifier: Apache-2.0
#include "internal/sqlite.h"

#include <openssl/crypto.h>
#include <sqlite3.h>

#include <utility>

#include "internal/os.h"

namespace ward::agent::store::internal {

Error SqliteError(sqlite3* db, int rc, std::string_view context) {
  int primary = rc & 0xff;
  int sys_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  ErrorCode code = ErrorCode::kInternal;
  switch (primary) {
    case SQLITE_FULL:
      code = ErrorCode::kResourceExhausted;
      break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      code = ErrorCode::kDataLoss;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = ErrorCode::kUnavailable;
      break;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      code = ErrorCode::kPermissionDenied;
      break;
    case SQLITE_IOERR:
      code = IsDiskFull(sys_errno) ? ErrorCode::kResourceExhausted : ErrorCode::kUnavailable;
      break;
    case SQLITE_NOMEM:
      code = ErrorCode::kResourceExhausted;
      break;
    default:
      break;
  }
  std::string message(context);
  message.append(": ");
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : nullptr;
  message.append(detail != nullptr ? detail : sqlite3_errstr(rc));
  message.append(" (sqlite code ").append(std::to_string(rc)).append(")");
  return Error(code, std::move(message), sys_errno);
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view value) {
  sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_STATIC);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  Error e = SqliteError(db_, rc, "executing statement");
  sqlite3_reset(stmt_);
  return std::unexpected(std::move(e));
}

Status Statement::Run() {
  while (true) {
    WARD_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) {
      Reset();
      return OkStatus();
    }
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string_view Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

std::string_view Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (blob == nullptr) {
    return {};
  }
  return {static_cast<const char*>(blob), static_cast<std::size_t>(size)};
}

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Database::~Database() { Close(); }

void Database::Close() {
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Result<Database> Database::Open(const std::filesystem::path& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (create) {
    flags |= SQLITE_OPEN_CREATE;
  }
  int rc = sqlite3_open_v2(SqlitePath(path).c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = SqliteError(db, rc, "opening " + path.string());
    sqlite3_close_v2(db);
    return std::unexpected(std::move(e));
  }
  return Database(db);
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  // The text may be PRAGMA key: leave no copy of it in freed memory.
  OPENSSL_cleanse(text.data(), text.size());
  if (rc != SQLITE_OK) {
    return std::unexpected(SqliteError(db_, rc, "executing SQL"));
  }
  return OkStatus();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return std::unexpected(SqliteError(db_, rc, "preparing SQL"));
  }
  return Statement(db_, stmt);
}

Result<std::string> Database::QueryText(std::string_view sql) {
  WARD_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  WARD_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return std::string();
  }
  return std::string(stmt.ColumnText(0));
}

Result<std::int64_t> Database::QueryInt(std::string_view sql) {
  WARD_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  WARD_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return std::int64_t{0};
  }
  return stmt.ColumnInt(0);
}

int Database::Changes() const { return sqlite3_changes(db_); }

}  // namespace ward::agent::store::internal
