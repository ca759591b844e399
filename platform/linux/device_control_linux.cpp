// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <charconv>
#include <system_error>

#include "sysfs_linux.h"
#include "usb_names_linux.h"
#include "ward/platform/device_control.h"
#include "ward/platform/usb_descriptors.h"

namespace ward::platform {
namespace {

namespace fs = std::filesystem;
using internal::ReadAttribute;

std::string Optional(const fs::path& path) {
  auto text = ReadAttribute(path);
  return text.has_value() ? *std::move(text) : std::string();
}

template <typename T>
T Hex(const fs::path& path) {
  const std::string text = Optional(path);
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return static_cast<T>(value);
}

// Interfaces the kernel created: "<id>:<config>.<number>" directories of the device.
std::vector<UsbInterface> SysfsInterfaces(const fs::path& dir, std::string_view id) {
  std::vector<UsbInterface> out;
  for (const std::string& name : internal::ListNames(dir).value_or(std::vector<std::string>{})) {
    if (!internal::IsUsbInterfaceName(name) || !name.starts_with(std::string(id) + ":")) {
      continue;
    }
    const fs::path path = dir / name;
    out.push_back(UsbInterface{
        .id = name,
        .number = Hex<std::uint8_t>(path / "bInterfaceNumber"),
        .interface_class = Hex<std::uint8_t>(path / "bInterfaceClass"),
        .interface_subclass = Hex<std::uint8_t>(path / "bInterfaceSubClass"),
        .interface_protocol = Hex<std::uint8_t>(path / "bInterfaceProtocol"),
        // A missing attribute means a kernel without interface authorisation: it is bound.
        .authorized = Optional(path / "authorized") != "0",
        .from_sysfs = true,
    });
  }
  std::sort(out.begin(), out.end(),
            [](const UsbInterface& a, const UsbInterface& b) { return a.number < b.number; });
  return out;
}

// Interfaces the device declares, for a device whose interfaces are not in sysfs (not yet
// authorised). Every configuration counts: policy judges what the device could become. One
// entry per distinct (number, class triple), in descriptor order.
Result<std::vector<UsbInterface>> DescriptorInterfaces(const fs::path& dir) {
  WARD_ASSIGN_OR_RETURN(auto bytes, internal::ReadAttributeBytes(dir / "descriptors"));
  WARD_ASSIGN_OR_RETURN(auto parsed, ParseUsbDescriptors(bytes));
  std::vector<UsbInterface> out;
  for (const auto& config : parsed.configurations) {
    for (const auto& d : config.interfaces) {
      const bool seen = std::any_of(out.begin(), out.end(), [&](const UsbInterface& i) {
        return i.number == d.number && i.interface_class == d.interface_class &&
               i.interface_subclass == d.interface_subclass &&
               i.interface_protocol == d.interface_protocol;
      });
      if (!seen) {
        UsbInterface declared;
        declared.number = d.number;
        declared.interface_class = d.interface_class;
        declared.interface_subclass = d.interface_subclass;
        declared.interface_protocol = d.interface_protocol;
        out.push_back(std::move(declared));
      }
    }
  }
  return out;
}

class SysfsDeviceControl final : public DeviceControl {
 public:
  explicit SysfsDeviceControl(fs::path sysfs_root) : root_(std::move(sysfs_root)) {}

  Result<std::vector<UsbDevice>> Enumerate() override {
    WARD_ASSIGN_OR_RETURN(const auto names, ListBus());
    std::vector<UsbDevice> out;
    for (const std::string& name : names) {
      if (!internal::IsUsbDeviceName(name)) {
        continue;
      }
      auto device = Describe(name);
      if (device.has_value()) {
        out.push_back(*std::move(device));
      } else if (device.error().code() != ErrorCode::kNotFound) {
        return std::unexpected(std::move(device).error());
      }
    }
    // Parents before children ("1-1" before "1-1.2"), root hubs first.
    std::sort(out.begin(), out.end(), [](const UsbDevice& a, const UsbDevice& b) {
      return std::pair(!a.root_hub, a.devpath) < std::pair(!b.root_hub, b.devpath);
    });
    return out;
  }

  Result<UsbDevice> Describe(std::string_view device_id) override {
    if (!internal::IsUsbDeviceName(device_id)) {
      return InvalidArgumentError("not a USB device name: '" + std::string(device_id) + "'");
    }
    const fs::path link = Bus() / device_id;
    std::error_code ec;
    const fs::path dir = fs::canonical(link, ec);
    if (ec) {
      return NotFoundError("USB device " + std::string(device_id) + " is not present");
    }
    UsbDevice device;
    device.id = std::string(device_id);
    device.devpath = "/" + dir.lexically_relative(fs::canonical(root_, ec)).generic_string();
    device.root_hub = internal::IsRootHubName(device_id);
    device.vendor_id = Hex<std::uint16_t>(dir / "idVendor");
    device.product_id = Hex<std::uint16_t>(dir / "idProduct");
    device.device_class = Hex<std::uint8_t>(dir / "bDeviceClass");
    device.serial = Optional(dir / "serial");
    device.product = Optional(dir / "product");
    device.manufacturer = Optional(dir / "manufacturer");
    device.connect_type = Optional(dir / "port" / "connect_type");
    auto authorized = ReadAttribute(dir / "authorized");
    if (!authorized.has_value()) {
      return std::unexpected(
          std::move(authorized).error().WithContext("reading USB device " + device.id));
    }
    device.authorized = *authorized != "0";
    device.interfaces = SysfsInterfaces(dir, device_id);
    if (device.interfaces.empty() && !device.root_hub) {
      auto declared = DescriptorInterfaces(dir);
      if (declared.has_value()) {
        device.interfaces = *std::move(declared);
      } else {
        device.interfaces_error = declared.error().ToString();
      }
    }
    return device;
  }

  Status SetAuthorization(std::string_view device_id, Authorization authorization) override {
    if (!internal::IsUsbDeviceName(device_id) || internal::IsRootHubName(device_id)) {
      return InvalidArgumentError("not a USB device name: '" + std::string(device_id) + "'");
    }
    return internal::WriteAttribute(Bus() / device_id / "authorized", Value(authorization));
  }

  Status Remove(std::string_view device_id) override {
    if (!internal::IsUsbDeviceName(device_id) || internal::IsRootHubName(device_id)) {
      return InvalidArgumentError("not a USB device name: '" + std::string(device_id) + "'");
    }
    return internal::WriteAttribute(Bus() / device_id / "remove", "1");
  }

  Status SetInterfaceAuthorization(std::string_view interface_id,
                                   Authorization authorization) override {
    if (!internal::IsUsbInterfaceName(interface_id)) {
      return InvalidArgumentError("not a USB interface name: '" + std::string(interface_id) + "'");
    }
    WARD_RETURN_IF_ERROR(
        internal::WriteAttribute(Bus() / interface_id / "authorized", Value(authorization)));
    if (authorization != Authorization::kAllowed) {
      return OkStatus();
    }
    // The kernel does not probe drivers for an interface authorised after it was created
    // (sysfs-bus-usb ABI: "the driver probe must be triggered manually by writing INTERFACE to
    // /sys/bus/usb/drivers_probe"); found by the QEMU end-to-end test. A umockdev test bed has
    // no drivers_probe file, and no drivers to probe.
    const fs::path probe = root_ / "bus" / "usb" / "drivers_probe";
    std::error_code ec;
    if (!fs::exists(probe, ec)) {
      return OkStatus();
    }
    return internal::WriteAttribute(probe, interface_id);
  }

  Result<std::size_t> SetDefaultAuthorization(Authorization device_default,
                                              Authorization interface_default) override {
    WARD_ASSIGN_OR_RETURN(const auto names, ListBus());
    std::size_t hubs = 0;
    for (const std::string& name : names) {
      if (!internal::IsRootHubName(name)) {
        continue;
      }
      WARD_RETURN_IF_ERROR(
          internal::WriteAttribute(Bus() / name / "authorized_default", Value(device_default)));
      WARD_RETURN_IF_ERROR(internal::WriteAttribute(Bus() / name / "interface_authorized_default",
                                                    Value(interface_default)));
      ++hubs;
    }
    return hubs;
  }

 private:
  static std::string_view Value(Authorization a) {
    return a == Authorization::kAllowed ? "1" : "0";
  }
  Result<std::vector<std::string>> ListBus() const {
    auto names = internal::ListNames(Bus());
    if (!names.has_value()) {
      return UnavailableError("no USB bus at " + Bus().string() + ": " + names.error().message());
    }
    return names;
  }
  fs::path Bus() const { return root_ / "bus" / "usb" / "devices"; }

  fs::path root_;
};

}  // namespace

std::unique_ptr<DeviceControl> CreateDeviceControl(const UsbPlatformOptions& options) {
  return std::make_unique<SysfsDeviceControl>(options.sysfs_root);
}

}  // namespace ward::platform
