// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/fake_app_lockdown.h"

#include <set>

#include "ward/platform/applocker_policy.h"

namespace ward::testing {
namespace {

// The places the compiled policy sets, with their values.
std::map<std::string, std::string> Wanted(const v1::AppPolicy& apps, v1::Mode mode) {
  std::map<std::string, std::string> out;
  for (const platform::RegistryPolicyValue& v :
       platform::RenderAppLockerRegistry(platform::CompileAppLockerPolicy(apps, mode)).values) {
    out[v.key + "\\" + v.name] = platform::FormatRegistryValueLine(v.name, v.type, v.dword, v.text);
  }
  return out;
}

// A rule of a collection Ward owns: "SOFTWARE\\Policies\\...\\SrpV2\\Exe\\<guid>\\Value".
bool IsRulePlace(const std::string& place) {
  return place.starts_with(std::string(platform::kSrpV2Key) + "\\") && place.ends_with("\\Value");
}

}  // namespace

FakeAppLockdown::FakeAppLockdown(std::map<std::string, std::string> machine)
    : machine_(std::move(machine)) {}

Result<platform::AppApplyReport> FakeAppLockdown::Apply(const v1::AppPolicy& apps, v1::Mode mode) {
  platform::AppApplyReport report;
  report.not_enforced = platform::CompileAppLockerPolicy(apps, mode).not_enforced;
  const auto wanted = Wanted(apps, mode);
  for (const auto& [place, value] : machine_.Places()) {
    if (IsRulePlace(place) && !wanted.contains(place)) {
      machine_.Set(place, std::nullopt);
    }
  }
  for (const auto& [place, value] : wanted) {
    machine_.Set(place, value);
  }
  return report;
}

Result<std::vector<platform::SettingDrift>> FakeAppLockdown::Drifted(const v1::AppPolicy& apps,
                                                                     v1::Mode mode) {
  const auto places = machine_.Places();
  const auto wanted = Wanted(apps, mode);
  std::vector<platform::SettingDrift> out;
  for (const auto& [place, value] : wanted) {
    const auto it = places.find(place);
    if (it == places.end() || it->second != value) {
      out.push_back(
          {place.ends_with("EnforcementMode") ? "apps.mode" : "apps.rule", "fake:" + place});
    }
  }
  for (const auto& [place, value] : places) {
    if (IsRulePlace(place) && !wanted.contains(place)) {
      out.push_back({"apps.extra-rule", "fake:" + place});
    }
  }
  return out;
}

Result<bool> FakeAppLockdown::WaitForChange(std::chrono::milliseconds max_wait) {
  return machine_.WaitForChange(max_wait);
}

void FakeAppLockdown::Interrupt() { machine_.Interrupt(); }

Status FakeAppLockdown::Restore() {
  machine_.Restore();
  return OkStatus();
}

void FakeAppLockdown::ChangeForTesting(const std::string& place, std::optional<std::string> value) {
  machine_.ChangeForTesting(place, std::move(value));
}

std::map<std::string, std::string> FakeAppLockdown::MachineForTesting() const {
  return machine_.Places();
}

}  // namespace ward::testing
