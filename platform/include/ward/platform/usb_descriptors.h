// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ward/common/result.h"

namespace ward::platform {

// The standard device descriptor (USB 2.0 section 9.6.1), fields in host order.
struct UsbDeviceDescriptor {
  std::uint16_t bcd_usb = 0;
  std::uint8_t device_class = 0;
  std::uint8_t device_subclass = 0;
  std::uint8_t device_protocol = 0;
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;
  std::uint16_t bcd_device = 0;
  std::uint8_t num_configurations = 0;
};

// One interface descriptor (one alternate setting of one interface).
struct UsbInterfaceDescriptor {
  std::uint8_t number = 0;
  std::uint8_t alternate_setting = 0;
  std::uint8_t interface_class = 0;
  std::uint8_t interface_subclass = 0;
  std::uint8_t interface_protocol = 0;

  friend bool operator==(const UsbInterfaceDescriptor&, const UsbInterfaceDescriptor&) = default;
};

struct UsbConfigurationDescriptor {
  std::uint8_t value = 0;  // bConfigurationValue
  // Every interface descriptor of the configuration, alternate settings included, in order.
  std::vector<UsbInterfaceDescriptor> interfaces;
};

struct UsbDescriptors {
  UsbDeviceDescriptor device;
  std::vector<UsbConfigurationDescriptor> configurations;
};

// Parses the bytes of a sysfs `descriptors` file: the 18-byte device descriptor followed by the
// raw descriptors of each configuration, as the kernel read them from the device. The bytes come
// from the device, so they are untrusted: every length is checked against the buffer, a
// descriptor of length < 2 or overrunning its configuration is an error (kInvalidArgument), and
// nothing is read out of bounds. Unknown descriptor types (endpoints, class-specific) are skipped.
// A buffer holding only the device descriptor yields no configurations.
Result<UsbDescriptors> ParseUsbDescriptors(std::span<const std::uint8_t> bytes);

}  // namespace ward::platform
