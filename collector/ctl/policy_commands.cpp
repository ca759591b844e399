// SPDX-License-Identifier: Apache-2.0
// wardctl policy ...: lint, import-usbguard, sign, show.
#include <charconv>
#include <filesystem>
#include <string>
#include <string_view>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "ward/ctl/cli.h"
#include "ward/ctl/commands.h"
#include "ward/ctl/files.h"
#include "ward/platform/registry_policy.h"
#include "ward/platform/usb_install_policy.h"
#include "ward/policy/loader.h"
#include "ward/policy/settings_plan.h"
#include "ward/policy/signing.h"
#include "ward/policy/summary.h"
#include "ward/policy/usbguard_import.h"

namespace ward::ctl {
namespace {

// Policy JSON is written by people; 16 MiB is far beyond any real one.
constexpr std::size_t kMaxPolicyJsonBytes = std::size_t{16} << 20;

std::size_t CountLines(std::string_view text) {
  std::size_t lines = text.empty() ? 0 : 1;
  for (char c : text) {
    lines += c == '\n' ? 1 : 0;
  }
  return lines;
}

// Reads and loads a policy JSON file. On failure prints why (every issue on stdout when
// `list_issues`, else a pointer to `wardctl policy lint`), sets `exit_code` and returns nullopt.
std::optional<v1::Policy> LoadPolicyFile(const std::string& file, Io& io, bool list_issues,
                                         int& exit_code) {
  auto json = ReadWholeFile(file, kMaxPolicyJsonBytes);
  if (!json) {
    exit_code = Fail(io, json.error());
    return std::nullopt;
  }
  auto policy = policy::LoadPolicyJson(*json);
  if (policy) {
    return std::move(*policy);
  }
  const std::string& issues = policy.error().message();
  const std::size_t count = CountLines(issues);
  const std::string problems = std::to_string(count) + (count == 1 ? " problem" : " problems");
  if (list_issues) {
    io.out << issues << "\n";
    exit_code = Fail(io, file + " has " + problems);
  } else {
    exit_code = Fail(io, file + " is not a valid policy (" + problems +
                             "); run 'wardctl policy lint " + file + "' to see them");
  }
  return std::nullopt;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // Printing a message we built ourselves cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// Writes `content` to --out if given, else to stdout. Returns an exit code.
int Emit(const Args& args, std::string_view content, Io& io) {
  if (const auto out = args.value("out")) {
    if (auto written = WriteNewFile(*out, content); !written) {
      return Fail(io, written.error());
    }
    return kExitOk;
  }
  io.out << content;
  return kExitOk;
}

// ----- lint ---------------------------------------------------------------------------------

// What Windows' own policy cannot express of a valid policy: the USB rules the agent decides
// itself (and why), and the settings not enforced on Windows.
void LintForWindows(const v1::Policy& policy, Io& io) {
  const platform::UsbRegistryPlan usb = platform::CompileUsbRegistryPlan(policy);
  io.out << "Windows: " << usb.fallbacks.size()
         << " USB rule(s) fall back to the agent's own decision (it disables what they block):\n";
  for (const platform::UsbRuleFallback& f : usb.fallbacks) {
    io.out << "  usb " << f.rule << ": " << f.reason << "\n";
  }
  for (const std::string& note : usb.notes) {
    io.out << "  note: " << note << "\n";
  }
  // The Windows agent has no port names: it gives the evaluator the device's instance id where
  // Linux gives the port ("1-6"), so an enrolled entry with a via_port never matches there.
  for (const v1::KnownDevice& d : policy.usb().enrolled_devices()) {
    if (!d.via_port().empty()) {
      io.out << "  usb (enrolled) " << d.device_id() << ": via_port '" << d.via_port()
             << "' does not match on Windows (Windows has no Linux port names), so this device "
                "gets the rules or the default there; leave via_port empty for Windows laptops\n";
    }
  }
  // A valid policy always compiles; an error here would already have been listed by lint.
  if (auto plan = policy::CompileSettingsPlan(policy.settings()); plan.has_value()) {
    const platform::RegistryPolicy settings = platform::RenderRegistryPolicy(*plan);
    io.out << "Windows: " << settings.not_enforced.size() << " setting(s) not enforced:\n";
    for (const platform::SettingNotEnforced& n : settings.not_enforced) {
      io.out << "  setting " << n.setting << ": " << n.reason << "\n";
    }
  }
}

int RunLint(const Args& args, Io& io) {
  const std::string& file = args.positional(0);
  const std::string target = args.value("target").value_or("");
  if (!target.empty() && target != "windows" && target != "linux") {
    return Fail(io, "--target takes 'windows' or 'linux', not '" + target + "'");
  }
  int exit_code = kExitOk;
  const auto policy = LoadPolicyFile(file, io, /*list_issues=*/true, exit_code);
  if (!policy) {
    return exit_code;
  }
  io.out << file << ": ok (version " << policy->version() << ", " << policy->usb().rules_size()
         << " USB rules, " << policy->apps().rules_size() << " application rules, "
         << policy->settings().settings_size() << " settings)\n";
  if (target == "windows") {
    LintForWindows(*policy, io);
  }
  return kExitOk;
}

// ----- import-usbguard ------------------------------------------------------------------------

int RunImportUsbGuard(const Args& args, Io& io) {
  const std::string& file = args.positional(0);
  const policy::UsbGuardImportLimits limits;
  auto text = ReadWholeFile(file, limits.max_input_bytes);
  if (!text) {
    return Fail(io, text.error());
  }
  auto rules = policy::ImportUsbGuardRules(*text, limits);
  if (!rules) {
    return Fail(io, file + ", " + rules.error().message());
  }

  v1::Policy policy;
  policy.set_version(1);
  policy.set_mode(v1::MODE_MONITOR);  // roll out in MONITOR first
  policy.set_name("Imported from " + std::filesystem::path(file).filename().string());
  v1::UsbPolicy& usb = *policy.mutable_usb();
  usb.set_default_action(v1::USB_ACTION_BLOCK);  // USBGuard's implicit default
  for (auto& rule : *rules) {
    *usb.add_rules() = std::move(rule);
  }
  const bool usb_only = args.flag("usb-only");
  const int rc = Emit(
      args, ToJson(usb_only ? static_cast<const google::protobuf::Message&>(usb) : policy), io);
  if (rc != kExitOk) {
    return rc;
  }

  // What is left to do before the result can be signed, as notes (the import itself worked).
  std::size_t to_do = 0;
  for (const auto& issue : policy::ValidatePolicy(policy)) {
    if (!usb_only || issue.path.starts_with("usb")) {
      io.err << "wardctl: to do: " << issue.ToString() << "\n";
      ++to_do;
    }
  }
  io.err << "wardctl: imported " << usb.rules_size() << " USB rules from " << file;
  if (to_do == 0) {
    io.err << "\n";
  } else {
    io.err << "; before signing, fix the " << to_do
           << " item(s) above (choosing the audience also needs its acceptable-use text), then "
              "run 'wardctl policy lint'\n";
  }
  return kExitOk;
}

// ----- sign ---------------------------------------------------------------------------------

int RunSign(const Args& args, Io& io) {
  const std::string& file = args.positional(0);
  int exit_code = kExitOk;
  const auto policy = LoadPolicyFile(file, io, /*list_issues=*/false, exit_code);
  if (!policy) {
    return exit_code;
  }
  auto key = policy::SigningKey::ReadFile(*args.value("key"));
  if (!key) {
    return Fail(io, key.error());
  }
  auto signed_policy = policy::SignPolicy(*policy, *key);
  if (!signed_policy) {
    return Fail(io, signed_policy.error());
  }
  const std::string bundle = signed_policy->SerializeAsString();
  const std::string out = *args.value("out");
  if (auto written = WriteNewFile(out, bundle); !written) {
    return Fail(io, written.error());
  }
  io.out << "Signed " << file << " (version " << policy->version() << ") with key " << key->key_id()
         << ": " << out << ", " << bundle.size() << " bytes\n";
  return kExitOk;
}

// ----- show ---------------------------------------------------------------------------------

std::string_view ModeText(v1::Mode mode) {
  switch (mode) {
    case v1::MODE_MONITOR:
      return "monitor (records what would be blocked, blocks nothing)";
    case v1::MODE_ENFORCE:
      return "enforce";
    default:
      return "unspecified";
  }
}

std::string_view AudienceText(v1::Audience audience) {
  switch (audience) {
    case v1::AUDIENCE_UNDER_18:
      return "learners under 18";
    case v1::AUDIENCE_ADULT:
      return "adult learners and staff";
    default:
      return "unspecified";
  }
}

int RunShow(const Args& args, Io& io) {
  const std::string& file = args.positional(0);
  std::uint64_t in_force = 0;
  if (const auto value = args.value("in-force")) {
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), in_force);
    if (ec != std::errc() || end != value->data() + value->size()) {
      io.err << "wardctl policy show: --in-force needs a version number, not '" << *value
             << "' (see 'wardctl policy show --help')\n";
      return kExitUsage;
    }
  }
  auto key = policy::PublicKey::ReadFile(*args.value("pubkey"));
  if (!key) {
    return Fail(io, key.error());
  }
  auto bundle = ReadWholeFile(file, policy::kMaxBundleBytes);
  if (!bundle) {
    return Fail(io, bundle.error());
  }
  auto policy = policy::VerifySignedPolicyBytes(*bundle, *key, in_force);
  if (!policy) {
    return Fail(io, file + " was NOT accepted: " + policy.error().message());
  }
  io.out << "Verified: " << file << " is signed by trusted key " << key->key_id() << ".\n"
         << "  name:     " << policy->name() << "\n"
         << "  version:  " << policy->version();
  if (policy->has_issued_at()) {
    io.out << ", issued " << google::protobuf::util::TimeUtil::ToString(policy->issued_at());
  }
  io.out << "\n"
         << "  mode:     " << ModeText(policy->mode()) << "\n"
         << "  audience: " << AudienceText(policy->audience()) << "\n"
         << "  rules:    " << policy->usb().rules_size() << " USB, " << policy->apps().rules_size()
         << " applications, " << policy->settings().settings_size() << " settings\n"
         << "\nWhat learners are told (the tray's \"My policy\"):\n";
  for (const std::string& sentence : policy::SummarizeForLearner(*policy)) {
    io.out << "  " << sentence << "\n";
  }
  return kExitOk;
}

}  // namespace

Command PolicyCommands() {
  Command lint{
      .name = "lint",
      .summary = "check a policy JSON file and list every problem",
      .description =
          "Checks a policy JSON file: JSON syntax, field names and types, and the\n"
          "rules Ward applies (ids, device ids, interface classes, settings, learner\n"
          "text ...). Prints every problem as 'path: why'; exit status 1 if any.\n"
          "With --target windows, also lists the USB rules Windows' device installation\n"
          "policy cannot express (the agent decides those itself and disables what they\n"
          "block) and the settings Windows cannot enforce, each with the reason. These are\n"
          "not problems: the exit status stays 0.",
      .positionals = {{.name = "FILE", .help = "the policy JSON"}},
      .options = {{.name = "target",
                   .value_name = "OS",
                   .help = "also say what this OS cannot enforce as written (windows)"}},
      .run = RunLint,
  };
  Command import_usbguard{
      .name = "import-usbguard",
      .summary = "turn USBGuard rules into a Ward policy",
      .description =
          "Reads USBGuard rules (usbguard-rules.conf(5), e.g. what 'usbguard generate-policy'\n"
          "prints) and writes a Ward policy skeleton in JSON: version 1, MONITOR mode, USB\n"
          "default 'block' (USBGuard's implicit default) and the imported rules in order.\n"
          "Fill in audience, acceptable-use text and contacts before signing; what is still\n"
          "missing is listed on stderr. With --usb-only, writes just the \"usb\" object, to\n"
          "paste into an existing policy. Only the condition 'if localtime(HH:MM-HH:MM)' can\n"
          "be imported; any other condition is an error naming its line and column.",
      .positionals = {{.name = "RULES", .help = "the USBGuard rules file"}},
      .options =
          {
              {.name = "out",
               .value_name = "FILE",
               .help = "write the JSON here (a new file) instead of stdout"},
              {.name = "usb-only", .help = "write only the \"usb\" object"},
          },
      .run = RunImportUsbGuard,
  };
  Command sign{
      .name = "sign",
      .summary = "sign a policy for the fleet",
      .description =
          "Checks a policy JSON file like 'lint' does and, if it is valid, signs it with the\n"
          "Ed25519 private key, writing the signed bundle (a ward.v1.SignedPolicy) to a new\n"
          "file. Laptops accept it only if they pin the matching public key and its version is\n"
          "newer than the one they run.",
      .positionals = {{.name = "FILE", .help = "the policy JSON"}},
      .options =
          {
              {.name = "key",
               .value_name = "KEY",
               .help = "private key file from 'wardctl keygen' (mode 0600)",
               .required = true},
              {.name = "out",
               .value_name = "BUNDLE",
               .help = "where to write the signed bundle (a new file)",
               .required = true},
          },
      .run = RunSign,
  };
  Command show{
      .name = "show",
      .summary = "verify a signed bundle and describe it",
      .description =
          "Verifies a signed bundle exactly as a laptop would (key id, signature, policy\n"
          "validity, and with --in-force, that it is newer than that version), then prints\n"
          "its key facts and the plain-English summary learners see. Exit status 1 if the\n"
          "bundle would be refused.",
      .positionals = {{.name = "BUNDLE", .help = "the signed bundle from 'wardctl policy sign'"}},
      .options =
          {
              {.name = "pubkey",
               .value_name = "PUB",
               .help = "the trusted public key file",
               .required = true},
              {.name = "in-force",
               .value_name = "VERSION",
               .help = "version a laptop runs now (default 0: none)"},
          },
      .run = RunShow,
  };
  return Command{
      .name = "policy",
      .summary = "check, import, sign and inspect policies",
      .description =
          "Policies: check them, import USBGuard rules, sign them and inspect signed "
          "bundles.",
      .subcommands = {std::move(lint), std::move(import_usbguard), std::move(sign),
                      std::move(show)},
  };
}

}  // namespace ward::ctl
