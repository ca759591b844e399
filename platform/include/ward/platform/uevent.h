// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "ward/common/result.h"

namespace ward::platform {

// One kernel uevent: "ACTION@DEVPATH\0KEY=VALUE\0...". Value type.
struct Uevent {
  std::string action;     // "add", "remove", "change", "bind", "unbind", "move", "online", ...
  std::string devpath;    // "/devices/pci0000:00/0000:00:14.0/usb1/1-2", below the sysfs root
  std::string subsystem;  // "usb"
  std::string devtype;    // "usb_device", "usb_interface" or ""
  std::uint64_t seqnum = 0;
  std::map<std::string, std::string, std::less<>> properties;  // every KEY=VALUE, ACTION included
};

// The largest message accepted; the kernel's UEVENT_BUFFER_SIZE is 2048.
inline constexpr std::size_t kMaxUeventBytes = 8192;

// Parses one message as the kernel sends it on NETLINK_KOBJECT_UEVENT. The bytes are untrusted
// (anything on the socket), so the parser is strict: the header, ACTION and DEVPATH must agree;
// DEVPATH must be absolute and free of "." / ".." components and NUL-free (it becomes a path
// under the sysfs root); keys are [A-Z0-9_]; a key appears at most once; SEQNUM, when present,
// is decimal. udev's re-broadcasts ("libudev" header) are refused. Errors are kInvalidArgument.
Result<Uevent> ParseKernelUevent(std::span<const char> bytes);

}  // namespace ward::platform
