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
  std::scoped_lock lock(mu_);
  platform::SettingsApplyReport report;
  for (const policy::PlannedSetting& setting : plan.settings) {
    if (!setting.locked) {
      report.not_enforced.push_back({setting.name, "the fake keeps locked settings only"});
      continue;
    }
    if (!remembered_.contains(setting.name)) {
      const auto it = machine_.find(setting.name);
      remembered_[setting.name] =
          it == machine_.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    machine_[setting.name] = Text(setting.value);
  }
  return report;
}

Result<std::vector<platform::SettingDrift>> FakeSettingsLockdown::Drifted(
    const policy::SettingsPlan& plan) {
  std::scoped_lock lock(mu_);
  std::vector<platform::SettingDrift> out;
  for (const policy::PlannedSetting& setting : plan.settings) {
    const auto it = machine_.find(setting.name);
    if (setting.locked && (it == machine_.end() || it->second != Text(setting.value))) {
      out.push_back({setting.name, "fake:" + setting.name});
    }
  }
  return out;
}

Result<bool> FakeSettingsLockdown::WaitForChange(std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mu_);
  changed_cv_.wait_for(lock, max_wait, [&] { return changed_ || interrupted_; });
  const bool changed = changed_ && !interrupted_;
  changed_ = false;
  interrupted_ = false;
  return changed;
}

void FakeSettingsLockdown::Interrupt() {
  {
    std::scoped_lock lock(mu_);
    interrupted_ = true;
  }
  changed_cv_.notify_all();
}

Status FakeSettingsLockdown::Restore() {
  std::scoped_lock lock(mu_);
  for (const auto& [setting, value] : remembered_) {
    if (value.has_value()) {
      machine_[setting] = *value;
    } else {
      machine_.erase(setting);
    }
  }
  remembered_.clear();
  return OkStatus();
}

void FakeSettingsLockdown::ChangeForTesting(const std::string& setting,
                                            std::optional<std::string> value) {
  {
    std::scoped_lock lock(mu_);
    if (value.has_value()) {
      machine_[setting] = *std::move(value);
    } else {
      machine_.erase(setting);
    }
    changed_ = true;
  }
  changed_cv_.notify_all();
}

std::map<std::string, std::string> FakeSettingsLockdown::MachineForTesting() const {
  std::scoped_lock lock(mu_);
  return machine_;
}

}  // namespace ward::testing
