// SPDX-License-Identifier: Apache-2.0
#include "internal/pg_listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include "ward/common/log.h"

namespace ward::collector {
namespace {

class PgListener final : public PolicyChangeSubscription {
 public:
  PgListener(std::string conninfo, std::string channel, PolicyChangedFn fn, int wake_fd)
      : conninfo_(std::move(conninfo)),
        channel_(std::move(channel)),
        fn_(std::move(fn)),
        wake_fd_(wake_fd) {}

  ~PgListener() override {
    stop_.store(true);
    const std::uint64_t one = 1;
    // A failed write only delays the stop until the next poll timeout.
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
    if (thread_.joinable()) {
      thread_.join();
    }
    ::close(wake_fd_);
  }

  // Connects and LISTENs once in the caller's thread, so a bad conninfo fails the caller.
  Status Start() {
    PGconn* conn = Connect();
    if (conn == nullptr) {
      return UnavailableError("cannot LISTEN on PostgreSQL: " + last_error_);
    }
    thread_ = std::thread([this, conn] { Run(conn); });
    return OkStatus();
  }

 private:
  PGconn* Connect() {
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      last_error_ = PQerrorMessage(conn);
      PQfinish(conn);
      return nullptr;
    }
    char* quoted = PQescapeIdentifier(conn, channel_.c_str(), channel_.size());
    const std::string sql = std::string("LISTEN ") + quoted;
    PQfreemem(quoted);
    PGresult* res = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
      last_error_ = PQerrorMessage(conn);
      PQfinish(conn);
      return nullptr;
    }
    return conn;
  }

  void Run(PGconn* conn) {
    auto backoff = std::chrono::milliseconds(100);
    while (!stop_.load()) {
      if (conn == nullptr) {
        WaitForWake(static_cast<int>(backoff.count()));
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        conn = Connect();
        if (conn == nullptr) {
          continue;
        }
        log::Info("policy notifications reconnected");
        fn_("");
        backoff = std::chrono::milliseconds(100);
      }
      std::array<pollfd, 2> fds{{{PQsocket(conn), POLLIN, 0}, {wake_fd_, POLLIN, 0}}};
      const int rc = ::poll(fds.data(), fds.size(), 1000);
      if (rc < 0 && errno != EINTR) {
        break;
      }
      if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) == 0) {
        continue;
      }
      if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
        log::Warning("policy notifications lost their PostgreSQL connection",
                     {{"error", PQerrorMessage(conn)}});
        PQfinish(conn);
        conn = nullptr;
        continue;
      }
      while (PGnotify* n = PQnotifies(conn)) {
        const std::string group = n->extra;
        PQfreemem(n);
        fn_(group);
      }
    }
    if (conn != nullptr) {
      PQfinish(conn);
    }
  }

  void WaitForWake(int timeout_ms) {
    pollfd fd{wake_fd_, POLLIN, 0};
    [[maybe_unused]] int rc = ::poll(&fd, 1, timeout_ms);
  }

  const std::string conninfo_;
  const std::string channel_;
  const PolicyChangedFn fn_;
  const int wake_fd_;
  std::string last_error_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<PolicyChangeSubscription>> StartPgListener(const std::string& conninfo,
                                                                  const std::string& channel,
                                                                  PolicyChangedFn fn) {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    return std::unexpected(ErrnoError("eventfd", errno));
  }
  auto listener = std::make_unique<PgListener>(conninfo, channel, std::move(fn), fd);
  WARD_RETURN_IF_ERROR(listener->Start());
  return std::unique_ptr<PolicyChangeSubscription>(std::move(listener));
}

}  // namespace ward::collector
