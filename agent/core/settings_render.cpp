// SPDX-License-Identifier: Apache-2.0
#include "ward/core/settings_render.h"

#include <map>
#include <set>

#include "ward/policy/settings_catalog.h"

namespace ward::core {
namespace {

using policy::DconfEncoding;

constexpr std::string_view kHeader =
    "# Managed by Ward from the device policy. Changes are reverted.\n";

Status CheckText(std::string_view s, std::string_view what) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgumentError(std::string(what) + " contains a control character");
    }
  }
  return OkStatus();
}

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string FileUri(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '/' ||
        c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

Result<std::string> GVariantText(const v1::SettingLock& lock, const policy::DconfKey& key) {
  switch (lock.value_case()) {
    case v1::SettingLock::kBoolValue: {
      const bool v =
          key.encoding == DconfEncoding::kInvertBool ? !lock.bool_value() : lock.bool_value();
      return std::string(v ? "true" : "false");
    }
    case v1::SettingLock::kIntValue:
      if (key.gvariant_type == "u") {
        if (lock.int_value() < 0) {
          return InvalidArgumentError(lock.name() + " must not be negative");
        }
        return "uint32 " + std::to_string(lock.int_value());
      }
      return std::to_string(lock.int_value());
    case v1::SettingLock::kStringValue:
      WARD_RETURN_IF_ERROR(CheckText(lock.string_value(), lock.name()));
      return Quote(key.encoding == DconfEncoding::kFileUri ? FileUri(lock.string_value())
                                                           : lock.string_value());
    case v1::SettingLock::VALUE_NOT_SET:
      break;
  }
  return InvalidArgumentError(lock.name() + " has no value");
}

}  // namespace

Result<std::vector<ManagedFile>> RenderSettings(const v1::SettingsPolicy& settings,
                                                const std::string& learner_group) {
  const bool group_ok =
      !learner_group.empty() && learner_group.size() <= 32 &&
      (learner_group[0] == '_' || (learner_group[0] >= 'a' && learner_group[0] <= 'z')) &&
      learner_group.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
          std::string::npos;
  if (!group_ok) {
    return InvalidArgumentError("learner group '" + learner_group + "' is not a plain group name");
  }
  std::map<std::string, std::map<std::string, std::string>> groups;  // dir -> key -> value
  std::set<std::string> locks;
  std::set<std::string> denied_actions;
  for (const auto& lock : settings.settings()) {
    const policy::SettingInfo* info = policy::FindSetting(lock.name());
    if (info == nullptr) {
      return InvalidArgumentError("unknown setting '" + lock.name() + "'");
    }
    for (const auto& key : info->dconf) {
      WARD_ASSIGN_OR_RETURN(std::string value, GVariantText(lock, key));
      const std::string path(key.path);
      const std::size_t slash = path.rfind('/');
      groups[path.substr(1, slash - 1)][path.substr(slash + 1)] = std::move(value);
      if (lock.locked()) {
        locks.insert(path);
      }
    }
    if (lock.locked() && lock.value_case() == v1::SettingLock::kBoolValue && !lock.bool_value()) {
      for (const auto action : info->polkit_actions) {
        denied_actions.emplace(action);
      }
    }
  }

  std::string keyfile(kHeader);
  for (const auto& [group, keys] : groups) {
    keyfile += "\n[" + group + "]\n";
    for (const auto& [key, value] : keys) {
      keyfile += key + "=" + value + "\n";
    }
  }
  std::string lockfile(kHeader);
  for (const auto& key : locks) {
    lockfile += key + "\n";
  }
  std::string rules = "// Managed by Ward from the device policy. Changes are reverted.\n";
  if (!denied_actions.empty()) {
    rules += "polkit.addRule(function(action, subject) {\n  var denied = [\n";
    for (const auto& action : denied_actions) {
      rules += "    \"" + action + "\",\n";
    }
    rules += "  ];\n  if (denied.indexOf(action.id) >= 0 && subject.isInGroup(\"" + learner_group +
             "\")) {\n    return polkit.Result.NO;\n  }\n});\n";
  }
  return std::vector<ManagedFile>{
      {"etc/dconf/profile/user", "user-db:user\nsystem-db:ward\n"},
      {"etc/dconf/db/ward.d/00-ward", keyfile},
      {"etc/dconf/db/ward.d/locks/00-ward", lockfile},
      {"etc/polkit-1/rules.d/49-ward.rules", rules},
  };
}

}  // namespace ward::core
