// SPDX-License-Identifier: Apache-2.0
// The USB enforcer against real sysfs code on a umockdev test bed. The test plays the kernel:
// it adds interfaces once a device is authorised and delivers uevents through a fake source.
#include "ward/core/usb_enforcer.h"

#include <gtest/gtest.h>

#include "recording_sinks.h"
#include "test_policies.h"
#include "umockdev_testbed.h"
#include "usb_test_descriptors.h"
#include "ward/platform/fake_usb.h"

namespace ward::core {
namespace {

using platform::UsbHotplugEvent;
using ward::testing::BuildDescriptors;
using ward::testing::Eventually;

constexpr const char* kUsbPolicy = R"({
  "default_action": "USB_ACTION_BLOCK",
  "default_message": "This device can't be used on this laptop.",
  "rules": [
    {"id": "allow-college-stick", "action": "USB_ACTION_ALLOW",
     "device_id": {"values": ["0781:5583"]}, "serial": {"values": ["GOOD1"]}},
    {"id": "block-storage", "action": "USB_ACTION_BLOCK", "scope": "USB_RULE_SCOPE_INTERFACE",
     "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["08:*:*"]},
     "message": "USB memory sticks are blocked. Save your work to your college cloud storage."},
    {"id": "allow-hid", "action": "USB_ACTION_ALLOW", "scope": "USB_RULE_SCOPE_INTERFACE",
     "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["03:*:*"]}}
  ]})";

constexpr const char* kNoHidPolicy = R"({
  "default_action": "USB_ACTION_BLOCK",
  "rules": [{"id": "allow-college-stick", "action": "USB_ACTION_ALLOW",
             "device_id": {"values": ["0781:5583"]}, "serial": {"values": ["GOOD1"]}}]})";

constexpr const char* kRejectPolicy = R"({
  "default_action": "USB_ACTION_BLOCK",
  "rules": [{"id": "reject-bad-stick", "action": "USB_ACTION_REJECT",
             "device_id": {"values": ["0951:1666"]}}]})";

constexpr const char* kNoApps = R"({"default_action": "APP_ACTION_ALLOW"})";

const std::vector<ward::testing::TestInterface> kStorage = {{0, 0x08, 0x06, 0x50}};
const std::vector<ward::testing::TestInterface> kKeyboard = {{0, 0x03, 0x01, 0x01}};
const std::vector<ward::testing::TestInterface> kComposite = {{0, 0x08, 0x06, 0x50},
                                                              {1, 0x03, 0x00, 0x00}};

UsbHotplugEvent Added(const std::string& id, bool is_interface = false) {
  UsbHotplugEvent e;
  e.kind = UsbHotplugEvent::Kind::kAdded;
  e.id = id;
  e.is_interface = is_interface;
  return e;
}

class UsbEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ward::testing::UsbTestbed::Available());
    hub_ = bed_.AddRootHub(1);
    control_ = platform::CreateDeviceControl({.sysfs_root = bed_.sysfs_root()});
  }
  void TearDown() override {
    if (enforcer_ != nullptr) {
      enforcer_->Stop();
    }
  }

  void Start(const std::string& mode = "MODE_ENFORCE", const char* usb = kUsbPolicy) {
    auto policy = ward::testing::CompilePolicy(ward::testing::PolicyJson(mode, usb, kNoApps));
    ASSERT_NE(policy, nullptr);
    enforcer_ = std::make_unique<UsbEnforcer>(*control_, uevents_, sinks_, sinks_, failures_,
                                              factory_, clock_);
    enforcer_->Start(policy);
    ASSERT_TRUE(Eventually([&] { return enforcer_->Stats().rescans >= 1; }));
  }

  // Plugs a device that arrives unauthorised (authorized_default=0) and tells the enforcer.
  std::string Plug(const std::string& name, std::uint16_t vendor, std::uint16_t product,
                   const std::string& serial,
                   const std::vector<ward::testing::TestInterface>& interfaces) {
    const std::string path = bed_.AddDevice(hub_, name, vendor, product, serial, false,
                                            BuildDescriptors(vendor, product, {interfaces}));
    uevents_.Push(Added(name));
    return path;
  }

  // What the kernel does once a device is authorised with interface_authorized_default=0.
  void CreateInterfaces(const std::string& path, const std::string& name,
                        const std::vector<ward::testing::TestInterface>& interfaces) {
    for (const auto& i : interfaces) {
      bed_.AddInterface(path, name, i.number, i.cls, i.subclass, i.protocol, false);
      uevents_.Push(Added(name + ":1." + std::to_string(i.number), true));
    }
  }

  bool Becomes(const std::string& name, const std::string& attribute, const std::string& value) {
    return Eventually([&] { return bed_.Read(name, attribute) == value; });
  }
  bool Decided(std::size_t n) {
    return Eventually([&] { return sinks_.Usb(v1::UsbEvent::KIND_DECIDED).size() >= n; });
  }

  ward::testing::UsbTestbed bed_;
  std::string hub_;
  std::unique_ptr<platform::DeviceControl> control_;
  platform::FakeUeventSource uevents_;
  ward::testing::RecordingSinks sinks_;
  ManualClock clock_;
  EventFactory factory_{clock_, SystemRandom()};
  FailurePolicy failures_{sinks_, factory_};
  std::unique_ptr<UsbEnforcer> enforcer_;
};

TEST_F(UsbEnforcerTest, StartMakesRootHubsBlockByDefault) {
  Start();
  EXPECT_EQ(bed_.Read("usb1", "authorized_default"), "0");
  EXPECT_EQ(bed_.Read("usb1", "interface_authorized_default"), "0");
}

TEST_F(UsbEnforcerTest, DevicesPresentAtStartAreJudged) {
  const std::string stick = bed_.AddDevice(hub_, "1-1", 0x0951, 0x1666, "UNKNOWN", true,
                                           BuildDescriptors(0x0951, 0x1666, {kStorage}));
  bed_.AddInterface(stick, "1-1", 0, 0x08, 0x06, 0x50, true);
  Start();
  EXPECT_TRUE(Becomes("1-1", "authorized", "0"));
  ASSERT_TRUE(Decided(1));
  const auto decided = sinks_.Usb(v1::UsbEvent::KIND_DECIDED)[0];
  EXPECT_EQ(decided.decision(), v1::DECISION_BLOCK);
  EXPECT_EQ(decided.device().device_id(), "0951:1666");
  EXPECT_EQ(decided.device().serial(), "UNKNOWN");
  EXPECT_EQ(sinks_.Usb(v1::UsbEvent::KIND_CONNECTED).size(), 1u);
}

TEST_F(UsbEnforcerTest, AllowedDeviceIsAuthorisedWithItsInterfaces) {
  Start();
  const std::string path = Plug("1-1", 0x0781, 0x5583, "GOOD1", kStorage);
  ASSERT_TRUE(Becomes("1-1", "authorized", "1"));
  CreateInterfaces(path, "1-1", kStorage);
  EXPECT_TRUE(Becomes("1-1:1.0", "authorized", "1"));
  ASSERT_TRUE(Decided(1));
  const auto decided = sinks_.Usb(v1::UsbEvent::KIND_DECIDED)[0];
  EXPECT_EQ(decided.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(decided.rule_id(), "allow-college-stick");
  ASSERT_EQ(decided.device().interfaces_size(), 1);
  EXPECT_EQ(decided.device().interfaces(0), "08:06:50");  // read from the descriptors
  EXPECT_TRUE(sinks_.notices().empty());
}

TEST_F(UsbEnforcerTest, UnknownStickStaysBlockedAndTheLearnerIsTold) {
  Start();
  Plug("1-1", 0x0951, 0x1666, "OTHER", kStorage);
  ASSERT_TRUE(Decided(1));
  EXPECT_EQ(bed_.Read("1-1", "authorized"), "0");
  const auto decided = sinks_.Usb(v1::UsbEvent::KIND_DECIDED)[0];
  EXPECT_EQ(decided.decision(), v1::DECISION_BLOCK);
  ASSERT_EQ(decided.interfaces_size(), 1);
  EXPECT_EQ(decided.interfaces(0).rule_id(), "block-storage");
  ASSERT_EQ(sinks_.notices().size(), 1u);
  EXPECT_EQ(sinks_.notices()[0].usb_blocked().device_name(), "Test device OTHER");
  EXPECT_NE(sinks_.notices()[0].usb_blocked().message().find("memory sticks"), std::string::npos);
  EXPECT_FALSE(sinks_.notices()[0].usb_blocked().monitor_only());
}

TEST_F(UsbEnforcerTest, CompositeDeviceKeepsHidButLosesStorage) {
  Start();
  const std::string path = Plug("1-2", 0x1234, 0x5678, "COMBO", kComposite);
  ASSERT_TRUE(Becomes("1-2", "authorized", "1"));
  CreateInterfaces(path, "1-2", kComposite);
  EXPECT_TRUE(Becomes("1-2:1.1", "authorized", "1"));
  // Give the enforcer every interface event, then check the storage one stayed off.
  ASSERT_TRUE(Eventually([&] { return enforcer_->Stats().judged >= 1; }));
  ASSERT_TRUE(Decided(1));
  EXPECT_EQ(bed_.Read("1-2:1.0", "authorized"), "0");
  const auto decided = sinks_.Usb(v1::UsbEvent::KIND_DECIDED)[0];
  EXPECT_EQ(decided.decision(), v1::DECISION_ALLOW);
  ASSERT_EQ(decided.interfaces_size(), 2);
  EXPECT_EQ(decided.interfaces(0).decision(), v1::DECISION_BLOCK);
  EXPECT_EQ(decided.interfaces(0).interface_class(), "08:06:50");
  EXPECT_EQ(decided.interfaces(1).decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(sinks_.notices().size(), 1u);  // part of the device does not work: say why
}

TEST_F(UsbEnforcerTest, KeyboardSafetyNetKeepsAKeyboardWorking) {
  Start("MODE_ENFORCE", kNoHidPolicy);
  const std::string path = Plug("1-3", 0x046d, 0xc31c, "KBD", kKeyboard);
  ASSERT_TRUE(Becomes("1-3", "authorized", "1"));
  CreateInterfaces(path, "1-3", kKeyboard);
  EXPECT_TRUE(Becomes("1-3:1.0", "authorized", "1"));
  ASSERT_TRUE(Decided(1));
  EXPECT_EQ(sinks_.Usb(v1::UsbEvent::KIND_DECIDED)[0].rule_id(), "safety-net");
}

TEST_F(UsbEnforcerTest, MonitorModeAuthorisesAndRecordsWouldBlock) {
  Start("MODE_MONITOR");
  const std::string path = Plug("1-1", 0x0951, 0x1666, "OTHER", kStorage);
  ASSERT_TRUE(Becomes("1-1", "authorized", "1"));
  CreateInterfaces(path, "1-1", kStorage);
  EXPECT_TRUE(Becomes("1-1:1.0", "authorized", "1"));
  ASSERT_TRUE(Decided(1));
  EXPECT_EQ(sinks_.Usb(v1::UsbEvent::KIND_DECIDED)[0].decision(), v1::DECISION_WOULD_BLOCK);
  ASSERT_EQ(sinks_.notices().size(), 1u);
  EXPECT_TRUE(sinks_.notices()[0].usb_blocked().monitor_only());
}

TEST_F(UsbEnforcerTest, LostEventsMakeItRescanEverything) {
  Start();
  // A device arrives while its uevent is lost in an overflow.
  bed_.AddDevice(hub_, "1-4", 0x0781, 0x5583, "GOOD1", false,
                 BuildDescriptors(0x0781, 0x5583, {kStorage}));
  UsbHotplugEvent lost;
  lost.kind = UsbHotplugEvent::Kind::kRescanAll;
  uevents_.Push(lost);
  EXPECT_TRUE(Becomes("1-4", "authorized", "1"));
  EXPECT_TRUE(Eventually([&] { return enforcer_->Stats().rescans >= 2; }));
  EXPECT_EQ(failures_.Count(FailureReason::kUsbEventsLost), 1u);
}

TEST_F(UsbEnforcerTest, RescanWithoutLossJudgesNewDevicesAndCountsNoFailure) {
  // Windows' hot-plug notifications say only "something changed" (kRescan).
  Start();
  bed_.AddDevice(hub_, "1-4", 0x0781, 0x5583, "GOOD1", false,
                 BuildDescriptors(0x0781, 0x5583, {kStorage}));
  UsbHotplugEvent changed;
  changed.kind = UsbHotplugEvent::Kind::kRescan;
  uevents_.Push(changed);
  EXPECT_TRUE(Becomes("1-4", "authorized", "1"));
  EXPECT_TRUE(Eventually([&] { return enforcer_->Stats().rescans >= 2; }));
  EXPECT_EQ(sinks_.Usb(v1::UsbEvent::KIND_CONNECTED).size(), 1u);
  EXPECT_EQ(failures_.Count(FailureReason::kUsbEventsLost), 0u);
}

TEST_F(UsbEnforcerTest, RejectedDeviceIsRemoved) {
  Start("MODE_ENFORCE", kRejectPolicy);
  Plug("1-1", 0x0951, 0x1666, "BAD", kStorage);
  EXPECT_TRUE(Becomes("1-1", "remove", "1"));
  EXPECT_EQ(bed_.Read("1-1", "authorized"), "0");
  ASSERT_TRUE(Decided(1));
  EXPECT_EQ(sinks_.Usb(v1::UsbEvent::KIND_DECIDED)[0].rule_id(), "reject-bad-stick");
}

TEST_F(UsbEnforcerTest, DisconnectIsRecorded) {
  Start();
  const std::string path = Plug("1-1", 0x0951, 0x1666, "OTHER", kStorage);
  ASSERT_TRUE(Decided(1));
  bed_.Remove(path);
  UsbHotplugEvent removed;
  removed.kind = UsbHotplugEvent::Kind::kRemoved;
  removed.id = "1-1";
  uevents_.Push(removed);
  ASSERT_TRUE(Eventually([&] { return sinks_.Usb(v1::UsbEvent::KIND_DISCONNECTED).size() == 1; }));
  EXPECT_EQ(sinks_.Usb(v1::UsbEvent::KIND_DISCONNECTED)[0].device().serial(), "OTHER");
}

TEST_F(UsbEnforcerTest, MalformedDescriptorsBlockTheDevice) {
  auto bytes = BuildDescriptors(0x0781, 0x5583, {kStorage});
  bytes[18 + 9] = 0;  // zero-length interface descriptor
  bed_.AddDevice(hub_, "1-5", 0x0781, 0x5583, "GOOD1", true, bytes);
  Start();
  EXPECT_TRUE(Becomes("1-5", "authorized", "0"));
  EXPECT_EQ(failures_.Count(FailureReason::kUsbDeviceUnreadable), 1u);
}

// With the in-memory fake: a failing platform is reported, and USB stays fail-closed.
TEST(UsbEnforcerFakeTest, UnavailableBusIsReportedAsFailClosed) {
  platform::FakeDeviceControl devices;
  devices.FailWith(Error(ErrorCode::kUnavailable, "no USB bus"));
  platform::FakeUeventSource uevents;
  ward::testing::RecordingSinks sinks;
  ManualClock clock;
  EventFactory factory(clock, SystemRandom());
  FailurePolicy failures(sinks, factory);
  UsbEnforcer enforcer(devices, uevents, sinks, sinks, failures, factory, clock);
  enforcer.Start(
      ward::testing::CompilePolicy(ward::testing::PolicyJson("MODE_ENFORCE", kUsbPolicy, kNoApps)));
  ASSERT_TRUE(Eventually([&] { return enforcer.Stats().rescans >= 1; }));
  enforcer.Stop();
  EXPECT_GE(failures.Count(FailureReason::kUsbPlatformUnavailable), 1u);
  ASSERT_FALSE(sinks.events().empty());
  EXPECT_NE(sinks.events()[0].agent().detail().find("fail-closed"), std::string::npos);
}

}  // namespace
}  // namespace ward::core
