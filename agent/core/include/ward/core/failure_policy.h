// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "ward/core/event_sink.h"

namespace ward::core {

// Every failure the agent decides about on purpose (fapolicyd's failure-action table).
enum class FailureReason : std::uint8_t {
  kUsbPlatformUnavailable,   // no USB bus / sysfs unreadable
  kUsbDefaultsNotSet,        // authorized_default could not be written on a root hub
  kUsbDeviceUnreadable,      // a device's descriptors are missing or malformed
  kUsbApplyFailed,           // writing a device's or interface's `authorized` failed
  kUsbEventsLost,            // the uevent socket overflowed: everything is rescanned
  kExecPlatformUnavailable,  // fanotify could not be set up
  kExecDecisionTimeout,      // an exec was not judged within the bound
  kExecOverload,             // too many execs pending
  kExecHashFailed,           // the program could not be read to hash it
  kPolicyInvalid,            // a new policy did not load; the previous one stays
  kStoreWriteFailed,         // an event could not be stored
  kSettingsApplyFailed,      // Ward's dconf/polkit files could not be written or compiled
  kPackageIndexFailed,       // dpkg's records could not be read or followed
  kCount,
};

enum class FailureAction : std::uint8_t {
  kFailClosed,  // refuse (block the device, refuse the program, keep the old policy)
  kFailOpen,    // let it through, and say so
};

struct FailureRule {
  FailureReason reason;
  FailureAction action;
  std::string_view name;  // stable: "usb-platform-unavailable"
  std::string_view why;   // for staff and docs
};

// The table itself, in FailureReason order. constexpr so tests and docs read the same thing.
const std::array<FailureRule, static_cast<std::size_t>(FailureReason::kCount)>& FailureTable();
FailureAction ActionFor(FailureReason reason);

// Applies the table: counts each failure, logs it, and records an AgentEvent KIND_FAILURE (the
// first of each reason, then one per `report_every` more, so a storm of exec timeouts cannot
// flood the store). Thread-safe.
class FailurePolicy {
 public:
  FailurePolicy(EventSink& sink, EventFactory& events, std::uint64_t report_every = 100)
      : sink_(sink), events_(events), report_every_(report_every) {}

  // What to do about one occurrence; `count` occurrences at once (e.g. timeouts the platform
  // answered) are counted together.
  FailureAction Handle(FailureReason reason, std::string_view detail, std::uint64_t count = 1);
  std::uint64_t Count(FailureReason reason) const;

 private:
  EventSink& sink_;
  EventFactory& events_;
  const std::uint64_t report_every_;
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(FailureReason::kCount)> counts_{};
};

}  // namespace ward::core
