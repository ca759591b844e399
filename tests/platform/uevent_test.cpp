// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/uevent.h"

#include <gtest/gtest.h>

#include <string>

namespace ward::platform {
namespace {

// Joins fields with NULs, the last one NUL-terminated too, as the kernel sends them.
std::string Message(std::initializer_list<std::string_view> fields) {
  std::string out;
  for (const auto f : fields) {
    out.append(f);
    out.push_back('\0');
  }
  return out;
}

Result<Uevent> Parse(const std::string& bytes) { return ParseKernelUevent(bytes); }

TEST(UeventTest, ParsesKernelUsbDeviceAdd) {
  const auto event =
      Parse(Message({"add@/devices/pci0000:00/0000:00:14.0/usb1/1-2", "ACTION=add",
                     "DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2", "SUBSYSTEM=usb",
                     "DEVTYPE=usb_device", "PRODUCT=781/5581/100", "SEQNUM=4711"}));
  ASSERT_TRUE(event.has_value()) << event.error().ToString();
  EXPECT_EQ(event->action, "add");
  EXPECT_EQ(event->devpath, "/devices/pci0000:00/0000:00:14.0/usb1/1-2");
  EXPECT_EQ(event->subsystem, "usb");
  EXPECT_EQ(event->devtype, "usb_device");
  EXPECT_EQ(event->seqnum, 4711u);
  EXPECT_EQ(event->properties.at("PRODUCT"), "781/5581/100");
}

TEST(UeventTest, RefusesUdevRebroadcast) {
  std::string bytes("libudev\0\xfe\xed\xca\xfe", 12);
  bytes.push_back('\0');
  EXPECT_FALSE(Parse(bytes).has_value());
}

TEST(UeventTest, RefusesParentDirectoryInDevpath) {
  EXPECT_FALSE(Parse(Message({"add@/devices/../../etc", "ACTION=add", "DEVPATH=/devices/../../etc",
                              "SUBSYSTEM=usb"}))
                   .has_value());
}

TEST(UeventTest, RefusesHeaderThatDisagreesWithFields) {
  EXPECT_FALSE(
      Parse(Message({"add@/devices/usb1/1-2", "ACTION=remove", "DEVPATH=/devices/usb1/1-2"}))
          .has_value());
  EXPECT_FALSE(Parse(Message({"add@/devices/usb1/1-2", "ACTION=add", "DEVPATH=/devices/usb1/1-3"}))
                   .has_value());
}

TEST(UeventTest, RefusesRepeatedKey) {
  EXPECT_FALSE(Parse(Message({"add@/devices/usb1/1-2", "ACTION=add", "DEVPATH=/devices/usb1/1-2",
                              "SUBSYSTEM=usb", "SUBSYSTEM=block"}))
                   .has_value());
}

TEST(UeventTest, RefusesNonDecimalSeqnum) {
  EXPECT_FALSE(Parse(Message({"add@/devices/usb1/1-2", "ACTION=add", "DEVPATH=/devices/usb1/1-2",
                              "SEQNUM=12x"}))
                   .has_value());
}

TEST(UeventTest, RefusesUnterminatedMessageAndEmptyInput) {
  std::string bytes = Message({"add@/devices/usb1/1-2", "ACTION=add", "DEVPATH=/devices/usb1/1-2"});
  bytes.pop_back();
  EXPECT_FALSE(Parse(bytes).has_value());
  EXPECT_FALSE(Parse("").has_value());
}

TEST(UeventTest, RefusesLowerCaseKeysAndFieldsWithoutValueSeparator) {
  EXPECT_FALSE(Parse(Message({"add@/devices/usb1/1-2", "ACTION=add", "DEVPATH=/devices/usb1/1-2",
                              "subsystem=usb"}))
                   .has_value());
  EXPECT_FALSE(Parse(Message({"add@/devices/usb1/1-2", "ACTION=add", "DEVPATH=/devices/usb1/1-2",
                              "GARBAGE"}))
                   .has_value());
}

}  // namespace
}  // namespace ward::platform
