// SPDX-License-Identifier: Apache-2.0
// Device nodes as SetupAPI reports them (ids and serials come from devices): one field per line
// ("I=<instance id>", "P=<parent>", "H=<hardware id>", "C=<compatible id>", "S" started), nodes
// separated by an empty line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ward/common/check.h"
#include "ward/platform/usb_device_nodes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<ward::platform::UsbDeviceNode> nodes(1);
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end;
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    auto& node = nodes.back();
    const std::string value(line.size() > 2 ? line.substr(2) : std::string_view());
    if (line.empty()) {
      nodes.emplace_back();
    } else if (line.starts_with("I=")) {
      node.instance_id = value;
    } else if (line.starts_with("P=")) {
      node.parent_instance_id = value;
    } else if (line.starts_with("H=")) {
      node.hardware_ids.push_back(value);
    } else if (line.starts_with("C=")) {
      node.compatible_ids.push_back(value);
    } else if (line == "S") {
      node.started = true;
    }
  }
  const auto devices = ward::platform::AssembleUsbDevices(nodes);
  WARD_CHECK(devices.size() <= nodes.size());
  for (const auto& device : devices) {
    WARD_CHECK(device.serial.find('&') == std::string::npos);
    WARD_CHECK(device.serial.find('\\') == std::string::npos);
    for (std::size_t i = 1; i < device.interfaces.size(); ++i) {
      WARD_CHECK(device.interfaces[i - 1].number <= device.interfaces[i].number);
    }
  }
  return 0;
}
