// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/usb_descriptors.h"

#include <string>

namespace ward::platform {
namespace {

constexpr std::uint8_t kDeviceType = 1;
constexpr std::uint8_t kConfigurationType = 2;
constexpr std::uint8_t kInterfaceType = 4;
constexpr std::size_t kDeviceLength = 18;
constexpr std::size_t kConfigurationMinLength = 9;
constexpr std::size_t kInterfaceMinLength = 9;
// A device has at most 255 configurations; the kernel caps it at 8 (USB_MAXCONFIG).
constexpr std::size_t kMaxConfigurations = 32;

std::uint16_t Le16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}

Result<UsbConfigurationDescriptor> ParseConfiguration(std::span<const std::uint8_t> config) {
  UsbConfigurationDescriptor out;
  out.value = config[5];
  std::size_t at = config[0];  // the configuration descriptor itself
  while (at < config.size()) {
    if (config.size() - at < 2) {
      return InvalidArgumentError("truncated descriptor header at offset " + std::to_string(at));
    }
    const std::size_t length = config[at];
    const std::uint8_t type = config[at + 1];
    if (length < 2) {
      return InvalidArgumentError("descriptor of length " + std::to_string(length) + " at offset " +
                                  std::to_string(at));
    }
    if (length > config.size() - at) {
      return InvalidArgumentError("descriptor at offset " + std::to_string(at) +
                                  " overruns its configuration");
    }
    if (type == kInterfaceType) {
      if (length < kInterfaceMinLength) {
        return InvalidArgumentError("interface descriptor too short at offset " +
                                    std::to_string(at));
      }
      out.interfaces.push_back(UsbInterfaceDescriptor{
          .number = config[at + 2],
          .alternate_setting = config[at + 3],
          .interface_class = config[at + 5],
          .interface_subclass = config[at + 6],
          .interface_protocol = config[at + 7],
      });
    }
    at += length;
  }
  return out;
}

}  // namespace

Result<UsbDescriptors> ParseUsbDescriptors(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kDeviceLength) {
    return InvalidArgumentError("device descriptor truncated: " + std::to_string(bytes.size()) +
                                " bytes");
  }
  if (bytes[0] != kDeviceLength || bytes[1] != kDeviceType) {
    return InvalidArgumentError("not a device descriptor");
  }
  UsbDescriptors out;
  out.device = UsbDeviceDescriptor{
      .bcd_usb = Le16(bytes, 2),
      .device_class = bytes[4],
      .device_subclass = bytes[5],
      .device_protocol = bytes[6],
      .vendor_id = Le16(bytes, 8),
      .product_id = Le16(bytes, 10),
      .bcd_device = Le16(bytes, 12),
      .num_configurations = bytes[17],
  };
  std::size_t at = kDeviceLength;
  while (at < bytes.size()) {
    const auto rest = bytes.subspan(at);
    if (rest.size() < kConfigurationMinLength) {
      return InvalidArgumentError("configuration descriptor truncated at offset " +
                                  std::to_string(at));
    }
    if (rest[1] != kConfigurationType || rest[0] < kConfigurationMinLength) {
      return InvalidArgumentError("expected a configuration descriptor at offset " +
                                  std::to_string(at));
    }
    const std::size_t total = Le16(rest, 2);
    if (total < rest[0] || total > rest.size()) {
      return InvalidArgumentError("configuration total length " + std::to_string(total) +
                                  " does not fit at offset " + std::to_string(at));
    }
    if (out.configurations.size() == kMaxConfigurations) {
      return InvalidArgumentError("more than " + std::to_string(kMaxConfigurations) +
                                  " configurations");
    }
    WARD_ASSIGN_OR_RETURN(auto config, ParseConfiguration(rest.first(total)));
    out.configurations.push_back(std::move(config));
    at += total;
  }
  return out;
}

}  // namespace ward::platform
