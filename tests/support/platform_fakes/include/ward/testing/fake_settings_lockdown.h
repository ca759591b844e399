// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "ward/platform/settings_lockdown.h"

namespace ward::testing {

// An in-memory machine with one place per setting (its value as text). Enforces locked settings
// and reports unlocked ones as not enforced. Thread-safe (tests change the machine from other
// threads).
class FakeSettingsLockdown final : public platform::SettingsLockdown {
 public:
  // What the machine holds before Ward: place -> value.
  explicit FakeSettingsLockdown(std::map<std::string, std::string> machine = {});

  Result<platform::SettingsApplyReport> Apply(const policy::SettingsPlan& plan) override;
  Result<std::vector<platform::SettingDrift>> Drifted(const policy::SettingsPlan& plan) override;
  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override;
  void Interrupt() override;
  Status Restore() override;

  // Someone other than Ward changes (or with nullopt deletes) a setting on the machine.
  void ChangeForTesting(const std::string& setting, std::optional<std::string> value);
  std::map<std::string, std::string> MachineForTesting() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_cv_;
  std::map<std::string, std::string> machine_;                    // guarded by mu_
  std::map<std::string, std::optional<std::string>> remembered_;  // guarded by mu_
  bool changed_ = false;                                          // guarded by mu_
  bool interrupted_ = false;                                      // guarded by mu_
};

}  // namespace ward::testing
