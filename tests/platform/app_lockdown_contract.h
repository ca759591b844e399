// SPDX-License-Identifier: Apache-2.0
// The contract every platform::AppLockdown keeps, as one typed suite. Each back-end's test
// instantiates it with a Backend type:
//   static std::unique_ptr<platform::AppLockdown> Create();
//   static void WeakenModeBehindWardsBack(platform::AppLockdown&);  // Exe collection: audit only
//   static void AddRuleBehindWardsBack(platform::AppLockdown&);     // an Exe "allow everything"
//   static std::string Snapshot(platform::AppLockdown&);  // every place Ward writes, as text
//   static void CleanUp();  // after each test
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "ward/platform/app_lockdown.h"
#include "ward/platform/drift_guard.h"

namespace ward::platform {

inline v1::AppPolicy ContractApps() {
  v1::AppPolicy apps;
  apps.set_default_action(v1::APP_ACTION_BLOCK);
  v1::AppRule* rule = apps.add_rules();
  rule->set_id("allow-course-tools");
  rule->set_action(v1::APP_ACTION_ALLOW);
  rule->set_directory("C:\\CourseTools");
  rule = apps.add_rules();
  rule->set_id("block-game");
  rule->set_action(v1::APP_ACTION_BLOCK);
  rule->set_path("C:\\CourseTools\\game.exe");
  return apps;
}

template <typename Backend>
class AppLockdownContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    control_ = Backend::Create();
    ASSERT_NE(control_, nullptr);
  }
  void TearDown() override {
    control_.reset();
    Backend::CleanUp();
  }
  std::vector<SettingDrift> Drift() {
    auto drifted = control_->Drifted(ContractApps(), v1::MODE_ENFORCE);
    EXPECT_TRUE(drifted.has_value()) << drifted.error().ToString();
    return drifted.value_or(std::vector<SettingDrift>{});
  }
  std::unique_ptr<AppLockdown> control_;
};

TYPED_TEST_SUITE_P(AppLockdownContractTest);

TYPED_TEST_P(AppLockdownContractTest, AppliedPolicyHoldsAndApplyingAgainChangesNothing) {
  ASSERT_TRUE(this->control_->Apply(ContractApps(), v1::MODE_ENFORCE).has_value());
  EXPECT_TRUE(this->Drift().empty());
  const std::string once = TypeParam::Snapshot(*this->control_);
  ASSERT_TRUE(this->control_->Apply(ContractApps(), v1::MODE_ENFORCE).has_value());
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), once);
}

TYPED_TEST_P(AppLockdownContractTest, ModeChangeAndAddedRuleAreDriftAndApplyRevertsThem) {
  ASSERT_TRUE(this->control_->Apply(ContractApps(), v1::MODE_ENFORCE).has_value());
  const std::string applied = TypeParam::Snapshot(*this->control_);
  TypeParam::WeakenModeBehindWardsBack(*this->control_);
  TypeParam::AddRuleBehindWardsBack(*this->control_);
  std::set<std::string> kinds;
  for (const SettingDrift& d : this->Drift()) {
    kinds.insert(d.setting);
  }
  EXPECT_TRUE(kinds.contains("apps.mode"));
  EXPECT_TRUE(kinds.contains("apps.extra-rule"));
  ASSERT_TRUE(this->control_->Apply(ContractApps(), v1::MODE_ENFORCE).has_value());
  EXPECT_TRUE(this->Drift().empty());
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), applied);
}

TYPED_TEST_P(AppLockdownContractTest, WatcherRevertsAChangeAndReportsIt) {
  ASSERT_TRUE(this->control_->Apply(ContractApps(), v1::MODE_ENFORCE).has_value());
  const std::string applied = TypeParam::Snapshot(*this->control_);
  AppLockdown& control = *this->control_;
  std::thread changer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    TypeParam::WeakenModeBehindWardsBack(control);
  });
  std::vector<SettingDrift> reverted;
  // A wake-up may come from something else first (Wine's own writes): look a few times.
  for (int round = 0; round < 5 && reverted.empty(); ++round) {
    auto once = RevertDriftOnce(control, std::chrono::seconds(5), ContractApps(), v1::MODE_ENFORCE);
    ASSERT_TRUE(once.has_value()) << once.error().ToString();
    reverted = *once;
  }
  changer.join();
  ASSERT_FALSE(reverted.empty());
  EXPECT_EQ(reverted.front().setting, "apps.mode");
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), applied);
}

TYPED_TEST_P(AppLockdownContractTest, WaitForChangeTimesOutAndInterruptWakesIt) {
  ASSERT_TRUE(this->control_->Apply(ContractApps(), v1::MODE_ENFORCE).has_value());
  auto quiet = this->control_->WaitForChange(std::chrono::milliseconds(50));
  ASSERT_TRUE(quiet.has_value());
  EXPECT_FALSE(*quiet);
  this->control_->Interrupt();
  const auto start = std::chrono::steady_clock::now();
  auto woken = this->control_->WaitForChange(std::chrono::seconds(10));
  ASSERT_TRUE(woken.has_value());
  EXPECT_FALSE(*woken);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TYPED_TEST_P(AppLockdownContractTest, RestorePutsBackWhatWasThere) {
  const std::string before = TypeParam::Snapshot(*this->control_);
  ASSERT_TRUE(this->control_->Apply(ContractApps(), v1::MODE_ENFORCE).has_value());
  ASSERT_TRUE(this->control_->Apply(ContractApps(), v1::MODE_MONITOR).has_value());
  EXPECT_NE(TypeParam::Snapshot(*this->control_), before);
  ASSERT_TRUE(this->control_->Restore().has_value());
  EXPECT_EQ(TypeParam::Snapshot(*this->control_), before);
}

REGISTER_TYPED_TEST_SUITE_P(AppLockdownContractTest,
                            AppliedPolicyHoldsAndApplyingAgainChangesNothing,
                            ModeChangeAndAddedRuleAreDriftAndApplyRevertsThem,
                            WatcherRevertsAChangeAndReportsIt,
                            WaitForChangeTimesOutAndInterruptWakesIt, RestorePutsBackWhatWasThere);

}  // namespace ward::platform
