// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ward/common/result.h"

namespace ward::platform {

// A change to the USB tree, reduced to what an enforcer acts on.
struct UsbHotplugEvent {
  enum class Kind : std::uint8_t {
    kAdded,    // a device or interface appeared
    kRemoved,  // it went away
    kChanged,  // its attributes changed (authorisation, bind)
    // Events were lost (the socket overflowed): rescan every device.
    kRescanAll,
    // Something arrived or left, the platform does not say what (Windows' hot-plug
    // notifications): rescan every device. Nothing was lost.
    kRescan,
  };
  Kind kind = Kind::kAdded;
  std::string id;  // sysfs name "1-2" or "1-2:1.0" (empty for kRescanAll)
  bool is_interface = false;
  std::uint64_t seqnum = 0;
};

// Counters a source keeps; reported in status.
struct UeventSourceStats {
  std::uint64_t accepted = 0;            // USB events handed out
  std::uint64_t kernel_messages = 0;     // well-formed kernel messages of any subsystem
  std::uint64_t rejected_sender = 0;     // not from the kernel (pid/uid not 0, no credentials)
  std::uint64_t rejected_malformed = 0;  // failed ParseKernelUevent
  std::uint64_t overflows = 0;           // ENOBUFS: messages were lost
};

// Delivers USB hotplug events. Confined to one reader thread, except Interrupt() and Stats(),
// which are thread-safe.
class UeventSource {
 public:
  virtual ~UeventSource() = default;

  // Waits up to `max_wait` for the next USB event. std::nullopt on timeout or Interrupt().
  // Non-USB events and messages not from the kernel are dropped (counted) inside.
  virtual Result<std::optional<UsbHotplugEvent>> Next(std::chrono::milliseconds max_wait) = 0;

  // Makes a blocked or the next Next() return std::nullopt promptly.
  virtual void Interrupt() = 0;

  virtual UeventSourceStats Stats() const = 0;
};

struct UeventSourceOptions {
  // SO_RCVBUF(FORCE) asked for, so a burst of hot-plugs (a hub of devices) is not lost.
  int receive_buffer_bytes = 4 * 1024 * 1024;
};

// Linux: NETLINK_KOBJECT_UEVENT, kernel group only; accepts a message only when the sender's
// netlink port id is 0 and SCM_CREDENTIALS say pid 0 / uid 0. kUnavailable/kPermissionDenied when
// the socket cannot be opened.
// Windows: CreateUsbHotplug (usb_hotplug.h); every arrival or removal is one kRescan event.
Result<std::unique_ptr<UeventSource>> CreateUeventSource(const UeventSourceOptions& options);

}  // namespace ward::platform
