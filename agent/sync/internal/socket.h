// SPDX-License-Identifier: Apache-2.0
// The socket layer under the HTTPS transport: the few calls https_transport.cpp needs, on POSIX
// sockets (socket_posix.cpp) or Winsock (socket_windows.cpp). Non-blocking TCP streams only;
// every function is thread-safe in the way the OS call it wraps is. No OS header here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ward/common/result.h"

namespace ward::agent::sync::internal {

// An int file descriptor on POSIX, a SOCKET on Windows.
using SocketHandle = std::uintptr_t;
inline constexpr SocketHandle kNoSocket = ~SocketHandle{0};

// The OS error code the transport treats as "timed out" (its own deadline passed).
int TimedOutCode();

// One resolved address (a sockaddr of its family, as bytes).
struct SocketAddress {
  int family = 0;
  std::vector<unsigned char> bytes;
};

// Resolves `host` (numeric only when `numeric_host`) and `port` for TCP. kUnavailable with the
// resolver's message.
Result<std::vector<SocketAddress>> ResolveTcp(const std::string& host, std::uint16_t port,
                                              bool numeric_host);

// A non-blocking stream socket of `family` (not inherited by child processes). kUnavailable.
Result<SocketHandle> OpenStreamSocket(int family);
void CloseSocket(SocketHandle s);
// Wakes every waiter on `s` (both directions shut down); the handle stays open.
void ShutdownSocket(SocketHandle s);
void SetNoDelay(SocketHandle s);

// Starts connecting: 0 when connected at once, kInProgress when the caller must wait for
// writability and then ask PendingConnectError, else the OS error code.
inline constexpr int kInProgress = -1;
int StartConnect(SocketHandle s, const SocketAddress& address);
int PendingConnectError(SocketHandle s);

// Sends/receives at most `len` bytes without raising SIGPIPE. The count, or -1 with
// `would_block` telling whether the call would have blocked (retry after a wait) and `error`
// the OS error code otherwise. 0 from ReceiveSome is the peer's end of stream.
std::int64_t SendSome(SocketHandle s, const char* data, std::size_t len, bool& would_block,
                      int& error);
std::int64_t ReceiveSome(SocketHandle s, char* data, std::size_t len, bool& would_block,
                         int& error);

// Waits at most `timeout_ms` for `s` to become readable (or writable when `for_write`). > 0
// ready (or in error/hang-up: the next call says which), 0 timed out, < 0 failed (`error` set;
// an interrupted wait is retried inside).
int WaitSocket(SocketHandle s, bool for_write, int timeout_ms, int& error);

// The OS's words for a socket error code.
std::string SocketErrorText(int error);

// Whether `text` is an IPv4 (or, with `v6`, an IPv6) address literal.
bool IsIpLiteral(const std::string& text, bool v6);

}  // namespace ward::agent::sync::internal
