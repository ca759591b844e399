// SPDX-License-Identifier: Apache-2.0
// The Windows enforcers in the composition root. None has a Windows backend wired in yet, so
// each one the config turns on is reported as degraded (in the status file, the tray's status
// and to the collector as KIND_DEGRADED), never silently missing.
//
// Where they go when they exist (issue 12/13):
//   usb      platform/windows/usb_* (SetupAPI/CM device control): build a core::UsbEnforcer
//            here exactly as enforcer_wiring_linux.cpp does, from platform::CreateDeviceControl
//            and platform::CreateUeventSource.
//   exec     platform/windows/applocker_* (AppLocker/WDAC rules rendered from the policy): a
//            declarative control like the settings one, not fanotify's per-exec answers.
//   settings platform/windows/settings_lockdown_windows.cpp exists (registry policy values),
//            but core::SettingsEnforcer drives the Linux platform::SettingsControl; an enforcer
//            for platform::SettingsLockdown is still to be written.
#include "ward/app/agent.h"

namespace ward::app {
namespace {

void NotOnWindowsYet(AgentDeps& deps, std::string_view subsystem, core::FailureReason reason,
                     std::string_view what) {
  const std::string detail = std::string(what) + " is not available on Windows yet";
  deps.degraded.push_back(std::string(subsystem) + ": " + detail);
  deps.failures->Handle(reason, detail);
}

}  // namespace

void AgentDeps::CreateEnforcers() {
  if (config.usb) {
    NotOnWindowsYet(*this, "usb", core::FailureReason::kUsbPlatformUnavailable,
                    "USB device control");
  }
  if (config.exec) {
    NotOnWindowsYet(*this, "exec", core::FailureReason::kExecPlatformUnavailable,
                    "the application allowlist");
  }
  if (config.settings) {
    NotOnWindowsYet(*this, "settings", core::FailureReason::kSettingsApplyFailed,
                    "the settings lock-down in the agent");
  }
}

}  // namespace ward::app
