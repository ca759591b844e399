// SPDX-License-Identifier: Apache-2.0
// The declarative enforcer (Windows' USB device installation policy and settings lock-down) on
// the test-only fakes of the OS seam: what is applied for a policy, drift recorded as tamper and
// put back, MONITOR mode, a new policy.
#include <gtest/gtest.h>

#include "recording_sinks.h"
#include "test_policies.h"
#include "ward/core/declarative_enforcer.h"
#include "ward/testing/fake_settings_lockdown.h"
#include "ward/testing/fake_usb_install_policy.h"

namespace ward::core {
namespace {

using ward::testing::Eventually;
using ward::testing::FakeSettingsLockdown;
using ward::testing::FakeUsbInstallPolicy;

constexpr const char* kUsb = R"({"default_action": "USB_ACTION_BLOCK", "rules": [
  {"id": "allow-college-stick", "action": "USB_ACTION_ALLOW",
   "device_id": {"values": ["0781:5583"]}, "serial": {"values": ["GOOD1"]}},
  {"id": "block-storage", "action": "USB_ACTION_BLOCK", "scope": "USB_RULE_SCOPE_INTERFACE",
   "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["08:*:*"]}}]})";
constexpr const char* kApps = R"({"default_action": "APP_ACTION_ALLOW"})";
constexpr const char* kSettings = R"({"settings": [
  {"name": "software.install", "bool_value": false, "locked": true},
  {"name": "desktop.command_line", "bool_value": false, "locked": true}]})";

std::shared_ptr<const ActivePolicy> Policy(const std::string& mode, int version = 1) {
  std::string json = ward::testing::PolicyJson(mode, kUsb, kApps, version);
  json.pop_back();  // the closing brace
  return ward::testing::CompilePolicy(json + R"(, "settings": )" + kSettings + "}");
}

std::size_t Tampers(const ward::testing::RecordingSinks& sinks) {
  std::size_t n = 0;
  for (const auto& e : sinks.events()) {
    n += e.has_agent() && e.agent().kind() == v1::AgentEvent::KIND_TAMPER &&
                 e.priority() == v1::PRIORITY_CRITICAL
             ? 1u
             : 0u;
  }
  return n;
}

std::size_t SettingsEvents(const ward::testing::RecordingSinks& sinks,
                           v1::SettingsEvent::Kind kind) {
  std::size_t n = 0;
  for (const auto& e : sinks.events()) {
    n += e.has_settings() && e.settings().kind() == kind ? 1u : 0u;
  }
  return n;
}

class DeclarativeEnforcerTest : public ::testing::Test {
 protected:
  ward::testing::RecordingSinks sinks_;
  ManualClock clock_;
  EventFactory factory_{clock_, SystemRandom()};
  FailurePolicy failures_{sinks_, factory_};
};

TEST_F(DeclarativeEnforcerTest, UsbPlanIsWrittenAndDriftIsTamperPutBack) {
  FakeUsbInstallPolicy control;
  auto target = UsbInstallTarget(control);
  DeclarativeEnforcer enforcer(*target, sinks_, failures_, factory_);
  auto policy = Policy("MODE_ENFORCE");
  ASSERT_NE(policy, nullptr);
  const auto plan = platform::CompileUsbRegistryPlan(policy->policy);
  ASSERT_FALSE(plan.values.empty());
  enforcer.Start(policy);
  ASSERT_TRUE(Eventually([&] { return enforcer.Stats().applied == 1; }));
  const auto written = control.MachineForTesting();
  for (const auto& value : plan.values) {
    const auto it = written.find({value.key, value.name});
    ASSERT_NE(it, written.end()) << value.key << "\\" << value.name;
    EXPECT_EQ(it->second, ward::testing::UsbValueLine(value));
  }
  // Someone deletes the class deny behind Ward's back.
  const auto& deny = plan.values.back();
  control.SetForTesting(deny.key, deny.name, std::nullopt);
  ASSERT_TRUE(Eventually([&] { return Tampers(sinks_) == 1; }));
  EXPECT_EQ(control.MachineForTesting(), written);
  EXPECT_EQ(enforcer.Stats().reverted, 1u);
  const auto events = sinks_.events();
  const auto tamper =
      std::find_if(events.begin(), events.end(), [](const auto& e) { return e.has_agent(); });
  ASSERT_NE(tamper, events.end());
  EXPECT_NE(tamper->agent().detail().find("USB device installation policy changed outside Ward"),
            std::string::npos)
      << tamper->agent().detail();
}

TEST_F(DeclarativeEnforcerTest, UsbMonitorModeWritesNothingAndPutsBackWhatWasThere) {
  FakeUsbInstallPolicy::Machine before;
  before[{platform::kDeviceInstallRestrictionsKey, "DenyUnspecified"}] =
      "\"DenyUnspecified\"=dword:00000001";
  FakeUsbInstallPolicy control(before);
  auto target = UsbInstallTarget(control);
  DeclarativeEnforcer enforcer(*target, sinks_, failures_, factory_);
  enforcer.Start(Policy("MODE_ENFORCE"));
  ASSERT_TRUE(Eventually([&] { return enforcer.Stats().applied == 1; }));
  EXPECT_NE(control.MachineForTesting(), before);
  enforcer.SetPolicy(Policy("MODE_MONITOR", 2));
  ASSERT_TRUE(Eventually([&] { return enforcer.Stats().applied == 2; }));
  EXPECT_EQ(control.MachineForTesting(), before);
  EXPECT_EQ(Tampers(sinks_), 0u);
}

TEST_F(DeclarativeEnforcerTest, SettingsAreAppliedRecordedAndDriftIsPutBack) {
  FakeSettingsLockdown control(
      std::map<std::string, std::string>{{"desktop.command_line", "true"}});
  auto target = SettingsLockdownTarget(control);
  DeclarativeEnforcer enforcer(*target, sinks_, failures_, factory_);
  enforcer.Start(Policy("MODE_ENFORCE"));
  ASSERT_TRUE(Eventually([&] { return enforcer.Stats().applied == 1; }));
  EXPECT_EQ(SettingsEvents(sinks_, v1::SettingsEvent::KIND_APPLIED), 2u);
  const auto applied = control.MachineForTesting();
  EXPECT_EQ(applied.at("desktop.command_line"), "false");
  control.ChangeForTesting("desktop.command_line", "true");
  ASSERT_TRUE(Eventually([&] { return Tampers(sinks_) == 1; }));
  EXPECT_EQ(control.MachineForTesting(), applied);
  EXPECT_EQ(SettingsEvents(sinks_, v1::SettingsEvent::KIND_DRIFT_REVERTED), 1u);
}

TEST_F(DeclarativeEnforcerTest, SettingsMonitorModeRecordsOnlyAndRestores) {
  FakeSettingsLockdown control(
      std::map<std::string, std::string>{{"desktop.command_line", "true"}});
  const auto before = control.MachineForTesting();
  auto target = SettingsLockdownTarget(control);
  DeclarativeEnforcer enforcer(*target, sinks_, failures_, factory_);
  enforcer.Start(Policy("MODE_ENFORCE"));
  ASSERT_TRUE(Eventually([&] { return enforcer.Stats().applied == 1; }));
  enforcer.SetPolicy(Policy("MODE_MONITOR", 2));
  ASSERT_TRUE(Eventually([&] { return enforcer.Stats().applied == 2; }));
  EXPECT_EQ(control.MachineForTesting(), before);
  // A change in MONITOR mode is the learner's: nothing to put back, no tamper.
  control.ChangeForTesting("desktop.command_line", "false");
  enforcer.Stop();
  EXPECT_EQ(Tampers(sinks_), 0u);
}

TEST_F(DeclarativeEnforcerTest, DriftIsFoundByThePeriodicCheckWithoutANotification) {
  // A control whose change notification never fires: the read-back on the timer finds drift.
  class Deaf final : public DeclarativeTarget {
   public:
    std::string Name() const override { return "deaf"; }
    FailureReason ApplyFailure() const override { return FailureReason::kSettingsApplyFailed; }
    Result<AppliedPlan> Apply(const ActivePolicy&) override { return AppliedPlan{}; }
    Status Reapply() override {
      ++reapplied;
      return OkStatus();
    }
    Result<std::vector<DriftedPlace>> Drifted() override {
      if (reapplied > 0) {
        return std::vector<DriftedPlace>{};
      }
      return std::vector<DriftedPlace>{{.setting = "", .where = "HKLM\\x"}};
    }
    Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
      std::this_thread::sleep_for(max_wait);
      return false;
    }
    void Interrupt() override {}
    std::atomic<int> reapplied{0};
  } target;
  DeclarativeEnforcer enforcer(target, sinks_, failures_, factory_, std::chrono::milliseconds(5));
  enforcer.Start(Policy("MODE_ENFORCE"));
  ASSERT_TRUE(Eventually([&] { return Tampers(sinks_) == 1; }));
  EXPECT_EQ(target.reapplied, 1);
  EXPECT_TRUE(Eventually([&] { return enforcer.Stats().checks >= 3; }));
  EXPECT_EQ(Tampers(sinks_), 1u);
}

TEST_F(DeclarativeEnforcerTest, FailedApplyIsRetriedAndRecordedOnce) {
  // The registry refuses twice (a busy hive, say), then takes the plan.
  class Refusing final : public DeclarativeTarget {
   public:
    std::string Name() const override { return "refusing"; }
    FailureReason ApplyFailure() const override { return FailureReason::kSettingsApplyFailed; }
    Result<AppliedPlan> Apply(const ActivePolicy&) override {
      if (++calls <= 2) {
        return UnavailableError("the hive is busy");
      }
      return AppliedPlan{};
    }
    Status Reapply() override { return OkStatus(); }
    Result<std::vector<DriftedPlace>> Drifted() override { return std::vector<DriftedPlace>{}; }
    Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
      std::this_thread::sleep_for(max_wait);
      return false;
    }
    void Interrupt() override {}
    std::atomic<int> calls{0};
  } target;
  DeclarativeEnforcer enforcer(target, sinks_, failures_, factory_, std::chrono::milliseconds(5));
  enforcer.Start(Policy("MODE_ENFORCE"));
  ASSERT_TRUE(Eventually([&] { return enforcer.Stats().applied == 1; }));
  EXPECT_EQ(target.calls, 3);
  EXPECT_EQ(failures_.Count(FailureReason::kSettingsApplyFailed), 2u);
  EXPECT_EQ(SettingsEvents(sinks_, v1::SettingsEvent::KIND_APPLY_FAILED), 1u);
}

}  // namespace
}  // namespace ward::core
