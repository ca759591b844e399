// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/ipc/ipc_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

#include "internal/unique_fd.h"

namespace ward::agent::ipc {
namespace {

using Deadline = std::chrono::steady_clock::time_point;

ErrorCode ErrorCodeFromName(std::string_view name) {
  for (auto i = static_cast<int>(ErrorCode::kInvalidArgument);
       i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    if (ErrorCodeName(code) == name) {
      return code;
    }
  }
  return ErrorCode::kInternal;
}

int RemainingMs(Deadline deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
}

}  // namespace

Result<std::unique_ptr<IpcClient>> IpcClient::Connect(IpcClientOptions options, NoticeSink* sink) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const auto& path = options.socket_path.native();
  if (path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError("socket path " + path + " is too long");
  }
  std::copy(path.begin(), path.end(), addr.sun_path);
  // Non-blocking from the start: a Unix-socket connect() would otherwise wait for as long as the
  // agent's listen backlog is full (it fails with EAGAIN instead).
  internal::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return std::unexpected(ErrnoError("creating a socket", errno));
  }
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    const std::string why = err == EAGAIN ? " failed: the agent is busy" : " failed";
    return std::unexpected(
        Error(ErrorCode::kUnavailable, "connecting to the Ward agent at " + path + why, err));
  }
  return std::unique_ptr<IpcClient>(new IpcClient(std::move(options), sink, fd.Release()));
}

IpcClient::IpcClient(IpcClientOptions options, NoticeSink* sink, int fd)
    : options_(std::move(options)), sink_(sink), fd_(fd) {}

IpcClient::~IpcClient() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int IpcClient::fd() const { return fd_; }

Status IpcClient::ReadSome(std::chrono::milliseconds wait) {
  if (fd_ < 0) {
    return UnavailableError("not connected to the Ward agent");
  }
  pollfd p{fd_, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, static_cast<int>(wait.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) {
    return std::unexpected(ErrnoError("waiting for the Ward agent", errno));
  }
  if (ready == 0) {
    return OkStatus();
  }
  std::array<char, 64 * 1024> buf;
  while (true) {
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n == 0) {
      ::close(fd_);
      fd_ = -1;
      return UnavailableError("the Ward agent closed the connection");
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return OkStatus();
      }
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      return std::unexpected(Error(ErrorCode::kUnavailable, "reading from the Ward agent", err));
    }
    if (auto fed = decoder_.Feed(std::string_view(buf.data(), static_cast<std::size_t>(n))); !fed) {
      ::close(fd_);
      fd_ = -1;
      return std::unexpected(Error(ErrorCode::kUnavailable, fed.error().message()));
    }
  }
}

Status IpcClient::DispatchReady(std::uint64_t want_id, v1::IpcResponse* out, bool* found) {
  std::string payload;
  while (decoder_.Next(payload)) {
    v1::IpcServerMessage message;
    if (!message.ParseFromString(payload)) {
      return InternalError("the Ward agent sent a message this tray cannot read");
    }
    if (message.has_notice()) {
      if (sink_ != nullptr) {
        sink_->Notify(message.notice());
      }
      continue;
    }
    if (!message.has_response()) {
      continue;
    }
    const auto& response = message.response();
    // Id 0 is the agent's answer to something it could not read: it concerns the current call.
    if (out != nullptr && !*found &&
        (response.request_id() == want_id || response.request_id() == 0)) {
      *out = response;
      *found = true;
    }
    // Answers to calls that already timed out are dropped.
  }
  return OkStatus();
}

Status IpcClient::PumpNotices(std::chrono::milliseconds wait) {
  bool found = false;
  WARD_RETURN_IF_ERROR(DispatchReady(0, nullptr, &found));
  WARD_RETURN_IF_ERROR(ReadSome(wait));
  return DispatchReady(0, nullptr, &found);
}

Result<v1::IpcResponse> IpcClient::Call(v1::IpcRequest request) {
  if (fd_ < 0) {
    return UnavailableError("not connected to the Ward agent");
  }
  last_retry_after_seconds_ = 0;
  const std::uint64_t id = next_id_++;
  request.set_request_id(id);
  WARD_ASSIGN_OR_RETURN(const std::string frame, EncodeFrame(request));
  const Deadline deadline = std::chrono::steady_clock::now() + options_.request_timeout;

  std::size_t sent = 0;
  while (sent < frame.size()) {
    const long n = internal::SendSome(fd_, frame.data() + sent, frame.size() - sent);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      return std::unexpected(Error(ErrorCode::kUnavailable, "sending to the Ward agent", err));
    }
    if (RemainingMs(deadline) == 0) {
      // Half a frame is on the wire: the stream is unusable.
      ::close(fd_);
      fd_ = -1;
      return DeadlineExceededError("the Ward agent did not take the request in time");
    }
    // While the agent is busy, keep reading so neither side's buffer stays full.
    pollfd p{fd_, POLLOUT | POLLIN, 0};
    ::poll(&p, 1, RemainingMs(deadline));
    if ((p.revents & POLLIN) != 0) {
      WARD_RETURN_IF_ERROR(ReadSome(std::chrono::milliseconds(0)));
    }
  }

  v1::IpcResponse response;
  bool found = false;
  while (true) {
    WARD_RETURN_IF_ERROR(DispatchReady(id, &response, &found));
    if (found) {
      break;
    }
    const int left = RemainingMs(deadline);
    if (left == 0) {
      return DeadlineExceededError("the Ward agent did not answer in time");
    }
    WARD_RETURN_IF_ERROR(ReadSome(std::chrono::milliseconds(left)));
  }
  if (response.has_error()) {
    last_retry_after_seconds_ = response.error().retry_after_seconds();
    return std::unexpected(
        Error(ErrorCodeFromName(response.error().code()), response.error().message()));
  }
  return response;
}

Result<v1::StatusResponse> IpcClient::Status(const Caller& /*caller*/) {
  v1::IpcRequest request;
  request.mutable_status();
  WARD_ASSIGN_OR_RETURN(auto response, Call(std::move(request)));
  return response.status();
}

Result<v1::PolicySummaryResponse> IpcClient::PolicySummary(const Caller& /*caller*/) {
  v1::IpcRequest request;
  request.mutable_policy_summary();
  WARD_ASSIGN_OR_RETURN(auto response, Call(std::move(request)));
  return response.policy_summary();
}

Result<v1::SubmitConcernResponse> IpcClient::SubmitConcern(
    const Caller& /*caller*/, const v1::SubmitConcernRequest& concern) {
  v1::IpcRequest request;
  *request.mutable_submit_concern() = concern;
  WARD_ASSIGN_OR_RETURN(auto response, Call(std::move(request)));
  return response.submit_concern();
}

Status IpcClient::AcceptAup(const Caller& /*caller*/, const v1::AcceptAupRequest& accept) {
  v1::IpcRequest request;
  *request.mutable_accept_aup() = accept;
  WARD_RETURN_IF_ERROR(Call(std::move(request)));
  return OkStatus();
}

Status IpcClient::Subscribe(const Caller& /*caller*/) {
  v1::IpcRequest request;
  request.mutable_subscribe();
  WARD_RETURN_IF_ERROR(Call(std::move(request)));
  return OkStatus();
}

}  // namespace ward::agent::ipc
