// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/usb_evaluator.h"

#include <algorithm>
#include <optional>
#include <span>
#include <unordered_map>

#include "internal/set_match.h"
#include "internal/syntax.h"
#include "internal/validate.h"
#include "ward/policy/loader.h"

namespace ward::policy {
namespace {

using internal::DailyWindow;
using internal::DeviceIdPattern;
using internal::InterfacePattern;
using ward::v1::SetOperator;

constexpr std::string_view kFallbackMessage =
    "This USB device can't be used on this laptop. Ask IT if you need it.";

std::uint32_t IdKey(int vendor, int product) {
  return (static_cast<std::uint32_t>(vendor) << 16) | static_cast<std::uint32_t>(product);
}

UsbVerdict ToVerdict(ward::v1::UsbAction action) {
  switch (action) {
    case ward::v1::USB_ACTION_ALLOW:
      return UsbVerdict::kAllow;
    case ward::v1::USB_ACTION_REJECT:
      return UsbVerdict::kReject;
    default:
      return UsbVerdict::kBlock;
  }
}

// A string attribute of a rule: unset (matches anything) or values under an operator.
struct StringMatcher {
  bool set = false;
  SetOperator op = ward::v1::SET_OPERATOR_UNSPECIFIED;
  std::vector<std::string> values;

  explicit StringMatcher(const ward::v1::StringSet& s)
      : set(!s.values().empty()), op(s.op()), values(s.values().begin(), s.values().end()) {}

  bool Matches(const std::string& device_value) const {
    if (!set) {
      return true;
    }
    return internal::EvaluateSet(op, std::span<const std::string>(values),
                                 std::span<const std::string>(&device_value, 1),
                                 [](const std::string& a, const std::string& b) { return a == b; });
  }
};

bool IsHidInput(const UsbInterface& i) {
  return i.cls == 0x03 && (i.protocol == 0x01 || i.protocol == 0x02 || i.subclass == 0x00);
}

}  // namespace

namespace internal {

// One UsbRule with its patterns parsed.
struct CompiledUsbRule {
  std::string id;
  UsbVerdict verdict = UsbVerdict::kBlock;
  bool interface_scope = false;
  bool names_device = false;
  bool has_ids = false;
  SetOperator ids_op = ward::v1::SET_OPERATOR_UNSPECIFIED;
  std::vector<DeviceIdPattern> ids;
  bool has_interfaces = false;
  SetOperator interfaces_op = ward::v1::SET_OPERATOR_UNSPECIFIED;
  std::vector<InterfacePattern> interfaces;
  StringMatcher serial, name, hash, parent_hash, via_port, connect_type;
  std::optional<DailyWindow> window;
  std::string message;
  std::string url;

  explicit CompiledUsbRule(const ward::v1::UsbRule& r)
      : id(r.id()),
        verdict(ToVerdict(r.action())),
        interface_scope(r.scope() == ward::v1::USB_RULE_SCOPE_INTERFACE),
        names_device(UsbEvaluator::NamesDeviceExplicitly(r)),
        has_ids(!r.device_id().values().empty()),
        ids_op(r.device_id().op()),
        has_interfaces(!r.with_interface().values().empty()),
        interfaces_op(r.with_interface().op()),
        serial(r.serial()),
        name(r.name()),
        hash(r.hash()),
        parent_hash(r.parent_hash()),
        via_port(r.via_port()),
        connect_type(r.with_connect_type()),
        message(r.message()),
        url(r.url()) {
    for (const std::string& v : r.device_id().values()) {
      ids.push_back(internal::ParseDeviceId(v).value_or(DeviceIdPattern{}));
    }
    for (const std::string& v : r.with_interface().values()) {
      interfaces.push_back(internal::ParseInterfacePattern(v).value_or(InterfacePattern{}));
    }
    if (r.has_when()) {
      window = internal::ParseDailyWindow(r.when().local_time());
    }
  }

  // Everything but the interface selection of an interface-scoped rule.
  bool MatchesDevice(const UsbDeviceInfo& d) const {
    if (has_ids) {
      const std::pair<std::uint16_t, std::uint16_t> device_id{d.vendor_id, d.product_id};
      if (!internal::EvaluateSet(
              ids_op, std::span<const DeviceIdPattern>(ids),
              std::span<const std::pair<std::uint16_t, std::uint16_t>>(&device_id, 1),
              [](const DeviceIdPattern& p, const auto& v) {
                return p.Matches(v.first, v.second);
              })) {
        return false;
      }
    }
    if (!serial.Matches(d.serial) || !name.Matches(d.name) || !hash.Matches(d.hash) ||
        !parent_hash.Matches(d.parent_hash) || !via_port.Matches(d.via_port) ||
        !connect_type.Matches(d.connect_type)) {
      return false;
    }
    if (has_interfaces && !interface_scope &&
        !internal::EvaluateSet(interfaces_op, std::span<const InterfacePattern>(interfaces),
                               std::span<const UsbInterface>(d.interfaces),
                               [](const InterfacePattern& p, const UsbInterface& i) {
                                 return p.Matches(i.cls, i.subclass, i.protocol);
                               })) {
      return false;
    }
    return true;
  }

  // For interface-scoped rules: whether this interface is one the rule is about.
  bool SelectsInterface(const UsbInterface& i) const {
    const bool listed = std::ranges::any_of(interfaces, [&](const InterfacePattern& p) {
      return p.Matches(i.cls, i.subclass, i.protocol);
    });
    return interfaces_op == ward::v1::SET_OPERATOR_NONE_OF ? !listed : listed;
  }
};

struct KnownUsbDevice {
  std::string serial, via_port, name;
};

}  // namespace internal

using internal::CompiledUsbRule;
using internal::KnownUsbDevice;

struct UsbEvaluator::Compiled {
  std::vector<CompiledUsbRule> rules;
  // Candidate rules, each list in policy order: by exact vendor:product, by vendor only (rules
  // for "vvvv:*"), and rules that can match any id.
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> by_id;
  std::unordered_map<std::uint16_t, std::vector<std::uint32_t>> by_vendor;
  std::vector<std::uint32_t> any_id;
  std::unordered_multimap<std::uint32_t, KnownUsbDevice> enrolled;
  UsbVerdict default_verdict = UsbVerdict::kBlock;
  std::string default_message;
  bool enforce = true;

  void Index(std::uint32_t index, const ward::v1::UsbRule& rule) {
    const auto& set = rule.device_id();
    if (set.values().empty() || set.op() == ward::v1::SET_OPERATOR_NONE_OF) {
      any_id.push_back(index);
      return;
    }
    // ONE_OF and MATCH_ALL match when any listed id matches; the other operators need the
    // first listed id to match (the device has one id), so only it is a candidate key.
    const bool any_listed =
        set.op() == ward::v1::SET_OPERATOR_ONE_OF || set.op() == ward::v1::SET_OPERATOR_MATCH_ALL;
    const int count = any_listed ? set.values_size() : 1;
    std::vector<DeviceIdPattern> keys;
    for (int i = 0; i < count; ++i) {
      keys.push_back(rules[index].ids[static_cast<std::size_t>(i)]);
    }
    if (std::ranges::any_of(keys, [](const auto& k) { return k.vendor == internal::kAny; })) {
      any_id.push_back(index);
      return;
    }
    for (const DeviceIdPattern& k : keys) {
      auto& list = k.product == internal::kAny ? by_vendor[static_cast<std::uint16_t>(k.vendor)]
                                               : by_id[IdKey(k.vendor, k.product)];
      if (list.empty() || list.back() != index) {
        list.push_back(index);
      }
    }
  }

  bool IsEnrolled(const UsbDeviceInfo& d) const {
    const auto [begin, end] = enrolled.equal_range(IdKey(d.vendor_id, d.product_id));
    for (auto it = begin; it != end; ++it) {
      const KnownUsbDevice& k = it->second;
      if ((k.serial.empty() || k.serial == d.serial) &&
          (k.via_port.empty() || k.via_port == d.via_port) &&
          (k.name.empty() || k.name == d.name)) {
        return true;
      }
    }
    return false;
  }
};

UsbEvaluator::UsbEvaluator(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}
UsbEvaluator::~UsbEvaluator() = default;

bool UsbEvaluator::NamesDeviceExplicitly(const ward::v1::UsbRule& rule) {
  const auto names = [](const ward::v1::StringSet& s) {
    return !s.values().empty() && s.op() != ward::v1::SET_OPERATOR_NONE_OF;
  };
  if (names(rule.device_id()) &&
      std::ranges::none_of(rule.device_id().values(),
                           [](const std::string& v) { return v.find('*') != std::string::npos; })) {
    return true;
  }
  return names(rule.serial()) || names(rule.name()) || names(rule.hash());
}

ward::Result<std::unique_ptr<UsbEvaluator>> UsbEvaluator::Create(const ward::v1::Policy& policy) {
  if (const auto issues = internal::ValidateSection(policy, internal::PolicySection::kUsb);
      !issues.empty()) {
    return InvalidArgumentError("policy is not valid: " + FormatIssues(issues));
  }
  auto compiled = std::make_unique<Compiled>();
  const auto& usb = policy.usb();
  compiled->default_verdict = usb.default_action() == ward::v1::USB_ACTION_UNSPECIFIED
                                  ? UsbVerdict::kBlock
                                  : ToVerdict(usb.default_action());
  compiled->default_message = usb.default_message();
  compiled->enforce = policy.mode() == ward::v1::MODE_ENFORCE;
  compiled->rules.reserve(static_cast<std::size_t>(usb.rules_size()));
  for (const auto& rule : usb.rules()) {
    compiled->rules.emplace_back(rule);
  }
  for (int i = 0; i < usb.rules_size(); ++i) {
    compiled->Index(static_cast<std::uint32_t>(i), usb.rules(i));
  }
  for (const auto& known : usb.enrolled_devices()) {
    const auto id = internal::ParseDeviceId(known.device_id());
    compiled->enrolled.emplace(IdKey(id->vendor, id->product),
                               KnownUsbDevice{known.serial(), known.via_port(), known.name()});
  }
  return std::unique_ptr<UsbEvaluator>(new UsbEvaluator(std::move(compiled)));
}

bool UsbDecision::AnyBlocked() const {
  if (interfaces.empty()) {
    return verdict != UsbVerdict::kAllow;
  }
  return std::ranges::any_of(interfaces,
                             [](const auto& i) { return i.verdict != UsbVerdict::kAllow; });
}

UsbDecision UsbEvaluator::Evaluate(const UsbDeviceInfo& device, LocalTimeOfDay now) const {
  const Compiled& c = *compiled_;
  UsbDecision decision;
  decision.enforce = c.enforce;
  const std::size_t n = device.interfaces.size();

  if (c.IsEnrolled(device)) {
    decision.verdict = UsbVerdict::kAllow;
    decision.reason = UsbReason::kEnrolled;
    for (const UsbInterface& i : device.interfaces) {
      decision.interfaces.push_back({i.number, UsbVerdict::kAllow, UsbReason::kEnrolled, ""});
    }
    return decision;
  }

  // Which rule decided each interface (nullptr: none yet), and the device-scoped rule.
  std::vector<const CompiledUsbRule*> deciders(n, nullptr);
  std::size_t undecided = n;
  const CompiledUsbRule* device_rule = nullptr;
  const int minute = now.hour * 60 + now.minute;

  // Merge the three candidate lists in policy order.
  static const std::vector<std::uint32_t> kNone;
  const auto id_it = c.by_id.find(IdKey(device.vendor_id, device.product_id));
  const auto vendor_it = c.by_vendor.find(device.vendor_id);
  const std::vector<std::uint32_t>* lists[3] = {
      id_it == c.by_id.end() ? &kNone : &id_it->second,
      vendor_it == c.by_vendor.end() ? &kNone : &vendor_it->second, &c.any_id};
  std::size_t cursor[3] = {0, 0, 0};
  while (true) {
    int pick = -1;
    for (int l = 0; l < 3; ++l) {
      const auto& list = *lists[l];
      if (cursor[l] < list.size() && (pick < 0 || list[cursor[l]] < (*lists[pick])[cursor[pick]])) {
        pick = l;
      }
    }
    if (pick < 0) {
      break;
    }
    const CompiledUsbRule& rule = c.rules[(*lists[pick])[cursor[pick]++]];
    if (rule.window && !rule.window->Contains(minute)) {
      continue;
    }
    if (rule.interface_scope && undecided == 0) {
      continue;
    }
    if (!rule.MatchesDevice(device)) {
      continue;
    }
    if (rule.interface_scope) {
      for (std::size_t i = 0; i < n; ++i) {
        if (deciders[i] == nullptr && rule.SelectsInterface(device.interfaces[i])) {
          deciders[i] = &rule;
          --undecided;
        }
      }
      continue;
    }
    device_rule = &rule;
    for (auto& d : deciders) {
      if (d == nullptr) {
        d = &rule;
      }
    }
    undecided = 0;
    break;
  }

  const bool hid_only =
      n > 0 && std::ranges::all_of(device.interfaces, [](const auto& i) { return IsHidInput(i); });
  const auto verdict_of = [&](const CompiledUsbRule* rule) {
    return rule != nullptr ? rule->verdict : c.default_verdict;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const CompiledUsbRule* rule = deciders[i];
    UsbInterfaceDecision d{device.interfaces[i].number, verdict_of(rule),
                           rule != nullptr ? UsbReason::kRule : UsbReason::kDefault,
                           rule != nullptr ? rule->id : ""};
    if (hid_only && d.verdict != UsbVerdict::kAllow && (rule == nullptr || !rule->names_device)) {
      d = {device.interfaces[i].number, UsbVerdict::kAllow, UsbReason::kSafetyNet, ""};
    }
    decision.interfaces.push_back(std::move(d));
  }

  // The interface that speaks for the device: the first blocked one, else the first one.
  const auto blocked = std::ranges::find_if(
      decision.interfaces, [](const auto& i) { return i.verdict != UsbVerdict::kAllow; });
  const CompiledUsbRule* reported = device_rule;
  if (n == 0) {
    decision.verdict = verdict_of(device_rule);
    decision.reason = device_rule != nullptr ? UsbReason::kRule : UsbReason::kDefault;
  } else {
    const bool any_allowed = std::ranges::any_of(
        decision.interfaces, [](const auto& i) { return i.verdict == UsbVerdict::kAllow; });
    const bool any_reject = std::ranges::any_of(
        decision.interfaces, [](const auto& i) { return i.verdict == UsbVerdict::kReject; });
    decision.verdict =
        any_allowed ? UsbVerdict::kAllow : (any_reject ? UsbVerdict::kReject : UsbVerdict::kBlock);
    const std::size_t speaker =
        blocked != decision.interfaces.end()
            ? static_cast<std::size_t>(blocked - decision.interfaces.begin())
            : 0;
    decision.reason = decision.interfaces[speaker].reason;
    reported = decision.reason == UsbReason::kRule ? deciders[speaker] : nullptr;
  }
  if (reported != nullptr) {
    decision.rule_id = reported->id;
  }
  if (decision.AnyBlocked()) {
    decision.message = reported != nullptr && !reported->message.empty() ? reported->message
                       : !c.default_message.empty()                      ? c.default_message
                                                    : std::string(kFallbackMessage);
    if (reported != nullptr) {
      decision.url = reported->url;
    }
  }
  return decision;
}

std::string_view UsbVerdictName(UsbVerdict verdict) {
  switch (verdict) {
    case UsbVerdict::kAllow:
      return "allow";
    case UsbVerdict::kBlock:
      return "block";
    case UsbVerdict::kReject:
      return "reject";
  }
  return "block";
}

std::string_view UsbReasonName(UsbReason reason) {
  switch (reason) {
    case UsbReason::kRule:
      return "rule";
    case UsbReason::kDefault:
      return "default";
    case UsbReason::kSafetyNet:
      return "safety-net";
    case UsbReason::kEnrolled:
      return "enrolled";
  }
  return "default";
}

}  // namespace ward::policy
