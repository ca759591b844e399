// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/result.h"

namespace ward::platform {

enum class Authorization : std::uint8_t { kBlocked, kAllowed };

// One interface of a USB device. For a device the kernel has not authorised, interfaces do not
// exist in sysfs yet; they are then taken from the configuration descriptors (`from_sysfs` false,
// `id` empty) so policy can judge the device by what it would become.
struct UsbInterface {
  std::string id;  // sysfs name "1-2:1.0"; empty when read from descriptors
  std::uint8_t number = 0;
  std::uint8_t interface_class = 0;
  std::uint8_t interface_subclass = 0;
  std::uint8_t interface_protocol = 0;
  bool authorized = false;
  bool from_sysfs = false;
};

// A USB device (or root hub) as sysfs describes it. Value type.
struct UsbDevice {
  std::string id;       // sysfs name: "1-2", "3-1.4"; "usb1" for a root hub
  std::string devpath;  // below the sysfs root: "/devices/pci0000:00/.../usb1/1-2"
  bool root_hub = false;
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;
  std::uint8_t device_class = 0;
  std::string serial;
  std::string product;
  std::string manufacturer;
  std::string connect_type;  // the port's "hotplug", "hardwired", ... ("" when unknown)
  bool authorized = false;
  // Interfaces in configuration order. From sysfs when present there, else from descriptors.
  std::vector<UsbInterface> interfaces;
  // Set when the interfaces could not be learnt (descriptors missing or malformed: the bytes come
  // from the device). Policy must then fail closed.
  std::string interfaces_error;
};

// "vvvv:pppp" in lower-case hex, as policy rules spell it.
std::string UsbDeviceIdString(const UsbDevice& device);
// "cc:ss:pp" in lower-case hex.
std::string UsbInterfaceClassString(const UsbInterface& interface);

// USB authorisation with Ward's semantics, over sysfs (`authorized`, interface `authorized`,
// root hubs' `authorized_default` / `interface_authorized_default`). Ids are sysfs names, checked
// against the USB naming grammar, so no id can name a path outside the USB tree.
// Thread-safe: every call reads or writes sysfs afresh and holds no state.
class DeviceControl {
 public:
  virtual ~DeviceControl() = default;

  // Every USB device and root hub now present. A device that vanishes while being read is
  // skipped. kUnavailable when the USB bus does not exist (no host controller).
  virtual Result<std::vector<UsbDevice>> Enumerate() = 0;

  // One device by sysfs name. kNotFound when it is gone; kInvalidArgument for a malformed id.
  virtual Result<UsbDevice> Describe(std::string_view device_id) = 0;

  // Writes the device's `authorized`. Blocking an authorised device unbinds its drivers and
  // removes its interfaces.
  virtual Status SetAuthorization(std::string_view device_id, Authorization authorization) = 0;

  // Logically disconnects a device (writes 1 to its `remove`): it leaves the system until it is
  // unplugged and plugged in again (USBGuard's "reject").
  virtual Status Remove(std::string_view device_id) = 0;

  // Writes one interface's `authorized` ("1-2:1.0").
  virtual Status SetInterfaceAuthorization(std::string_view interface_id,
                                           Authorization authorization) = 0;

  // Sets `authorized_default` and `interface_authorized_default` on every root hub, so new
  // devices (and the interfaces of newly authorised ones) start blocked until policy allows them.
  // Returns how many root hubs were set.
  virtual Result<std::size_t> SetDefaultAuthorization(Authorization device_default,
                                                      Authorization interface_default) = 0;
};

struct UsbPlatformOptions {
  // Where sysfs is mounted; tests point it at a umockdev test bed.
  std::filesystem::path sysfs_root = "/sys";
};

// The sysfs implementation (Linux). Never fails to construct: a missing bus shows on first use.
std::unique_ptr<DeviceControl> CreateDeviceControl(const UsbPlatformOptions& options);

}  // namespace ward::platform
