// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ward/common/result.h"

namespace ward::platform {

// Tells the service manager that runs the agent how it is doing: started, reloading, stopping,
// still alive (the watchdog). On Linux this is systemd's notification protocol (a datagram of
// "KEY=VALUE" lines to the socket named by $NOTIFY_SOCKET), implemented here so the agent does
// not link libsystemd. When no service manager listens, every call succeeds and does nothing.
// Thread-compatible: the agent's main loop is its only user.
class ServiceNotifier {
 public:
  virtual ~ServiceNotifier() = default;

  // Whether a service manager listens; false: the calls below do nothing and return OK.
  virtual bool Listening() const = 0;
  // Start-up (or a reload) is complete; `status` is one line shown by `systemctl status`
  // (newlines become spaces). Errors: the socket could not be reached (kNotFound,
  // kPermissionDenied, kUnavailable, ... from errno, with os_code).
  virtual Status Ready(std::string_view status) = 0;
  // A reload has begun; Ready() ends it. Errors as Ready().
  virtual Status Reloading() = 0;
  // The service is shutting down. Errors as Ready().
  virtual Status Stopping() = 0;
  // "Still alive": resets the service manager's watchdog timer. Errors as Ready().
  virtual Status WatchdogPing() = 0;
  // The watchdog interval the service manager expects a ping within, or nullopt when it has no
  // watchdog for this process (WATCHDOG_USEC unset, or WATCHDOG_PID names another process).
  // Errors: kInvalidArgument when WATCHDOG_USEC is not a number of microseconds above zero and
  // below infinity, or WATCHDOG_PID is set but not a process id.
  virtual Result<std::optional<std::chrono::microseconds>> WatchdogInterval() const = 0;
};

// Values of the environment the service manager sets; each nullopt means "read the variable".
struct ServiceNotifierOptions {
  // $NOTIFY_SOCKET: an absolute path, or "@name" for a Linux abstract socket. Unset: no
  // service manager listens.
  std::optional<std::string> notify_socket;
  // $WATCHDOG_USEC: the watchdog interval, decimal microseconds. Unset: no watchdog.
  std::optional<std::string> watchdog_usec;
  // $WATCHDOG_PID: the process the watchdog is meant for. Unset: this process.
  std::optional<std::string> watchdog_pid;
};

// The platform's notifier. The environment is read here, once, and never changed (the
// variables stay set, as sd_notify(3) leaves them with unset_environment = 0).
// Errors: kInvalidArgument when NOTIFY_SOCKET is neither an absolute path nor "@name", or is
// too long for a socket address; errno-mapped codes when the socket cannot be created.
Result<std::unique_ptr<ServiceNotifier>> CreateServiceNotifier(
    const ServiceNotifierOptions& options = {});

}  // namespace ward::platform
