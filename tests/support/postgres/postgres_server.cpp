// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

namespace ward::testing {
namespace {

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  bool change = false;
};

RunAs ChooseUser() {
  RunAs r;
  if (::geteuid() != 0) {
    return r;
  }
  for (const char* name : {"postgres", "nobody"}) {
    if (const passwd* pw = ::getpwnam(name); pw != nullptr) {
      r.uid = pw->pw_uid;
      r.gid = pw->pw_gid;
      r.change = true;
      return r;
    }
  }
  return r;
}

// Forks and execs `argv` as `who` with stdout and stderr appended to `log`. Returns the pid.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const RunAs& who,
                    const std::filesystem::path& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return std::unexpected(ErrnoError("open " + log.string(), errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return std::unexpected(ErrnoError("fork", errno));
  }
  if (pid == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    if (who.change &&
        (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0)) {
      ::_exit(126);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

std::string Tail(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

Status Exec(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return UnavailableError("connecting to test PostgreSQL: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string err = PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  if (!ok) {
    return UnavailableError("'" + sql + "' failed: " + err);
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start(const Options& options) {
  const auto initdb = options.bin_dir / "initdb";
  const auto postgres = options.bin_dir / "postgres";
  if (::access(initdb.c_str(), X_OK) != 0 || ::access(postgres.c_str(), X_OK) != 0) {
    return UnavailableError("PostgreSQL binaries not found in " + options.bin_dir.string() +
                            " (apt-get install postgresql)");
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "ward-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return std::unexpected(ErrnoError("mkdtemp", errno));
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->dir_ = tmpl;
  server->port_ = 5432;
  const RunAs who = ChooseUser();
  if (who.change && ::chown(tmpl.c_str(), who.uid, who.gid) != 0) {
    return std::unexpected(ErrnoError("chown " + tmpl, errno));
  }
  const auto data = server->dir_ / "data";
  const auto log = server->dir_ / "server.log";
  std::vector<std::string> init_args = {initdb.string(), "-D", data.string(), "-U", "ward", "-A",
                                        "trust",         "-E", "UTF8"};
  if (!options.fsync) {
    init_args.emplace_back("--no-sync");
  }
  WARD_ASSIGN_OR_RETURN(pid_t init_pid, Spawn(init_args, who, log));
  int status = 0;
  while (::waitpid(init_pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError("initdb failed: " + Tail(log));
  }
  std::vector<std::string> args = {postgres.string(),
                                   "-D",
                                   data.string(),
                                   "-k",
                                   server->dir_.string(),
                                   "-p",
                                   std::to_string(server->port_),
                                   "-c",
                                   "listen_addresses=",
                                   "-c",
                                   "max_connections=200",
                                   "-c",
                                   "shared_buffers=128MB"};
  if (!options.fsync) {
    args.insert(args.end(), {"-c", "fsync=off", "-c", "synchronous_commit=off"});
  }
  WARD_ASSIGN_OR_RETURN(server->pid_, Spawn(args, who, log));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (PQping(server->ConnInfo().c_str()) != PQPING_OK) {
    if (::waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      server->pid_ = -1;
      return UnavailableError("postgres exited during start: " + Tail(log));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return UnavailableError("postgres did not accept connections within 30 s: " + Tail(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return server;
}

PostgresServer::~PostgresServer() { Stop(); }

void PostgresServer::Stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGINT);  // fast shutdown
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PostgresServer::ConnInfo(const std::string& dbname) const {
  return "host=" + dir_.string() + " port=" + std::to_string(port_) + " user=ward dbname=" + dbname;
}

Result<std::string> PostgresServer::CreateDatabase(const std::string& name) {
  WARD_RETURN_IF_ERROR(Exec(ConnInfo(), "CREATE DATABASE \"" + name + "\""));
  return ConnInfo(name);
}

}  // namespace ward::testing
