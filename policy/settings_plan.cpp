// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/settings_plan.h"

#include <algorithm>

#include "internal/syntax.h"
#include "ward/policy/settings_catalog.h"

namespace ward::policy {
namespace {

Result<SettingValue> ValueOf(const v1::SettingLock& lock, const SettingInfo& info) {
  switch (lock.value_case()) {
    case v1::SettingLock::kBoolValue:
      if (info.type == SettingType::kBool) {
        return SettingValue(lock.bool_value());
      }
      break;
    case v1::SettingLock::kIntValue:
      if (info.type == SettingType::kInt) {
        if (lock.int_value() < info.min_int || lock.int_value() > info.max_int) {
          return InvalidArgumentError(lock.name() + " is outside its bounds");
        }
        return SettingValue(static_cast<std::int64_t>(lock.int_value()));
      }
      break;
    case v1::SettingLock::kStringValue:
      if (info.type == SettingType::kString) {
        const std::string& text = lock.string_value();
        if (internal::HasControlCharacter(text) ||
            (info.string_format == StringFormat::kAbsolutePath &&
             !internal::IsAbsolutePath(text))) {
          return InvalidArgumentError(lock.name() + " has a value the catalogue does not allow");
        }
        return SettingValue(text);
      }
      break;
    case v1::SettingLock::VALUE_NOT_SET:
      break;
  }
  return InvalidArgumentError(lock.name() + " takes " + std::string(SettingTypeName(info.type)));
}

}  // namespace

Result<SettingsPlan> CompileSettingsPlan(const v1::SettingsPolicy& settings) {
  SettingsPlan plan;
  for (const v1::SettingLock& lock : settings.settings()) {
    const SettingInfo* info = FindSetting(lock.name());
    if (info == nullptr) {
      return InvalidArgumentError("unknown setting '" + lock.name() + "'");
    }
    WARD_ASSIGN_OR_RETURN(SettingValue value, ValueOf(lock, *info));
    plan.settings.push_back({lock.name(), std::move(value), lock.locked()});
  }
  std::ranges::sort(plan.settings, {}, &PlannedSetting::name);
  if (std::ranges::adjacent_find(plan.settings, {}, &PlannedSetting::name) != plan.settings.end()) {
    return InvalidArgumentError("a setting is named more than once");
  }
  return plan;
}

}  // namespace ward::policy
