// SPDX-License-Identifier: Apache-2.0
// DeviceControl on Windows: the present USB device nodes read with SetupAPI (the "USB"
// enumerator: hardware ids, compatible ids, location path, parent from CfgMgr32) and assembled by
// the portable usb_device_nodes.cpp; a device (or one interface node of a composite device) that
// policy blocks is disabled with CM_Disable_DevNode, a rejected one removed with
// CM_Query_And_Remove_SubTreeW. New devices are held before their driver loads by the device
// installation policy (UsbInstallPolicy), not by a default here.
#include <windows.h>

#include <cfgmgr32.h>
#include <setupapi.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "ward/common/error_windows.h"
#include "ward/platform/device_control.h"
#include "ward/platform/usb_device_nodes.h"

namespace ward::platform {
namespace {

struct DevInfoCloser {
  void operator()(HDEVINFO set) const { SetupDiDestroyDeviceInfoList(set); }
};
using UniqueHDevInfo = std::unique_ptr<std::remove_pointer_t<HDEVINFO>, DevInfoCloser>;

// A CONFIGRET as the nearest Win32 code (so the canonical ErrorCode follows), naming the CR_ code.
// (mingw-w64's cfgmgr32.h has no CM_MapCrToWin32Err.)
Error ConfigRetError(std::string_view context, CONFIGRET cr) {
  DWORD code = ERROR_GEN_FAILURE;
  switch (cr) {
    case CR_ACCESS_DENIED:
      code = ERROR_ACCESS_DENIED;
      break;
    case CR_NO_SUCH_DEVNODE:  // the same value as CR_NO_SUCH_DEVINST
      code = ERROR_NOT_FOUND;
      break;
    case CR_REMOVE_VETOED:
    case CR_NOT_DISABLEABLE:
      code = ERROR_BUSY;
      break;
    case CR_INVALID_DEVICE_ID:
    case CR_INVALID_DEVNODE:
      code = ERROR_INVALID_PARAMETER;
      break;
    default:
      break;
  }
  return WindowsError(std::string(context) + " (CONFIGRET " + std::to_string(cr) + ")", code);
}

// A REG_MULTI_SZ device property as UTF-8 strings (empty when the device has none).
std::vector<std::string> MultiSz(HDEVINFO set, SP_DEVINFO_DATA& data, DWORD property) {
  DWORD size = 0;
  SetupDiGetDeviceRegistryPropertyW(set, &data, property, nullptr, nullptr, 0, &size);
  std::vector<std::string> out;
  if (size == 0) {
    return out;
  }
  std::vector<wchar_t> buffer(size / sizeof(wchar_t) + 2, L'\0');
  if (!SetupDiGetDeviceRegistryPropertyW(set, &data, property, nullptr,
                                         reinterpret_cast<BYTE*>(buffer.data()), size, nullptr)) {
    return out;
  }
  for (const wchar_t* p = buffer.data(); *p != L'\0'; p += wcslen(p) + 1) {
    out.push_back(Utf8(p));
  }
  return out;
}

std::string Text(HDEVINFO set, SP_DEVINFO_DATA& data, DWORD property) {
  const auto all = MultiSz(set, data, property);
  return all.empty() ? std::string() : all.front();
}

std::string InstanceId(DEVINST devinst) {
  wchar_t id[MAX_DEVICE_ID_LEN + 1] = {};
  if (CM_Get_Device_IDW(devinst, id, MAX_DEVICE_ID_LEN, 0) != CR_SUCCESS) {
    return {};
  }
  return Utf8(id);
}

Result<std::vector<UsbDeviceNode>> ReadNodes() {
  const UniqueHDevInfo set(
      SetupDiGetClassDevsW(nullptr, L"USB", nullptr, DIGCF_ALLCLASSES | DIGCF_PRESENT));
  if (set.get() == INVALID_HANDLE_VALUE) {
    return std::unexpected(
        WindowsError("listing USB devices (SetupDiGetClassDevs)", GetLastError()));
  }
  std::vector<UsbDeviceNode> nodes;
  SP_DEVINFO_DATA data{};
  data.cbSize = sizeof(data);
  for (DWORD i = 0; SetupDiEnumDeviceInfo(set.get(), i, &data); ++i) {
    UsbDeviceNode node;
    node.instance_id = InstanceId(data.DevInst);
    DEVINST parent = 0;
    if (CM_Get_Parent(&parent, data.DevInst, 0) == CR_SUCCESS) {
      node.parent_instance_id = InstanceId(parent);
    }
    node.hardware_ids = MultiSz(set.get(), data, SPDRP_HARDWAREID);
    node.compatible_ids = MultiSz(set.get(), data, SPDRP_COMPATIBLEIDS);
    node.location_path = Text(set.get(), data, SPDRP_LOCATION_PATHS);
    node.description = Text(set.get(), data, SPDRP_DEVICEDESC);
    ULONG status = 0;
    ULONG problem = 0;
    if (CM_Get_DevNode_Status(&status, &problem, data.DevInst, 0) == CR_SUCCESS) {
      node.started = (status & DN_STARTED) != 0;
      node.disabled = (status & DN_HAS_PROBLEM) != 0 && problem == CM_PROB_DISABLED;
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

Result<DEVINST> Locate(std::string_view instance_id) {
  if (instance_id.empty() || instance_id.size() > MAX_DEVICE_ID_LEN ||
      !(instance_id.starts_with("USB\\") || instance_id.starts_with("usb\\"))) {
    return InvalidArgumentError("not a USB instance id: '" + std::string(instance_id) + "'");
  }
  std::wstring id = Utf16(instance_id);
  DEVINST devinst = 0;
  const CONFIGRET cr = CM_Locate_DevNodeW(&devinst, id.data(), CM_LOCATE_DEVNODE_NORMAL);
  if (cr == CR_NO_SUCH_DEVNODE) {
    return NotFoundError("USB device " + std::string(instance_id) + " is not present");
  }
  if (cr != CR_SUCCESS) {
    // Wine's CM_Locate_DevNodeW answers CR_FAILURE for an unknown id; whether the device is
    // there is then what SetupAPI lists.
    if (auto nodes = ReadNodes();
        nodes.has_value() && std::ranges::none_of(*nodes, [&](const UsbDeviceNode& node) {
          return _wcsicmp(Utf16(node.instance_id).c_str(), id.c_str()) == 0;
        })) {
      return NotFoundError("USB device " + std::string(instance_id) + " is not present");
    }
    return std::unexpected(ConfigRetError("finding " + std::string(instance_id), cr));
  }
  return devinst;
}

Status SetEnabled(std::string_view instance_id, Authorization authorization) {
  WARD_ASSIGN_OR_RETURN(const DEVINST devinst, Locate(instance_id));
  const CONFIGRET cr = authorization == Authorization::kBlocked
                           ? CM_Disable_DevNode(devinst, CM_DISABLE_UI_NOT_OK)
                           : CM_Enable_DevNode(devinst, 0);
  if (cr != CR_SUCCESS) {
    return std::unexpected(ConfigRetError(
        std::string(authorization == Authorization::kBlocked ? "disabling " : "enabling ") +
            std::string(instance_id),
        cr));
  }
  return OkStatus();
}

class SetupApiDeviceControl final : public DeviceControl {
 public:
  Result<std::vector<UsbDevice>> Enumerate() override {
    WARD_ASSIGN_OR_RETURN(const auto nodes, ReadNodes());
    return AssembleUsbDevices(nodes);
  }

  Result<UsbDevice> Describe(std::string_view device_id) override {
    WARD_RETURN_IF_ERROR(Locate(device_id));
    WARD_ASSIGN_OR_RETURN(const auto devices, Enumerate());
    for (const UsbDevice& device : devices) {
      if (_wcsicmp(Utf16(device.id).c_str(), Utf16(device_id).c_str()) == 0) {
        return device;
      }
    }
    return NotFoundError("USB device " + std::string(device_id) + " is not present");
  }

  Status SetAuthorization(std::string_view device_id, Authorization authorization) override {
    return SetEnabled(device_id, authorization);
  }

  Status Remove(std::string_view device_id) override {
    WARD_ASSIGN_OR_RETURN(const DEVINST devinst, Locate(device_id));
    PNP_VETO_TYPE veto = PNP_VetoTypeUnknown;
    wchar_t veto_name[MAX_PATH] = {};
    const CONFIGRET cr =
        CM_Query_And_Remove_SubTreeW(devinst, &veto, veto_name, MAX_PATH, CM_REMOVE_NO_RESTART);
    if (cr != CR_SUCCESS) {
      Error error = ConfigRetError("removing " + std::string(device_id), cr);
      if (veto_name[0] != L'\0') {
        error = error.WithContext("held by " + Utf8(veto_name));
      }
      return std::unexpected(std::move(error));
    }
    return OkStatus();
  }

  Status SetInterfaceAuthorization(std::string_view interface_id,
                                   Authorization authorization) override {
    return SetEnabled(interface_id, authorization);  // the interface's own node (...&MI_nn)
  }

  Result<std::size_t> SetDefaultAuthorization(Authorization /*device_default*/,
                                              Authorization /*interface_default*/) override {
    return UnsupportedError(
        "Windows has no per-hub default: new devices are held by the device installation "
        "policy (UsbInstallPolicy) before their driver loads");
  }
};

}  // namespace

std::unique_ptr<DeviceControl> CreateDeviceControl(const UsbPlatformOptions& /*options*/) {
  return std::make_unique<SetupApiDeviceControl>();
}

}  // namespace ward::platform
