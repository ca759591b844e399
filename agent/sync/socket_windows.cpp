// SPDX-License-Identifier: Apache-2.0
// The HTTPS transport's socket layer on Winsock 2. WSAStartup runs once, the first time a
// socket is needed; Windows has no SIGPIPE, so send() needs no flag.
#include <winsock2.h>
#include <ws2tcpip.h>

#include <algorithm>
#include <memory>
#include <string>

#include "internal/socket.h"
#include "ward/common/error_windows.h"

namespace ward::agent::sync::internal {
namespace {

SOCKET Sock(SocketHandle s) { return static_cast<SOCKET>(s); }

int StartWinsock() {
  static const int started = [] {
    WSADATA data{};
    return WSAStartup(MAKEWORD(2, 2), &data);
  }();
  return started;
}

}  // namespace

int TimedOutCode() { return WSAETIMEDOUT; }

Result<std::vector<SocketAddress>> ResolveTcp(const std::string& host, std::uint16_t port,
                                              bool numeric_host) {
  if (const int started = StartWinsock(); started != 0) {
    return MakeError(ErrorCode::kUnavailable, "Winsock: " + SocketErrorText(started), started);
  }
  addrinfoW hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (numeric_host ? AI_NUMERICHOST : 0);
  addrinfoW* found = nullptr;
  const int gai = GetAddrInfoW(Utf16(host).c_str(), std::to_wstring(port).c_str(), &hints, &found);
  if (gai != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot resolve " + host + ": " + SocketErrorText(gai), gai);
  }
  std::unique_ptr<addrinfoW, decltype(&FreeAddrInfoW)> addresses(found, &FreeAddrInfoW);
  std::vector<SocketAddress> out;
  for (const addrinfoW* a = found; a != nullptr; a = a->ai_next) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(a->ai_addr);
    out.push_back({a->ai_family, std::vector<unsigned char>(bytes, bytes + a->ai_addrlen)});
  }
  return out;
}

Result<SocketHandle> OpenStreamSocket(int family) {
  if (const int started = StartWinsock(); started != 0) {
    return MakeError(ErrorCode::kUnavailable, "Winsock: " + SocketErrorText(started), started);
  }
  const SOCKET s = WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                              WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) {
    const int err = WSAGetLastError();
    return MakeError(ErrorCode::kUnavailable, "socket: " + SocketErrorText(err), err);
  }
  u_long non_blocking = 1;
  if (ioctlsocket(s, static_cast<long>(FIONBIO), &non_blocking) != 0) {
    const int err = WSAGetLastError();
    closesocket(s);
    return MakeError(ErrorCode::kUnavailable, "socket: " + SocketErrorText(err), err);
  }
  return static_cast<SocketHandle>(s);
}

void CloseSocket(SocketHandle s) { closesocket(Sock(s)); }

void ShutdownSocket(SocketHandle s) { shutdown(Sock(s), SD_BOTH); }

void SetNoDelay(SocketHandle s) {
  const BOOL one = TRUE;
  setsockopt(Sock(s), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof(one));
}

int StartConnect(SocketHandle s, const SocketAddress& address) {
  if (connect(Sock(s), reinterpret_cast<const sockaddr*>(address.bytes.data()),
              static_cast<int>(address.bytes.size())) == 0) {
    return 0;
  }
  const int err = WSAGetLastError();
  return err == WSAEWOULDBLOCK || err == WSAEINPROGRESS ? kInProgress : err;
}

int PendingConnectError(SocketHandle s) {
  int err = 0;
  int len = sizeof(err);
  if (getsockopt(Sock(s), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) != 0) {
    return WSAGetLastError();
  }
  return err;
}

std::int64_t SendSome(SocketHandle s, const char* data, std::size_t len, bool& would_block,
                      int& error) {
  const int n = send(Sock(s), data, static_cast<int>(std::min<std::size_t>(len, 1 << 30)), 0);
  error = n < 0 ? WSAGetLastError() : 0;
  would_block = error == WSAEWOULDBLOCK;
  return n;
}

std::int64_t ReceiveSome(SocketHandle s, char* data, std::size_t len, bool& would_block,
                         int& error) {
  const int n = recv(Sock(s), data, static_cast<int>(std::min<std::size_t>(len, 1 << 30)), 0);
  error = n < 0 ? WSAGetLastError() : 0;
  would_block = error == WSAEWOULDBLOCK;
  return n;
}

int WaitSocket(SocketHandle s, bool for_write, int timeout_ms, int& error) {
  // A failed connect shows as POLLERR/POLLHUP, which WSAPoll reports without being asked.
  WSAPOLLFD p{Sock(s), static_cast<SHORT>(for_write ? POLLWRNORM : POLLRDNORM), 0};
  const int n = WSAPoll(&p, 1, timeout_ms);
  if (n < 0) {
    error = WSAGetLastError();
  }
  return n;
}

std::string SocketErrorText(int error) {
  // WindowsError gives ": <text>" for an empty context.
  return WindowsError("", static_cast<std::uint32_t>(error)).message().substr(2);
}

bool IsIpLiteral(const std::string& text, bool v6) {
  if (StartWinsock() != 0) {
    return false;
  }
  if (v6) {
    IN6_ADDR addr{};
    return InetPtonA(AF_INET6, text.c_str(), &addr) == 1;
  }
  IN_ADDR addr{};
  return InetPtonA(AF_INET, text.c_str(), &addr) == 1;
}

}  // namespace ward::agent::sync::internal
