// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/fake_settings_lockdown.h"

namespace ward::testing {
namespace {

std::string Text(const policy::SettingValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) {
    return *b ? "true" : "false";
  }
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    return std::to_string(*i);
  }
  return std::get<std::string>(value);
}

}  // namespace

FakeSettingsLockdown::FakeSettingsLockdown(std::map<std::string, std::string> machine)
    : machine_(std::move(machine)) {}

Result<platform::SettingsApplyReport> FakeSettingsLockdown::Apply(
    const policy::SettingsPlan& plan) {
  platform::SettingsApplyReport report;
  for (const policy::PlannedSetting& setting : plan.settings) {
    if (!setting.locked) {
      report.not_enforced.push_back({setting.name, "the fake keeps locked settings only"});
      continue;
    }
    machine_.Set(setting.name, Text(setting.value));
  }
  return report;
}

Result<std::vector<platform::SettingDrift>> FakeSettingsLockdown::Drifted(
    const policy::SettingsPlan& plan) {
  const auto places = machine_.Places();
  std::vector<platform::SettingDrift> out;
  for (const policy::PlannedSetting& setting : plan.settings) {
    const auto it = places.find(setting.name);
    if (setting.locked && (it == places.end() || it->second != Text(setting.value))) {
      out.push_back({setting.name, "fake:" + setting.name});
    }
  }
  return out;
}

Result<bool> FakeSettingsLockdown::WaitForChange(std::chrono::milliseconds max_wait) {
  return machine_.WaitForChange(max_wait);
}

void FakeSettingsLockdown::Interrupt() { machine_.Interrupt(); }

Status FakeSettingsLockdown::Restore() {
  machine_.Restore();
  return OkStatus();
}

void FakeSettingsLockdown::ChangeForTesting(const std::string& setting,
                                            std::optional<std::string> value) {
  machine_.ChangeForTesting(setting, std::move(value));
}

std::map<std::string, std::string> FakeSettingsLockdown::MachineForTesting() const {
  return machine_.Places();
}

}  // namespace ward::testing
