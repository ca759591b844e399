// SPDX-License-Identifier: Apache-2.0
// The Linux enforcers in the composition root: USB authorisation (sysfs + uevents), the exec
// allowlist (fanotify) with dpkg provenance, and the dconf/polkit settings lock-down.
#include "ward/app/agent.h"

namespace ward::app {
namespace {

platform::ExecVerdict VerdictFor(core::FailureReason reason) {
  return core::ActionFor(reason) == core::FailureAction::kFailOpen ? platform::ExecVerdict::kAllow
                                                                   : platform::ExecVerdict::kDeny;
}

}  // namespace

void AgentDeps::CreateEnforcers() {
  if (config.usb) {
    devices = platform::CreateDeviceControl({.sysfs_root = config.sysfs_root});
    auto source = platform::CreateUeventSource({});
    if (source.has_value()) {
      uevents = *std::move(source);
      usb = std::make_unique<core::UsbEnforcer>(*devices, *uevents, *events, *notices, *failures,
                                                *factory, SystemClock());
    } else {
      degraded.push_back("usb: " + source.error().ToString());
      failures->Handle(core::FailureReason::kUsbPlatformUnavailable, source.error().ToString());
    }
  }
  if (config.exec) {
    platform::ExecControlOptions options;
    options.mounts = config.exec_mounts;
    options.loaders = config.exec_loaders;
    options.answer_within = config.exec_answer_within;
    options.kernel_cache = config.exec_kernel_cache;
    options.timeout_verdict = VerdictFor(core::FailureReason::kExecDecisionTimeout);
    options.overload_verdict = VerdictFor(core::FailureReason::kExecOverload);
    // Stopping must never leave a program waiting, whatever the policy.
    options.shutdown_verdict = platform::ExecVerdict::kAllow;
    options.trust_own_children = true;
    auto control = platform::CreateExecControl(options);
    if (control.has_value() && config.packages) {
      auto database = platform::CreatePackageDatabase(
          {.root = config.dpkg_root, .admindir = config.dpkg_admindir});
      if (database.has_value()) {
        packages = std::make_unique<core::PackageProvenance>(*std::move(database), *events,
                                                             *factory, *failures);
      } else {
        // Not a dpkg system, or its records cannot be watched: package rules match nothing.
        degraded.push_back("packages: " + database.error().ToString());
      }
    }
    if (control.has_value()) {
      exec_control = *std::move(control);
      exec = std::make_unique<core::ExecEnforcer>(*exec_control, *events, *notices, *failures,
                                                  *factory, packages.get());
    } else {
      degraded.push_back("exec: " + control.error().ToString());
      failures->Handle(core::FailureReason::kExecPlatformUnavailable, control.error().ToString());
    }
  }
  if (config.settings) {
    auto control = platform::CreateSettingsControl({.root = config.settings_root});
    if (control.has_value()) {
      settings_control = *std::move(control);
      settings = std::make_unique<core::SettingsEnforcer>(*settings_control, *events, *failures,
                                                          *factory, config.learner_group);
    } else {
      degraded.push_back("settings: " + control.error().ToString());
      failures->Handle(core::FailureReason::kSettingsApplyFailed, control.error().ToString());
    }
  }
}

}  // namespace ward::app
