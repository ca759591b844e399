// SPDX-License-Identifier: Apache-2.0
#include <cstdio>

#include "ward/platform/device_control.h"

namespace ward::platform {

std::string UsbDeviceIdString(const UsbDevice& device) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04x:%04x", device.vendor_id, device.product_id);
  return text;
}

std::string UsbInterfaceClassString(const UsbInterface& interface) {
  char text[16];
  std::snprintf(text, sizeof(text), "%02x:%02x:%02x", interface.interface_class,
                interface.interface_subclass, interface.interface_protocol);
  return text;
}

}  // namespace ward::platform
