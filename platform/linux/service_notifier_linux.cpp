// SPDX-License-Identifier: Apache-2.0
// systemd's service notification protocol (sd_notify(3), "NOTIFY_SOCKET" in systemd.io's
// portability and stability promise): one datagram of newline-separated KEY=VALUE assignments to
// the AF_UNIX socket named by $NOTIFY_SOCKET, an absolute path or "@name" for the abstract
// namespace. The kernel attaches the sender's credentials itself (systemd sets SO_PASSCRED on
// its end), which is how systemd matches the message to the unit; nothing else is needed.
#include "ward/platform/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "unique_fd_linux.h"

namespace ward::platform {
namespace {

using internal::UniqueFd;

std::optional<std::string> Environment(const std::optional<std::string>& given, const char* name) {
  if (given.has_value()) {
    return given;
  }
  const char* value = std::getenv(name);
  return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

// Digits only: no sign, no spaces, no "0x" (stricter than strtoull; systemd writes plain
// decimal).
std::optional<std::uint64_t> ParseDecimal(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
  if (text.empty() || ec != std::errc() || ptr != end || text.front() == '-' ||
      text.front() == '+') {
    return std::nullopt;
  }
  return value;
}

// What sd_watchdog_enabled() decides from WATCHDOG_USEC and WATCHDOG_PID.
Result<std::optional<std::chrono::microseconds>> ParseWatchdog(
    const std::optional<std::string>& usec_text, const std::optional<std::string>& pid_text) {
  if (!usec_text.has_value()) {
    return std::nullopt;
  }
  const auto usec = ParseDecimal(*usec_text);
  // 0 and UINT64_MAX (USEC_INFINITY) are "not set" to systemd, and invalid to sd_watchdog_enabled.
  if (!usec.has_value() || *usec == 0 ||
      *usec > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return InvalidArgumentError("WATCHDOG_USEC is not a watchdog interval in microseconds: '" +
                                *usec_text + "'");
  }
  if (pid_text.has_value()) {
    const auto pid = ParseDecimal(*pid_text);
    if (!pid.has_value() || *pid == 0 ||
        *pid > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) {
      return InvalidArgumentError("WATCHDOG_PID is not a process id: '" + *pid_text + "'");
    }
    if (static_cast<pid_t>(*pid) != ::getpid()) {
      return std::nullopt;  // The watchdog is for another process (our parent, say).
    }
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(*usec));
}

class SocketNotifier final : public ServiceNotifier {
 public:
  SocketNotifier(UniqueFd socket, sockaddr_un address, socklen_t address_length, std::string name,
                 Result<std::optional<std::chrono::microseconds>> watchdog)
      : socket_(std::move(socket)),
        address_(address),
        address_length_(address_length),
        name_(std::move(name)),
        watchdog_(std::move(watchdog)) {}

  bool Listening() const override { return socket_.valid(); }

  Status Ready(std::string_view status) override {
    std::string message = "READY=1\nSTATUS=";
    for (const char c : status) {
      message.push_back(c == '\n' ? ' ' : c);
    }
    return Send(message);
  }
  Status Reloading() override { return Send("RELOADING=1"); }
  Status Stopping() override { return Send("STOPPING=1"); }
  Status WatchdogPing() override { return Send("WATCHDOG=1"); }

  Result<std::optional<std::chrono::microseconds>> WatchdogInterval() const override {
    return watchdog_;
  }

 private:
  Status Send(std::string_view message) {
    if (!socket_.valid()) {
      return OkStatus();
    }
    for (;;) {
      // MSG_NOSIGNAL: a vanished peer is an error here, never a SIGPIPE.
      const ssize_t sent = ::sendto(socket_.get(), message.data(), message.size(), MSG_NOSIGNAL,
                                    reinterpret_cast<const sockaddr*>(&address_), address_length_);
      if (sent >= 0) {
        return OkStatus();
      }
      if (errno != EINTR) {
        return std::unexpected(ErrnoError("notifying the service manager at " + name_, errno));
      }
    }
  }

  UniqueFd socket_;
  sockaddr_un address_{};
  socklen_t address_length_ = 0;
  std::string name_;
  Result<std::optional<std::chrono::microseconds>> watchdog_;
};

}  // namespace

Result<std::unique_ptr<ServiceNotifier>> CreateServiceNotifier(
    const ServiceNotifierOptions& options) {
  auto watchdog = ParseWatchdog(Environment(options.watchdog_usec, "WATCHDOG_USEC"),
                                Environment(options.watchdog_pid, "WATCHDOG_PID"));
  const auto name = Environment(options.notify_socket, "NOTIFY_SOCKET");
  if (!name.has_value()) {
    return std::make_unique<SocketNotifier>(UniqueFd(), sockaddr_un{}, 0, std::string(),
                                            std::move(watchdog));
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (name->size() < 2 || (name->front() != '/' && name->front() != '@')) {
    return InvalidArgumentError(
        "NOTIFY_SOCKET is neither an absolute path nor an abstract socket name: '" + *name + "'");
  }
  if (name->size() > sizeof(address.sun_path)) {
    return InvalidArgumentError("NOTIFY_SOCKET is too long for a socket address: '" + *name + "'");
  }
  std::memcpy(address.sun_path, name->data(), name->size());
  std::size_t path_length = name->size();
  if (name->front() == '@') {
    address.sun_path[0] = '\0';  // Abstract: the name is the bytes after the NUL, unterminated.
  } else if (path_length < sizeof(address.sun_path)) {
    ++path_length;  // A path: count its terminating NUL, as systemd does.
  }
  const auto address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_length);
  UniqueFd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) {
    return std::unexpected(ErrnoError("creating the service manager's notification socket", errno));
  }
  return std::make_unique<SocketNotifier>(std::move(socket), address, address_length, *name,
                                          std::move(watchdog));
}

}  // namespace ward::platform
