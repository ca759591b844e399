// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ward/common/result.h"
#include "ward/policy/settings_plan.h"

// The declarative settings control (ADR 0014): agent/core hands over *what* must hold (a
// policy::SettingsPlan); the platform decides *how* (Windows: the registry policy values Group
// Policy writes), applies it, reports drift, watches for changes, and puts back what was there
// when Ward is removed. The same contract test runs against every implementation
// (tests/platform/settings_lockdown_contract.h).
namespace ward::platform {

// A setting of the plan that this OS cannot enforce as asked, and why ("not available on
// Windows: ..."). Not an error: the rest of the plan is applied; the agent records it and
// `wardctl policy lint --target <os>` can say it before the policy ships.
struct SettingNotEnforced {
  std::string setting;
  std::string reason;
  friend bool operator==(const SettingNotEnforced&, const SettingNotEnforced&) = default;
};

// One place where the plan no longer holds: `where` names it in the OS's terms
// ("HKEY_USERS\S-1-5-21-...\Software\Policies\Microsoft\Windows\System\DisableCMD").
struct SettingDrift {
  std::string setting;
  std::string where;
  friend bool operator==(const SettingDrift&, const SettingDrift&) = default;
};

struct SettingsApplyReport {
  std::vector<SettingNotEnforced> not_enforced;
  // What was covered, in plain words, for the agent's log ("3 user hives", "no default user
  // hive at C:\Users\Default\NTUSER.DAT: new accounts get the values at their first logon").
  std::vector<std::string> notes;
};

// Confined to one thread (the settings enforcer's), except Interrupt(), which is thread-safe.
class SettingsLockdown {
 public:
  virtual ~SettingsLockdown() = default;

  // Makes the plan hold. What was there before Ward's first write to each place is remembered
  // durably first, so Restore() can put it back even from another process. Idempotent.
  // Errors: kPermissionDenied/kUnavailable from the OS; what was written stays written.
  virtual Result<SettingsApplyReport> Apply(const policy::SettingsPlan& plan) = 0;

  // Every place where `plan` (as last applied) does not hold now. Empty when nothing drifted.
  virtual Result<std::vector<SettingDrift>> Drifted(const policy::SettingsPlan& plan) = 0;

  // Waits up to `max_wait` for a change anywhere Ward enforces (or a new user signing in).
  // true when there was one (call Drifted() to see what), false on timeout or Interrupt().
  virtual Result<bool> WaitForChange(std::chrono::milliseconds max_wait) = 0;

  // Wakes a WaitForChange() in progress (or the next one) with false.
  virtual void Interrupt() = 0;

  // For uninstall, with the agent stopped: puts back exactly what Apply() replaced (values
  // restored, values Ward added deleted, keys Ward created and left empty deleted) and forgets
  // it. What cannot be put back now (a user hive that is not loaded) is kept for a later call
  // and reported as kUnavailable; everything else is restored regardless.
  virtual Status Restore() = 0;
};

struct SettingsLockdownOptions {
  // Windows: the HKEY_LOCAL_MACHINE subkey where Ward remembers what it replaced.
  std::string restore_key = "SOFTWARE\\Ward\\SettingsRestore";
  // Windows: the default user's hive (copied into every new account's profile). Loaded to write
  // the per-user values when it exists; empty skips it.
  std::filesystem::path default_user_hive = "C:\\Users\\Default\\NTUSER.DAT";
};

// Windows: registry policy values (settings_lockdown_windows.cpp). Linux does not have this
// yet: it enforces settings through SettingsControl (settings_control.h) until it moves onto
// this contract as ADR 0014 describes.
Result<std::unique_ptr<SettingsLockdown>> CreateSettingsLockdown(
    const SettingsLockdownOptions& options);

}  // namespace ward::platform
