// SPDX-License-Identifier: Apache-2.0
// The Windows enforcers in the composition root (issue 12). agent/core decides *what* must hold;
// the platform decides *how*:
//   usb      the Device Installation Restrictions values the USB policy compiles into
//            (CreateUsbInstallPolicy, kept by a core::DeclarativeEnforcer: applied, read back,
//            drift recorded as tamper and reverted), plus the same core::UsbEnforcer as Linux on
//            SetupAPI (CreateDeviceControl) and hot-plug notifications (CreateUeventSource over
//            CreateUsbHotplug): it judges every present device at start and on each arrival
//            and disables what the policy blocks (the rules Windows cannot express).
//   settings the registry policy values of the settings lock-down (CreateSettingsLockdown, ADR
//            0014), kept by a core::DeclarativeEnforcer.
//   exec     not wired: AppLocker (platform/windows/applocker_*) is being built on another
//            branch; it goes in WireExec() below, as a DeclarativeEnforcer target like the two
//            above. Until then `exec` is reported as degraded, never silently missing.
// A part that cannot start is reported as degraded (status file, tray, KIND_DEGRADED).
#include "ward/app/agent.h"

namespace ward::app {
namespace {

void Degrade(AgentDeps& deps, std::string_view subsystem, core::FailureReason reason,
             const std::string& detail) {
  deps.degraded.push_back(std::string(subsystem) + ": " + detail);
  deps.failures->Handle(reason, detail);
}

void WireUsb(AgentDeps& deps) {
  auto install = platform::CreateUsbInstallPolicy({});
  if (install.has_value()) {
    deps.usb_install = *std::move(install);
    deps.usb_install_target = core::UsbInstallTarget(*deps.usb_install);
    deps.usb_policy = std::make_unique<core::DeclarativeEnforcer>(
        *deps.usb_install_target, *deps.events, *deps.failures, *deps.factory);
  } else {
    // Devices are still judged and disabled one by one below; new ones load their driver first.
    Degrade(deps, "usb-install-policy", core::FailureReason::kUsbDefaultsNotSet,
            install.error().ToString());
  }
  deps.devices = platform::CreateDeviceControl({});
  auto source = platform::CreateUeventSource({});
  if (!source.has_value()) {
    Degrade(deps, "usb", core::FailureReason::kUsbPlatformUnavailable, source.error().ToString());
    return;
  }
  deps.uevents = *std::move(source);
  deps.usb =
      std::make_unique<core::UsbEnforcer>(*deps.devices, *deps.uevents, *deps.events, *deps.notices,
                                          *deps.failures, *deps.factory, SystemClock());
}

void WireExec(AgentDeps& deps) {
  Degrade(deps, "exec", core::FailureReason::kExecPlatformUnavailable,
          "the application allowlist is not available on Windows yet");
}

void WireSettings(AgentDeps& deps) {
  auto lockdown = platform::CreateSettingsLockdown({});
  if (!lockdown.has_value()) {
    Degrade(deps, "settings", core::FailureReason::kSettingsApplyFailed,
            lockdown.error().ToString());
    return;
  }
  deps.settings_lockdown = *std::move(lockdown);
  deps.settings_target = core::SettingsLockdownTarget(*deps.settings_lockdown);
  deps.settings_policy = std::make_unique<core::DeclarativeEnforcer>(
      *deps.settings_target, *deps.events, *deps.failures, *deps.factory);
}

}  // namespace

void AgentDeps::CreateEnforcers() {
  if (config.usb) {
    WireUsb(*this);
  }
  if (config.exec) {
    WireExec(*this);
  }
  if (config.settings) {
    WireSettings(*this);
  }
}

}  // namespace ward::app
