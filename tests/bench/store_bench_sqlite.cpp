// SPDX-License-Identifier: Apache-2.0
// The same schema and settings as the event store, in plain SQLite, for comparison: WAL,
// synchronous=NORMAL, 4096-byte pages, transactions of --batch rows of 200-byte payloads.
// This binary links libsqlite3 and must never link SQLCipher or the store.
//   store_bench_sqlite [--events N] [--batch N] [--dir DIR]
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.h"
#include "internal/schema.h"

namespace {

using Clock = std::chrono::steady_clock;

bool Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "store_bench_sqlite: %s: %s\n", sql.c_str(), err);
    sqlite3_free(err);
    return false;
  }
  return true;
}

int Run(int argc, char** argv) {
  std::uint64_t events = ward::bench::ArgOr(argc, argv, "--events", 300000);
  std::uint64_t batch = ward::bench::ArgOr(argc, argv, "--batch", 2000);
  std::filesystem::path dir =
      ward::bench::ScratchDir(ward::bench::StrArgOr(argc, argv, "--dir", ""));
  sqlite3* db = nullptr;
  if (sqlite3_open((dir / "events.db").c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "store_bench_sqlite: open failed\n");
    return 1;
  }
  if (!Exec(db,
            "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
            "PRAGMA temp_store = MEMORY;")) {
    return 1;
  }
  for (auto migration : ward::agent::store::internal::kMigrations) {
    if (!Exec(db, std::string(migration))) {
      return 1;
    }
  }
  std::vector<std::string> ids;
  ids.reserve(events);
  for (std::uint64_t i = 0; i < events; ++i) {
    ids.push_back(ward::bench::BenchId(i));
  }
  std::string payload(200, 'p');
  sqlite3_stmt* insert = nullptr;
  auto sql = ward::agent::store::internal::kInsertEvent;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &insert, nullptr) !=
      SQLITE_OK) {
    return 1;
  }
  auto start = Clock::now();
  for (std::uint64_t i = 0; i < events; i += batch) {
    if (!Exec(db, "BEGIN")) {
      return 1;
    }
    for (std::uint64_t j = i; j < std::min(events, i + batch); ++j) {
      sqlite3_bind_text(insert, 1, ids[j].data(), static_cast<int>(ids[j].size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert, 2, j % 3 == 0 ? 1 : 2);
      sqlite3_bind_int64(insert, 3, 1'700'000'000'000 + static_cast<sqlite3_int64>(j));
      sqlite3_bind_int64(insert, 4, static_cast<sqlite3_int64>(payload.size()));
      sqlite3_bind_blob(insert, 5, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) {
        std::fprintf(stderr, "store_bench_sqlite: insert: %s\n", sqlite3_errmsg(db));
        return 1;
      }
      sqlite3_reset(insert);
    }
    if (!Exec(db, "COMMIT")) {
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "sqlite_version=%s\nsqlite_events=%llu\nsqlite_seconds=%.3f\n"
      "sqlite_events_per_second=%.0f\n",
      sqlite3_libversion(), static_cast<unsigned long long>(events), secs,
      static_cast<double>(events) / secs);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
