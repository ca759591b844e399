// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ward/common/clock.h"
#include "ward/core/active_policy.h"
#include "ward/core/enforcer_thread.h"
#include "ward/core/event_sink.h"
#include "ward/core/failure_policy.h"
#include "ward/platform/device_control.h"
#include "ward/platform/uevent_source.h"

namespace ward::core {

struct UsbEnforcerStats {
  std::uint64_t judged = 0;   // device decisions taken
  std::uint64_t rescans = 0;  // full re-evaluations (start, policy change, lost events)
};

// Enforces the USB policy: root hubs block by default (`authorized_default=0`,
// `interface_authorized_default=0`); each device, those present at start included, is judged by
// the policy's UsbEvaluator from what sysfs and its descriptors say, then authorised, blocked,
// or authorised with some interfaces left unauthorised. In MONITOR everything is authorised and
// what would have been blocked is recorded. Every connect, decision and disconnect is an event;
// a block also notifies the learner.
//
// Owns one event-loop thread (Start/Stop); all device state lives on it. SetPolicy() and
// Stats() are thread-safe. Idle, the thread sleeps in the uevent source: no polling.
class UsbEnforcer {
 public:
  UsbEnforcer(platform::DeviceControl& devices, platform::UeventSource& uevents, EventSink& events,
              NoticeSink& notices, FailurePolicy& failures, EventFactory& factory,
              const Clock& clock);
  ~UsbEnforcer();
  UsbEnforcer(const UsbEnforcer&) = delete;
  UsbEnforcer& operator=(const UsbEnforcer&) = delete;

  // Sets the root hub defaults, judges every device present, then follows uevents.
  void Start(std::shared_ptr<const ActivePolicy> policy);
  // Makes the loop judge every device again under `policy`.
  void SetPolicy(std::shared_ptr<const ActivePolicy> policy);
  // Stops the loop. Root hubs stay fail-closed (authorized_default=0).
  void Stop();
  UsbEnforcerStats Stats() const;

 private:
  void Loop();
  void RescanAll();
  void Judge(const platform::UsbDevice& device, bool arrived);
  void ApplyInterfaces(const platform::UsbDevice& device);
  void OnEvent(const platform::UsbHotplugEvent& event);
  void RecordUsb(const platform::UsbDevice& device, v1::UsbEvent::Kind kind,
                 const policy::UsbDecision* decision, v1::Priority priority);

  platform::DeviceControl& devices_;
  platform::UeventSource& uevents_;
  EventSink& events_;
  NoticeSink& notices_;
  FailurePolicy& failures_;
  EventFactory& factory_;
  const Clock& clock_;

  mutable std::mutex mutex_;
  UsbEnforcerStats stats_;  // guarded by mutex_
  EnforcerThread thread_{[this] { uevents_.Interrupt(); }};

  // Loop thread only.
  std::shared_ptr<const ActivePolicy> policy_;
  std::map<std::string, policy::UsbDecision> decisions_;  // by device id
  std::map<std::string, platform::UsbDevice> known_;      // last description, for disconnects
};

}  // namespace ward::core
