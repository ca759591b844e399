// SPDX-License-Identifier: Apache-2.0
// The USB policy compiled into Device Installation Restrictions / Removable Storage Access
// values, compared with golden files of the expected registry state
// (tests/testdata/usb/windows/<policy>.reg). Portable: runs on Linux and under Wine.
// WARD_UPDATE_GOLDENS=1 rewrites the golden files; review the diff by hand.
#include "ward/platform/usb_install_policy.h"

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "registry_golden.h"
#include "usb_policy_samples.h"

namespace ward::platform {
namespace {

class UsbRegistryPlanGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(UsbRegistryPlanGoldenTest, SamplePolicyCompilesToTheGoldenRegistryState) {
  auto policy = SamplePolicy(GetParam());
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  const std::string actual = FormatUsbRegistryPlan(CompileUsbRegistryPlan(*policy));
  const auto golden = UsbGoldenPath(GetParam());
  if (std::getenv("WARD_UPDATE_GOLDENS") != nullptr) {
    std::ofstream(golden, std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, ReadText(golden)) << "golden: " << golden.string();
}

INSTANTIATE_TEST_SUITE_P(Samples, UsbRegistryPlanGoldenTest,
                         ::testing::Values("sample-under18", "example-adult"));

v1::UsbRule Rule(std::string id, v1::UsbAction action) {
  v1::UsbRule rule;
  rule.set_id(std::move(id));
  rule.set_action(action);
  return rule;
}

v1::Policy Enforcing(std::initializer_list<v1::UsbRule> rules,
                     v1::UsbAction default_action = v1::USB_ACTION_ALLOW) {
  v1::Policy policy;
  policy.set_mode(v1::MODE_ENFORCE);
  policy.mutable_usb()->set_default_action(default_action);
  for (const v1::UsbRule& rule : rules) {
    *policy.mutable_usb()->add_rules() = rule;
  }
  return policy;
}

const UsbRuleFallback* FallbackFor(const UsbRegistryPlan& plan, const std::string& rule) {
  for (const UsbRuleFallback& f : plan.fallbacks) {
    if (f.rule == rule) {
      return &f;
    }
  }
  return nullptr;
}

TEST(UsbRegistryPlanTest, StorageBlockedWithoutExceptionsAlsoDeniesRemovableDisks) {
  v1::UsbRule storage = Rule("no-sticks", v1::USB_ACTION_BLOCK);
  storage.set_scope(v1::USB_RULE_SCOPE_INTERFACE);
  storage.mutable_with_interface()->add_values("08:*:*");
  const UsbRegistryPlan plan = CompileUsbRegistryPlan(Enforcing({storage}));
  EXPECT_TRUE(plan.fallbacks.empty());
  EXPECT_EQ(FormatRegistryPolicy({plan.values, {}}),
            "Windows Registry Editor Version 5.00\n"
            "\n[HKEY_LOCAL_MACHINE\\Software\\Policies\\Microsoft\\Windows\\DeviceInstall\\"
            "Restrictions]\n"
            "\"AllowDenyLayered\"=dword:00000001\n"
            "\"DenyDeviceIDs\"=dword:00000001\n"
            "\"DenyDeviceIDsRetroactive\"=dword:00000001\n"
            "\n[HKEY_LOCAL_MACHINE\\Software\\Policies\\Microsoft\\Windows\\DeviceInstall\\"
            "Restrictions\\DenyDeviceIDs]\n"
            "\"1\"=\"USB\\\\Class_08\"\n"
            "\n[HKEY_LOCAL_MACHINE\\Software\\Policies\\Microsoft\\Windows\\"
            "RemovableStorageDevices\\{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}]\n"
            "\"Deny_Execute\"=dword:00000001\n"
            "\"Deny_Read\"=dword:00000001\n"
            "\"Deny_Write\"=dword:00000001\n");
}

TEST(UsbRegistryPlanTest, AnEarlierAllowThatMayMatchStopsTheDeny) {
  v1::UsbRule allow = Rule("allow-sandisk", v1::USB_ACTION_ALLOW);
  allow.mutable_device_id()->add_values("0781:*");
  v1::UsbRule deny = Rule("no-5583", v1::USB_ACTION_BLOCK);
  deny.mutable_device_id()->add_values("0781:5583");
  const UsbRegistryPlan plan = CompileUsbRegistryPlan(Enforcing({allow, deny}));
  EXPECT_TRUE(plan.values.empty());
  ASSERT_NE(FallbackFor(plan, "no-5583"), nullptr);
  EXPECT_NE(FallbackFor(plan, "no-5583")->reason.find("allow-sandisk"), std::string::npos);
}

TEST(UsbRegistryPlanTest, AnExactSerialAllowIsAnInstanceIdThatWinsOverTheDeny) {
  v1::UsbRule allow = Rule("allow-mine", v1::USB_ACTION_ALLOW);
  allow.mutable_device_id()->add_values("0781:5583");
  allow.mutable_serial()->add_values("ABC123");
  v1::UsbRule deny = Rule("no-5583", v1::USB_ACTION_BLOCK);
  deny.mutable_device_id()->add_values("0781:5583");
  const UsbRegistryPlan plan = CompileUsbRegistryPlan(Enforcing({allow, deny}));
  EXPECT_TRUE(plan.fallbacks.empty());
  const std::string reg = FormatUsbRegistryPlan(plan);
  EXPECT_NE(reg.find("\"1\"=\"USB\\\\VID_0781&PID_5583\\\\ABC123\""), std::string::npos) << reg;
  EXPECT_NE(reg.find("\"1\"=\"USB\\\\VID_0781&PID_5583\"\n"), std::string::npos) << reg;
  EXPECT_NE(reg.find("\"AllowDenyLayered\"=dword:00000001"), std::string::npos);
  EXPECT_EQ(reg.find("RemovableStorageDevices"), std::string::npos);
}

TEST(UsbRegistryPlanTest, WhatWindowsCannotSayFallsBackWithAReason) {
  v1::UsbRule wildcard = Rule("no-vendor", v1::USB_ACTION_BLOCK);
  wildcard.mutable_device_id()->add_values("1337:*");
  v1::UsbRule timed = Rule("no-evening-sticks", v1::USB_ACTION_BLOCK);
  timed.set_scope(v1::USB_RULE_SCOPE_INTERFACE);
  timed.mutable_with_interface()->add_values("08:*:*");
  timed.mutable_when()->set_local_time("18:00-23:00");
  v1::UsbRule hid = Rule("no-hid", v1::USB_ACTION_BLOCK);
  hid.set_scope(v1::USB_RULE_SCOPE_INTERFACE);
  hid.mutable_with_interface()->add_values("03:*:*");
  v1::UsbRule port = Rule("no-front-port", v1::USB_ACTION_BLOCK);
  port.mutable_via_port()->add_values("1-2");
  v1::UsbRule protocol_only = Rule("no-proto", v1::USB_ACTION_BLOCK);
  protocol_only.set_scope(v1::USB_RULE_SCOPE_INTERFACE);
  protocol_only.mutable_with_interface()->add_values("e0:*:01");
  const UsbRegistryPlan plan = CompileUsbRegistryPlan(
      Enforcing({wildcard, timed, hid, port, protocol_only}, v1::USB_ACTION_BLOCK));
  EXPECT_TRUE(plan.values.empty());
  const std::pair<const char*, const char*> expected[] = {
      {"(default)", "not described by other policy settings"},
      {"no-vendor", "wildcard"},
      {"no-evening-sticks", "18:00-23:00"},
      {"no-hid", "keyboards and mice"},
      {"no-front-port", "USB port"},
      {"no-proto", "e0:*:01"},
  };
  ASSERT_EQ(plan.fallbacks.size(), std::size(expected));
  for (const auto& [rule, words] : expected) {
    const UsbRuleFallback* f = FallbackFor(plan, rule);
    ASSERT_NE(f, nullptr) << rule;
    EXPECT_NE(f->reason.find(words), std::string::npos) << rule << ": " << f->reason;
  }
}

TEST(UsbRegistryPlanTest, MonitorModeWritesNothingAndOwnsNothing) {
  v1::UsbRule deny = Rule("no-5583", v1::USB_ACTION_BLOCK);
  deny.mutable_device_id()->add_values("0781:5583");
  v1::Policy policy = Enforcing({deny});
  policy.set_mode(v1::MODE_MONITOR);
  const UsbRegistryPlan plan = CompileUsbRegistryPlan(policy);
  EXPECT_TRUE(plan.values.empty());
  EXPECT_TRUE(plan.owned_keys.empty());
  EXPECT_TRUE(plan.owned_values.empty());
  ASSERT_EQ(plan.notes.size(), 1u);
}

TEST(UsbRegistryPlanTest, ListsAreNumberedInOrderAndDuplicatesWrittenOnce) {
  v1::UsbRule deny = Rule("many", v1::USB_ACTION_BLOCK);
  for (int i = 1; i <= 12; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "1234:%04x", i);
    deny.mutable_device_id()->add_values(id);
  }
  deny.mutable_device_id()->add_values("1234:0001");
  const UsbRegistryPlan plan = CompileUsbRegistryPlan(Enforcing({deny}));
  std::vector<std::string> names;
  for (const RegistryPolicyValue& v : plan.values) {
    if (v.key.ends_with("\\DenyDeviceIDs")) {
      names.push_back(v.name);
    }
  }
  ASSERT_EQ(names.size(), 12u);
  EXPECT_EQ(names.front(), "1");
  EXPECT_EQ(names[9], "10");
  EXPECT_EQ(names.back(), "12");
}

}  // namespace
}  // namespace ward::platform
