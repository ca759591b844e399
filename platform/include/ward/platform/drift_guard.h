// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <vector>

#include "ward/common/result.h"
#include "ward/platform/settings_lockdown.h"

// One round of the drift watch every declarative control shares (settings, applications, USB
// restrictions): wait for a change; when one came, find where the plan no longer holds, apply
// the plan again, and hand back what was put back, for the agent to record as tamper
// (SettingsEvent KIND_DRIFT_REVERTED / ExecEvent, PRIORITY_CRITICAL). Control is any type with
// WaitForChange(ms), Drifted(plan...) and Apply(plan...) (SettingsLockdown, AppLockdown).
namespace ward::platform {

template <typename Control, typename... Plan>
Result<std::vector<SettingDrift>> RevertDriftOnce(Control& control,
                                                  std::chrono::milliseconds max_wait,
                                                  const Plan&... plan) {
  WARD_ASSIGN_OR_RETURN(const bool changed, control.WaitForChange(max_wait));
  if (!changed) {
    return std::vector<SettingDrift>{};
  }
  WARD_ASSIGN_OR_RETURN(std::vector<SettingDrift> drift, control.Drifted(plan...));
  if (!drift.empty()) {
    auto applied = control.Apply(plan...);
    if (!applied.has_value()) {
      return std::unexpected(applied.error().WithContext("putting back what drifted"));
    }
  }
  return drift;
}

}  // namespace ward::platform
