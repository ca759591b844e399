// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/ipc/ipc_server.h"

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
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "internal/unique_fd.h"
#include "ward/agent/ipc/frame.h"
#include "ward/common/log.h"

namespace ward::agent::ipc {
namespace {

using internal::UniqueFd;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::size_t kReadChunk = 64 * 1024;
// Bytes read from one connection per loop turn, so one fast sender cannot starve the others.
constexpr std::size_t kReadBudgetPerTurn = 1024 * 1024;
// The decoded screenshot limit from event.proto (the frame limit leaves room for the rest).
constexpr std::size_t kMaxScreenshotBytes = 4u * 1024 * 1024;

struct Connection {
  UniqueFd fd;
  uid_t uid = 0;
  pid_t pid = 0;
  FrameDecoder decoder;
  std::string out;
  std::size_t out_offset = 0;
  bool subscribed = false;
  bool closing = false;  // close once `out` has drained
  SteadyTime last_activity;
  SteadyTime partial_since;
  SteadyTime output_since;
  bool had_partial = false;

  explicit Connection(std::size_t max_frame) : decoder(max_frame) {}
  bool HasOutput() const { return out_offset < out.size(); }
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

v1::IpcError ToIpcError(const Error& error) {
  v1::IpcError out;
  out.set_code(std::string(ErrorCodeName(error.code())));
  out.set_message(error.message());
  return out;
}

std::string RetryMessage(std::string_view what, std::uint32_t seconds) {
  const std::uint32_t minutes = (seconds + 59) / 60;
  std::string when = minutes <= 1 ? "a minute" : std::to_string(minutes) + " minutes";
  return std::string(what) + " Please wait " + when +
         " and try again. If you are in danger now, call 999.";
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

}  // namespace

class IpcServer::Impl {
 public:
  Impl(IpcServerOptions options, AgentControl& control, Clock& clock)
      : options_(std::move(options)),
        control_(control),
        concern_limiter_(clock, options_.concern_limit),
        aup_limiter_(clock, options_.aup_limit),
        // Lives as long as the server, so Notify() from another thread never sees it change.
        wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  // `only_uid`: deliver only to that user's subscribed connections.
  void Notify(v1::Notice notice, std::optional<uid_t> only_uid);
  std::size_t connection_count() const { return connection_count_.load(); }

 private:
  void Loop();
  void AcceptAll(SteadyTime now);
  // Returns false when the connection must be closed now.
  bool ReadFrom(Connection& c, SteadyTime now);
  bool Flush(Connection& c, SteadyTime now);
  void HandlePayload(Connection& c, std::string_view payload);
  v1::IpcResponse Dispatch(Connection& c, const v1::IpcRequest& request);
  void Send(Connection& c, const v1::IpcServerMessage& message, SteadyTime now);
  void SendError(Connection& c, std::uint64_t request_id, const Error& error, SteadyTime now);
  void DeliverNotices(SteadyTime now);
  void CheckTimeouts(SteadyTime now);
  int PollTimeoutMs(SteadyTime now) const;
  std::size_t CountForUid(uid_t uid) const;
  const std::string& CachedUsername(uid_t uid);

  IpcServerOptions options_;
  AgentControl& control_;
  RateLimiter concern_limiter_;
  RateLimiter aup_limiter_;
  UniqueFd wake_fd_;
  UniqueFd listen_fd_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connection_count_{0};

  std::mutex notices_mu_;
  struct PendingNotice {
    v1::Notice notice;
    std::optional<uid_t> only_uid;
  };
  std::vector<PendingNotice> pending_notices_;  // guarded by notices_mu_

  // Loop thread only.
  std::map<int, std::unique_ptr<Connection>> connections_;
  std::map<uid_t, std::string> usernames_;
};

Status IpcServer::Impl::Start() {
  if (thread_.joinable()) {
    return FailedPreconditionError("the IPC server is already running");
  }
  const auto& path = options_.socket_path;
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

void IpcServer::Impl::Stop() {
  if (!thread_.joinable()) {
    return;
  }
  stop_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_.get(), &one, sizeof(one));
  thread_.join();
  connections_.clear();
  connection_count_ = 0;
  listen_fd_.Reset();
  ::unlink(options_.socket_path.c_str());
}

void IpcServer::Impl::Notify(v1::Notice notice, std::optional<uid_t> only_uid) {
  {
    std::scoped_lock lock(notices_mu_);
    pending_notices_.push_back({std::move(notice), only_uid});
  }
  if (wake_fd_.valid()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_.get(), &one, sizeof(one));
  }
}

void IpcServer::Impl::Loop() {
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
          keep = Flush(c, now);
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
    CheckTimeouts(now);
    connection_count_ = connections_.size();
  }
}

std::size_t IpcServer::Impl::CountForUid(uid_t uid) const {
  return static_cast<std::size_t>(
      std::count_if(connections_.begin(), connections_.end(),
                    [uid](const auto& e) { return e.second->uid == uid; }));
}

void IpcServer::Impl::AcceptAll(SteadyTime now) {
  while (true) {
    UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        log::Warning("ipc accept failed", {{"error", ErrnoError("accept", errno).ToString()}});
      }
      return;
    }
    auto cred = GetPeerCred(fd.get());
    if (!cred) {
      log::Warning("ipc connection dropped", {{"error", cred.error().ToString()}});
      continue;
    }
    auto c = std::make_unique<Connection>(options_.max_frame_bytes);
    c->uid = cred->uid;
    c->pid = cred->pid;
    c->last_activity = now;
    c->fd = std::move(fd);
    const int key = c->fd.get();
    if (connections_.size() >= options_.max_clients ||
        CountForUid(c->uid) >= options_.max_clients_per_uid) {
      // Say why, then close: the tray shows this and retries later.
      auto error = ResourceExhaustedError("Ward is busy right now. Please try again in a minute.");
      SendError(*c, 0, error.error(), now);
      c->closing = true;
      Flush(*c, now);
      if (!c->HasOutput()) {
        continue;
      }
    }
    connections_.emplace(key, std::move(c));
  }
}

bool IpcServer::Impl::ReadFrom(Connection& c, SteadyTime now) {
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
    c.last_activity = now;
    auto fed = c.decoder.Feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    std::string payload;
    while (c.decoder.Next(payload)) {
      HandlePayload(c, payload);
    }
    if (!fed) {
      // The stream cannot be framed any more: explain, then hang up.
      log::Warning("ipc frame rejected",
                   {{"uid", c.uid}, {"pid", c.pid}, {"error", fed.error().ToString()}});
      SendError(c, 0, fed.error(), now);
      c.closing = true;
      return true;
    }
    if (c.decoder.HasPartialFrame() && !c.had_partial) {
      c.partial_since = now;
    }
    c.had_partial = c.decoder.HasPartialFrame();
  }
  return true;
}

bool IpcServer::Impl::Flush(Connection& c, SteadyTime /*now*/) {
  while (c.HasOutput()) {
    const long n =
        internal::SendSome(c.fd.get(), c.out.data() + c.out_offset, c.out.size() - c.out_offset);
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    c.out_offset += static_cast<std::size_t>(n);
  }
  c.out.clear();
  c.out_offset = 0;
  return true;
}

void IpcServer::Impl::Send(Connection& c, const v1::IpcServerMessage& message, SteadyTime now) {
  auto frame = EncodeFrame(message, options_.max_frame_bytes);
  if (!frame) {
    log::Error("ipc answer not sent", {{"error", frame.error().ToString()}});
    c.closing = true;
    return;
  }
  if (!c.HasOutput()) {
    c.output_since = now;
    c.out.clear();
    c.out_offset = 0;
  }
  c.out.append(*frame);
  if (c.out.size() - c.out_offset > options_.max_output_bytes) {
    log::Warning("ipc client is not reading; closing", {{"uid", c.uid}, {"pid", c.pid}});
    c.out.clear();
    c.out_offset = 0;
    c.closing = true;
    return;
  }
  if (!Flush(c, now)) {
    c.closing = true;
    c.out.clear();
    c.out_offset = 0;
  }
}

void IpcServer::Impl::SendError(Connection& c, std::uint64_t request_id, const Error& error,
                                SteadyTime now) {
  v1::IpcServerMessage message;
  auto* response = message.mutable_response();
  response->set_request_id(request_id);
  *response->mutable_error() = ToIpcError(error);
  Send(c, message, now);
}

const std::string& IpcServer::Impl::CachedUsername(uid_t uid) {
  auto it = usernames_.find(uid);
  if (it == usernames_.end()) {
    it = usernames_.emplace(uid, UsernameOf(uid)).first;
  }
  return it->second;
}

void IpcServer::Impl::HandlePayload(Connection& c, std::string_view payload) {
  const SteadyTime now = std::chrono::steady_clock::now();
  auto request = ParseRequest(payload);
  v1::IpcServerMessage message;
  if (!request) {
    log::Warning("ipc request rejected",
                 {{"uid", c.uid}, {"pid", c.pid}, {"error", request.error().ToString()}});
    SendError(c, 0, request.error(), now);
    return;
  }
  try {
    *message.mutable_response() = Dispatch(c, *request);
  } catch (const std::exception& e) {
    // AgentControl implementations must not throw; if one does, the loop survives.
    log::Error("ipc request failed with an exception", {{"what", e.what()}});
    message.Clear();
    auto* response = message.mutable_response();
    response->set_request_id(request->request_id());
    response->mutable_error()->set_code("INTERNAL");
    response->mutable_error()->set_message("Something went wrong in Ward. Please try again.");
  }
  Send(c, message, now);
}

v1::IpcResponse IpcServer::Impl::Dispatch(Connection& c, const v1::IpcRequest& request) {
  v1::IpcResponse response;
  response.set_request_id(request.request_id());
  auto fail = [&response](const Error& error, std::uint32_t retry_after = 0) {
    *response.mutable_error() = ToIpcError(error);
    response.mutable_error()->set_retry_after_seconds(retry_after);
    return response;
  };
  // Ask the kernel on every request, never the client (the connection could have been passed
  // on to another process; SO_PEERCRED names the process that connected).
  auto cred = GetPeerCred(c.fd.get());
  if (!cred) {
    return fail(cred.error());
  }
  c.uid = cred->uid;
  c.pid = cred->pid;
  const Caller caller{cred->uid, cred->pid, CachedUsername(cred->uid)};

  switch (request.request_case()) {
    case v1::IpcRequest::kStatus: {
      auto result = control_.Status(caller);
      if (!result) {
        return fail(result.error());
      }
      *response.mutable_status() = std::move(*result);
      return response;
    }
    case v1::IpcRequest::kPolicySummary: {
      auto result = control_.PolicySummary(caller);
      if (!result) {
        return fail(result.error());
      }
      *response.mutable_policy_summary() = std::move(*result);
      return response;
    }
    case v1::IpcRequest::kSubmitConcern: {
      if (request.submit_concern().screenshot_png().size() > kMaxScreenshotBytes) {
        return fail(InvalidArgumentError(
                        "The picture is too big to send. Please send the report without it.")
                        .error());
      }
      if (const auto wait = concern_limiter_.TryAcquire(caller.uid); wait > 0) {
        return fail(ResourceExhaustedError(
                        RetryMessage("You have sent several reports in a short time.", wait))
                        .error(),
                    wait);
      }
      auto result = control_.SubmitConcern(caller, request.submit_concern());
      if (!result) {
        return fail(result.error());
      }
      *response.mutable_submit_concern() = std::move(*result);
      return response;
    }
    case v1::IpcRequest::kAcceptAup: {
      if (const auto wait = aup_limiter_.TryAcquire(caller.uid); wait > 0) {
        return fail(
            ResourceExhaustedError(RetryMessage("That was a lot of tries at once.", wait)).error(),
            wait);
      }
      auto result = control_.AcceptAup(caller, request.accept_aup());
      if (!result) {
        return fail(result.error());
      }
      response.mutable_accept_aup();
      return response;
    }
    case v1::IpcRequest::kSubscribe: {
      auto result = control_.Subscribe(caller);
      if (!result) {
        return fail(result.error());
      }
      c.subscribed = true;
      response.mutable_subscribe();
      return response;
    }
    case v1::IpcRequest::REQUEST_NOT_SET:
      break;
  }
  return fail(InvalidArgumentError("the request asks for nothing").error());
}

void IpcServer::Impl::DeliverNotices(SteadyTime now) {
  std::vector<PendingNotice> notices;
  {
    std::scoped_lock lock(notices_mu_);
    notices.swap(pending_notices_);
  }
  if (notices.empty()) {
    return;
  }
  for (auto& pending : notices) {
    v1::IpcServerMessage message;
    *message.mutable_notice() = std::move(pending.notice);
    for (auto& [fd, c] : connections_) {
      if (c->subscribed && !c->closing &&
          (!pending.only_uid.has_value() || *pending.only_uid == c->uid)) {
        Send(*c, message, now);
      }
    }
  }
  std::erase_if(connections_,
                [](const auto& e) { return e.second->closing && !e.second->HasOutput(); });
}

void IpcServer::Impl::CheckTimeouts(SteadyTime now) {
  std::erase_if(connections_, [&](const auto& entry) {
    Connection& c = *entry.second;
    if (c.HasOutput() && now - c.output_since > options_.slow_client_timeout) {
      log::Warning("ipc client too slow to read; closing", {{"uid", c.uid}, {"pid", c.pid}});
      return true;
    }
    if (c.closing) {
      return !c.HasOutput();
    }
    if (c.decoder.HasPartialFrame() && now - c.partial_since > options_.slow_client_timeout) {
      log::Warning("ipc client too slow to send a request; closing",
                   {{"uid", c.uid}, {"pid", c.pid}});
      SendError(c, 0, DeadlineExceededError("the request did not arrive in time; closing").error(),
                now);
      c.closing = true;
      return !c.HasOutput();
    }
    if (!c.subscribed && !c.decoder.HasPartialFrame() &&
        now - c.last_activity > options_.idle_timeout) {
      return true;
    }
    return false;
  });
}

// Until the next connection deadline, or -1 (no timer) when no connection has one: an idle
// server, with or without a subscribed tray, sleeps until a client, a notice or Stop() wakes it.
int IpcServer::Impl::PollTimeoutMs(SteadyTime now) const {
  auto next = SteadyTime::max();
  for (const auto& [fd, c] : connections_) {
    if (c->HasOutput()) {
      next = std::min(next, c->output_since + options_.slow_client_timeout);
    }
    if (c->decoder.HasPartialFrame()) {
      next = std::min(next, c->partial_since + options_.slow_client_timeout);
    } else if (!c->subscribed) {
      next = std::min(next, c->last_activity + options_.idle_timeout);
    }
  }
  if (next == SteadyTime::max()) {
    return -1;
  }
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<std::int64_t>(ms, 0, 3'600'000)) + 1;
}

Result<std::unique_ptr<IpcServer>> IpcServer::Create(IpcServerOptions options,
                                                     AgentControl& control, Clock& clock) {
  if (options.max_frame_bytes < kFrameHeaderBytes || options.max_frame_bytes > kMaxFrameBytes) {
    return InvalidArgumentError("max_frame_bytes must be between 4 and " +
                                std::to_string(kMaxFrameBytes));
  }
  if (options.max_clients == 0 || options.max_clients_per_uid == 0) {
    return InvalidArgumentError("max_clients and max_clients_per_uid must be at least 1");
  }
  return std::unique_ptr<IpcServer>(
      new IpcServer(std::make_unique<Impl>(std::move(options), control, clock)));
}

IpcServer::IpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IpcServer::~IpcServer() = default;
Status IpcServer::Start() { return impl_->Start(); }
void IpcServer::Stop() { impl_->Stop(); }
void IpcServer::Notify(v1::Notice notice) { impl_->Notify(std::move(notice), std::nullopt); }
void IpcServer::NotifyUser(uid_t uid, v1::Notice notice) { impl_->Notify(std::move(notice), uid); }
std::size_t IpcServer::ConnectionCountForTesting() const { return impl_->connection_count(); }

}  // namespace ward::agent::ipc
