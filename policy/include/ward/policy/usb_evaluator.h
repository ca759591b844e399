// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/result.h"
#include "ward/v1/policy.pb.h"

namespace ward::policy {

// One interface of a USB device: its class triple and bInterfaceNumber.
struct UsbInterface {
  std::uint8_t cls = 0;
  std::uint8_t subclass = 0;
  std::uint8_t protocol = 0;
  std::uint8_t number = 0;
};

// What the platform knows about a USB device when it arrives. Strings are empty when unknown.
struct UsbDeviceInfo {
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;
  std::string serial;
  std::string name;          // product string
  std::string via_port;      // "1-2"
  std::string connect_type;  // sysfs port connect_type: "hotplug", "hardwired", ...
  std::string hash;          // USBGuard-style descriptor hash
  std::string parent_hash;
  std::vector<UsbInterface> interfaces;  // in descriptor order
};

enum class UsbVerdict : std::uint8_t { kAllow, kBlock, kReject };

// Why a verdict was reached.
enum class UsbReason : std::uint8_t {
  kRule,       // a policy rule (rule_id names it)
  kDefault,    // no rule matched: usb.default_action
  kSafetyNet,  // a keyboard/mouse kept working although the rules would block it
  kEnrolled,   // a device present at enrolment (usb.enrolled_devices)
};

struct UsbInterfaceDecision {
  std::uint8_t number = 0;
  UsbVerdict verdict = UsbVerdict::kBlock;
  UsbReason reason = UsbReason::kDefault;
  std::string rule_id;
};

// The decision for one device. `verdict` is what the policy says; `enforce` is false in MONITOR
// mode, where the agent authorises everything and records what would have been blocked.
struct UsbDecision {
  UsbVerdict verdict = UsbVerdict::kBlock;
  UsbReason reason = UsbReason::kDefault;
  std::string rule_id;  // the rule behind the verdict (empty for kDefault/kSafetyNet/kEnrolled)
  // When the device is allowed but some interfaces are blocked, these name the first blocked
  // interface's rule, so the learner hears why part of the device does not work.
  std::string message;  // learner-facing; empty when nothing is blocked
  std::string url;
  bool enforce = true;
  // One entry per interface of the device, in the same order. A device is authorised when any
  // interface is allowed; blocked interfaces are then deauthorised one by one.
  std::vector<UsbInterfaceDecision> interfaces;

  bool AnyBlocked() const;
};

// Local time of day, supplied by the caller (the evaluator reads no clock).
struct LocalTimeOfDay {
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
};

// Decides USB devices against a policy's UsbPolicy. The policy is compiled at construction into
// matchers indexed by vendor:product, so evaluation looks only at rules that can apply.
//
// Semantics (docs/policy.md, "USB evaluation"):
// - enrolled devices are allowed first, whatever the rules say;
// - rules are tried in order; a device-scoped rule that matches decides every interface not yet
//   decided; an interface-scoped rule decides the undecided interfaces whose class it matches;
//   what is left gets usb.default_action (BLOCK when unspecified);
// - rules with `when` apply only inside their daily window at `now`;
// - safety net: a device whose interfaces are all HID keyboard/mouse (03:*:01, 03:*:02) or
//   generic HID (03:00:*) stays allowed unless the blocking rule names it explicitly (see
//   NamesDeviceExplicitly).
//
// Immutable after construction: Evaluate is thread-safe.
class UsbEvaluator {
 public:
  // The policy's usb section must pass validation (as in ValidatePolicy); otherwise
  // kInvalidArgument listing the issues. Only `usb` and `mode` are read.
  static ward::Result<std::unique_ptr<UsbEvaluator>> Create(const ward::v1::Policy& policy);
  ~UsbEvaluator();
  UsbEvaluator(const UsbEvaluator&) = delete;
  UsbEvaluator& operator=(const UsbEvaluator&) = delete;

  UsbDecision Evaluate(const UsbDeviceInfo& device, LocalTimeOfDay now) const;

  // True when the rule names this particular device: it has a device_id without any "*", or a
  // serial, name or hash, and that attribute's operator is not NONE_OF. Vendor-wide ids
  // ("046d:*"), class rules and catch-alls do not name a device, so they cannot take a
  // keyboard or mouse away.
  static bool NamesDeviceExplicitly(const ward::v1::UsbRule& rule);

 private:
  struct Compiled;
  explicit UsbEvaluator(std::unique_ptr<Compiled> compiled);
  std::unique_ptr<Compiled> compiled_;
};

std::string_view UsbVerdictName(UsbVerdict verdict);  // "allow", "block", "reject"
std::string_view UsbReasonName(UsbReason reason);     // "rule", "default", "safety-net", "enrolled"

}  // namespace ward::policy
