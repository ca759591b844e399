// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ward/common/result.h"
#include "ward/platform/registry_policy.h"
#include "ward/v1/policy.pb.h"

// USB on Windows as a declarative control (ADR 0014, ADR 0017): the policy's USB rules compiled
// into Windows' own Device Installation Restrictions and Removable Storage Access policy values
// (what Group Policy writes for "System > Device Installation > Device Installation
// Restrictions"), plus the rules Windows cannot express, which the agent decides itself and
// enforces by disabling the device. The compiler is portable and pure; the back-end that writes
// the values is Windows-only (windows/usb_install_policy_windows.cpp).
namespace ward::platform {

// HKEY_LOCAL_MACHINE\<kDeviceInstallRestrictionsKey>: the Device Installation Restrictions.
inline constexpr char kDeviceInstallRestrictionsKey[] =
    "Software\\Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions";
// "Removable Disks: Deny read/write/execute access" (Removable Storage Access).
inline constexpr char kRemovableDisksKey[] =
    "Software\\Policies\\Microsoft\\Windows\\RemovableStorageDevices\\"
    "{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}";

// A USB rule (or "(default)" for usb.default_action, "(enrolled) vvvv:pppp" for an enrolled
// device) that Windows' policy cannot express exactly, and why, in plain words. The agent
// decides these devices itself (UsbEvaluator) and disables what it blocks.
struct UsbRuleFallback {
  std::string rule;
  std::string reason;
  friend bool operator==(const UsbRuleFallback&, const UsbRuleFallback&) = default;
};

// The registry state Ward makes hold for USB. Every value is below HKEY_LOCAL_MACHINE.
struct UsbRegistryPlan {
  // Sorted by key, then by name (list entries "1", "2", ... in number order). `setting` names
  // the rule a value comes from ("usb" for the policy-wide switches).
  std::vector<RegistryPolicyValue> values;
  // Places Ward owns whatever the plan says: a value here that the plan does not list is
  // drift and is deleted. Keys whose every value is Ward's (the numbered lists)...
  std::vector<std::string> owned_keys;
  // ... and single values in shared keys ({key, name}).
  std::vector<std::pair<std::string, std::string>> owned_values;
  std::vector<UsbRuleFallback> fallbacks;
  // Plain notes for staff ("MONITOR mode: nothing is written").
  std::vector<std::string> notes;
  friend bool operator==(const UsbRegistryPlan&, const UsbRegistryPlan&) = default;
};

// The Windows plan for a policy's `usb` section (and `mode`: MONITOR writes nothing). The policy
// must be valid (ValidatePolicy). Windows' policy is only ever allowed to block what Ward's own
// evaluator blocks too: a rule whose translation could block more (a wildcard, an earlier rule
// that may allow the same device, the keyboard safety net) falls back instead.
UsbRegistryPlan CompileUsbRegistryPlan(const v1::Policy& policy);

// The plan in .reg syntax, then "; falls back to the agent: <rule>: <reason>" and "; note: ..."
// lines: the golden files' format (tests/testdata/usb/windows/<policy>.reg).
std::string FormatUsbRegistryPlan(const UsbRegistryPlan& plan);

// One place where the plan does not hold: "HKEY_LOCAL_MACHINE\...\DenyDeviceIDs\3", and what is
// there instead ("missing", "\"3\"=\"USB\\VID_1234&PID_0001\"", "unexpected value").
struct UsbPolicyDrift {
  std::string where;
  std::string found;
  friend bool operator==(const UsbPolicyDrift&, const UsbPolicyDrift&) = default;
};

// The declarative USB control (the same contract as SettingsLockdown). Confined to one thread,
// except Interrupt(), which is thread-safe.
class UsbInstallPolicy {
 public:
  virtual ~UsbInstallPolicy() = default;

  // Makes the plan hold exactly: planned values written, values in owned places that the plan
  // does not list deleted. What the owned keys held before Ward's first Apply is saved first so
  // Restore() can put it back. An empty plan (MONITOR mode, nothing Windows can express) is
  // Restore(): the machine as before Ward, not Ward's last plan. Idempotent.
  virtual Status Apply(const UsbRegistryPlan& plan) = 0;

  // Every place where `plan` does not hold now (read back from the registry). Empty when none.
  virtual Result<std::vector<UsbPolicyDrift>> Drifted(const UsbRegistryPlan& plan) = 0;

  // Waits up to `max_wait` for a change below the policy keys. true when there was one.
  virtual Result<bool> WaitForChange(std::chrono::milliseconds max_wait) = 0;
  virtual void Interrupt() = 0;

  // For uninstall: the owned keys exactly as before Ward's first Apply; the saved copy is deleted.
  virtual Status Restore() = 0;
};

struct UsbInstallPolicyOptions {
  // HKEY_LOCAL_MACHINE subkey where the keys' earlier contents are saved.
  std::string restore_key = "SOFTWARE\\Ward\\UsbRestore";
};

// Windows only: the registry back-end (windows/usb_install_policy_windows.cpp). Linux has no
// such policy; the USB enforcer there uses sysfs authorisation (DeviceControl).
Result<std::unique_ptr<UsbInstallPolicy>> CreateUsbInstallPolicy(
    const UsbInstallPolicyOptions& options);

}  // namespace ward::platform
