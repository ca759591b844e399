// SPDX-License-Identifier: Apache-2.0
// IpcServer's transport on Linux: a Unix domain socket, one poll() loop, SO_PEERCRED.
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "internal/server_transport.h"
#include "internal/unique_fd.h"
#include "ward/common/log.h"

namespace ward::agent::ipc {

std::filesystem::path DefaultEndpoint() { return "/run/ward/agent.sock"; }

namespace internal {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// Bytes read from one connection per loop turn, so one fast sender cannot starve the others.
constexpr std::size_t kReadBudgetPerTurn = 1024 * 1024;

struct Connection : Session {
  explicit Connection(std::size_t max_frame) : Session(max_frame) {}
  UniqueFd fd;
};

struct PeerCred {
  uid_t uid;
  pid_t pid;
};

Result<PeerCred> GetPeerCred(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return std::unexpected(ErrnoError("reading the caller's credentials (SO_PEERCRED)", errno));
  }
  return PeerCred{cred.uid, cred.pid};
}

std::string UsernameOf(uid_t uid) {
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return {};
  }
  return pw.pw_name;
}

Status CheckSocketDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return std::unexpected(ErrnoError("creating socket directory " + dir.string(), errno));
    }
  }
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0) {
    return std::unexpected(ErrnoError("checking socket directory " + dir.string(), errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("socket directory " + dir.string() + " is not a directory");
  }
  if (st.st_uid != ::geteuid()) {
    return FailedPreconditionError("socket directory " + dir.string() + " is owned by uid " +
                                   std::to_string(st.st_uid) + ", not by the agent");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return FailedPreconditionError("socket directory " + dir.string() +
                                   " is writable by other users, so the socket could be replaced");
  }
  return OkStatus();
}

class SocketTransport final : public ServerTransport {
 public:
  explicit SocketTransport(ServerEngine& engine)
      : engine_(engine),
        // Lives as long as the server, so Wake() from another thread never sees it change.
        wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~SocketTransport() override { Stop(); }

  Status Start() override;
  void Stop() override;
  void Wake() override {
    if (wake_fd_.valid()) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto n = ::write(wake_fd_.get(), &one, sizeof(one));
    }
  }
  bool WriteNow(Session& s) override { return Flush(static_cast<Connection&>(s)); }
  std::size_t connection_count() const override { return connection_count_.load(); }

 private:
  void Loop();
  void AcceptAll(SteadyTime now);
  // Returns false when the connection must be closed now.
  bool ReadFrom(Connection& c, SteadyTime now);
  bool Flush(Connection& c);
  void DeliverNotices(SteadyTime now);
  int PollTimeoutMs(SteadyTime now) const;
  std::size_t CountForUser(const std::string& user_id) const;
  const std::string& CachedUsername(uid_t uid);

  ServerEngine& engine_;
  UniqueFd wake_fd_;
  UniqueFd listen_fd_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connection_count_{0};

  // Loop thread only.
  std::map<int, std::unique_ptr<Connection>> connections_;
  std::map<uid_t, std::string> usernames_;
};

Status SocketTransport::Start() {
  if (thread_.joinable()) {
    return FailedPreconditionError("the IPC server is already running");
  }
  const auto& path = engine_.options().endpoint;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError("socket path " + path.string() + " is longer than " +
                                std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  WARD_RETURN_IF_ERROR(CheckSocketDirectory(path.parent_path()));
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return FailedPreconditionError(path.string() + " exists and is not a socket");
    }
    ::unlink(path.c_str());  // a stale socket from an earlier run
  }
  std::copy(path.native().begin(), path.native().end(), addr.sun_path);

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return std::unexpected(ErrnoError("creating the IPC socket", errno));
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return std::unexpected(ErrnoError("binding " + path.string(), errno));
  }
  // Every learner must be able to connect; the agent asks the kernel who they are.
  if (::chmod(path.c_str(), 0666) != 0) {
    return std::unexpected(ErrnoError("making " + path.string() + " reachable", errno));
  }
  if (::listen(fd.get(), 64) != 0) {
    return std::unexpected(ErrnoError("listening on " + path.string(), errno));
  }
  if (!wake_fd_.valid()) {
    return InternalError("the IPC wake-up eventfd could not be created");
  }
  listen_fd_ = std::move(fd);
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  log::Info("ipc server listening", {{"socket", path.string()}});
  return OkStatus();
}

void SocketTransport::Stop() {
  if (!thread_.joinable()) {
    return;
  }
  stop_ = true;
  Wake();
  thread_.join();
  connections_.clear();
  connection_count_ = 0;
  listen_fd_.Reset();
  ::unlink(engine_.options().endpoint.c_str());
}

void SocketTransport::Loop() {
  std::vector<pollfd> fds;
  while (!stop_) {
    fds.clear();
    fds.push_back({listen_fd_.get(), POLLIN, 0});
    fds.push_back({wake_fd_.get(), POLLIN, 0});
    for (const auto& [fd, c] : connections_) {
      short events = c->closing ? short{0} : short{POLLIN};
      if (c->HasOutput()) {
        events = static_cast<short>(events | POLLOUT);
      }
      fds.push_back({fd, events, 0});
    }
    const int ready = ::poll(fds.data(), static_cast<nfds_t>(fds.size()),
                             PollTimeoutMs(std::chrono::steady_clock::now()));
    if (ready < 0 && errno != EINTR) {
      log::Error("ipc poll failed", {{"error", ErrnoError("poll", errno).ToString()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const SteadyTime now = std::chrono::steady_clock::now();
    if (ready > 0) {
      if ((fds[1].revents & POLLIN) != 0) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto n = ::read(wake_fd_.get(), &count, sizeof(count));
      }
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) {
          continue;
        }
        auto it = connections_.find(fds[i].fd);
        if (it == connections_.end()) {
          continue;
        }
        Connection& c = *it->second;
        bool keep = true;
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !c.closing) {
          keep = ReadFrom(c, now);
        } else if ((fds[i].revents & (POLLHUP | POLLERR)) != 0) {
          keep = false;
        }
        if (keep && c.HasOutput()) {
          keep = Flush(c);
        }
        if (!keep || (c.closing && !c.HasOutput())) {
          connections_.erase(it);
        }
      }
      if ((fds[0].revents & POLLIN) != 0) {
        AcceptAll(now);
      }
    }
    DeliverNotices(now);
    std::erase_if(connections_, [&](const auto& e) { return engine_.Expired(*e.second, now); });
    connection_count_ = connections_.size();
  }
}

std::size_t SocketTransport::CountForUser(const std::string& user_id) const {
  return static_cast<std::size_t>(
      std::count_if(connections_.begin(), connections_.end(),
                    [&user_id](const auto& e) { return e.second->caller.user_id == user_id; }));
}

const std::string& SocketTransport::CachedUsername(uid_t uid) {
  auto it = usernames_.find(uid);
  if (it == usernames_.end()) {
    it = usernames_.emplace(uid, UsernameOf(uid)).first;
  }
  return it->second;
}

void SocketTransport::AcceptAll(SteadyTime now) {
  while (true) {
    UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        log::Warning("ipc accept failed", {{"error", ErrnoError("accept", errno).ToString()}});
      }
      return;
    }
    // SO_PEERCRED names the process that connected, as the kernel saw it then (the connection
    // could since have been passed on to another process; it keeps its first owner's identity).
    auto cred = GetPeerCred(fd.get());
    if (!cred) {
      log::Warning("ipc connection dropped", {{"error", cred.error().ToString()}});
      continue;
    }
    auto c = std::make_unique<Connection>(engine_.options().max_frame_bytes);
    // The decimal uid: the key that AUP acceptances have been stored under since the start.
    c->caller = Caller{.user_id = std::to_string(cred->uid),
                       .user_name = CachedUsername(cred->uid),
                       .process_id = cred->pid};
    c->fd = std::move(fd);
    const int key = c->fd.get();
    if (!engine_.Admit(*c, connections_.size(), CountForUser(c->caller.user_id), now) &&
        !c->HasOutput()) {
      continue;
    }
    connections_.emplace(key, std::move(c));
  }
}

bool SocketTransport::ReadFrom(Connection& c, SteadyTime now) {
  std::array<char, kReadChunk> buf;
  std::size_t budget = kReadBudgetPerTurn;
  while (budget > 0 && !c.closing) {
    const ssize_t n = ::recv(c.fd.get(), buf.data(), std::min(buf.size(), budget), 0);
    if (n == 0) {
      // The client hung up (or only shut down its side): finish sending what it asked for.
      c.closing = true;
      return c.HasOutput();
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    budget -= static_cast<std::size_t>(n);
    engine_.OnBytes(c, std::string_view(buf.data(), static_cast<std::size_t>(n)), now);
  }
  return true;
}

bool SocketTransport::Flush(Connection& c) {
  while (c.HasOutput()) {
    const long n = SendSome(c.fd.get(), c.out.data() + c.out_offset, c.out.size() - c.out_offset);
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    c.Consumed(static_cast<std::size_t>(n));
  }
  return true;
}

void SocketTransport::DeliverNotices(SteadyTime now) {
  const auto notices = engine_.TakeNotices();
  if (notices.empty()) {
    return;
  }
  for (const auto& pending : notices) {
    for (auto& [fd, c] : connections_) {
      engine_.Deliver(*c, pending, now);
    }
  }
  std::erase_if(connections_,
                [](const auto& e) { return e.second->closing && !e.second->HasOutput(); });
}

int SocketTransport::PollTimeoutMs(SteadyTime now) const {
  std::optional<SteadyTime> next;
  for (const auto& [fd, c] : connections_) {
    if (const auto deadline = engine_.NextDeadline(*c); deadline.has_value()) {
      next = next.has_value() ? std::min(*next, *deadline) : *deadline;
    }
  }
  return WaitMs(next, now);
}

}  // namespace

std::unique_ptr<ServerTransport> CreateServerTransport(ServerEngine& engine) {
  return std::make_unique<SocketTransport>(engine);
}

}  // namespace internal
}  // namespace ward::agent::ipc
