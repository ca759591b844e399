// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ward/platform/device_control.h"

// Windows' view of USB (device nodes with their PnP ids, as SetupAPI / CfgMgr32 report them)
// turned into the UsbDevice the evaluator's adapter takes. Portable, pure code: the Windows
// back-end (windows/usb_device_control_windows.cpp) reads the nodes; tests and the fuzzer feed
// nodes directly. The strings come from devices (serial numbers) and drivers: untrusted.
namespace ward::platform {

// One device node below the USB bus.
struct UsbDeviceNode {
  std::string instance_id;  // "USB\VID_0781&PID_5583\4C530001130922116425"
  std::string parent_instance_id;
  std::vector<std::string> hardware_ids;    // "USB\VID_0781&PID_5583&REV_0100", ...
  std::vector<std::string> compatible_ids;  // "USB\Class_08&SubClass_06&Prot_50", ...
  std::string location_path;                // "PCIROOT(0)#PCI(1400)#USBROOT(0)#USB(2)"
  std::string description;                  // the bus-reported product name, when known
  bool started = false;                     // a driver runs it (DN_STARTED)
  bool disabled = false;                    // CM_PROB_DISABLED
};

// The USB devices (root hubs included) the nodes describe, in the nodes' order. A composite
// device's interface nodes ("...&MI_01") become its `interfaces`; a single-interface device's
// class comes from its own compatible ids. `id` is the instance id, `devpath` the location path,
// `authorized` means started and not disabled. Nodes that are not USB devices are skipped; a
// device whose interfaces cannot be read gets `interfaces_error` (policy then fails closed).
std::vector<UsbDevice> AssembleUsbDevices(const std::vector<UsbDeviceNode>& nodes);

// "USB\VID_0781&PID_5583\4C53..." -> the serial part, or "" when Windows made the last part up
// (it then contains '&': "5&2a1b3c4d&0&2").
std::string SerialFromInstanceId(const std::string& instance_id);

}  // namespace ward::platform
