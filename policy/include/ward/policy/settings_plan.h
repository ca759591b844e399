// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ward/common/result.h"
#include "ward/v1/policy.pb.h"

// The settings part of a policy compiled into what must hold on the laptop, in terms of the
// settings catalogue only (no dconf, polkit or registry): the OS-neutral input of the platform's
// declarative settings control (ward/platform/settings_lockdown.h, ADR 0014). Pure; value types.
namespace ward::policy {

// A setting's value, in the catalogue's type for it (kBool, kInt, kString).
using SettingValue = std::variant<bool, std::int64_t, std::string>;

struct PlannedSetting {
  std::string name;  // a catalogue name ("screensaver.idle_delay_seconds")
  SettingValue value;
  // true: the value is enforced and kept (drift is reverted); false: a default the learner may
  // change, where the OS has such a thing.
  bool locked = false;
  friend bool operator==(const PlannedSetting&, const PlannedSetting&) = default;
};

struct SettingsPlan {
  std::vector<PlannedSetting> settings;  // sorted by name, each name once
  friend bool operator==(const SettingsPlan&, const SettingsPlan&) = default;
};

// The plan for a policy's settings. kInvalidArgument for what the policy loader refuses too: an
// unknown or repeated name, a value of the wrong type or none, an int outside the catalogue's
// bounds, a string with a control character, a path setting that is not an absolute path.
[[nodiscard]] Result<SettingsPlan> CompileSettingsPlan(const v1::SettingsPolicy& settings);

}  // namespace ward::policy
