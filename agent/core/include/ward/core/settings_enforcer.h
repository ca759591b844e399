// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ward/core/active_policy.h"
#include "ward/core/enforcer_thread.h"
#include "ward/core/event_sink.h"
#include "ward/core/failure_policy.h"
#include "ward/core/settings_render.h"
#include "ward/platform/settings_control.h"

namespace ward::core {

struct SettingsEnforcerStats {
  std::uint64_t applied = 0;   // policies written and compiled
  std::uint64_t reverted = 0;  // drifted files put back
};

// Writes the policy's settings lock-down (dconf keyfile, locks, profile; polkit rules) and keeps
// it: every change in Ward's directories is checked at once, and a drifted file is put back and
// recorded (SettingsEvent DRIFT_REVERTED, AgentEvent TAMPER). Owns one event-loop thread that
// sleeps in inotify when nothing changes. SetPolicy() and Stats() are thread-safe.
class SettingsEnforcer {
 public:
  SettingsEnforcer(platform::SettingsControl& control, EventSink& events, FailurePolicy& failures,
                   EventFactory& factory, std::string learner_group);
  ~SettingsEnforcer();
  SettingsEnforcer(const SettingsEnforcer&) = delete;
  SettingsEnforcer& operator=(const SettingsEnforcer&) = delete;

  void Start(std::shared_ptr<const ActivePolicy> policy);
  void SetPolicy(std::shared_ptr<const ActivePolicy> policy);
  void Stop();
  SettingsEnforcerStats Stats() const;

 private:
  void Loop();
  void ApplyPolicy();
  void RevertDrift();
  void RecordSettings(v1::SettingsEvent::Kind kind, const std::string& setting,
                      const std::string& detail, v1::Priority priority);

  platform::SettingsControl& control_;
  EventSink& events_;
  FailurePolicy& failures_;
  EventFactory& factory_;
  const std::string learner_group_;

  mutable std::mutex mutex_;
  SettingsEnforcerStats stats_;  // guarded by mutex_
  EnforcerThread thread_{[this] { control_.Interrupt(); }};

  // Loop thread only.
  std::shared_ptr<const ActivePolicy> policy_;
  std::vector<platform::ManagedFile> files_;
};

}  // namespace ward::core
