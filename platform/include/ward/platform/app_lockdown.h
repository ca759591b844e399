// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ward/common/result.h"
#include "ward/platform/settings_lockdown.h"
#include "ward/v1/policy.pb.h"

// The declarative application control (ADR 0014, ADR 0020): agent/core hands over the policy's
// allowlist and mode; the platform compiles it into what the OS enforces itself (Windows:
// AppLocker rules in their Group Policy registry form, applocker_policy.h), applies it, reports
// drift, watches for changes and puts back what was there when Ward is removed. One contract
// suite (tests/platform/app_lockdown_contract.h) runs against every implementation.
namespace ward::platform {

struct AppApplyReport {
  // Rules this OS cannot enforce as written, with the reason (not an error; the rest applies).
  std::vector<SettingNotEnforced> not_enforced;
  // false: the rules are written but this edition of the OS is not known to block by them (a
  // degradation the agent records and reports once per policy; docs/enforcement-windows.md).
  bool os_enforces = true;
  std::vector<std::string> notes;  // plain words for the agent's log
};

// Confined to one thread (the application enforcer's), except Interrupt(), which is thread-safe.
class AppLockdown {
 public:
  virtual ~AppLockdown() = default;

  // Makes the compiled policy hold exactly (rules no longer in it are removed). What was there
  // before Ward's first write is remembered durably first. Idempotent: applying the same policy
  // again writes nothing.
  virtual Result<AppApplyReport> Apply(const v1::AppPolicy& apps, v1::Mode mode) = 0;

  // Every place where the compiled policy does not hold now (a rule changed, missing or added
  // by someone else, the enforcement mode, the service's start type). Empty when nothing drifted.
  // `setting` is the Ward rule id ("apps.mode", "apps.service", "apps.extra-rule" otherwise).
  virtual Result<std::vector<SettingDrift>> Drifted(const v1::AppPolicy& apps, v1::Mode mode) = 0;

  // Waits up to `max_wait` for a change where Ward enforces; true when there was one.
  virtual Result<bool> WaitForChange(std::chrono::milliseconds max_wait) = 0;

  // Wakes a WaitForChange() in progress (or the next one) with false.
  virtual void Interrupt() = 0;

  // For uninstall, with the agent stopped: puts back what Apply() replaced and forgets it.
  virtual Status Restore() = 0;
};

struct AppLockdownOptions {
  // Windows: the HKEY_LOCAL_MACHINE subkey where Ward keeps what it replaced.
  std::string restore_key = "SOFTWARE\\Ward\\AppLockerRestore";
  // Windows: the edition to assume instead of reading EditionID (tests); empty reads it.
  std::string edition_for_testing;
};

// Windows: AppLocker (windows/applocker_lockdown_windows.cpp). Linux enforces applications by
// answering fanotify (exec_control.h) and has no such back-end.
Result<std::unique_ptr<AppLockdown>> CreateAppLockdown(const AppLockdownOptions& options);

}  // namespace ward::platform
