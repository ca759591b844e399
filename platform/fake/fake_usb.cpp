// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/fake_usb.h"

namespace ward::platform {

void FakeUeventSource::Push(UsbHotplugEvent event) {
  {
    std::scoped_lock lock(mutex_);
    queue_.push_back(std::move(event));
  }
  changed_.notify_all();
}

Result<std::optional<UsbHotplugEvent>> FakeUeventSource::Next(std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, max_wait, [&] { return interrupted_ || !queue_.empty(); });
  if (interrupted_) {
    interrupted_ = false;
    return std::nullopt;
  }
  if (queue_.empty()) {
    return std::nullopt;
  }
  UsbHotplugEvent event = std::move(queue_.front());
  queue_.pop_front();
  ++delivered_;
  return event;
}

void FakeUeventSource::Interrupt() {
  {
    std::scoped_lock lock(mutex_);
    interrupted_ = true;
  }
  changed_.notify_all();
}

UeventSourceStats FakeUeventSource::Stats() const {
  std::scoped_lock lock(mutex_);
  UeventSourceStats stats;
  stats.accepted = delivered_;
  return stats;
}

namespace {
std::string_view Word(Authorization a) { return a == Authorization::kAllowed ? "allow" : "block"; }
}  // namespace

void FakeDeviceControl::Plug(UsbDevice device) {
  std::scoped_lock lock(mutex_);
  if (!device.authorized) {
    for (auto& i : device.interfaces) {
      i.id.clear();
      i.from_sysfs = false;
      i.authorized = false;
    }
  }
  std::string id = device.id;
  devices_.insert_or_assign(std::move(id), std::move(device));
}

void FakeDeviceControl::Unplug(std::string_view device_id) {
  std::scoped_lock lock(mutex_);
  if (auto it = devices_.find(device_id); it != devices_.end()) {
    devices_.erase(it);
  }
}

void FakeDeviceControl::FailWith(std::optional<Error> error) {
  std::scoped_lock lock(mutex_);
  failure_ = std::move(error);
}

std::vector<std::string> FakeDeviceControl::Writes() const {
  std::scoped_lock lock(mutex_);
  return writes_;
}

Authorization FakeDeviceControl::device_default() const {
  std::scoped_lock lock(mutex_);
  return device_default_;
}

Authorization FakeDeviceControl::interface_default() const {
  std::scoped_lock lock(mutex_);
  return interface_default_;
}

Result<std::vector<UsbDevice>> FakeDeviceControl::Enumerate() {
  std::scoped_lock lock(mutex_);
  if (failure_) {
    return std::unexpected(*failure_);
  }
  std::vector<UsbDevice> out;
  for (const auto& [id, device] : devices_) {
    out.push_back(device);
  }
  return out;
}

Result<FakeDeviceControl::DeviceMap::iterator> FakeDeviceControl::FindLocked(
    std::string_view device_id) {
  if (failure_) {
    return std::unexpected(*failure_);
  }
  const auto it = devices_.find(device_id);
  if (it == devices_.end()) {
    return NotFoundError("USB device " + std::string(device_id) + " is not present");
  }
  return it;
}

Result<UsbDevice> FakeDeviceControl::Describe(std::string_view device_id) {
  std::scoped_lock lock(mutex_);
  WARD_ASSIGN_OR_RETURN(const auto it, FindLocked(device_id));
  return it->second;
}

Status FakeDeviceControl::SetAuthorization(std::string_view device_id,
                                           Authorization authorization) {
  std::scoped_lock lock(mutex_);
  WARD_ASSIGN_OR_RETURN(const auto it, FindLocked(device_id));
  writes_.push_back(std::string(Word(authorization)) + " " + std::string(device_id));
  UsbDevice& device = it->second;
  const bool allow = authorization == Authorization::kAllowed;
  if (allow && !device.authorized) {
    for (auto& i : device.interfaces) {
      i.id = device.id + ":1." + std::to_string(i.number);
      i.from_sysfs = true;
      i.authorized = interface_default_ == Authorization::kAllowed;
    }
  }
  if (!allow) {
    for (auto& i : device.interfaces) {
      i.id.clear();
      i.from_sysfs = false;
      i.authorized = false;
    }
  }
  device.authorized = allow;
  return OkStatus();
}

Status FakeDeviceControl::Remove(std::string_view device_id) {
  std::scoped_lock lock(mutex_);
  WARD_ASSIGN_OR_RETURN(const auto it, FindLocked(device_id));
  writes_.push_back("remove " + std::string(device_id));
  devices_.erase(it);
  return OkStatus();
}

Status FakeDeviceControl::SetInterfaceAuthorization(std::string_view interface_id,
                                                    Authorization authorization) {
  std::scoped_lock lock(mutex_);
  if (failure_) {
    return std::unexpected(*failure_);
  }
  for (auto& [id, device] : devices_) {
    for (auto& i : device.interfaces) {
      if (i.from_sysfs && i.id == interface_id) {
        writes_.push_back(std::string(Word(authorization)) + " " + std::string(interface_id));
        i.authorized = authorization == Authorization::kAllowed;
        return OkStatus();
      }
    }
  }
  return NotFoundError("USB interface " + std::string(interface_id) + " is not present");
}

Result<std::size_t> FakeDeviceControl::SetDefaultAuthorization(Authorization device_default,
                                                               Authorization interface_default) {
  std::scoped_lock lock(mutex_);
  if (failure_) {
    return std::unexpected(*failure_);
  }
  writes_.push_back("defaults " + std::string(Word(device_default)) + "/" +
                    std::string(Word(interface_default)));
  device_default_ = device_default;
  interface_default_ = interface_default;
  return 1;
}

}  // namespace ward::platform
