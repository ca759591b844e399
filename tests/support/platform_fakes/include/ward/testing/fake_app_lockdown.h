// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <optional>
#include <string>

#include "ward/platform/app_lockdown.h"
#include "ward/testing/fake_machine.h"

namespace ward::testing {

// An in-memory machine of places ("<key>\\<value name>" -> value as .reg text) holding the
// compiled AppLocker policy's registry form (applocker_policy.h), without the OS. Thread-safe
// (FakeMachine).
class FakeAppLockdown final : public platform::AppLockdown {
 public:
  // What the machine holds before Ward: place -> value.
  explicit FakeAppLockdown(std::map<std::string, std::string> machine = {});

  Result<platform::AppApplyReport> Apply(const v1::AppPolicy& apps, v1::Mode mode) override;
  Result<std::vector<platform::SettingDrift>> Drifted(const v1::AppPolicy& apps,
                                                      v1::Mode mode) override;
  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override;
  void Interrupt() override;
  Status Restore() override;

  // Someone other than Ward changes (or with nullopt deletes) a place on the machine.
  void ChangeForTesting(const std::string& place, std::optional<std::string> value);
  std::map<std::string, std::string> MachineForTesting() const;

 private:
  FakeMachine machine_;
};

}  // namespace ward::testing
