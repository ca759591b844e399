// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ward/platform/device_control.h"
#include "ward/platform/uevent_source.h"

namespace ward::platform {

// In-memory UeventSource: tests Push() events; Next() hands them out in order. Thread-safe.
class FakeUeventSource final : public UeventSource {
 public:
  void Push(UsbHotplugEvent event);
  Result<std::optional<UsbHotplugEvent>> Next(std::chrono::milliseconds max_wait) override;
  void Interrupt() override;
  UeventSourceStats Stats() const override;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<UsbHotplugEvent> queue_;  // guarded by mutex_
  bool interrupted_ = false;           // guarded by mutex_
  std::uint64_t delivered_ = 0;        // guarded by mutex_
};

// In-memory DeviceControl with the kernel's authorisation effects: authorising a device makes
// its declared interfaces appear (authorised per the interface default), blocking one removes
// them. Records every write. Thread-safe.
class FakeDeviceControl final : public DeviceControl {
 public:
  // Adds or replaces a device. `device.authorized` false means it arrived blocked: its
  // interfaces are "declared" (from descriptors) until it is authorised.
  void Plug(UsbDevice device);
  void Unplug(std::string_view device_id);
  // Makes every later call fail with `error` (a vanished bus, EIO ...) until cleared.
  void FailWith(std::optional<Error> error);
  // "authorize 1-2", "block 1-2:1.0", "defaults block/block" in call order.
  std::vector<std::string> Writes() const;
  Authorization device_default() const;
  Authorization interface_default() const;

  Result<std::vector<UsbDevice>> Enumerate() override;
  Result<UsbDevice> Describe(std::string_view device_id) override;
  Status SetAuthorization(std::string_view device_id, Authorization authorization) override;
  Status Remove(std::string_view device_id) override;
  Status SetInterfaceAuthorization(std::string_view interface_id,
                                   Authorization authorization) override;
  Result<std::size_t> SetDefaultAuthorization(Authorization device_default,
                                              Authorization interface_default) override;

 private:
  using DeviceMap = std::map<std::string, UsbDevice, std::less<>>;
  // The device, or the configured failure / kNotFound. Requires mutex_.
  Result<DeviceMap::iterator> FindLocked(std::string_view device_id);

  mutable std::mutex mutex_;
  DeviceMap devices_;                // guarded by mutex_
  std::vector<std::string> writes_;  // guarded by mutex_
  std::optional<Error> failure_;     // guarded by mutex_
  Authorization device_default_ = Authorization::kAllowed;
  Authorization interface_default_ = Authorization::kAllowed;
};

}  // namespace ward::platform
