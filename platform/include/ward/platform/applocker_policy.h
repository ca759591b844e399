// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ward/platform/registry_policy.h"
#include "ward/platform/settings_lockdown.h"
#include "ward/v1/policy.pb.h"

// The application allowlist (v1::AppPolicy) compiled into an AppLocker policy: the rule XML of
// Microsoft's AppLocker policy schema, and the registry form Group Policy writes for it
// (HKLM\SOFTWARE\Policies\Microsoft\Windows\SrpV2\<collection>\<rule GUID>, value "Value" = the
// rule's XML, "EnforcementMode" on the collection key) plus the Application Identity service
// set to start automatically. Portable, pure code: the Windows back-end writes the result; Linux
// tests compare it with golden files (tests/testdata/applocker/). docs/enforcement-windows.md.
namespace ward::platform {

enum class AppLockerCollection : std::uint8_t { kExe, kAppx };

struct AppLockerRule {
  AppLockerCollection collection = AppLockerCollection::kExe;
  std::string guid;     // lower case, no braces: derived from the rule's content (idempotent)
  std::string rule_id;  // the Ward rule it comes from; "" for the default rules
  std::string xml;      // <FilePathRule ...>...</FilePathRule>, as Group Policy stores it
  friend bool operator==(const AppLockerRule&, const AppLockerRule&) = default;
};

struct AppLockerPolicy {
  bool enforce = false;              // MODE_ENFORCE: EnforcementMode 1; MONITOR: 0 (audit only)
  std::vector<AppLockerRule> rules;  // sorted by collection, then GUID
  // Rules Windows cannot enforce as written, each with its reason ("not available on Windows:
  // ..."). Not an error: the rest is applied.
  std::vector<SettingNotEnforced> not_enforced;
};

// Name of AppLocker rules Ward writes: "Ward <rule id>". AppLocker events carry the rule's name,
// which is how an event is traced back to the Ward rule (ParseAppLockerEvent).
inline constexpr std::string_view kAppLockerRuleNamePrefix = "Ward ";

AppLockerPolicy CompileAppLockerPolicy(const v1::AppPolicy& apps, v1::Mode mode);

// The whole policy as one <AppLockerPolicy Version="1"> document (what Get-AppLockerPolicy
// -Effective -Xml prints and Set-AppLockerPolicy -XmlPolicy reads), for staff to inspect.
std::string FormatAppLockerXml(const AppLockerPolicy& policy);

// The registry values Group Policy writes for `policy`: per collection "EnforcementMode" and
// "AllowWindows" on HKLM\SOFTWARE\Policies\Microsoft\Windows\SrpV2\<Exe|Appx>, each rule as
// <collection>\<GUID>\Value (REG_SZ), and HKLM\SYSTEM\CurrentControlSet\Services\AppIDSvc
// "Start" = 2 (automatic). Sorted like RenderRegistryPolicy's output; not_enforced copied.
RegistryPolicy RenderAppLockerRegistry(const AppLockerPolicy& policy);

inline constexpr std::string_view kSrpV2Key = "SOFTWARE\\Policies\\Microsoft\\Windows\\SrpV2";
inline constexpr std::string_view kAppIdSvcKey = "SYSTEM\\CurrentControlSet\\Services\\AppIDSvc";

// What an edition of Windows does with an AppLocker policy, from the EditionID in
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion ("Enterprise", "Education", "Professional",
// "Core", "ServerStandard" ...).
struct AppLockerEditionSupport {
  bool enforced = false;
  std::string note;  // plain words for the agent's log and the degradation report
};
AppLockerEditionSupport AppLockerSupportFor(std::string_view edition_id);

}  // namespace ward::platform
