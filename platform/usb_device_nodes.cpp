// SPDX-License-Identifier: Apache-2.0
// PnP ids of USB device nodes -> UsbDevice. The id grammar is Windows' ("Standard USB
// Identifiers"): USB\VID_vvvv&PID_pppp[&REV_rrrr|&MI_nn], USB\Class_cc&SubClass_ss&Prot_pp,
// USB\DevClass_cc..., USB\ROOT_HUB30.
#include "ward/platform/usb_device_nodes.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <string_view>

namespace ward::platform {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

// The hex number of `digits` digits after `tag` in `id` (case-insensitive), if any.
std::optional<unsigned> HexAfter(const std::string& id, std::string_view tag, std::size_t digits) {
  const std::string upper = Upper(id);
  const std::size_t at = upper.find(tag);
  if (at == std::string::npos || at + tag.size() + digits > upper.size()) {
    return std::nullopt;
  }
  unsigned value = 0;
  const char* begin = upper.data() + at + tag.size();
  const auto [end, ec] = std::from_chars(begin, begin + digits, value, 16);
  if (ec != std::errc() || end != begin + digits) {
    return std::nullopt;
  }
  return value;
}

struct Ids {
  std::optional<unsigned> vid, pid, interface_number;
  bool root_hub = false;
};

Ids ParseHardwareIds(const UsbDeviceNode& node) {
  Ids ids;
  std::vector<std::string> all = node.hardware_ids;
  all.push_back(node.instance_id);
  for (const std::string& id : all) {
    const std::string upper = Upper(id);
    if (!upper.starts_with("USB\\")) {
      continue;
    }
    if (upper.starts_with("USB\\ROOT_HUB")) {
      ids.root_hub = true;
    }
    if (!ids.vid) {
      ids.vid = HexAfter(id, "VID_", 4);
      ids.pid = HexAfter(id, "&PID_", 4);
    }
    if (!ids.interface_number) {
      ids.interface_number = HexAfter(id.substr(0, id.find('\\', 4)), "&MI_", 2);
    }
  }
  return ids;
}

// The most specific class triple among the compatible ids, nullopt when there is none.
std::optional<UsbInterface> ClassFromCompatibleIds(const std::vector<std::string>& compatible) {
  for (const std::string& id : compatible) {
    const std::string upper = Upper(id);
    if (!upper.starts_with("USB\\CLASS_")) {
      continue;
    }
    const auto cls = HexAfter(id, "CLASS_", 2);
    const auto sub = HexAfter(id, "&SUBCLASS_", 2);
    const auto prot = HexAfter(id, "&PROT_", 2);
    if (cls && sub && prot) {
      return UsbInterface{.id = {},
                          .number = 0,
                          .interface_class = static_cast<std::uint8_t>(*cls),
                          .interface_subclass = static_cast<std::uint8_t>(*sub),
                          .interface_protocol = static_cast<std::uint8_t>(*prot),
                          .authorized = false,
                          .from_sysfs = false};
    }
  }
  return std::nullopt;
}

std::optional<std::uint8_t> DeviceClass(const std::vector<std::string>& compatible) {
  for (const std::string& id : compatible) {
    if (Upper(id).starts_with("USB\\DEVCLASS_")) {
      if (const auto cls = HexAfter(id, "DEVCLASS_", 2)) {
        return static_cast<std::uint8_t>(*cls);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::string SerialFromInstanceId(const std::string& instance_id) {
  const std::size_t at = instance_id.rfind('\\');
  if (at == std::string::npos || at + 1 >= instance_id.size()) {
    return {};
  }
  std::string last = instance_id.substr(at + 1);
  return last.find('&') == std::string::npos ? last : std::string();
}

std::vector<UsbDevice> AssembleUsbDevices(const std::vector<UsbDeviceNode>& nodes) {
  std::vector<UsbDevice> devices;
  std::map<std::string, std::size_t> by_instance;  // upper-case instance id -> devices index
  std::vector<const UsbDeviceNode*> interface_nodes;
  for (const UsbDeviceNode& node : nodes) {
    const Ids ids = ParseHardwareIds(node);
    if (ids.interface_number.has_value()) {
      interface_nodes.push_back(&node);
      continue;
    }
    if (!ids.root_hub && (!ids.vid || !ids.pid)) {
      continue;  // not a USB device node (or ids we cannot read): not ours to judge
    }
    UsbDevice device;
    device.id = node.instance_id;
    device.devpath = node.location_path;
    device.root_hub = ids.root_hub;
    device.vendor_id = static_cast<std::uint16_t>(ids.vid.value_or(0));
    device.product_id = static_cast<std::uint16_t>(ids.pid.value_or(0));
    device.serial = ids.root_hub ? std::string() : SerialFromInstanceId(node.instance_id);
    device.product = node.description;
    device.authorized = node.started && !node.disabled;
    const auto device_class = DeviceClass(node.compatible_ids);
    device.device_class = device_class.value_or(0);
    const bool composite = device_class.has_value() ||
                           std::ranges::any_of(node.compatible_ids, [](const std::string& id) {
                             return Upper(id) == "USB\\COMPOSITE";
                           });
    if (!composite && !ids.root_hub) {
      // A single-interface device: Windows gives the device node its interface's class.
      if (auto only = ClassFromCompatibleIds(node.compatible_ids)) {
        only->authorized = device.authorized;
        device.interfaces.push_back(*only);
      } else {
        device.interfaces_error = "no USB\\Class_ compatible id on " + node.instance_id;
      }
    }
    by_instance.emplace(Upper(node.instance_id), devices.size());
    devices.push_back(std::move(device));
  }
  for (const UsbDeviceNode* node : interface_nodes) {
    const auto parent = by_instance.find(Upper(node->parent_instance_id));
    if (parent == by_instance.end()) {
      continue;  // its device vanished between the two reads
    }
    UsbDevice& device = devices[parent->second];
    auto interface = ClassFromCompatibleIds(node->compatible_ids);
    if (!interface) {
      device.interfaces_error = "no USB\\Class_ compatible id on " + node->instance_id;
      continue;
    }
    interface->id = node->instance_id;
    interface->number = static_cast<std::uint8_t>(*ParseHardwareIds(*node).interface_number);
    interface->authorized = node->started && !node->disabled;
    device.interfaces.push_back(*interface);
  }
  for (UsbDevice& device : devices) {
    std::ranges::sort(device.interfaces, {}, &UsbInterface::number);
  }
  return devices;
}

}  // namespace ward::platform
