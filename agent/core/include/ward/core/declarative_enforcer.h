// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ward/core/active_policy.h"
#include "ward/core/enforcer_thread.h"
#include "ward/core/event_sink.h"
#include "ward/core/failure_policy.h"
#include "ward/platform/settings_lockdown.h"
#include "ward/platform/usb_install_policy.h"
#include "ward/policy/settings_plan.h"

// The enforcer for the declarative controls (ADR 0014, ADR 0017): agent/core decides *what* must
// hold for a policy (the USB registry plan, the settings plan); the platform control decides
// *how*, applies it, reads it back and watches it. The enforcer applies the plan, checks it on
// every change the control reports and at least every `verify_every`, and when something no
// longer holds it records the drift as tamper (AgentEvent KIND_TAMPER, CRITICAL) and applies the
// plan again.
namespace ward::core {

// One place where the plan no longer holds, in the OS's words.
struct DriftedPlace {
  std::string setting;  // the catalogue name for settings; "" for USB
  std::string where;
};

// What an Apply did: the notes for the log (rules that fall back to the agent, settings not
// enforced), and the settings it applied (name, "locked"/"default"), each recorded as a
// SettingsEvent KIND_APPLIED.
struct AppliedPlan {
  std::vector<std::string> notes;
  std::vector<std::pair<std::string, std::string>> settings;
};

// A declarative control as the enforcer sees it. Confined to the enforcer's thread, except
// Interrupt().
class DeclarativeTarget {
 public:
  virtual ~DeclarativeTarget() = default;
  // "USB device installation policy", "settings lock-down": for tamper details and logs.
  virtual std::string Name() const = 0;
  // The failure reason for an apply that fails.
  virtual FailureReason ApplyFailure() const = 0;
  // Computes the plan for `policy` and makes it hold.
  virtual Result<AppliedPlan> Apply(const ActivePolicy& policy) = 0;
  // Makes the last applied plan hold again.
  virtual Status Reapply() = 0;
  // Where the last applied plan does not hold now.
  virtual Result<std::vector<DriftedPlace>> Drifted() = 0;
  virtual Result<bool> WaitForChange(std::chrono::milliseconds max_wait) = 0;
  virtual void Interrupt() = 0;
};

// The USB registry plan (CompileUsbRegistryPlan: nothing in MONITOR mode) on a UsbInstallPolicy.
std::unique_ptr<DeclarativeTarget> UsbInstallTarget(platform::UsbInstallPolicy& control);
// The settings plan (CompileSettingsPlan) on a SettingsLockdown. In MONITOR mode nothing is
// written and what Ward wrote before is put back (Restore): record only.
std::unique_ptr<DeclarativeTarget> SettingsLockdownTarget(platform::SettingsLockdown& control);

struct DeclarativeEnforcerStats {
  std::uint64_t applied = 0;   // plans applied
  std::uint64_t checks = 0;    // read-backs
  std::uint64_t reverted = 0;  // drifted places put back
};

// Owns one event-loop thread (Start/Stop). SetPolicy() and Stats() are thread-safe.
class DeclarativeEnforcer {
 public:
  DeclarativeEnforcer(DeclarativeTarget& target, EventSink& events, FailurePolicy& failures,
                      EventFactory& factory,
                      std::chrono::milliseconds verify_every = std::chrono::minutes(1));
  ~DeclarativeEnforcer();
  DeclarativeEnforcer(const DeclarativeEnforcer&) = delete;
  DeclarativeEnforcer& operator=(const DeclarativeEnforcer&) = delete;

  void Start(std::shared_ptr<const ActivePolicy> policy);
  void SetPolicy(std::shared_ptr<const ActivePolicy> policy);
  void Stop();
  DeclarativeEnforcerStats Stats() const;

 private:
  void Loop();
  void ApplyPolicy();
  void CheckDrift();
  void RecordSettings(v1::SettingsEvent::Kind kind, const std::string& setting,
                      const std::string& detail, v1::Priority priority);

  DeclarativeTarget& target_;
  EventSink& events_;
  FailurePolicy& failures_;
  EventFactory& factory_;
  const std::chrono::milliseconds verify_every_;

  mutable std::mutex mutex_;
  DeclarativeEnforcerStats stats_;  // guarded by mutex_
  EnforcerThread thread_{[this] { target_.Interrupt(); }};

  // Loop thread only.
  std::shared_ptr<const ActivePolicy> policy_;
  bool applied_ = false;    // the last Apply succeeded: there is a plan to check
  bool attempted_ = false;  // Apply was called at least once
};

}  // namespace ward::core
