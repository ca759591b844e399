// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/loader.h"

#include <limits>
#include <string>
#include <unordered_map>

#include <google/protobuf/util/json_util.h>

#include "internal/format.h"
#include "internal/json_shape.h"
#include "internal/syntax.h"
#include "internal/validate.h"
#include "ward/policy/settings_catalog.h"

namespace ward::policy {
namespace {

using ward::v1::AppAction;
using ward::v1::AppRule;
using ward::v1::Policy;
using ward::v1::SetOperator;
using ward::v1::StringSet;
using ward::v1::UsbAction;
using ward::v1::UsbRule;
using ward::v1::UsbRuleScope;

using internal::Format;

constexpr std::size_t kMaxLearnerText = 200;
constexpr std::size_t kMaxIdLength = 64;

std::string Quote(std::string_view text) { return Format("\"{}\"", text); }

// A field path, joined only when an issue needs it ("usb.rules[3]" + "device_id").
struct Path {
  std::string_view base;
  std::string_view field = {};
  std::string Str() const {
    return field.empty() ? std::string(base) : Format("{}.{}", base, field);
  }
};

class Validator {
 public:
  explicit Validator(const Policy& policy) : policy_(policy) {}

  std::vector<PolicyIssue> Run(internal::PolicySection section) {
    using internal::PolicySection;
    if (section == PolicySection::kAll) {
      CheckTop();
    }
    if (section == PolicySection::kAll || section == PolicySection::kUsb) {
      CheckUsb();
    }
    if (section == PolicySection::kAll || section == PolicySection::kApps) {
      CheckApps();
    }
    if (section == PolicySection::kAll) {
      CheckSettings();
      CheckAup();
      CheckContacts();
    }
    return std::move(issues_);
  }

 private:
  void Add(std::string path, std::string message) {
    issues_.push_back({std::move(path), std::move(message)});
  }
  void Add(const Path& path, std::string message) { Add(path.Str(), std::move(message)); }

  void CheckTop() {
    if (policy_.version() == 0) {
      Add("version",
          "must be 1 or more (an agent only accepts a version greater than the one "
          "it runs)");
    }
    CheckEnum({"mode"}, policy_.mode(), ward::v1::Mode_descriptor());
    CheckEnum({"audience"}, policy_.audience(), ward::v1::Audience_descriptor());
    if (internal::HasControlCharacter(policy_.name())) {
      Add("name", "has a control character (write it on one line)");
    }
  }

  // Required enums: 0 (UNSPECIFIED) is missing; a number with no name is unknown.
  void CheckEnum(Path path, int value, const google::protobuf::EnumDescriptor* e,
                 bool required = true) {
    const auto* known = e->FindValueByNumber(value);
    if (value == 0 && !required) {
      return;
    }
    if (value == 0 || known == nullptr) {
      std::string names;
      for (int i = 1; i < e->value_count(); ++i) {
        names += Format("{}{}", names.empty() ? "" : (i + 1 == e->value_count() ? " or " : ", "),
                        e->value(i)->name());
      }
      Add(path,
          value == 0 ? Format("missing: set {}", names) : Format("{} is not {}", value, names));
    }
  }

  void CheckLearnerText(Path path, const std::string& text) {
    const std::size_t length = internal::CodePointCount(text);
    if (length > kMaxLearnerText) {
      Add(path, Format("is {} characters long; learner messages may be at most {}", length,
                       kMaxLearnerText));
    }
    if (internal::HasControlCharacter(text)) {
      Add(path, "has a control character (learner messages are one line of plain text)");
    }
  }

  void CheckUrl(Path path, const std::string& url) {
    if (!url.empty() && !internal::IsHttpsUrl(url)) {
      Add(path, Format("{} is not an https:// URL", Quote(url)));
    }
  }

  void CheckId(const std::string& rule_path, const std::string& id) {
    const Path path{rule_path, "id"};
    if (id.empty()) {
      Add(path, "missing: every rule needs an id, unique in the policy");
      return;
    }
    bool valid = id.size() <= kMaxIdLength;
    for (char c : id) {
      valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
    }
    if (!valid) {
      Add(path, Format("{} may only use letters, digits, '.', '_' and '-' (at most {})", Quote(id),
                       kMaxIdLength));
      return;
    }
    const auto [it, inserted] = rule_ids_.try_emplace(id, rule_path);
    if (!inserted) {
      Add(path, Format("{} is already used by {}", Quote(id), it->second));
    }
  }

  // ----- USB -------------------------------------------------------------------------------

  void CheckStringSet(Path path, const StringSet& set,
                      std::string (*check_value)(const std::string&)) {
    if (set.op() != 0 && !ward::v1::SetOperator_IsValid(set.op())) {
      Add(Format("{}.op", path.Str()),
          Format("{} is not a set operator", static_cast<int>(set.op())));
    }
    if (set.op() != ward::v1::SET_OPERATOR_UNSPECIFIED && set.values().empty()) {
      Add(path, "has an operator but no values");
    }
    for (const std::string& value : set.values()) {
      if (std::string why = check_value(value); !why.empty()) {
        Add(path, Format("{} {}", Quote(value), why));
      }
    }
  }

  static std::string CheckDeviceIdValue(const std::string& value) {
    return internal::ParseDeviceId(value) ? "" : "is not vvvv:pppp (4 hex digits or *)";
  }
  static std::string CheckInterfaceValue(const std::string& value) {
    return internal::ParseInterfacePattern(value) ? "" : "is not cc:ss:pp (2 hex digits or * each)";
  }
  static std::string CheckConnectTypeValue(const std::string& value) {
    for (std::string_view known : {"hotplug", "hardwired", "direct", "not used", "unknown"}) {
      if (value == known) {
        return "";
      }
    }
    return "is not one of \"hotplug\", \"hardwired\", \"direct\", \"not used\", \"unknown\"";
  }
  static std::string CheckPlainValue(const std::string& value) {
    return internal::HasControlCharacter(value) ? "has a control character" : "";
  }

  void CheckUsb() {
    const auto& usb = policy_.usb();
    CheckEnum({"usb.default_action"}, usb.default_action(), ward::v1::UsbAction_descriptor(),
              /*required=*/false);
    CheckLearnerText({"usb.default_message"}, usb.default_message());
    std::unordered_map<std::string, int> matchers;  // serialised matchers -> first rule index
    for (int i = 0; i < usb.rules_size(); ++i) {
      const UsbRule& rule = usb.rules(i);
      const std::string path = Format("usb.rules[{}]", i);
      CheckId(path, rule.id());
      CheckEnum({path, "action"}, rule.action(), ward::v1::UsbAction_descriptor());
      CheckEnum({path, "scope"}, rule.scope(), ward::v1::UsbRuleScope_descriptor(),
                /*required=*/false);
      CheckStringSet({path, "device_id"}, rule.device_id(), CheckDeviceIdValue);
      CheckStringSet({path, "serial"}, rule.serial(), CheckPlainValue);
      CheckStringSet({path, "name"}, rule.name(), CheckPlainValue);
      CheckStringSet({path, "hash"}, rule.hash(), CheckPlainValue);
      CheckStringSet({path, "parent_hash"}, rule.parent_hash(), CheckPlainValue);
      CheckStringSet({path, "via_port"}, rule.via_port(), CheckPlainValue);
      CheckStringSet({path, "with_interface"}, rule.with_interface(), CheckInterfaceValue);
      CheckStringSet({path, "with_connect_type"}, rule.with_connect_type(), CheckConnectTypeValue);
      CheckStringSet({path, "label"}, rule.label(), CheckPlainValue);
      if (rule.scope() == ward::v1::USB_RULE_SCOPE_INTERFACE) {
        CheckInterfaceScope(path, rule);
      }
      if (rule.has_when()) {
        const std::string& window = rule.when().local_time();
        if (window.empty()) {
          Add(path + ".when.local_time", "missing: write the daily window as HH:MM-HH:MM");
        } else if (!internal::ParseDailyWindow(window)) {
          Add(path + ".when.local_time",
              Format("{} is not HH:MM-HH:MM (24-hour clock, start and end different)",
                     Quote(window)));
        }
      }
      CheckLearnerText({path, "message"}, rule.message());
      CheckUrl({path, "url"}, rule.url());
      CheckRepeat(
          matchers, path, i, UsbMatcherKey(rule), rule.action(),
          [&](int j) -> const std::string& { return usb.rules(j).id(); },
          [&](int j) { return static_cast<int>(usb.rules(j).action()); },
          ward::v1::UsbAction_descriptor(), "usb.rules", "devices");
    }
    for (int i = 0; i < usb.enrolled_devices_size(); ++i) {
      const auto& known = usb.enrolled_devices(i);
      const std::string path = Format("usb.enrolled_devices[{}]", i);
      const auto id = internal::ParseDeviceId(known.device_id());
      if (known.device_id().empty()) {
        Add(path + ".device_id", "missing: an enrolled device needs its vvvv:pppp id");
      } else if (!id) {
        Add(path + ".device_id",
            Format("{} is not vvvv:pppp (4 hex digits or *)", Quote(known.device_id())));
      } else if (!id->IsExact()) {
        Add(path + ".device_id", Format("{} must name one device: no * in an enrolled "
                                        "device id",
                                        Quote(known.device_id())));
      }
      for (const auto& [field, value] :
           {std::pair{".serial", &known.serial()}, std::pair{".via_port", &known.via_port()},
            std::pair{".name", &known.name()}}) {
        if (internal::HasControlCharacter(*value)) {
          Add(path + field, "has a control character");
        }
      }
    }
  }

  void CheckInterfaceScope(const std::string& path, const UsbRule& rule) {
    const auto op = rule.with_interface().op();
    if (rule.with_interface().values().empty()) {
      Add(path + ".with_interface",
          "missing: an interface-scoped rule needs the interface classes it applies to");
    } else if (op != ward::v1::SET_OPERATOR_UNSPECIFIED && op != ward::v1::SET_OPERATOR_ONE_OF &&
               op != ward::v1::SET_OPERATOR_NONE_OF) {
      Add(path + ".with_interface.op",
          "an interface-scoped rule takes SET_OPERATOR_ONE_OF or SET_OPERATOR_NONE_OF: it "
          "looks at one interface at a time");
    }
  }

  // The parts of a rule that decide which devices it matches, as comparable bytes.
  static std::string UsbMatcherKey(const UsbRule& rule) {
    UsbRule copy = rule;
    copy.clear_id();
    copy.clear_action();
    copy.clear_message();
    copy.clear_url();
    copy.clear_label();
    if (copy.scope() == ward::v1::USB_RULE_SCOPE_DEVICE) {
      copy.clear_scope();
    }
    return copy.SerializeAsString();
  }

  template <typename Key, typename IdOf, typename ActionOf>
  void CheckRepeat(std::unordered_map<Key, int>& seen, const std::string& path, int index, Key key,
                   int action, IdOf id_of, ActionOf action_of,
                   const google::protobuf::EnumDescriptor* actions, std::string_view list,
                   std::string_view what) {
    const auto [it, inserted] = seen.try_emplace(std::move(key), index);
    if (inserted) {
      return;
    }
    const int first = it->second;
    const std::string first_path = Format("{}[{}] ({})", list, first, Quote(id_of(first)));
    if (action_of(first) == action) {
      Add(path, Format("duplicates {}: same {} and action; remove one", first_path, what));
    } else {
      const auto* a = actions->FindValueByNumber(action);
      const auto* b = actions->FindValueByNumber(action_of(first));
      Add(path,
          Format("contradicts {}: same {} but {} instead of {}; the first rule "
                 "always wins, so remove one",
                 first_path, what, a != nullptr ? a->name() : "?", b != nullptr ? b->name() : "?"));
    }
  }

  // ----- Applications ----------------------------------------------------------------------

  static bool IsPackageName(const std::string& name) {
    if (name.size() < 2 ||
        !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) {
      return false;
    }
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) {
        return false;
      }
    }
    return true;
  }

  // The value of an app rule's matcher; directories without a trailing separator.
  static std::string_view AppMatcherValue(const AppRule& rule) {
    switch (rule.match_case()) {
      case AppRule::kSha256:
        return rule.sha256();
      case AppRule::kPath:
        return rule.path();
      case AppRule::kSigner:
        return rule.signer();
      case AppRule::kPackage:
        return rule.package();
      case AppRule::kDirectory: {
        std::string_view dir = rule.directory();
        while (dir.size() > 1 && (dir.back() == '/' || dir.back() == '\\')) {
          dir.remove_suffix(1);
        }
        return dir;
      }
      case AppRule::MATCH_NOT_SET:
        break;
    }
    return {};
  }

  void CheckAppMatcher(const std::string& path, const AppRule& rule) {
    switch (rule.match_case()) {
      case AppRule::kSha256:
        if (!internal::IsSha256Hex(rule.sha256())) {
          Add(path + ".sha256", Format("{} is not 64 lower-case hex digits", Quote(rule.sha256())));
        }
        break;
      case AppRule::kPath:
        if (!internal::IsAbsolutePath(rule.path())) {
          Add(path + ".path",
              Format("{} is not an absolute path (no . or .. parts)", Quote(rule.path())));
        }
        break;
      case AppRule::kDirectory:
        if (!internal::IsAbsolutePath(rule.directory())) {
          Add(path + ".directory",
              Format("{} is not an absolute path (no . or .. parts)", Quote(rule.directory())));
        }
        break;
      case AppRule::kSigner:
        if (rule.signer().empty()) {
          Add(path + ".signer", "is empty");
        } else if (internal::HasControlCharacter(rule.signer())) {
          Add(path + ".signer", "has a control character");
        }
        break;
      case AppRule::kPackage:
        if (!IsPackageName(rule.package())) {
          Add(path + ".package", Format("{} is not a package name (lower-case letters, "
                                        "digits, '+', '-' and '.')",
                                        Quote(rule.package())));
        }
        break;
      case AppRule::MATCH_NOT_SET:
        Add(path, "has no matcher: set one of sha256, path, signer, package, directory");
        break;
    }
  }

  void CheckApps() {
    const auto& apps = policy_.apps();
    CheckEnum({"apps.default_action"}, apps.default_action(), ward::v1::AppAction_descriptor(),
              /*required=*/false);
    CheckLearnerText({"apps.default_message"}, apps.default_message());
    // Per matcher kind: value (viewing the policy's string) -> first rule index.
    std::unordered_map<std::string_view, int> matchers[AppRule::kDirectory + 1];
    for (int i = 0; i < apps.rules_size(); ++i) {
      const AppRule& rule = apps.rules(i);
      const std::string path = Format("apps.rules[{}]", i);
      CheckId(path, rule.id());
      CheckEnum({path, "action"}, rule.action(), ward::v1::AppAction_descriptor());
      CheckAppMatcher(path, rule);
      CheckLearnerText({path, "message"}, rule.message());
      CheckUrl({path, "url"}, rule.url());
      if (rule.match_case() != AppRule::MATCH_NOT_SET) {
        CheckRepeat(
            matchers[rule.match_case()], path, i, AppMatcherValue(rule), rule.action(),
            [&](int j) -> const std::string& { return apps.rules(j).id(); },
            [&](int j) { return static_cast<int>(apps.rules(j).action()); },
            ward::v1::AppAction_descriptor(), "apps.rules", "programs");
      }
    }
    std::unordered_map<std::string, int> interpreters;
    for (int i = 0; i < apps.restricted_interpreters_size(); ++i) {
      const std::string& entry = apps.restricted_interpreters(i);
      const std::string path = Format("apps.restricted_interpreters[{}]", i);
      const bool bare_name = !entry.empty() && entry.find_first_of("/\\") == std::string::npos &&
                             !internal::HasControlCharacter(entry);
      if (!bare_name && !internal::IsAbsolutePath(entry)) {
        Add(path, Format("{} is neither a program name (\"python3\") nor an absolute path",
                         Quote(entry)));
      } else if (const auto [it, inserted] = interpreters.try_emplace(entry, i); !inserted) {
        Add(path, Format("{} is already listed at apps.restricted_interpreters[{}]", Quote(entry),
                         it->second));
      }
    }
  }

  // ----- Settings, AUP, contacts -----------------------------------------------------------

  static std::string KnownSettingNames() {
    std::string names;
    for (const SettingInfo& info : SettingsCatalog()) {
      names += Format("{}{}", names.empty() ? "" : ", ", info.name);
    }
    return names;
  }

  void CheckSettingValue(const std::string& path, const ward::v1::SettingLock& lock,
                         const SettingInfo& info) {
    using ward::v1::SettingLock;
    static constexpr std::string_view kValueField[] = {"bool_value", "int_value", "string_value"};
    const std::string_view expected = kValueField[static_cast<int>(info.type)];
    const auto value_case = lock.value_case();
    if (value_case == SettingLock::VALUE_NOT_SET) {
      Add(path, Format("has no value: {} takes {}", info.name, SettingTypeName(info.type)));
      return;
    }
    const std::string_view given = value_case == SettingLock::kBoolValue  ? kValueField[0]
                                   : value_case == SettingLock::kIntValue ? kValueField[1]
                                                                          : kValueField[2];
    if (given != expected) {
      Add(Format("{}.{}", path, given),
          Format("{} takes {}", info.name, SettingTypeName(info.type)));
      return;
    }
    if (info.type == SettingType::kInt &&
        (lock.int_value() < info.min_int || lock.int_value() > info.max_int)) {
      Add(path + ".int_value", Format("{} is outside {}..{} for {}", lock.int_value(), info.min_int,
                                      info.max_int, info.name));
    }
    if (info.type == SettingType::kString) {
      if (info.string_format == StringFormat::kAbsolutePath &&
          !internal::IsAbsolutePath(lock.string_value())) {
        Add(path + ".string_value",
            Format("{} is not an absolute path", Quote(lock.string_value())));
      } else if (internal::HasControlCharacter(lock.string_value())) {
        Add(path + ".string_value", "has a control character");
      }
    }
  }

  void CheckSettings() {
    std::unordered_map<std::string, int> names;
    const auto& settings = policy_.settings().settings();
    for (int i = 0; i < settings.size(); ++i) {
      const auto& lock = settings[i];
      const std::string path = Format("settings.settings[{}]", i);
      const SettingInfo* info = FindSetting(lock.name());
      if (lock.name().empty()) {
        Add(path + ".name", "missing: name a setting from the catalogue");
        continue;
      }
      if (info == nullptr) {
        Add(path + ".name", Format("{} is not a known setting (known: {})", Quote(lock.name()),
                                   KnownSettingNames()));
        continue;
      }
      if (const auto [it, inserted] = names.try_emplace(lock.name(), i); !inserted) {
        Add(path + ".name",
            Format("{} is already set by settings.settings[{}]", Quote(lock.name()), it->second));
      }
      CheckSettingValue(path, lock, *info);
    }
  }

  void CheckAup() {
    const auto& aup = policy_.aup();
    if (policy_.audience() == ward::v1::AUDIENCE_UNDER_18 && aup.text_under_18().empty()) {
      Add("aup.text_under_18",
          "missing: the policy is for learners under 18, who must be shown "
          "the acceptable-use agreement written for them");
    }
    if (policy_.audience() == ward::v1::AUDIENCE_ADULT && aup.text_adult().empty()) {
      Add("aup.text_adult",
          "missing: the policy is for adults, who must be shown the adult "
          "acceptable-use agreement");
    }
    if ((!aup.text_under_18().empty() || !aup.text_adult().empty()) && aup.version() == 0) {
      Add("aup.version", "must be 1 or more (raise it when the text changes)");
    }
    if (internal::HasControlCharacter(aup.title())) {
      Add("aup.title", "has a control character");
    }
  }

  void CheckContacts() {
    const std::string& email = policy_.contacts().dsl_email();
    if (email.empty()) {
      return;
    }
    const auto at = email.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == email.size() ||
        email.find('@', at + 1) != std::string::npos ||
        email.find_first_of(" \t\r\n<>") != std::string::npos) {
      Add("contacts.dsl_email", Format("{} is not an email address", Quote(email)));
    }
  }

  const Policy& policy_;
  std::vector<PolicyIssue> issues_;
  // id (viewing the policy's string) -> path of the rule using it
  std::unordered_map<std::string_view, std::string> rule_ids_;
};

// Protobuf's JSON parser reports "(path): invalid value V for type T" for values the shape
// check cannot judge (ranges, times). Keeps the path, says the rest plainly.
std::string TranslateProtobufError(std::string_view message) {
  constexpr std::string_view kInvalid = "): invalid value ";
  const auto close = message.find(kInvalid);
  if (!message.starts_with('(') || close == std::string_view::npos) {
    // Keep one line: protobuf may append an excerpt of the input and a caret.
    return Format("policy: the JSON does not fit the policy format: {}",
                  message.substr(0, message.find('\n')));
  }
  const std::string_view path = message.substr(1, close - 1);
  std::string_view rest = message.substr(close + kInvalid.size());
  const auto for_type = rest.rfind(" for type ");
  const std::string_view type =
      for_type == std::string_view::npos ? "" : rest.substr(for_type + 10);
  const std::string_view value = rest.substr(0, for_type);
  if (type == "TYPE_UINT32") {
    return Format("{}: {} is out of range (0 to {})", path, value,
                  std::numeric_limits<std::uint32_t>::max());
  }
  if (type == "TYPE_UINT64") {
    return Format("{}: {} is out of range (0 to {})", path, value,
                  std::numeric_limits<std::uint64_t>::max());
  }
  if (type == "TYPE_INT32") {
    return Format("{}: {} is out of range ({} to {})", path, value,
                  std::numeric_limits<std::int32_t>::min(),
                  std::numeric_limits<std::int32_t>::max());
  }
  if (type == "TYPE_INT64") {
    return Format("{}: {} is out of range ({} to {})", path, value,
                  std::numeric_limits<std::int64_t>::min(),
                  std::numeric_limits<std::int64_t>::max());
  }
  if (type.ends_with("google.protobuf.Timestamp")) {
    constexpr std::string_view kFormat = "Invalid time format: ";
    const auto at = value.find(kFormat);
    const std::string_view given =
        at == std::string_view::npos ? value : value.substr(at + kFormat.size());
    return Format("{}: \"{}\" is not a time such as \"2026-09-01T08:00:00Z\" (RFC 3339)", path,
                  given);
  }
  return Format("{}: invalid value {}", path, rest);
}

}  // namespace

std::string PolicyIssue::ToString() const { return Format("{}: {}", path, message); }

std::string FormatIssues(const std::vector<PolicyIssue>& issues) {
  std::string text;
  for (const PolicyIssue& issue : issues) {
    if (!text.empty()) {
      text += '\n';
    }
    text += issue.ToString();
  }
  return text;
}

std::vector<PolicyIssue> ValidatePolicy(const Policy& policy) {
  return Validator(policy).Run(internal::PolicySection::kAll);
}

namespace internal {
std::vector<PolicyIssue> ValidateSection(const Policy& policy, PolicySection section) {
  return Validator(policy).Run(section);
}
}  // namespace internal

ward::Result<Policy> LoadPolicyJson(std::string_view json) {
  if (json.size() > kMaxPolicyJsonBytes) {
    return InvalidArgumentError(Format("policy: the text is {} bytes; a policy may be at most {}",
                                       json.size(), kMaxPolicyJsonBytes));
  }
  std::vector<PolicyIssue> issues = internal::CheckJsonShape(json, *Policy::descriptor());
  if (!issues.empty()) {
    return InvalidArgumentError(FormatIssues(issues));
  }
  Policy policy;
  try {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(json.data(), json.size()), &policy, options);
    if (!status.ok()) {
      return InvalidArgumentError(TranslateProtobufError(status.message().as_string()));
    }
  } catch (const std::exception& e) {
    return InternalError(Format("parsing policy JSON: {}", e.what()));
  }
  issues = ValidatePolicy(policy);
  if (!issues.empty()) {
    return InvalidArgumentError(FormatIssues(issues));
  }
  return policy;
}

}  // namespace ward::policy
