// SPDX-License-Identifier: Apache-2.0
// IpcClient's transport on Linux: a Unix domain socket.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

#include "internal/client_transport.h"
#include "internal/unique_fd.h"

namespace ward::agent::ipc::internal {
namespace {

class SocketClientTransport final : public ClientTransport {
 public:
  explicit SocketClientTransport(UniqueFd fd) : fd_(std::move(fd)) {}

  Status WriteAll(std::string_view bytes, Deadline deadline, std::string& received) override;
  Status ReadSome(std::chrono::milliseconds wait, std::string& received) override;
  void Close() override { fd_.Reset(); }
  bool connected() const override { return fd_.valid(); }
  std::intptr_t native_handle() const override { return fd_.valid() ? fd_.get() : -1; }

 private:
  UniqueFd fd_;
};

Status SocketClientTransport::WriteAll(std::string_view bytes, Deadline deadline,
                                       std::string& received) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const long n = SendSome(fd_.get(), bytes.data() + sent, bytes.size() - sent);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      const int err = errno;
      Close();
      return std::unexpected(Error(ErrorCode::kUnavailable, "sending to the Ward agent", err));
    }
    if (RemainingMs(deadline) == 0) {
      // Half a frame is on the wire: the stream is unusable.
      Close();
      return DeadlineExceededError("the Ward agent did not take the request in time");
    }
    // While the agent is busy, keep reading so neither side's buffer stays full.
    pollfd p{fd_.get(), POLLOUT | POLLIN, 0};
    ::poll(&p, 1, RemainingMs(deadline));
    if ((p.revents & POLLIN) != 0) {
      WARD_RETURN_IF_ERROR(ReadSome(std::chrono::milliseconds(0), received));
    }
  }
  return OkStatus();
}

Status SocketClientTransport::ReadSome(std::chrono::milliseconds wait, std::string& received) {
  if (!fd_.valid()) {
    return UnavailableError("not connected to the Ward agent");
  }
  pollfd p{fd_.get(), POLLIN, 0};
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
    const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n == 0) {
      Close();
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
      Close();
      return std::unexpected(Error(ErrorCode::kUnavailable, "reading from the Ward agent", err));
    }
    received.append(buf.data(), static_cast<std::size_t>(n));
  }
}

}  // namespace

Result<std::unique_ptr<ClientTransport>> ConnectTransport(const std::filesystem::path& endpoint,
                                                          std::chrono::milliseconds /*timeout*/) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const auto& path = endpoint.native();
  if (path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError("socket path " + path + " is too long");
  }
  std::copy(path.begin(), path.end(), addr.sun_path);
  // Non-blocking from the start: a Unix-socket connect() would otherwise wait for as long as the
  // agent's listen backlog is full (it fails with EAGAIN instead).
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
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
  return std::make_unique<SocketClientTransport>(std::move(fd));
}

}  // namespace ward::agent::ipc::internal
