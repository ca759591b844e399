// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/usb_evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_test_util.h"

namespace ward::policy {
namespace {

using testing::MinimalPolicyJson;
using testing::MustLoad;

constexpr LocalTimeOfDay kNoon{12, 0};

std::unique_ptr<UsbEvaluator> EvaluatorFor(const std::string& section,
                                           const std::string& mode = "MODE_ENFORCE") {
  return testing::MustCreate<UsbEvaluator>(MinimalPolicyJson(", \"usb\": " + section, mode));
}

UsbDeviceInfo Device(std::uint16_t vendor, std::uint16_t product,
                     std::vector<UsbInterface> interfaces, std::string serial = "") {
  UsbDeviceInfo d;
  d.vendor_id = vendor;
  d.product_id = product;
  d.serial = std::move(serial);
  d.interfaces = std::move(interfaces);
  return d;
}

const UsbInterface kStorage{0x08, 0x06, 0x50, 0};
const UsbInterface kKeyboard{0x03, 0x01, 0x01, 0};
const UsbInterface kMouse{0x03, 0x01, 0x02, 1};
const UsbInterface kGenericHid{0x03, 0x00, 0x00, 0};
const UsbInterface kAudio{0x01, 0x01, 0x00, 0};
const UsbInterface kVendorSpecific{0xff, 0x00, 0x00, 0};

UsbInterface Numbered(UsbInterface i, std::uint8_t number) {
  i.number = number;
  return i;
}

// A rule allowing devices whose interfaces satisfy `op` over `values`; default BLOCK.
std::unique_ptr<UsbEvaluator> InterfaceSetRule(const std::string& op, const std::string& values) {
  return EvaluatorFor(R"({"rules": [{"id": "r", "action": "USB_ACTION_ALLOW", "with_interface":
      {"op": ")" + op +
                      R"(", "values": [)" + values + "]}}]}");
}

bool Allowed(const UsbEvaluator& e, const UsbDeviceInfo& d) {
  return e.Evaluate(d, kNoon).verdict == UsbVerdict::kAllow;
}

TEST(UsbEvaluatorTest, SetOperatorsFollowUsbguardSemantics) {
  const auto composite = Device(0x1234, 0x0001, {kAudio, Numbered(kVendorSpecific, 1)});
  const auto audio_only = Device(0x1234, 0x0002, {kAudio});

  auto all_of = InterfaceSetRule("SET_OPERATOR_ALL_OF", R"("01:*:*", "ff:*:*")");
  EXPECT_TRUE(Allowed(*all_of, composite));
  EXPECT_FALSE(Allowed(*all_of, audio_only));

  auto one_of = InterfaceSetRule("SET_OPERATOR_ONE_OF", R"("ff:*:*", "0e:*:*")");
  EXPECT_TRUE(Allowed(*one_of, composite));
  EXPECT_FALSE(Allowed(*one_of, audio_only));

  auto none_of = InterfaceSetRule("SET_OPERATOR_NONE_OF", R"("ff:*:*")");
  EXPECT_FALSE(Allowed(*none_of, composite));
  EXPECT_TRUE(Allowed(*none_of, audio_only));

  auto equals = InterfaceSetRule("SET_OPERATOR_EQUALS", R"("ff:00:00", "01:01:00")");
  EXPECT_TRUE(Allowed(*equals, composite));  // any order
  EXPECT_FALSE(Allowed(*equals, audio_only));

  auto ordered = InterfaceSetRule("SET_OPERATOR_EQUALS_ORDERED", R"("ff:00:00", "01:01:00")");
  EXPECT_FALSE(Allowed(*ordered, composite));
  auto ordered_ok = InterfaceSetRule("SET_OPERATOR_EQUALS_ORDERED", R"("01:01:00", "ff:00:00")");
  EXPECT_TRUE(Allowed(*ordered_ok, composite));

  auto match_all = InterfaceSetRule("SET_OPERATOR_MATCH_ALL", R"("01:*:*", "0e:*:*")");
  EXPECT_FALSE(Allowed(*match_all, composite));  // ff is not listed
  EXPECT_TRUE(Allowed(*match_all, audio_only));
  EXPECT_FALSE(Allowed(*match_all, Device(0x1234, 0x0003, {})));  // nothing to match

  // No operator means EQUALS: one listed class matches only single-interface devices.
  auto plain = EvaluatorFor(R"({"rules": [{"id": "r", "action": "USB_ACTION_ALLOW",
      "with_interface": {"values": ["01:*:*"]}}]})");
  EXPECT_TRUE(Allowed(*plain, audio_only));
  EXPECT_FALSE(Allowed(*plain, composite));
}

TEST(UsbEvaluatorTest, MatchesDeviceIdsWithWildcardsAndStringAttributes) {
  auto e = EvaluatorFor(R"({"rules": [
      {"id": "sandisk", "action": "USB_ACTION_ALLOW", "device_id": {"values": ["0781:*"]},
       "serial": {"op": "SET_OPERATOR_ONE_OF", "values": ["A1", "B2"]}},
      {"id": "pair", "action": "USB_ACTION_ALLOW",
       "device_id": {"op": "SET_OPERATOR_ONE_OF", "values": ["1111:2222", "3333:4444"]},
       "via_port": {"values": ["1-2"]}, "with_connect_type": {"values": ["hotplug"]}}]})");
  EXPECT_TRUE(Allowed(*e, Device(0x0781, 0x5583, {kStorage}, "B2")));
  EXPECT_FALSE(Allowed(*e, Device(0x0781, 0x5583, {kStorage}, "C3")));
  EXPECT_FALSE(Allowed(*e, Device(0x0782, 0x5583, {kStorage}, "A1")));
  auto d = Device(0x3333, 0x4444, {kStorage});
  d.via_port = "1-2";
  d.connect_type = "hotplug";
  EXPECT_TRUE(Allowed(*e, d));
  d.via_port = "1-3";
  EXPECT_FALSE(Allowed(*e, d));
}

TEST(UsbEvaluatorTest, FirstMatchingRuleWinsAcrossIndexedAndGenericRules) {
  const auto stick = Device(0x0781, 0x5583, {kStorage});
  // A generic rule listed first beats an exact-id rule listed later, and the other way round.
  auto generic_first = EvaluatorFor(R"({"default_action": "USB_ACTION_ALLOW", "rules": [
      {"id": "no-storage", "action": "USB_ACTION_BLOCK",
       "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["08:*:*"]}},
      {"id": "vendor", "action": "USB_ACTION_ALLOW", "device_id": {"values": ["0781:*"]}},
      {"id": "exact", "action": "USB_ACTION_ALLOW", "device_id": {"values": ["0781:5583"]}}]})");
  EXPECT_EQ(generic_first->Evaluate(stick, kNoon).rule_id, "no-storage");
  auto exact_first = EvaluatorFor(R"({"rules": [
      {"id": "exact", "action": "USB_ACTION_ALLOW", "device_id": {"values": ["0781:5583"]}},
      {"id": "vendor", "action": "USB_ACTION_BLOCK", "device_id": {"values": ["0781:*"]}},
      {"id": "no-storage", "action": "USB_ACTION_BLOCK",
       "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["08:*:*"]}}]})");
  const auto decision = exact_first->Evaluate(stick, kNoon);
  EXPECT_EQ(decision.verdict, UsbVerdict::kAllow);
  EXPECT_EQ(decision.rule_id, "exact");
  auto vendor_first = EvaluatorFor(R"({"rules": [
      {"id": "vendor", "action": "USB_ACTION_REJECT", "device_id": {"values": ["0781:*"]}},
      {"id": "exact", "action": "USB_ACTION_ALLOW", "device_id": {"values": ["0781:5583"]}}]})");
  EXPECT_EQ(vendor_first->Evaluate(stick, kNoon).verdict, UsbVerdict::kReject);
  EXPECT_EQ(vendor_first->Evaluate(stick, kNoon).rule_id, "vendor");
}

TEST(UsbEvaluatorTest, DefaultActionAppliesWhenNoRuleMatches) {
  auto unspecified = EvaluatorFor(R"({"default_message": "Ask IT about this device."})");
  const auto decision = unspecified->Evaluate(Device(0x0781, 0x5583, {kStorage}), kNoon);
  EXPECT_EQ(decision.verdict, UsbVerdict::kBlock);
  EXPECT_EQ(decision.reason, UsbReason::kDefault);
  EXPECT_EQ(decision.message, "Ask IT about this device.");
  auto allow = EvaluatorFor(R"({"default_action": "USB_ACTION_ALLOW"})");
  const auto allowed = allow->Evaluate(Device(0x0781, 0x5583, {kStorage}), kNoon);
  EXPECT_EQ(allowed.verdict, UsbVerdict::kAllow);
  EXPECT_EQ(allowed.message, "");
}

TEST(UsbEvaluatorTest, InterfaceScopedRuleBlocksStorageButKeepsKeyboard) {
  auto e = EvaluatorFor(R"({"rules": [
      {"id": "no-storage", "action": "USB_ACTION_BLOCK", "scope": "USB_RULE_SCOPE_INTERFACE",
       "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["08:*:*"]},
       "message": "USB memory sticks are blocked.", "url": "https://help.example.org/usb"},
      {"id": "hid", "action": "USB_ACTION_ALLOW", "scope": "USB_RULE_SCOPE_INTERFACE",
       "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["03:*:*"]}}]})");
  const auto stick = Device(0x1234, 0x5678, {kKeyboard, Numbered(kStorage, 1)});
  const auto decision = e->Evaluate(stick, kNoon);
  EXPECT_EQ(decision.verdict, UsbVerdict::kAllow);  // authorised, storage deauthorised
  ASSERT_EQ(decision.interfaces.size(), 2u);
  EXPECT_EQ(decision.interfaces[0].number, 0);
  EXPECT_EQ(decision.interfaces[0].verdict, UsbVerdict::kAllow);
  EXPECT_EQ(decision.interfaces[0].rule_id, "hid");
  EXPECT_EQ(decision.interfaces[1].number, 1);
  EXPECT_EQ(decision.interfaces[1].verdict, UsbVerdict::kBlock);
  EXPECT_EQ(decision.interfaces[1].rule_id, "no-storage");
  EXPECT_TRUE(decision.AnyBlocked());
  EXPECT_EQ(decision.rule_id, "no-storage");
  EXPECT_EQ(decision.message, "USB memory sticks are blocked.");
  EXPECT_EQ(decision.url, "https://help.example.org/usb");

  // A plain stick: its only interface is blocked, so the device is blocked.
  const auto plain = e->Evaluate(Device(0x0781, 0x5583, {kStorage}), kNoon);
  EXPECT_EQ(plain.verdict, UsbVerdict::kBlock);
  EXPECT_EQ(plain.rule_id, "no-storage");
}

TEST(UsbEvaluatorTest, InterfaceScopedNoneOfSelectsTheOtherInterfaces) {
  auto e = EvaluatorFor(R"({"default_action": "USB_ACTION_ALLOW", "rules": [
      {"id": "only-hid", "action": "USB_ACTION_BLOCK", "scope": "USB_RULE_SCOPE_INTERFACE",
       "with_interface": {"op": "SET_OPERATOR_NONE_OF", "values": ["03:*:*"]}}]})");
  const auto d = e->Evaluate(Device(0x1234, 0x5678, {kKeyboard, Numbered(kAudio, 1)}), kNoon);
  EXPECT_EQ(d.interfaces[0].verdict, UsbVerdict::kAllow);
  EXPECT_EQ(d.interfaces[0].reason, UsbReason::kDefault);
  EXPECT_EQ(d.interfaces[1].verdict, UsbVerdict::kBlock);
}

TEST(UsbEvaluatorTest, DeviceVerdictFollowsItsInterfaces) {
  auto e = EvaluatorFor(R"({"default_action": "USB_ACTION_ALLOW", "rules": [
      {"id": "no-storage", "action": "USB_ACTION_REJECT", "scope": "USB_RULE_SCOPE_INTERFACE",
       "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["08:*:*"]}},
      {"id": "no-vendor", "action": "USB_ACTION_BLOCK", "scope": "USB_RULE_SCOPE_INTERFACE",
       "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["ff:*:*"]}},
      {"id": "known", "action": "USB_ACTION_BLOCK", "device_id": {"values": ["1111:2222"]}}]})");
  // Every interface rejected: the device is rejected.
  EXPECT_EQ(e->Evaluate(Device(0x1234, 1, {kStorage, Numbered(kStorage, 1)}), kNoon).verdict,
            UsbVerdict::kReject);
  // Rejected and blocked interfaces, none allowed: rejected (the stronger).
  EXPECT_EQ(e->Evaluate(Device(0x1234, 1, {kStorage, Numbered(kVendorSpecific, 1)}), kNoon).verdict,
            UsbVerdict::kReject);
  // Interface rules decide first; the device rule decides what is left.
  const auto mixed = e->Evaluate(Device(0x1111, 0x2222, {kStorage, Numbered(kAudio, 1)}), kNoon);
  EXPECT_EQ(mixed.verdict, UsbVerdict::kReject);
  EXPECT_EQ(mixed.interfaces[0].rule_id, "no-storage");
  EXPECT_EQ(mixed.interfaces[1].rule_id, "known");
  // Without interfaces (not read yet) the device-scoped rule or the default decides.
  const auto bare = e->Evaluate(Device(0x1111, 0x2222, {}), kNoon);
  EXPECT_EQ(bare.verdict, UsbVerdict::kBlock);
  EXPECT_EQ(bare.rule_id, "known");
  EXPECT_TRUE(bare.AnyBlocked());
  EXPECT_EQ(e->Evaluate(Device(0x3333, 0x4444, {}), kNoon).verdict, UsbVerdict::kAllow);
}

TEST(UsbEvaluatorTest, SafetyNetKeepsKeyboardsAndMiceWorking) {
  auto catch_all = EvaluatorFor(R"({"rules": [
      {"id": "block-all", "action": "USB_ACTION_BLOCK", "device_id": {"values": ["*:*"]}}]})");
  const auto keyboard = Device(0x046d, 0xc31c, {kKeyboard});
  auto decision = catch_all->Evaluate(keyboard, kNoon);
  EXPECT_EQ(decision.verdict, UsbVerdict::kAllow);
  EXPECT_EQ(decision.reason, UsbReason::kSafetyNet);
  EXPECT_EQ(decision.interfaces[0].reason, UsbReason::kSafetyNet);
  EXPECT_EQ(decision.message, "");

  auto default_block = EvaluatorFor("{}");
  EXPECT_TRUE(Allowed(*default_block, Device(0x046d, 0xc077, {kMouse})));
  EXPECT_TRUE(Allowed(*default_block, Device(0x046d, 0xc52b, {kKeyboard, kMouse})));
  EXPECT_TRUE(Allowed(*default_block, Device(0x1234, 0x0001, {kGenericHid})));
  // No safety net for a device that is more than a keyboard: the storage could be anything.
  EXPECT_FALSE(Allowed(*default_block, Device(0x1234, 0x0001, {kKeyboard, kStorage})));
  EXPECT_FALSE(Allowed(*default_block, Device(0x1234, 0x0001, {})));
  // A HID interface that is neither boot keyboard/mouse nor generic (03:01:00) gets none.
  EXPECT_FALSE(Allowed(*default_block, Device(0x1234, 0x0001, {{0x03, 0x01, 0x00, 0}})));

  auto vendor_wide = EvaluatorFor(R"({"rules": [
      {"id": "no-logitech", "action": "USB_ACTION_BLOCK", "device_id": {"values": ["046d:*"]}}]})");
  EXPECT_TRUE(Allowed(*vendor_wide, keyboard));
}

TEST(UsbEvaluatorTest, RulesNamingTheDeviceOverrideTheSafetyNet) {
  const auto keyboard = Device(0x046d, 0xc31c, {kKeyboard}, "KB-1");
  auto by_id = EvaluatorFor(R"({"rules": [
      {"id": "no-keylogger", "action": "USB_ACTION_BLOCK", "device_id": {"values": ["046d:c31c"]}}]})");
  const auto decision = by_id->Evaluate(keyboard, kNoon);
  EXPECT_EQ(decision.verdict, UsbVerdict::kBlock);
  EXPECT_EQ(decision.rule_id, "no-keylogger");
  auto by_serial = EvaluatorFor(R"({"rules": [
      {"id": "stolen", "action": "USB_ACTION_BLOCK", "serial": {"values": ["KB-1"]}}]})");
  EXPECT_FALSE(Allowed(*by_serial, keyboard));
  // NONE_OF does not name a device: "block everything except serial X" leaves keyboards alone.
  auto none_of = EvaluatorFor(R"({"rules": [
      {"id": "except", "action": "USB_ACTION_BLOCK",
       "serial": {"op": "SET_OPERATOR_NONE_OF", "values": ["OTHER"]}}]})");
  EXPECT_TRUE(Allowed(*none_of, keyboard));
}

TEST(UsbEvaluatorTest, NamesOfVerdictsAndReasons) {
  EXPECT_EQ(UsbVerdictName(UsbVerdict::kReject), "reject");
  EXPECT_EQ(UsbReasonName(UsbReason::kSafetyNet), "safety-net");
  EXPECT_EQ(UsbReasonName(UsbReason::kEnrolled), "enrolled");
}

TEST(UsbEvaluatorTest, NamesDeviceExplicitlyDefinition) {
  ward::v1::UsbRule rule;
  EXPECT_FALSE(UsbEvaluator::NamesDeviceExplicitly(rule));
  rule.mutable_device_id()->add_values("046d:*");
  EXPECT_FALSE(UsbEvaluator::NamesDeviceExplicitly(rule));
  rule.mutable_device_id()->set_values(0, "046d:c31c");
  EXPECT_TRUE(UsbEvaluator::NamesDeviceExplicitly(rule));
  rule.mutable_device_id()->set_op(ward::v1::SET_OPERATOR_NONE_OF);
  EXPECT_FALSE(UsbEvaluator::NamesDeviceExplicitly(rule));
  ward::v1::UsbRule by_hash;
  by_hash.mutable_hash()->add_values("abc=");
  EXPECT_TRUE(UsbEvaluator::NamesDeviceExplicitly(by_hash));
  ward::v1::UsbRule by_name;
  by_name.mutable_name()->add_values("Keyboard");
  EXPECT_TRUE(UsbEvaluator::NamesDeviceExplicitly(by_name));
}

TEST(UsbEvaluatorTest, EnrolledDevicesStayAllowed) {
  auto e = EvaluatorFor(R"({"rules": [
      {"id": "no-cameras", "action": "USB_ACTION_BLOCK", "device_id": {"values": ["04f2:b6d9"]}}],
      "enrolled_devices": [{"device_id": "04f2:b6d9", "name": "Integrated Camera"}]})");
  auto camera = Device(0x04f2, 0xb6d9, {{0x0e, 0x01, 0x00, 0}, {0x0e, 0x02, 0x00, 1}});
  camera.name = "Integrated Camera";
  const auto decision = e->Evaluate(camera, kNoon);
  EXPECT_EQ(decision.verdict, UsbVerdict::kAllow);
  EXPECT_EQ(decision.reason, UsbReason::kEnrolled);
  ASSERT_EQ(decision.interfaces.size(), 2u);
  EXPECT_EQ(decision.interfaces[1].reason, UsbReason::kEnrolled);
  // Same ids, different name: not the enrolled device.
  camera.name = "USB Camera";
  EXPECT_EQ(e->Evaluate(camera, kNoon).rule_id, "no-cameras");
}

TEST(UsbEvaluatorTest, TimeWindowsLimitWhenRulesApply) {
  auto e = EvaluatorFor(R"({"rules": [
      {"id": "lessons", "action": "USB_ACTION_ALLOW", "device_id": {"values": ["0781:5583"]},
       "when": {"local_time": "08:30-16:30"}},
      {"id": "night", "action": "USB_ACTION_ALLOW", "device_id": {"values": ["1111:2222"]},
       "when": {"local_time": "22:00-06:00"}}]})");
  const auto stick = Device(0x0781, 0x5583, {kStorage});
  EXPECT_FALSE(e->Evaluate(stick, {8, 29}).verdict == UsbVerdict::kAllow);
  EXPECT_TRUE(e->Evaluate(stick, {8, 30}).verdict == UsbVerdict::kAllow);
  EXPECT_TRUE(e->Evaluate(stick, {16, 29}).verdict == UsbVerdict::kAllow);
  EXPECT_FALSE(e->Evaluate(stick, {16, 30}).verdict == UsbVerdict::kAllow);
  const auto other = Device(0x1111, 0x2222, {kStorage});
  EXPECT_TRUE(e->Evaluate(other, {23, 30}).verdict == UsbVerdict::kAllow);
  EXPECT_TRUE(e->Evaluate(other, {0, 0}).verdict == UsbVerdict::kAllow);
  EXPECT_TRUE(e->Evaluate(other, {5, 59}).verdict == UsbVerdict::kAllow);
  EXPECT_FALSE(e->Evaluate(other, {6, 0}).verdict == UsbVerdict::kAllow);
  EXPECT_FALSE(e->Evaluate(other, {21, 59}).verdict == UsbVerdict::kAllow);
}

TEST(UsbEvaluatorTest, MonitorModeDoesNotEnforce) {
  auto monitor = EvaluatorFor("{}", "MODE_MONITOR");
  const auto decision = monitor->Evaluate(Device(0x0781, 0x5583, {kStorage}), kNoon);
  EXPECT_EQ(decision.verdict, UsbVerdict::kBlock);  // what the policy says ...
  EXPECT_FALSE(decision.enforce);                   // ... recorded, not enforced
  EXPECT_TRUE(EvaluatorFor("{}")->Evaluate(Device(1, 1, {kStorage}), kNoon).enforce);
}

TEST(UsbEvaluatorTest, CreateRejectsInvalidPolicy) {
  ward::v1::Policy policy;
  auto* rule = policy.mutable_usb()->add_rules();
  rule->set_id("r");
  rule->set_action(ward::v1::USB_ACTION_ALLOW);
  rule->mutable_device_id()->add_values("xyz");
  const auto evaluator = UsbEvaluator::Create(policy);
  ASSERT_FALSE(evaluator.has_value());
  EXPECT_EQ(evaluator.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(evaluator.error().message(),
            "policy is not valid: usb.rules[0].device_id: \"xyz\" is not vvvv:pppp (4 hex "
            "digits or *)");
}

TEST(UsbEvaluatorTest, SamplePolicyDecisions) {
  auto e = UsbEvaluator::Create(MustLoad(testing::ReadTestdata("policy/sample-under18.json")));
  ASSERT_TRUE(e.has_value());
  const UsbEvaluator& usb = **e;
  EXPECT_TRUE(Allowed(usb, Device(0x0781, 0x5583, {kStorage}, "4C530001130922116425")));
  const auto other_stick = usb.Evaluate(Device(0x0781, 0x5583, {kStorage}, "123"), kNoon);
  EXPECT_EQ(other_stick.verdict, UsbVerdict::kBlock);
  EXPECT_EQ(other_stick.rule_id, "block-storage-interfaces");
  EXPECT_TRUE(Allowed(usb, Device(0x046d, 0xc31c, {kKeyboard})));
  const auto composite =
      usb.Evaluate(Device(0x1234, 0x5678, {kKeyboard, Numbered(kStorage, 1)}), kNoon);
  EXPECT_EQ(composite.verdict, UsbVerdict::kAllow);
  EXPECT_EQ(composite.interfaces[1].verdict, UsbVerdict::kBlock);
  const auto printer = Device(0x03f0, 0x0c17, {{0x07, 0x01, 0x02, 0}});
  EXPECT_TRUE(usb.Evaluate(printer, {10, 0}).verdict == UsbVerdict::kAllow);
  EXPECT_FALSE(usb.Evaluate(printer, {19, 0}).verdict == UsbVerdict::kAllow);
  auto camera = Device(0x04f2, 0xb6d9, {{0x0e, 0x01, 0x00, 0}});
  camera.name = "Integrated Camera";
  camera.via_port = "1-6";
  EXPECT_EQ(usb.Evaluate(camera, kNoon).reason, UsbReason::kEnrolled);
}

}  // namespace
}  // namespace ward::policy
