// SPDX-License-Identifier: Apache-2.0
// The contract every platform::SettingsLockdown keeps, as one typed suite. Each back-end's test
// instantiates it with a Backend type:
//   static std::unique_ptr<platform::SettingsLockdown> Create();
//   static void ChangeBehindWardsBack(platform::SettingsLockdown&);  // desktop.command_line
//   static std::string Snapshot(platform::SettingsLockdown&);  // every place the plan touches
//   static void CleanUp();  // after each test
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "ward/platform/settings_lockdown.h"

namespace ward::platform {

inline policy::SettingsPlan ContractPlan() {
  return {{
      {"datetime.change", false, true},
      {"desktop.command_line", false, true},
      {"screensaver.enabled", true, true},
      {"screensaver.idle_delay_seconds", std::int64_t{600}, true},
      {"software.install", false, true},
  }};
}

template <typename Backend>
class SettingsLockdownContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    control_ = Backend::Create();
    ASSERT_NE(control_, nullptr);
  }
  void TearDown() override {
    control_.reset();
    Backend::CleanUp();
  }
  bool DriftedHas(const std::string& setting) {
    auto drifted = control_->Drifted(ContractPlan());
    EXPECT_TRUE(drifted.has_value()) << drifted.error().ToString();
    for (const SettingDrift& d : drifted.value_or(std::vector<SettingDrift>{})) {
      if (d.setting == setting) {
        return true;
      }
    }
    return false;
  }
  std::unique_ptr<SettingsLockdown> control_;
};

TYPED_TEST_SUITE_P(SettingsLockdownContractTest);

TYPED_TEST_P(SettingsLockdownContractTest, AppliedPlanHoldsAndApplyingAgainChangesNothing) {
  ASSERT_TRUE(this->control_->Apply(ContractPlan()).has_value());
  auto drifted = this->control_->Drifted(ContractPlan());
  ASSERT_TRUE(drifted.has_value()) << drifted.error().ToString();
  EXPECT_TRUE(drifted->empty());
  const std::string once = TypeParam::Snapshot(*this->control_);
  ASSERT_TRUE(this->control_->Apply(ContractPlan()).has_value());
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), once);
}

TYPED_TEST_P(SettingsLockdownContractTest, ChangeBehindWardsBackIsDriftAndApplyRevertsIt) {
  ASSERT_TRUE(this->control_->Apply(ContractPlan()).has_value());
  const std::string applied = TypeParam::Snapshot(*this->control_);
  TypeParam::ChangeBehindWardsBack(*this->control_);
  EXPECT_TRUE(this->DriftedHas("desktop.command_line"));
  EXPECT_FALSE(this->DriftedHas("screensaver.enabled"));
  ASSERT_TRUE(this->control_->Apply(ContractPlan()).has_value());
  EXPECT_FALSE(this->DriftedHas("desktop.command_line"));
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), applied);
}

TYPED_TEST_P(SettingsLockdownContractTest, WaitForChangeWakesOnAChange) {
  ASSERT_TRUE(this->control_->Apply(ContractPlan()).has_value());
  SettingsLockdown& control = *this->control_;
  std::thread changer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    TypeParam::ChangeBehindWardsBack(control);
  });
  auto changed = control.WaitForChange(std::chrono::seconds(20));
  changer.join();
  ASSERT_TRUE(changed.has_value()) << changed.error().ToString();
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(this->DriftedHas("desktop.command_line"));
}

TYPED_TEST_P(SettingsLockdownContractTest, WaitForChangeTimesOutAndInterruptWakesIt) {
  ASSERT_TRUE(this->control_->Apply(ContractPlan()).has_value());
  auto quiet = this->control_->WaitForChange(std::chrono::milliseconds(300));
  ASSERT_TRUE(quiet.has_value()) << quiet.error().ToString();
  EXPECT_FALSE(*quiet);
  SettingsLockdown& control = *this->control_;
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

TYPED_TEST_P(SettingsLockdownContractTest, RestorePutsBackExactlyWhatWasThere) {
  const std::string before = TypeParam::Snapshot(*this->control_);
  ASSERT_TRUE(this->control_->Apply(ContractPlan()).has_value());
  EXPECT_NE(TypeParam::Snapshot(*this->control_), before);
  TypeParam::ChangeBehindWardsBack(*this->control_);
  ASSERT_TRUE(this->control_->Apply(ContractPlan()).has_value());
  auto restored = this->control_->Restore();
  ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), before);
}

REGISTER_TYPED_TEST_SUITE_P(SettingsLockdownContractTest,
                            AppliedPlanHoldsAndApplyingAgainChangesNothing,
                            ChangeBehindWardsBackIsDriftAndApplyRevertsIt,
                            WaitForChangeWakesOnAChange, WaitForChangeTimesOutAndInterruptWakesIt,
                            RestorePutsBackExactlyWhatWasThere);

}  // namespace ward::platform
