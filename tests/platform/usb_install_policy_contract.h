// SPDX-License-Identifier: Apache-2.0
// The contract every platform::UsbInstallPolicy keeps, as one typed suite. Each back-end's test
// instantiates it with a Backend type:
//   static std::unique_ptr<platform::UsbInstallPolicy> Create();
//   static void Write(platform::UsbInstallPolicy&, const RegistryPolicyValue&);  // behind Ward
//   static std::string Snapshot(platform::UsbInstallPolicy&);  // both policy keys, recursively
//   static void CleanUp();  // after each test
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "ward/platform/usb_install_policy.h"

namespace ward::platform {

// A policy blocking `count` devices by id and a stick class, with one exact serial allowed.
inline UsbRegistryPlan ContractUsbPlan(int count) {
  v1::Policy policy;
  policy.set_mode(v1::MODE_ENFORCE);
  v1::UsbPolicy& usb = *policy.mutable_usb();
  usb.set_default_action(v1::USB_ACTION_ALLOW);
  v1::UsbRule& allow = *usb.add_rules();
  allow.set_id("college-stick");
  allow.set_action(v1::USB_ACTION_ALLOW);
  allow.mutable_device_id()->add_values("0781:5583");
  allow.mutable_serial()->add_values("4C530001130922116425");
  v1::UsbRule& ids = *usb.add_rules();
  ids.set_id("bad-devices");
  ids.set_action(v1::USB_ACTION_BLOCK);
  for (int i = 1; i <= count; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "1337:%04x", i);
    ids.mutable_device_id()->add_values(id);
  }
  v1::UsbRule& storage = *usb.add_rules();
  storage.set_id("no-sticks");
  storage.set_action(v1::USB_ACTION_BLOCK);
  storage.set_scope(v1::USB_RULE_SCOPE_INTERFACE);
  storage.mutable_with_interface()->add_values("08:*:*");
  return CompileUsbRegistryPlan(policy);
}

inline RegistryPolicyValue UsbValue(std::string key, std::string name, std::uint32_t dword) {
  return {.setting = "test",
          .root = RegistryRoot::kMachine,
          .key = std::move(key),
          .name = std::move(name),
          .type = RegistryType::kDword,
          .dword = dword,
          .text = {}};
}
inline RegistryPolicyValue UsbText(std::string key, std::string name, std::string text) {
  return {.setting = "test",
          .root = RegistryRoot::kMachine,
          .key = std::move(key),
          .name = std::move(name),
          .type = RegistryType::kSz,
          .dword = 0,
          .text = std::move(text)};
}
inline std::string DenyListKey() {
  return std::string(kDeviceInstallRestrictionsKey) + "\\DenyDeviceIDs";
}

template <typename Backend>
class UsbInstallPolicyContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    control_ = Backend::Create();
    ASSERT_NE(control_, nullptr);
  }
  void TearDown() override {
    control_.reset();
    Backend::CleanUp();
  }
  std::vector<UsbPolicyDrift> Drifted(const UsbRegistryPlan& plan) {
    auto drifted = control_->Drifted(plan);
    EXPECT_TRUE(drifted.has_value()) << drifted.error().ToString();
    return drifted.value_or(std::vector<UsbPolicyDrift>{});
  }
  static bool Mentions(const std::vector<UsbPolicyDrift>& drift, const std::string& tail) {
    return std::ranges::any_of(drift,
                               [&](const UsbPolicyDrift& d) { return d.where.ends_with(tail); });
  }
  std::unique_ptr<UsbInstallPolicy> control_;
};

TYPED_TEST_SUITE_P(UsbInstallPolicyContractTest);

TYPED_TEST_P(UsbInstallPolicyContractTest, AppliedPlanHoldsAndApplyingAgainChangesNothing) {
  const UsbRegistryPlan plan = ContractUsbPlan(3);
  ASSERT_TRUE(this->control_->Apply(plan).has_value());
  EXPECT_TRUE(this->Drifted(plan).empty());
  const std::string once = TypeParam::Snapshot(*this->control_);
  ASSERT_TRUE(this->control_->Apply(plan).has_value());
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), once);
}

TYPED_TEST_P(UsbInstallPolicyContractTest, ChangedEntryAndStraySwitchAreDriftAndApplyRevertsThem) {
  const UsbRegistryPlan plan = ContractUsbPlan(3);
  ASSERT_TRUE(this->control_->Apply(plan).has_value());
  const std::string applied = TypeParam::Snapshot(*this->control_);
  // A learner with admin rights takes a device off the list and switches on a blanket block.
  TypeParam::Write(*this->control_, UsbText(DenyListKey(), "2", "USB\\VID_DEAD&PID_BEEF"));
  TypeParam::Write(*this->control_, UsbText(DenyListKey(), "9", "USB\\VID_DEAD&PID_0001"));
  TypeParam::Write(*this->control_, UsbValue(kDeviceInstallRestrictionsKey, "DenyUnspecified", 1));
  const auto drift = this->Drifted(plan);
  EXPECT_TRUE(this->Mentions(drift, "\\DenyDeviceIDs\\2"));
  EXPECT_TRUE(this->Mentions(drift, "\\DenyDeviceIDs\\9"));
  EXPECT_TRUE(this->Mentions(drift, "\\Restrictions\\DenyUnspecified"));
  EXPECT_FALSE(this->Mentions(drift, "\\DenyDeviceIDs\\1"));
  ASSERT_TRUE(this->control_->Apply(plan).has_value());
  EXPECT_TRUE(this->Drifted(plan).empty());
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), applied);
}

TYPED_TEST_P(UsbInstallPolicyContractTest, ShorterPlanLeavesNoStaleListEntries) {
  ASSERT_TRUE(this->control_->Apply(ContractUsbPlan(5)).has_value());
  const UsbRegistryPlan shorter = ContractUsbPlan(1);
  EXPECT_FALSE(this->Drifted(shorter).empty());
  ASSERT_TRUE(this->control_->Apply(shorter).has_value());
  EXPECT_TRUE(this->Drifted(shorter).empty());
  const std::string snapshot = TypeParam::Snapshot(*this->control_);
  EXPECT_EQ(snapshot.find("VID_1337&PID_0005"), std::string::npos) << snapshot;
  EXPECT_NE(snapshot.find("VID_1337&PID_0001"), std::string::npos) << snapshot;
}

TYPED_TEST_P(UsbInstallPolicyContractTest, WaitForChangeWakesOnAChangeTimesOutAndIsInterrupted) {
  const UsbRegistryPlan plan = ContractUsbPlan(2);
  ASSERT_TRUE(this->control_->Apply(plan).has_value());
  auto quiet = this->control_->WaitForChange(std::chrono::milliseconds(300));
  ASSERT_TRUE(quiet.has_value()) << quiet.error().ToString();
  EXPECT_FALSE(*quiet);
  UsbInstallPolicy& control = *this->control_;
  std::thread changer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    TypeParam::Write(control, UsbText(DenyListKey(), "1", "USB\\VID_DEAD&PID_BEEF"));
  });
  auto changed = control.WaitForChange(std::chrono::seconds(20));
  changer.join();
  ASSERT_TRUE(changed.has_value()) << changed.error().ToString();
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(this->Mentions(this->Drifted(plan), "\\DenyDeviceIDs\\1"));
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    control.Interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  auto woken = control.WaitForChange(std::chrono::seconds(60));
  interrupter.join();
  ASSERT_TRUE(woken.has_value()) << woken.error().ToString();
  EXPECT_FALSE(*woken);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TYPED_TEST_P(UsbInstallPolicyContractTest, RestorePutsBackExactlyWhatWasThere) {
  // A site's own switch in the key before Ward.
  TypeParam::Write(*this->control_,
                   UsbValue(kDeviceInstallRestrictionsKey, "AllowAdminInstall", 1));
  const std::string before = TypeParam::Snapshot(*this->control_);
  ASSERT_TRUE(this->control_->Apply(ContractUsbPlan(3)).has_value());
  EXPECT_NE(TypeParam::Snapshot(*this->control_), before);
  ASSERT_TRUE(this->control_->Apply(ContractUsbPlan(1)).has_value());
  auto restored = this->control_->Restore();
  ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), before);
}

TYPED_TEST_P(UsbInstallPolicyContractTest, EmptyPlanPutsBackWhatWasThereNotTheLastPlan) {
  TypeParam::Write(*this->control_,
                   UsbValue(kDeviceInstallRestrictionsKey, "AllowAdminInstall", 1));
  const std::string before = TypeParam::Snapshot(*this->control_);
  ASSERT_TRUE(this->control_->Apply(ContractUsbPlan(3)).has_value());
  v1::Policy monitor;
  monitor.set_mode(v1::MODE_MONITOR);
  const UsbRegistryPlan empty = CompileUsbRegistryPlan(monitor);
  ASSERT_TRUE(empty.values.empty());
  ASSERT_TRUE(this->control_->Apply(empty).has_value());
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), before);
  EXPECT_TRUE(this->Drifted(empty).empty());
  // Enforcing again works from the restored state.
  ASSERT_TRUE(this->control_->Apply(ContractUsbPlan(1)).has_value());
  EXPECT_TRUE(this->Drifted(ContractUsbPlan(1)).empty());
}

REGISTER_TYPED_TEST_SUITE_P(UsbInstallPolicyContractTest,
                            AppliedPlanHoldsAndApplyingAgainChangesNothing,
                            ChangedEntryAndStraySwitchAreDriftAndApplyRevertsThem,
                            ShorterPlanLeavesNoStaleListEntries,
                            WaitForChangeWakesOnAChangeTimesOutAndIsInterrupted,
                            RestorePutsBackExactlyWhatWasThere,
                            EmptyPlanPutsBackWhatWasThereNotTheLastPlan);

}  // namespace ward::platform
