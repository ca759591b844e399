// SPDX-License-Identifier: Apache-2.0
// The registry drift watch under Wine: RegNotifyChangeKeyValue wakes on a change in a watched
// subtree (and on a watched key coming back after deletion), times out, is interrupted; and the
// same watch-verify-revert round (drift_guard.h) puts back a settings value changed behind
// Ward's back and reports it.
#include <windows.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "settings_lockdown_contract.h"
#include "ward/platform/drift_guard.h"
#include "ward/platform/registry_watch.h"

namespace ward::platform {
namespace {

// Only ContractPlan() is used from the settings contract here.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SettingsLockdownContractTest);

constexpr wchar_t kTestKey[] = L"SOFTWARE\\WardTest\\Watch";

class RegistryWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RegSetKeyValueW(HKEY_LOCAL_MACHINE, (std::wstring(kTestKey) + L"\\Deep").c_str(),
                              L"Seed", REG_DWORD, &kOne, sizeof(kOne)),
              ERROR_SUCCESS);
    auto watch = CreateRegistryWatch();
    ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
    watch_ = *std::move(watch);
  }
  void TearDown() override {
    watch_.reset();
    RegDeleteTreeW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WardTest");
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WardTest");
  }
  static constexpr DWORD kOne = 1;
  std::unique_ptr<RegistryWatch> watch_;
};

TEST_F(RegistryWatchTest, WakesOnAChangeBelowAWatchedKeyAndTimesOutOtherwise) {
  ASSERT_TRUE(
      watch_->Watch({{RegistryHive::kMachine, "SOFTWARE\\WardTest\\Watch", true}}).has_value());
  auto quiet = watch_->WaitForChange(std::chrono::milliseconds(50));
  ASSERT_TRUE(quiet.has_value());
  EXPECT_FALSE(*quiet);
  std::thread changer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const DWORD two = 2;
    RegSetKeyValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WardTest\\Watch\\Deep", L"Seed", REG_DWORD,
                    &two, sizeof(two));
  });
  auto woken = watch_->WaitForChange(std::chrono::seconds(10));
  changer.join();
  ASSERT_TRUE(woken.has_value()) << woken.error().ToString();
  EXPECT_TRUE(*woken);
}

TEST_F(RegistryWatchTest, AMissingKeyIsWatchedThroughItsParent) {
  ASSERT_TRUE(watch_->Watch({{RegistryHive::kMachine, "SOFTWARE\\WardTest\\Watch\\NotYet", true}})
                  .has_value());
  ASSERT_EQ(RegSetKeyValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WardTest\\Watch\\NotYet", L"Now",
                            REG_DWORD, &kOne, sizeof(kOne)),
            ERROR_SUCCESS);
  auto woken = watch_->WaitForChange(std::chrono::seconds(10));
  ASSERT_TRUE(woken.has_value());
  EXPECT_TRUE(*woken);
}

TEST_F(RegistryWatchTest, InterruptWakesAWaitWithFalse) {
  ASSERT_TRUE(
      watch_->Watch({{RegistryHive::kMachine, "SOFTWARE\\WardTest\\Watch", true}}).has_value());
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    watch_->Interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  auto woken = watch_->WaitForChange(std::chrono::seconds(10));
  stopper.join();
  ASSERT_TRUE(woken.has_value());
  EXPECT_FALSE(*woken);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// The settings lock-down (which watches the user hives too) through the same round.
TEST(DriftGuardTest, SettingsValueChangedBehindWardsBackIsRevertedAndReported) {
  auto control = CreateSettingsLockdown(
      {.restore_key = "SOFTWARE\\WardTest\\SettingsRestore", .default_user_hive = {}});
  ASSERT_TRUE(control.has_value());
  ASSERT_TRUE((*control)->Apply(ContractPlan()).has_value());
  std::thread changer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const DWORD zero = 0;
    RegSetKeyValueW(HKEY_CURRENT_USER, L"Software\\Policies\\Microsoft\\Windows\\System",
                    L"DisableCMD", REG_DWORD, &zero, sizeof(zero));
  });
  std::vector<SettingDrift> reverted;
  for (int round = 0; round < 5 && reverted.empty(); ++round) {
    auto once = RevertDriftOnce(**control, std::chrono::seconds(5), ContractPlan());
    ASSERT_TRUE(once.has_value()) << once.error().ToString();
    reverted = *once;
  }
  changer.join();
  ASSERT_EQ(reverted.size(), 1U);
  EXPECT_EQ(reverted[0].setting, "desktop.command_line");
  EXPECT_TRUE(
      reverted[0].where.ends_with("\\Software\\Policies\\Microsoft\\Windows\\System\\DisableCMD"))
      << reverted[0].where;
  auto drifted = (*control)->Drifted(ContractPlan());
  ASSERT_TRUE(drifted.has_value());
  EXPECT_TRUE(drifted->empty());
  EXPECT_TRUE((*control)->Restore().has_value());
  RegDeleteTreeW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WardTest");
  RegDeleteKeyW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WardTest");
}

}  // namespace
}  // namespace ward::platform
