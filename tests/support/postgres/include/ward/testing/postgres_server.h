// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "ward/common/result.h"

namespace ward::testing {

// A throwaway PostgreSQL 15 server from Debian's package, for tests and benchmarks: initdb in a
// temporary directory, listening only on a Unix socket there (no TCP at all). PostgreSQL refuses
// to run as root, so as root the server runs as the `postgres` user (or `nobody`). Stopped by its
// PID (fast shutdown) and its directory removed when the object is destroyed. Thread-compatible.
class PostgresServer {
 public:
  struct Options {
    std::filesystem::path bin_dir = "/usr/lib/postgresql/15/bin";
    // Tests trade durability for speed; benchmarks keep fsync on.
    bool fsync = false;
  };

  // Starts a server; kUnavailable when the binaries are missing or it does not come up.
  static Result<std::unique_ptr<PostgresServer>> Start(const Options& options);
  static Result<std::unique_ptr<PostgresServer>> Start() { return Start(Options{}); }
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates a fresh database and returns its libpq connection string.
  Result<std::string> CreateDatabase(const std::string& name);
  // libpq connection string of the default `postgres` database.
  std::string ConnInfo(const std::string& dbname = "postgres") const;
  pid_t pid() const { return pid_; }

 private:
  PostgresServer() = default;
  void Stop();

  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ward::testing
