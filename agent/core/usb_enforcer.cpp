// SPDX-License-Identifier: Apache-2.0
#include "ward/core/usb_enforcer.h"

#include <time.h>

#include <algorithm>

#include "internal/local_time.h"
#include "ward/common/log.h"

namespace ward::core {
namespace {

using platform::Authorization;
using policy::UsbVerdict;

// Long enough that an idle agent does not wake; SetPolicy()/Stop() interrupt it.
constexpr auto kIdleWait = std::chrono::hours(1);

policy::UsbDeviceInfo ToInfo(const platform::UsbDevice& device) {
  policy::UsbDeviceInfo info;
  info.vendor_id = device.vendor_id;
  info.product_id = device.product_id;
  info.serial = device.serial;
  info.name = device.product;
  info.via_port = device.id;
  info.connect_type = device.connect_type;
  for (const auto& i : device.interfaces) {
    info.interfaces.push_back(policy::UsbInterface{.cls = i.interface_class,
                                                   .subclass = i.interface_subclass,
                                                   .protocol = i.interface_protocol,
                                                   .number = i.number});
  }
  return info;
}

v1::Decision ToProto(UsbVerdict verdict, bool enforce) {
  if (verdict == UsbVerdict::kAllow) {
    return v1::DECISION_ALLOW;
  }
  return enforce ? v1::DECISION_BLOCK : v1::DECISION_WOULD_BLOCK;
}

std::string RuleLabel(const policy::UsbDecision& d) {
  switch (d.reason) {
    case policy::UsbReason::kRule:
      return d.rule_id;
    case policy::UsbReason::kSafetyNet:
      return "safety-net";
    case policy::UsbReason::kEnrolled:
      return "enrolled-device";
    case policy::UsbReason::kDefault:
      return "";
  }
  return "";
}

// The decision when a device cannot be described: blocked, every interface too.
policy::UsbDecision FailClosed(const platform::UsbDevice& device, bool enforce) {
  policy::UsbDecision d;
  d.verdict = UsbVerdict::kBlock;
  d.reason = policy::UsbReason::kDefault;
  d.enforce = enforce;
  for (const auto& i : device.interfaces) {
    policy::UsbInterfaceDecision blocked;
    blocked.number = i.number;
    blocked.verdict = UsbVerdict::kBlock;
    d.interfaces.push_back(std::move(blocked));
  }
  return d;
}

// Whether the interface with this number may be bound. Unknown numbers (not in the decision:
// the device changed configuration) are blocked.
bool InterfaceAllowed(const policy::UsbDecision& d, std::uint8_t number) {
  if (!d.enforce) {
    return true;
  }
  const auto it = std::find_if(d.interfaces.begin(), d.interfaces.end(),
                               [&](const auto& i) { return i.number == number; });
  return it != d.interfaces.end() && it->verdict == UsbVerdict::kAllow;
}

}  // namespace

UsbEnforcer::UsbEnforcer(platform::DeviceControl& devices, platform::UeventSource& uevents,
                         EventSink& events, NoticeSink& notices, FailurePolicy& failures,
                         EventFactory& factory, const Clock& clock)
    : devices_(devices),
      uevents_(uevents),
      events_(events),
      notices_(notices),
      failures_(failures),
      factory_(factory),
      clock_(clock) {}

UsbEnforcer::~UsbEnforcer() { Stop(); }

void UsbEnforcer::Start(std::shared_ptr<const ActivePolicy> policy) {
  thread_.Start(std::move(policy), [this] { Loop(); });
}

void UsbEnforcer::SetPolicy(std::shared_ptr<const ActivePolicy> policy) {
  thread_.Post(std::move(policy));
}

void UsbEnforcer::Stop() {
  if (!thread_.Stop()) {
    return;
  }
}

UsbEnforcerStats UsbEnforcer::Stats() const {
  std::scoped_lock lock(mutex_);
  return stats_;
}

void UsbEnforcer::Loop() {
  // Fail closed before looking: a device plugged in from now on waits for its decision.
  auto hubs = devices_.SetDefaultAuthorization(Authorization::kBlocked, Authorization::kBlocked);
  // kUnsupported: the platform holds new devices another way (Windows: the device installation
  // policy, applied by the DeclarativeEnforcer before this loop starts).
  if (!hubs.has_value() && hubs.error().code() != ErrorCode::kUnsupported) {
    failures_.Handle(hubs.error().code() == ErrorCode::kUnavailable
                         ? FailureReason::kUsbPlatformUnavailable
                         : FailureReason::kUsbDefaultsNotSet,
                     hubs.error().ToString());
  }
  while (!thread_.stopping()) {
    if (auto changed = thread_.TakePolicy(); changed != nullptr) {
      policy_ = std::move(changed);
      RescanAll();
    }
    auto next = uevents_.Next(kIdleWait);
    if (!next.has_value()) {
      failures_.Handle(FailureReason::kUsbPlatformUnavailable, next.error().ToString());
      // The source is broken (degraded): retry slowly, or sooner on SetPolicy()/Stop().
      thread_.Pause(std::chrono::seconds(5));
      continue;
    }
    if (next->has_value() && policy_ != nullptr) {
      OnEvent(**next);
    }
  }
}

void UsbEnforcer::RescanAll() {
  {
    std::scoped_lock lock(mutex_);
    ++stats_.rescans;
  }
  auto devices = devices_.Enumerate();
  if (!devices.has_value()) {
    failures_.Handle(FailureReason::kUsbPlatformUnavailable, devices.error().ToString());
    return;
  }
  std::map<std::string, platform::UsbDevice> present;
  for (const auto& device : *devices) {
    if (device.root_hub) {
      continue;
    }
    const bool arrived = !known_.contains(device.id);
    Judge(device, arrived);
    present.emplace(device.id, device);
  }
  // Devices that left while we were not listening.
  for (const auto& [id, device] : known_) {
    if (!present.contains(id)) {
      RecordUsb(device, v1::UsbEvent::KIND_DISCONNECTED, nullptr, v1::PRIORITY_LOW);
      decisions_.erase(id);
    }
  }
  known_ = std::move(present);
}

void UsbEnforcer::OnEvent(const platform::UsbHotplugEvent& event) {
  using Kind = platform::UsbHotplugEvent::Kind;
  if (event.kind == Kind::kRescan) {
    RescanAll();
    return;
  }
  if (event.kind == Kind::kRescanAll) {
    failures_.Handle(FailureReason::kUsbEventsLost, "uevent socket overflowed; rescanning");
    RescanAll();
    return;
  }
  const std::string device_id =
      event.is_interface ? event.id.substr(0, event.id.find(':')) : event.id;
  if (event.kind == Kind::kRemoved) {
    if (!event.is_interface) {
      if (auto it = known_.find(device_id); it != known_.end()) {
        RecordUsb(it->second, v1::UsbEvent::KIND_DISCONNECTED, nullptr, v1::PRIORITY_LOW);
        known_.erase(it);
      }
      decisions_.erase(device_id);
    }
    return;
  }
  auto device = devices_.Describe(device_id);
  if (!device.has_value()) {
    if (device.error().code() != ErrorCode::kNotFound) {
      failures_.Handle(FailureReason::kUsbDeviceUnreadable, device.error().ToString());
    }
    return;
  }
  if (device->root_hub) {
    return;
  }
  const bool arrived = !known_.contains(device_id);
  if (event.is_interface && !arrived && decisions_.contains(device_id)) {
    // The kernel created interfaces of a device we authorised: apply the per-interface part.
    ApplyInterfaces(*device);
  } else {
    Judge(*device, arrived);
  }
  known_.insert_or_assign(device_id, *std::move(device));
}

void UsbEnforcer::Judge(const platform::UsbDevice& device, bool arrived) {
  const bool enforce = policy_->enforce();
  policy::UsbDecision decision;
  if (!device.interfaces_error.empty()) {
    failures_.Handle(FailureReason::kUsbDeviceUnreadable,
                     device.id + ": " + device.interfaces_error);
    decision = FailClosed(device, enforce);
  } else {
    const std::time_t now = std::chrono::system_clock::to_time_t(clock_.Now());
    const std::tm local = internal::LocalTime(now);
    decision =
        policy_->usb->Evaluate(ToInfo(device), policy::LocalTimeOfDay{local.tm_hour, local.tm_min});
    decision.enforce = enforce;
  }
  {
    std::scoped_lock lock(mutex_);
    ++stats_.judged;
  }
  if (arrived) {
    RecordUsb(device, v1::UsbEvent::KIND_CONNECTED, nullptr, v1::PRIORITY_LOW);
  }
  const bool device_allowed = !enforce || decision.verdict == UsbVerdict::kAllow;
  const auto previous = decisions_.find(device.id);
  const bool unchanged = previous != decisions_.end() &&
                         previous->second.verdict == decision.verdict &&
                         previous->second.AnyBlocked() == decision.AnyBlocked();
  decisions_.insert_or_assign(device.id, decision);

  if (enforce && decision.verdict == UsbVerdict::kReject) {
    // Rejected: blocked first (in case removal fails), then logically disconnected.
    if (device.authorized) {
      (void)devices_.SetAuthorization(device.id, Authorization::kBlocked);
    }
    if (auto removed = devices_.Remove(device.id); !removed.has_value()) {
      failures_.Handle(FailureReason::kUsbApplyFailed, removed.error().ToString());
    }
  } else if (device_allowed != device.authorized) {
    auto status = devices_.SetAuthorization(
        device.id, device_allowed ? Authorization::kAllowed : Authorization::kBlocked);
    if (!status.has_value()) {
      failures_.Handle(FailureReason::kUsbApplyFailed, status.error().ToString());
      if (device_allowed) {
        return;  // it stays unauthorised
      }
    }
  }
  if (device_allowed) {
    ApplyInterfaces(device);
  }
  if (unchanged && !arrived) {
    return;  // re-judged (rescan, change uevent) with the same outcome: nothing new to record
  }
  const bool blocked_something = decision.verdict != UsbVerdict::kAllow || decision.AnyBlocked();
  RecordUsb(
      device, v1::UsbEvent::KIND_DECIDED, &decision,
      !blocked_something ? v1::PRIORITY_LOW : (enforce ? v1::PRIORITY_HIGH : v1::PRIORITY_NORMAL));
  if (blocked_something) {
    v1::Notice notice;
    auto* blocked = notice.mutable_usb_blocked();
    blocked->set_device_name(device.product.empty() ? UsbDeviceIdString(device) : device.product);
    blocked->set_message(!decision.message.empty() ? decision.message
                                                   : policy_->policy.usb().default_message());
    blocked->set_url(decision.url);
    blocked->set_monitor_only(!enforce);
    notices_.Notify(std::move(notice));
  }
}

void UsbEnforcer::ApplyInterfaces(const platform::UsbDevice& device) {
  const auto it = decisions_.find(device.id);
  if (it == decisions_.end()) {
    return;
  }
  for (const auto& i : device.interfaces) {
    // Only an interface that is a node of its own can be authorised: a sysfs interface on
    // Linux, an interface node (...&MI_nn) of a composite device on Windows. One learnt from
    // descriptors (Linux, not yet created) or folded into its device (Windows) has no id.
    if (i.id.empty()) {
      continue;
    }
    const bool allowed = InterfaceAllowed(it->second, i.number);
    if (allowed == i.authorized) {
      continue;
    }
    auto status = devices_.SetInterfaceAuthorization(
        i.id, allowed ? Authorization::kAllowed : Authorization::kBlocked);
    if (!status.has_value()) {
      failures_.Handle(FailureReason::kUsbApplyFailed, status.error().ToString());
    }
  }
}

void UsbEnforcer::RecordUsb(const platform::UsbDevice& device, v1::UsbEvent::Kind kind,
                            const policy::UsbDecision* decision, v1::Priority priority) {
  v1::Event event = factory_.New(priority, policy_ != nullptr ? policy_->policy.version() : 0);
  auto* usb = event.mutable_usb();
  usb->set_kind(kind);
  auto* d = usb->mutable_device();
  d->set_device_id(UsbDeviceIdString(device));
  d->set_serial(device.serial);
  d->set_name(device.product);
  d->set_manufacturer(device.manufacturer);
  d->set_via_port(device.id);
  d->set_connect_type(device.connect_type);
  for (const auto& i : device.interfaces) {
    d->add_interfaces(UsbInterfaceClassString(i));
  }
  if (decision != nullptr) {
    usb->set_decision(ToProto(decision->verdict, decision->enforce));
    usb->set_rule_id(RuleLabel(*decision));
    for (std::size_t n = 0; n < decision->interfaces.size(); ++n) {
      const auto& id = decision->interfaces[n];
      auto* out = usb->add_interfaces();
      out->set_number(id.number);
      if (n < device.interfaces.size()) {
        out->set_interface_class(UsbInterfaceClassString(device.interfaces[n]));
      }
      out->set_decision(ToProto(id.verdict, decision->enforce));
      out->set_rule_id(id.rule_id);
    }
  }
  events_.Record(std::move(event));
}

}  // namespace ward::core
