// SPDX-License-Identifier: Apache-2.0
// A policy's USB rules as Device Installation Restrictions and Removable Storage Access values.
// Ward's rules are ordered (the first match wins); Windows' are layered by specificity (device
// instance ids, then device ids, then setup classes; at one layer "prevent" beats "allow"). So
// Windows gets only what agrees with Ward for every device: a "prevent" entry only when no
// earlier rule could allow the same device (unless that rule is an exact instance id, which
// Windows' higher layer lets through too), never a wildcard, never the keyboard safety net.
// Everything else is the agent's (UsbEvaluator + disabling the device).
#include "ward/platform/usb_install_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

namespace ward::platform {
namespace {

constexpr std::string_view kPolicyWide = "usb";

// The numbered lists Group Policy writes (each "<name>"=dword:1 in the Restrictions key plus a
// subkey "<name>" holding "1", "2", ... as REG_SZ).
constexpr std::array<std::string_view, 6> kLists = {"AllowDeviceClasses", "AllowDeviceIDs",
                                                    "AllowInstanceIDs",   "DenyDeviceClasses",
                                                    "DenyDeviceIDs",      "DenyInstanceIDs"};
// Every other Device Installation Restrictions switch, owned so that one set behind Ward's back
// (DenyUnspecified = 1 would stop every new device, USB or not) is drift.
constexpr std::array<std::string_view, 7> kSwitches = {
    "AllowAdminInstall",        "AllowDenyLayered",           "DenyDeviceClassesRetroactive",
    "DenyDeviceIDsRetroactive", "DenyInstanceIDsRetroactive", "DenyRemovableDevices",
    "DenyUnspecified"};
constexpr std::array<std::string_view, 3> kRemovableDiskValues = {"Deny_Execute", "Deny_Read",
                                                                  "Deny_Write"};

std::string Upper(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

bool HasAny(const v1::StringSet& set) { return set.values_size() > 0; }

// The attributes Windows' ids cannot carry (the serial is handled where an instance id can).
std::optional<std::string> UnexpressibleAttribute(const v1::UsbRule& rule, bool serial_ok) {
  if (HasAny(rule.name())) {
    return "it matches the device's name, which is not part of any Windows device id";
  }
  if (HasAny(rule.hash()) || HasAny(rule.parent_hash())) {
    return "it matches a descriptor hash, which Windows' device ids do not carry";
  }
  if (HasAny(rule.via_port())) {
    return "it matches the USB port, which Windows' device ids do not carry";
  }
  if (HasAny(rule.with_connect_type())) {
    return "it matches the port's connect type, which Windows' device ids do not carry";
  }
  if (!serial_ok && HasAny(rule.serial())) {
    return "it matches a serial number, which Windows can only match as a whole instance id "
           "(one exact device id and one serial)";
  }
  return std::nullopt;
}

// One plain value set: no operator, or ONE_OF (EQUALS of one value is the same).
bool IsPlainSet(const v1::StringSet& set) {
  return set.op() == v1::SET_OPERATOR_UNSPECIFIED || set.op() == v1::SET_OPERATOR_ONE_OF ||
         (set.op() == v1::SET_OPERATOR_EQUALS && set.values_size() == 1);
}

// "cc:ss:pp" or "vvvv:pppp" split at ':' (a part may be "*").
std::vector<std::string> Parts(const std::string& text) {
  std::vector<std::string> out(1);
  for (const char c : text) {
    if (c == ':') {
      out.emplace_back();
    } else {
      out.back().push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

bool IsWild(const std::string& part) { return part.find('*') != std::string::npos; }

// "0781:5583" -> "USB\VID_0781&PID_5583"; nullopt for a wildcard.
std::optional<std::string> HardwareId(const std::string& device_id) {
  const auto parts = Parts(device_id);
  if (parts.size() != 2 || IsWild(parts[0]) || IsWild(parts[1])) {
    return std::nullopt;
  }
  return "USB\\VID_" + Upper(parts[0]) + "&PID_" + Upper(parts[1]);
}

// "08:*:*" -> "USB\Class_08", "08:06:*" -> "USB\Class_08&SubClass_06", "08:06:50" -> all three
// (the compatible ids Windows' USB driver gives an interface); nullopt for any other wildcard.
std::optional<std::string> CompatibleId(const std::string& pattern) {
  const auto p = Parts(pattern);
  if (p.size() != 3 || IsWild(p[0]) || (IsWild(p[1]) && !IsWild(p[2]))) {
    return std::nullopt;
  }
  std::string id = "USB\\Class_" + p[0];
  if (!IsWild(p[1])) {
    id += "&SubClass_" + p[1];
    if (!IsWild(p[2])) {
      id += "&Prot_" + p[2];
    }
  }
  return id;
}

// Whether two "a:b[:c]" patterns can match one value (a "*" part matches anything).
bool PatternsOverlap(const std::string& a, const std::string& b) {
  const auto pa = Parts(a);
  const auto pb = Parts(b);
  if (pa.size() != pb.size()) {
    return true;  // not a well-formed pair: assume they can
  }
  for (std::size_t i = 0; i < pa.size(); ++i) {
    if (!IsWild(pa[i]) && !IsWild(pb[i]) && pa[i] != pb[i]) {
      return false;
    }
  }
  return true;
}

// "USB\VID_0781&PID_5583\4C530001130922116425" for an allow rule Windows can state exactly at
// its most specific layer: device scope, one exact device id, one serial, nothing else, always.
std::optional<std::string> InstanceAllow(const v1::UsbRule& rule) {
  if (rule.action() != v1::USB_ACTION_ALLOW || rule.scope() == v1::USB_RULE_SCOPE_INTERFACE ||
      rule.has_when() || rule.device_id().values_size() != 1 || !IsPlainSet(rule.device_id()) ||
      rule.serial().values_size() != 1 || !IsPlainSet(rule.serial()) ||
      HasAny(rule.with_interface()) || UnexpressibleAttribute(rule, true).has_value()) {
    return std::nullopt;
  }
  const auto hardware = HardwareId(rule.device_id().values(0));
  const std::string& serial = rule.serial().values(0);
  if (!hardware || serial.empty() || serial.find_first_of("\\*?") != std::string::npos) {
    return std::nullopt;
  }
  return *hardware + "\\" + serial;
}

// Could `allow` (an earlier ALLOW rule) decide a device with this device id? Conservative.
bool MayAllowDevice(const v1::UsbRule& allow, const std::string& device_id) {
  const v1::StringSet& ids = allow.device_id();
  if (!HasAny(ids) || ids.op() == v1::SET_OPERATOR_NONE_OF) {
    return true;
  }
  return std::ranges::any_of(ids.values(),
                             [&](const std::string& p) { return PatternsOverlap(p, device_id); });
}

// Could `allow` decide an interface whose class matches one of `patterns`? Conservative.
bool MayAllowInterface(const v1::UsbRule& allow, const std::vector<std::string>& patterns) {
  const v1::StringSet& classes = allow.with_interface();
  if (!HasAny(classes) || classes.op() == v1::SET_OPERATOR_NONE_OF) {
    return true;
  }
  const bool overlaps = std::ranges::any_of(classes.values(), [&](const std::string& mine) {
    return std::ranges::any_of(patterns,
                               [&](const std::string& p) { return PatternsOverlap(mine, p); });
  });
  if (allow.scope() == v1::USB_RULE_SCOPE_INTERFACE) {
    return overlaps;
  }
  // Device scope: with MATCH_ALL / EQUALS every interface must match the rule's classes, so a
  // device with an interface of another class cannot match it.
  const v1::SetOperator op = classes.op();
  const bool every_interface = op == v1::SET_OPERATOR_MATCH_ALL || op == v1::SET_OPERATOR_EQUALS ||
                               op == v1::SET_OPERATOR_EQUALS_ORDERED ||
                               (op == v1::SET_OPERATOR_UNSPECIFIED && classes.values_size() > 1);
  return !every_interface || overlaps;
}

std::string Window(const v1::UsbRule& rule) { return rule.when().local_time(); }

class Compiler {
 public:
  explicit Compiler(const v1::Policy& policy) : usb_(policy.usb()) {}

  UsbRegistryPlan Run() {
    CompileDefault();
    CompileEnrolled();
    for (int i = 0; i < usb_.rules_size(); ++i) {
      CompileRule(i);
    }
    return Finish();
  }

 private:
  void Fallback(std::string rule, std::string reason) {
    plan_.fallbacks.push_back({std::move(rule), std::move(reason)});
  }

  void CompileDefault() {
    if (usb_.default_action() == v1::USB_ACTION_BLOCK ||
        usb_.default_action() == v1::USB_ACTION_REJECT ||
        usb_.default_action() == v1::USB_ACTION_UNSPECIFIED) {
      Fallback("(default)",
               "blocking every device no rule allows: Windows' \"Prevent installation of devices "
               "not described by other policy settings\" would also stop devices that are not "
               "USB (monitors, printers, Bluetooth, driver updates), so the agent blocks "
               "unmatched USB devices itself");
    }
  }

  void CompileEnrolled() {
    for (const v1::KnownDevice& device : usb_.enrolled_devices()) {
      const auto hardware = HardwareId(device.device_id());
      if (hardware && !device.serial().empty() &&
          device.serial().find_first_of("\\*?") == std::string::npos) {
        allow_instances_.insert(*hardware + "\\" + device.serial());
      } else {
        enrolled_without_instance_.push_back(device.device_id());
      }
    }
  }

  // The earlier ALLOW rule that stops a "prevent" entry, if any (instance-id allows do not:
  // Windows lets them through at the higher layer, as Ward does).
  template <typename MayAllow>
  std::optional<std::string> BlockingAllow(MayAllow may_allow) const {
    for (const v1::UsbRule* earlier : plain_allows_) {
      if (may_allow(*earlier)) {
        return earlier->id();
      }
    }
    return std::nullopt;
  }

  void CompileRule(int index) {
    const v1::UsbRule& rule = usb_.rules(index);
    if (rule.action() == v1::USB_ACTION_ALLOW) {
      if (const auto instance = InstanceAllow(rule)) {
        allow_instances_.insert(*instance);
      } else {
        plain_allows_.push_back(&rule);
      }
      if (rule.has_when()) {
        Fallback(rule.id(), "it allows only at " + Window(rule) +
                                ", and Windows' device installation policy has no time of day: "
                                "outside that time the agent blocks the device itself");
      }
      // Windows installs what no "prevent" entry names, so other allow rules need no value.
      return;
    }
    if (rule.has_when()) {
      Fallback(rule.id(), "it is in force only at " + Window(rule) +
                              ", and Windows' device installation policy has no time of day");
      return;
    }
    if (const auto attribute = UnexpressibleAttribute(rule, false)) {
      Fallback(rule.id(), *attribute);
      return;
    }
    if (rule.scope() == v1::USB_RULE_SCOPE_INTERFACE) {
      CompileInterfaceDeny(rule);
    } else {
      CompileDeviceDeny(rule);
    }
  }

  void CompileDeviceDeny(const v1::UsbRule& rule) {
    if (HasAny(rule.with_interface())) {
      Fallback(rule.id(),
               "it judges the device by its whole set of interfaces, and Windows matches one "
               "device id at a time");
      return;
    }
    if (!HasAny(rule.device_id())) {
      Fallback(rule.id(),
               "it matches every device, which only the \"not described by other "
               "policy settings\" switch could say (that would stop non-USB devices)");
      return;
    }
    if (!IsPlainSet(rule.device_id())) {
      Fallback(rule.id(), "its device ids use a set operator Windows' id lists cannot express");
      return;
    }
    std::vector<std::string> ids;
    for (const std::string& device_id : rule.device_id().values()) {
      const auto hardware = HardwareId(device_id);
      if (!hardware) {
        Fallback(rule.id(),
                 "'" + device_id + "' has a wildcard, and Windows' device ids have none");
        return;
      }
      if (const auto allow =
              BlockingAllow([&](const v1::UsbRule& r) { return MayAllowDevice(r, device_id); })) {
        Fallback(rule.id(), "the earlier rule '" + *allow + "' may allow " + device_id +
                                ", and Windows' policy has no rule order");
        return;
      }
      if (std::ranges::find(enrolled_without_instance_, device_id) !=
          enrolled_without_instance_.end()) {
        Fallback(rule.id(), "the enrolled device " + device_id +
                                " has no serial, so Windows could not tell it apart");
        return;
      }
      ids.push_back(*hardware);
    }
    AddDenies(rule, ids, /*retroactive_ok=*/true);
  }

  void CompileInterfaceDeny(const v1::UsbRule& rule) {
    if (!IsPlainSet(rule.with_interface()) || !HasAny(rule.with_interface())) {
      Fallback(rule.id(),
               "its interface classes use a set operator Windows' id lists cannot "
               "express");
      return;
    }
    if (HasAny(rule.device_id())) {
      Fallback(rule.id(),
               "it names interfaces of particular devices, and Windows' interface ids "
               "(MI_xx) depend on each device's layout");
      return;
    }
    const std::vector<std::string> patterns(rule.with_interface().values().begin(),
                                            rule.with_interface().values().end());
    std::vector<std::string> ids;
    for (const std::string& pattern : patterns) {
      if (PatternsOverlap(pattern, "03:*:*")) {
        Fallback(rule.id(),
                 "it can match keyboards and mice, which Ward keeps working unless a "
                 "rule names the device (the safety net); Windows cannot make that "
                 "exception");
        return;
      }
      const auto compatible = CompatibleId(pattern);
      if (!compatible) {
        Fallback(rule.id(), "'" + pattern +
                                "' leaves the class or subclass open while naming what follows, "
                                "which Windows' compatible ids cannot say");
        return;
      }
      ids.push_back(*compatible);
    }
    if (const auto allow =
            BlockingAllow([&](const v1::UsbRule& r) { return MayAllowInterface(r, patterns); })) {
      Fallback(rule.id(), "the earlier rule '" + *allow +
                              "' may allow some of these interfaces, and Windows' policy has no "
                              "rule order");
      return;
    }
    // An enrolled device without a serial may have such an interface: Windows then must not
    // remove what is already installed (it was present at enrolment).
    AddDenies(rule, ids, /*retroactive_ok=*/enrolled_without_instance_.empty());
  }

  void AddDenies(const v1::UsbRule& rule, const std::vector<std::string>& ids,
                 bool retroactive_ok) {
    for (const std::string& id : ids) {
      if (denied_.insert(id).second) {
        deny_ids_.emplace_back(id, rule.id());
      }
    }
    retroactive_ &= retroactive_ok;
    if (rule.action() == v1::USB_ACTION_REJECT) {
      Fallback(rule.id(),
               "partly: Windows keeps the device listed without a driver; the agent "
               "removes it (reject)");
    }
  }

  void Value(std::string setting, std::string key, std::string name, std::uint32_t dword) {
    plan_.values.push_back({.setting = std::move(setting),
                            .root = RegistryRoot::kMachine,
                            .key = std::move(key),
                            .name = std::move(name),
                            .type = RegistryType::kDword,
                            .dword = dword,
                            .text = {}});
  }

  void List(std::string_view name, const std::vector<std::pair<std::string, std::string>>& ids) {
    const std::string key = std::string(kDeviceInstallRestrictionsKey) + "\\" + std::string(name);
    Value(std::string(kPolicyWide), kDeviceInstallRestrictionsKey, std::string(name), 1);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      plan_.values.push_back({.setting = ids[i].second,
                              .root = RegistryRoot::kMachine,
                              .key = key,
                              .name = std::to_string(i + 1),
                              .type = RegistryType::kSz,
                              .dword = 0,
                              .text = ids[i].first});
    }
  }

  UsbRegistryPlan Finish() {
    if (deny_ids_.empty()) {
      plan_.notes.push_back(
          "nothing to write: Windows' device installation policy cannot express any blocking "
          "rule of this policy exactly, so the agent decides every USB device itself");
      return std::move(plan_);
    }
    const std::string restrictions = kDeviceInstallRestrictionsKey;
    Value(std::string(kPolicyWide), restrictions, "AllowDenyLayered", 1);
    List("DenyDeviceIDs", deny_ids_);
    Value(std::string(kPolicyWide), restrictions, "DenyDeviceIDsRetroactive", retroactive_ ? 1 : 0);
    if (!retroactive_) {
      plan_.notes.push_back(
          "DenyDeviceIDsRetroactive is 0: an enrolled device without a serial may have a blocked "
          "class, and Windows must not remove it; the agent disables present devices it blocks");
    }
    if (!allow_instances_.empty()) {
      std::vector<std::pair<std::string, std::string>> allows;
      for (const std::string& id : allow_instances_) {
        allows.emplace_back(id, "usb");
      }
      List("AllowInstanceIDs", allows);
    }
    const bool storage_denied =
        std::ranges::any_of(deny_ids_, [](const auto& id) { return id.first == "USB\\Class_08"; });
    if (storage_denied && allow_instances_.empty() && enrolled_without_instance_.empty()) {
      for (std::string_view name : kRemovableDiskValues) {
        Value(std::string(kPolicyWide), kRemovableDisksKey, std::string(name), 1);
      }
      plan_.notes.push_back(
          "Removable Storage Access denies every removable disk, including SD cards in a "
          "built-in reader that is not USB");
    }
    const auto number = [](const std::string& name) {
      return std::ranges::all_of(name, [](unsigned char c) { return std::isdigit(c); })
                 ? std::stoul(name)
                 : 0ul;
    };
    std::ranges::sort(plan_.values, {}, [&](const RegistryPolicyValue& v) {
      return std::tuple(v.key, number(v.name), v.name);
    });
    for (std::string_view list : kLists) {
      plan_.owned_keys.push_back(restrictions + "\\" + std::string(list));
      plan_.owned_values.emplace_back(restrictions, std::string(list));
    }
    for (std::string_view name : kSwitches) {
      plan_.owned_values.emplace_back(restrictions, std::string(name));
    }
    for (std::string_view name : kRemovableDiskValues) {
      plan_.owned_values.emplace_back(kRemovableDisksKey, std::string(name));
    }
    std::ranges::sort(plan_.owned_values);
    return std::move(plan_);
  }

  const v1::UsbPolicy& usb_;
  UsbRegistryPlan plan_;
  std::vector<std::pair<std::string, std::string>> deny_ids_;  // id, rule (first naming it)
  std::set<std::string> denied_;                               // the ids in deny_ids_
  std::vector<const v1::UsbRule*> plain_allows_;  // earlier ALLOW rules without an instance id
  std::set<std::string> allow_instances_;
  std::vector<std::string> enrolled_without_instance_;
  bool retroactive_ = true;
};

}  // namespace

UsbRegistryPlan CompileUsbRegistryPlan(const v1::Policy& policy) {
  if (policy.mode() == v1::MODE_MONITOR) {
    UsbRegistryPlan plan;
    plan.notes.push_back(
        "MONITOR mode: nothing is written; the agent only records what it "
        "would block");
    return plan;
  }
  return Compiler(policy).Run();
}

std::string FormatUsbRegistryPlan(const UsbRegistryPlan& plan) {
  std::string out = FormatRegistryPolicy(RegistryPolicy{.values = plan.values, .not_enforced = {}});
  if (!plan.fallbacks.empty() || !plan.notes.empty()) {
    out += "\n";
  }
  for (const UsbRuleFallback& f : plan.fallbacks) {
    out += "; falls back to the agent: " + f.rule + ": " + f.reason + "\n";
  }
  for (const std::string& note : plan.notes) {
    out += "; note: " + note + "\n";
  }
  return out;
}

}  // namespace ward::platform
