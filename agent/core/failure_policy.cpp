// SPDX-License-Identifier: Apache-2.0
#include "ward/core/failure_policy.h"

#include <string>

#include "ward/common/log.h"

namespace ward::core {

namespace {
using enum FailureReason;
using enum FailureAction;

constexpr std::array<FailureRule, static_cast<std::size_t>(kCount)> kTable = {{
    {kUsbPlatformUnavailable, kFailClosed, "usb-platform-unavailable",
     "devices stay as the kernel left them; root hubs keep authorized_default=0"},
    {kUsbDefaultsNotSet, kFailClosed, "usb-defaults-not-set",
     "devices are still judged one by one as they arrive"},
    {kUsbDeviceUnreadable, kFailClosed, "usb-device-unreadable",
     "a device that cannot be described is blocked"},
    {kUsbApplyFailed, kFailClosed, "usb-apply-failed",
     "the device is left unauthorised (the kernel default)"},
    {kUsbEventsLost, kFailClosed, "usb-events-lost",
     "every device is judged again; new ones stay blocked until then"},
    {kExecPlatformUnavailable, kFailOpen, "exec-platform-unavailable",
     "programs run unchecked; the agent reports itself degraded"},
    {kExecDecisionTimeout, kFailOpen, "exec-decision-timeout",
     "a slow decision must not freeze the laptop: the program runs and it is recorded"},
    {kExecOverload, kFailOpen, "exec-overload",
     "under an exec storm the extra programs run unjudged and it is recorded"},
    {kExecHashFailed, kFailClosed, "exec-hash-failed",
     "a program that cannot be read cannot be matched: it is refused"},
    {kPolicyInvalid, kFailClosed, "policy-invalid", "the previous policy stays in force"},
    {kStoreWriteFailed, kFailOpen, "store-write-failed",
     "enforcement goes on; the lost event is counted"},
    {kSettingsApplyFailed, kFailClosed, "settings-apply-failed",
     "the files already in place stay; the next change or reload retries"},
    {kPackageIndexFailed, kFailClosed, "package-index-failed",
     "the last package records read stay in force (none: no program has a package, so package "
     "rules allow nothing); the next change of the records retries"},
}};

constexpr bool TableInOrder() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].reason) != i) {
      return false;
    }
  }
  return true;
}
static_assert(TableInOrder(), "FailureTable must list every FailureReason in order");
}  // namespace

const std::array<FailureRule, static_cast<std::size_t>(FailureReason::kCount)>& FailureTable() {
  return kTable;
}

FailureAction ActionFor(FailureReason reason) {
  return kTable[static_cast<std::size_t>(reason)].action;
}

FailureAction FailurePolicy::Handle(FailureReason reason, std::string_view detail,
                                    std::uint64_t count) {
  const FailureRule& rule = kTable[static_cast<std::size_t>(reason)];
  const std::uint64_t before =
      counts_[static_cast<std::size_t>(reason)].fetch_add(count, std::memory_order_relaxed);
  const std::uint64_t after = before + count;
  // Report the first, then each time the count crosses another multiple of report_every_.
  const bool report = before == 0 || (after / report_every_) != (before / report_every_);
  if (report) {
    const std::string action =
        rule.action == FailureAction::kFailClosed ? "fail-closed" : "fail-open";
    log::Warning("failure policy applied", {{"failure", rule.name},
                                            {"action", action},
                                            {"count", after},
                                            {"detail", std::string(detail)}});
    v1::Event event = events_.New(v1::PRIORITY_HIGH, 0);
    auto* agent = event.mutable_agent();
    agent->set_kind(v1::AgentEvent::KIND_FAILURE);
    agent->set_detail(std::string(rule.name) + " (" + action + "): " + std::string(detail));
    agent->set_count(after);
    sink_.Record(std::move(event));
  }
  return rule.action;
}

std::uint64_t FailurePolicy::Count(FailureReason reason) const {
  return counts_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
}

}  // namespace ward::core
