// SPDX-License-Identifier: Apache-2.0
// The HTTPS transport's socket layer on POSIX sockets.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include "internal/socket.h"

namespace ward::agent::sync::internal {
namespace {

int Fd(SocketHandle s) { return static_cast<int>(s); }

}  // namespace

int TimedOutCode() { return ETIMEDOUT; }

Result<std::vector<SocketAddress>> ResolveTcp(const std::string& host, std::uint16_t port,
                                              bool numeric_host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (numeric_host ? AI_NUMERICHOST : 0);
  addrinfo* found = nullptr;
  const int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (gai != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot resolve " + host + ": " + std::string(::gai_strerror(gai)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  std::vector<SocketAddress> out;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(a->ai_addr);
    out.push_back({a->ai_family, std::vector<unsigned char>(bytes, bytes + a->ai_addrlen)});
  }
  return out;
}

Result<SocketHandle> OpenStreamSocket(int family) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable, "socket: " + SocketErrorText(errno), errno);
  }
  return static_cast<SocketHandle>(fd);
}

void CloseSocket(SocketHandle s) { ::close(Fd(s)); }

void ShutdownSocket(SocketHandle s) { ::shutdown(Fd(s), SHUT_RDWR); }

void SetNoDelay(SocketHandle s) {
  const int one = 1;
  ::setsockopt(Fd(s), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int StartConnect(SocketHandle s, const SocketAddress& address) {
  int rc = 0;
  do {
    rc = ::connect(Fd(s), reinterpret_cast<const sockaddr*>(address.bytes.data()),
                   static_cast<socklen_t>(address.bytes.size()));
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    return 0;
  }
  return errno == EINPROGRESS ? kInProgress : errno;
}

int PendingConnectError(SocketHandle s) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(Fd(s), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    return errno;
  }
  return err;
}

std::int64_t SendSome(SocketHandle s, const char* data, std::size_t len, bool& would_block,
                      int& error) {
  for (;;) {
    const ssize_t n = ::send(Fd(s), data, len, MSG_NOSIGNAL);
    if (n >= 0 || errno != EINTR) {
      would_block = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      error = n < 0 ? errno : 0;
      return n;
    }
  }
}

std::int64_t ReceiveSome(SocketHandle s, char* data, std::size_t len, bool& would_block,
                         int& error) {
  for (;;) {
    const ssize_t n = ::recv(Fd(s), data, len, 0);
    if (n >= 0 || errno != EINTR) {
      would_block = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      error = n < 0 ? errno : 0;
      return n;
    }
  }
}

int WaitSocket(SocketHandle s, bool for_write, int timeout_ms, int& error) {
  for (;;) {
    pollfd p{Fd(s), static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n >= 0) {
      return n;
    }
    if (errno != EINTR) {
      error = errno;
      return n;
    }
  }
}

std::string SocketErrorText(int error) { return std::system_category().message(error); }

bool IsIpLiteral(const std::string& text, bool v6) {
  if (v6) {
    in6_addr addr{};
    return ::inet_pton(AF_INET6, text.c_str(), &addr) == 1;
  }
  in_addr addr{};
  return ::inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

}  // namespace ward::agent::sync::internal
