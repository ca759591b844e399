// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

namespace ward::platform::internal {

// The kernel's USB sysfs names: root hub "usb3"; device "3-1", "3-1.4.2"; interface
// "3-1.4:1.0" or, on a root hub, "3-0:1.0".
bool IsRootHubName(std::string_view name);
bool IsUsbDeviceName(std::string_view name);  // a device or a root hub
bool IsUsbInterfaceName(std::string_view name);

}  // namespace ward::platform::internal
