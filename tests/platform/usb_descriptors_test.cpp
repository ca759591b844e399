// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/usb_descriptors.h"

#include <gtest/gtest.h>

#include "usb_test_descriptors.h"

namespace ward::platform {
namespace {

using ward::testing::BuildDescriptors;

TEST(UsbDescriptorsTest, ParsesCompositeDeviceInterfacesInOrder) {
  const auto bytes =
      BuildDescriptors(0x0781, 0x5581, {{{0, 0x08, 0x06, 0x50}, {1, 0x03, 0x01, 0x01}}});
  auto parsed = ParseUsbDescriptors(bytes);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->device.vendor_id, 0x0781);
  EXPECT_EQ(parsed->device.product_id, 0x5581);
  EXPECT_EQ(parsed->device.num_configurations, 1);
  ASSERT_EQ(parsed->configurations.size(), 1u);
  EXPECT_EQ(parsed->configurations[0].value, 1);
  const std::vector<UsbInterfaceDescriptor> expected = {{0, 0, 0x08, 0x06, 0x50},
                                                        {1, 0, 0x03, 0x01, 0x01}};
  EXPECT_EQ(parsed->configurations[0].interfaces, expected);
}

TEST(UsbDescriptorsTest, ReadsEveryConfigurationAndAlternateSetting) {
  const auto bytes = BuildDescriptors(
      1, 2, {{{0, 0x03, 0x01, 0x01}}, {{0, 0x08, 0x06, 0x50}, {0, 0xff, 0x00, 0x00, 1}}});
  auto parsed = ParseUsbDescriptors(bytes);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->configurations.size(), 2u);
  EXPECT_EQ(parsed->configurations[1].value, 2);
  ASSERT_EQ(parsed->configurations[1].interfaces.size(), 2u);
  EXPECT_EQ(parsed->configurations[1].interfaces[1].alternate_setting, 1);
  EXPECT_EQ(parsed->configurations[1].interfaces[1].interface_class, 0xff);
}

TEST(UsbDescriptorsTest, AcceptsDeviceDescriptorAlone) {
  auto bytes = BuildDescriptors(1, 2, {});
  auto parsed = ParseUsbDescriptors(bytes);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->configurations.empty());
}

TEST(UsbDescriptorsTest, RejectsTruncatedDeviceDescriptor) {
  const auto bytes = BuildDescriptors(1, 2, {});
  auto parsed = ParseUsbDescriptors(std::span(bytes).first(17));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
}

TEST(UsbDescriptorsTest, RejectsZeroLengthDescriptorInsteadOfLooping) {
  auto bytes = BuildDescriptors(1, 2, {{{0, 0x08, 0x06, 0x50}}});
  bytes[18 + 9] = 0;  // the interface descriptor's bLength
  auto parsed = ParseUsbDescriptors(bytes);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find("length 0"), std::string::npos);
}

TEST(UsbDescriptorsTest, RejectsDescriptorOverrunningItsConfiguration) {
  auto bytes = BuildDescriptors(1, 2, {{{0, 0x08, 0x06, 0x50}}});
  bytes[18 + 9 + 9] = 200;  // the endpoint claims more bytes than the configuration has
  EXPECT_FALSE(ParseUsbDescriptors(bytes).has_value());
}

TEST(UsbDescriptorsTest, RejectsTotalLengthBeyondBuffer) {
  auto bytes = BuildDescriptors(1, 2, {{{0, 0x08, 0x06, 0x50}}});
  bytes.pop_back();
  EXPECT_FALSE(ParseUsbDescriptors(bytes).has_value());
}

TEST(UsbDescriptorsTest, RejectsShortInterfaceDescriptor) {
  std::vector<std::uint8_t> bytes = BuildDescriptors(1, 2, {});
  bytes.insert(bytes.end(), {9, 2, 14, 0, 1, 1, 0, 0x80, 50, 5, 4, 0, 0, 1});
  auto parsed = ParseUsbDescriptors(bytes);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find("interface descriptor too short"), std::string::npos);
}

TEST(UsbDescriptorsTest, RejectsWrongDeviceDescriptorType) {
  auto bytes = BuildDescriptors(1, 2, {});
  bytes[1] = 2;
  EXPECT_FALSE(ParseUsbDescriptors(bytes).has_value());
}

}  // namespace
}  // namespace ward::platform
