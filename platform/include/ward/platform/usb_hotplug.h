// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ward/common/result.h"

// USB arrivals and removals on Windows, for the USB enforcer's loop: it waits here, then
// enumerates (DeviceControl::Enumerate) and decides what changed. Linux has UeventSource.
namespace ward::platform {

// WaitForChange() and Mechanism() are confined to one thread; Interrupt() is thread-safe.
class UsbHotplug {
 public:
  virtual ~UsbHotplug() = default;

  // true when a USB device arrived or left since the last call (or during this one, up to
  // `max_wait`); false on timeout or Interrupt().
  virtual Result<bool> WaitForChange(std::chrono::milliseconds max_wait) = 0;
  virtual void Interrupt() = 0;

  // "CM_Register_Notification" or "device-notification window" (Windows before 8, Wine 8).
  virtual std::string Mechanism() const = 0;
};

struct UsbHotplugOptions {
  // Use the window fallback even where CM_Register_Notification exists (tests).
  bool force_window_fallback = false;
};

// Windows only (windows/usb_hotplug_windows.cpp).
Result<std::unique_ptr<UsbHotplug>> CreateUsbHotplug(const UsbHotplugOptions& options);

}  // namespace ward::platform
