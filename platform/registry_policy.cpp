// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/registry_policy.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <tuple>
#include <variant>

#include "ward/policy/settings_catalog.h"

namespace ward::platform {
namespace {

using policy::RegistryEncoding;

// Values Group Policy writes together with a catalogue value: the "Desktop Wallpaper" policy
// (User Configuration > Administrative Templates > Desktop > Desktop) always writes the style
// chosen in its drop-down next to the path; Ward asks for "Fill" ("4"), close to GNOME's default
// "zoom".
struct Companion {
  std::string_view with;  // the catalogue value name
  std::string_view name;
  std::string_view text;
};
constexpr std::array kCompanions = {Companion{"Wallpaper", "WallpaperStyle", "4"}};

constexpr std::string_view kUnlocked =
    "not available on Windows: a default the learner may change (locked: false) has no registry "
    "policy form (Group Policy values always lock), so Ward writes nothing for it";

bool IsWindowsAbsolutePath(const std::string& path) {
  const bool drive = path.size() >= 3 &&
                     ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
                     path[1] == ':' && (path[2] == '\\' || path[2] == '/');
  return drive || path.starts_with("\\\\");
}

// "HKCU\\Software\\..." -> (kEachUser, "Software\\...").
std::pair<RegistryRoot, std::string> SplitRoot(std::string_view key) {
  if (key.starts_with("HKCU\\")) {
    return {RegistryRoot::kEachUser, std::string(key.substr(5))};
  }
  return {RegistryRoot::kMachine, std::string(key.substr(key.find('\\') + 1))};
}

// The value for `setting`, or the reason it cannot be written.
std::variant<RegistryPolicyValue, std::string> Render(const policy::PlannedSetting& setting,
                                                      const policy::SettingInfo& info) {
  const policy::RegistryValue& target = info.windows;
  if (target.encoding == RegistryEncoding::kNone) {
    return "not available on Windows: " + std::string(info.windows_note);
  }
  if (!setting.locked) {
    return std::string(kUnlocked);
  }
  auto [root, key] = SplitRoot(target.key);
  RegistryPolicyValue out{.setting = setting.name,
                          .root = root,
                          .key = std::move(key),
                          .name = std::string(target.value),
                          .type = RegistryType::kDword,
                          .dword = 0,
                          .text = {}};
  const bool* flag = std::get_if<bool>(&setting.value);
  const auto dword = [&](std::uint32_t if_true, std::uint32_t if_false) {
    out.type = RegistryType::kDword;
    out.dword = *flag ? if_true : if_false;
  };
  switch (target.encoding) {
    case RegistryEncoding::kDword01:
      dword(1, 0);
      break;
    case RegistryEncoding::kDwordInvert:
      dword(0, 1);
      break;
    case RegistryEncoding::kDwordDisable2:
      dword(0, 2);
      break;
    case RegistryEncoding::kSz01:
      out.type = RegistryType::kSz;
      out.text = *flag ? "1" : "0";
      break;
    case RegistryEncoding::kSzDecimal:
      out.type = RegistryType::kSz;
      out.text = std::to_string(std::get<std::int64_t>(setting.value));
      break;
    case RegistryEncoding::kSzString:
      out.type = RegistryType::kSz;
      out.text = std::get<std::string>(setting.value);
      if (info.string_format == policy::StringFormat::kAbsolutePath &&
          !IsWindowsAbsolutePath(out.text)) {
        return "not available on Windows: '" + out.text +
               "' is not a Windows path (give a path such as C:\\Windows\\Web\\college.jpg)";
      }
      break;
    case RegistryEncoding::kNone:
      break;
  }
  return out;
}

bool TypeMatches(const policy::PlannedSetting& setting, const policy::SettingInfo& info) {
  switch (info.type) {
    case policy::SettingType::kBool:
      return std::holds_alternative<bool>(setting.value);
    case policy::SettingType::kInt:
      return std::holds_alternative<std::int64_t>(setting.value);
    case policy::SettingType::kString:
      return std::holds_alternative<std::string>(setting.value);
  }
  return false;
}

std::string RegQuoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

RegistryPolicy RenderRegistryPolicy(const policy::SettingsPlan& plan) {
  RegistryPolicy out;
  for (const policy::PlannedSetting& setting : plan.settings) {
    const policy::SettingInfo* info = policy::FindSetting(setting.name);
    if (info == nullptr || !TypeMatches(setting, *info)) {
      // CompileSettingsPlan never makes such a plan; a hand-made one is refused per setting.
      out.not_enforced.push_back({setting.name, "not a catalogue setting of this type"});
      continue;
    }
    auto rendered = Render(setting, *info);
    if (auto* reason = std::get_if<std::string>(&rendered)) {
      out.not_enforced.push_back({setting.name, std::move(*reason)});
      continue;
    }
    auto& value = std::get<RegistryPolicyValue>(rendered);
    for (const Companion& companion : kCompanions) {
      if (companion.with == value.name) {
        out.values.push_back({.setting = value.setting,
                              .root = value.root,
                              .key = value.key,
                              .name = std::string(companion.name),
                              .type = RegistryType::kSz,
                              .dword = 0,
                              .text = std::string(companion.text)});
      }
    }
    out.values.push_back(std::move(value));
  }
  std::ranges::sort(out.values, {},
                    [](const RegistryPolicyValue& v) { return std::tie(v.root, v.key, v.name); });
  return out;
}

std::string FormatRegistryValueLine(const std::string& name, RegistryType type, std::uint32_t dword,
                                    const std::string& text) {
  if (type == RegistryType::kDword) {
    char hex[9];
    std::snprintf(hex, sizeof(hex), "%08x", dword);
    return RegQuoted(name) + "=dword:" + hex;
  }
  return RegQuoted(name) + "=" + RegQuoted(text);
}

std::string FormatRegistryPolicy(const RegistryPolicy& policy) {
  std::string out = "Windows Registry Editor Version 5.00\n";
  std::string section;
  for (const RegistryPolicyValue& v : policy.values) {
    const std::string header =
        std::string(v.root == RegistryRoot::kMachine ? "HKEY_LOCAL_MACHINE\\"
                                                     : "HKEY_CURRENT_USER\\") +
        v.key;
    if (header != section) {
      out += "\n[" + header + "]\n";
      section = header;
    }
    out += FormatRegistryValueLine(v.name, v.type, v.dword, v.text) + "\n";
  }
  if (!policy.not_enforced.empty()) {
    out += "\n";
  }
  for (const SettingNotEnforced& n : policy.not_enforced) {
    out += "; not enforced on Windows: " + n.setting + ": " + n.reason + "\n";
  }
  return out;
}

}  // namespace ward::platform
