// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <optional>
#include <string>

#include "ward/platform/settings_lockdown.h"
#include "ward/testing/fake_machine.h"

namespace ward::testing {

// An in-memory machine with one place per setting (its value as text). Enforces locked settings
// and reports unlocked ones as not enforced. Thread-safe (FakeMachine).
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
  FakeMachine machine_;
};

}  // namespace ward::testing
