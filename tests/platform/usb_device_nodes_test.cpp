// SPDX-License-Identifier: Apache-2.0
// Device nodes as SetupAPI reports them for real devices (ids copied from Device Manager on a
// Windows 11 laptop: a SanDisk stick, a Logitech receiver, a keyboard-plus-storage composite and
// the root hub) -> the UsbDevice the evaluator's adapter takes. Portable: Linux and Wine.
#include "ward/platform/usb_device_nodes.h"

#include <gtest/gtest.h>

namespace ward::platform {
namespace {

UsbDeviceNode Node(std::string instance, std::string parent, std::vector<std::string> hardware,
                   std::vector<std::string> compatible, bool started = true) {
  return UsbDeviceNode{.instance_id = std::move(instance),
                       .parent_instance_id = std::move(parent),
                       .hardware_ids = std::move(hardware),
                       .compatible_ids = std::move(compatible),
                       .location_path = "PCIROOT(0)#PCI(1400)#USBROOT(0)#USB(2)",
                       .description = "USB device",
                       .started = started,
                       .disabled = false};
}

const std::vector<std::string> kCompositeIds = {"USB\\DevClass_00&SubClass_00&Prot_00",
                                                "USB\\DevClass_00&SubClass_00", "USB\\DevClass_00",
                                                "USB\\COMPOSITE"};

TEST(UsbDeviceNodesTest, SingleInterfaceStickTakesItsClassFromItsOwnCompatibleIds) {
  const auto devices = AssembleUsbDevices(
      {Node("USB\\VID_0781&PID_5583\\4C530001130922116425", "USB\\ROOT_HUB30\\4&1&0&0",
            {"USB\\VID_0781&PID_5583&REV_0100", "USB\\VID_0781&PID_5583"},
            {"USB\\Class_08&SubClass_06&Prot_50", "USB\\Class_08&SubClass_06", "USB\\Class_08"})});
  ASSERT_EQ(devices.size(), 1u);
  const UsbDevice& stick = devices[0];
  EXPECT_EQ(UsbDeviceIdString(stick), "0781:5583");
  EXPECT_EQ(stick.serial, "4C530001130922116425");
  EXPECT_EQ(stick.id, "USB\\VID_0781&PID_5583\\4C530001130922116425");
  EXPECT_EQ(stick.devpath, "PCIROOT(0)#PCI(1400)#USBROOT(0)#USB(2)");
  EXPECT_TRUE(stick.authorized);
  ASSERT_EQ(stick.interfaces.size(), 1u);
  EXPECT_EQ(UsbInterfaceClassString(stick.interfaces[0]), "08:06:50");
  EXPECT_TRUE(stick.interfaces_error.empty());
}

TEST(UsbDeviceNodesTest, CompositeDeviceGetsItsInterfaceNodesInNumberOrder) {
  const std::string parent = "USB\\VID_1234&PID_ABCD\\5&2a1b3c4d&0&2";
  const auto devices = AssembleUsbDevices({
      Node(parent, "USB\\ROOT_HUB30\\4&1&0&0", {"USB\\VID_1234&PID_ABCD&REV_0100"}, kCompositeIds),
      Node("USB\\VID_1234&PID_ABCD&MI_01\\6&3c&0&0001", parent,
           {"USB\\VID_1234&PID_ABCD&REV_0100&MI_01", "USB\\VID_1234&PID_ABCD&MI_01"},
           {"USB\\Class_08&SubClass_06&Prot_50", "USB\\Class_08"}, /*started=*/false),
      Node("USB\\VID_1234&PID_ABCD&MI_00\\6&3c&0&0000", parent, {"USB\\VID_1234&PID_ABCD&MI_00"},
           {"USB\\Class_03&SubClass_01&Prot_01"}),
      Node("USB\\ROOT_HUB30\\4&1&0&0", "PCI\\VEN_8086&DEV_A0ED\\3&11583659&0&A0",
           {"USB\\ROOT_HUB30&VID8086&PIDA0ED", "USB\\ROOT_HUB30"}, {}),
  });
  ASSERT_EQ(devices.size(), 2u);
  const UsbDevice& composite = devices[0];
  EXPECT_EQ(UsbDeviceIdString(composite), "1234:abcd");
  EXPECT_EQ(composite.serial, "") << "Windows made the last part up: no serial";
  ASSERT_EQ(composite.interfaces.size(), 2u);
  EXPECT_EQ(composite.interfaces[0].number, 0);
  EXPECT_EQ(UsbInterfaceClassString(composite.interfaces[0]), "03:01:01");
  EXPECT_TRUE(composite.interfaces[0].authorized);
  EXPECT_EQ(composite.interfaces[1].id, "USB\\VID_1234&PID_ABCD&MI_01\\6&3c&0&0001");
  EXPECT_EQ(UsbInterfaceClassString(composite.interfaces[1]), "08:06:50");
  EXPECT_FALSE(composite.interfaces[1].authorized);
  EXPECT_TRUE(devices[1].root_hub);
  EXPECT_TRUE(devices[1].interfaces.empty());
}

TEST(UsbDeviceNodesTest, NodesThatAreNotUsbDevicesAreSkippedAndMissingClassesFailClosed) {
  const auto devices = AssembleUsbDevices({
      Node("USBSTOR\\DISK&VEN_SANDISK&PROD_ULTRA\\4C53&0", "USB\\VID_0781&PID_5583\\4C53",
           {"USBSTOR\\DiskSanDisk_Ultra"}, {"USBSTOR\\Disk", "GenDisk"}),
      Node("USB\\VID_FFFF&PID_0001\\X1", "", {"USB\\VID_FFFF&PID_0001"}, {}),
      Node("USB\\VID_ZZZZ&PID_0001\\X2", "", {"USB\\VID_ZZZZ&PID_0001"}, {}),
  });
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].serial, "X1");
  EXPECT_FALSE(devices[0].interfaces_error.empty());
}

TEST(UsbDeviceNodesTest, SerialIsOnlyTheLastPartWhenWindowsDidNotMakeItUp) {
  EXPECT_EQ(SerialFromInstanceId("USB\\VID_0781&PID_5583\\4C530001"), "4C530001");
  EXPECT_EQ(SerialFromInstanceId("USB\\VID_046D&PID_C52B\\6&1a2b3c4d&0&1"), "");
  EXPECT_EQ(SerialFromInstanceId("USB\\VID_046D&PID_C52B\\"), "");
  EXPECT_EQ(SerialFromInstanceId("nothing"), "");
}

}  // namespace
}  // namespace ward::platform
