// SPDX-License-Identifier: Apache-2.0
// v1::AppPolicy -> AppLocker rules (Microsoft's AppLocker policy XML schema) -> the SrpV2
// registry values Group Policy writes. docs/enforcement-windows.md explains each choice.
#include "ward/platform/applocker_policy.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>

namespace ward::platform {
namespace {

constexpr std::string_view kEveryone = "S-1-1-0";
constexpr std::string_view kAdministrators = "S-1-5-32-544";

constexpr std::string_view kNoAuthenticodeHash =
    "not available on Windows: the policy's sha256 is the SHA-256 of the whole file, but "
    "AppLocker's hash rules compare the Authenticode hash of the program image (it leaves out the "
    "signature and checksum), so a hash rule made from it would never match";
constexpr std::string_view kNoPackages =
    "not available on Windows: package rules name Debian packages (dpkg); give a path, directory "
    "or signer rule for Windows";
constexpr std::string_view kBareSigner =
    "not available on Windows: AppLocker matches the publisher's whole certificate subject, such "
    "as \"O=EXAMPLE LTD, L=LONDON, C=GB\" (Get-AppLockerFileInformation shows it); give that as "
    "the signer";

// Ward's precedence between rules that both match: sha256 > path > signer > package > directory
// (policy.proto). Lower is stronger.
int Rank(v1::AppRule::MatchCase match) {
  switch (match) {
    case v1::AppRule::kSha256:
      return 0;
    case v1::AppRule::kPath:
      return 1;
    case v1::AppRule::kSigner:
      return 2;
    case v1::AppRule::kPackage:
      return 3;
    case v1::AppRule::kDirectory:
      return 4;
    case v1::AppRule::MATCH_NOT_SET:
      break;
  }
  return 5;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// "C:\\..." or "\\\\server\\share\\..." (the policy's loader accepts no AppLocker path
// variables such as %PROGRAMFILES%: they are not absolute paths).
bool IsWindowsPath(std::string_view path) {
  const bool drive = path.size() >= 3 &&
                     ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
                     path[1] == ':' && (path[2] == '\\' || path[2] == '/');
  return drive || path.starts_with("\\\\");
}

std::string Backslashes(std::string_view path) {
  std::string out(path);
  std::ranges::replace(out, '/', '\\');
  return out;
}

// One AppLocker condition element, or why the rule cannot be one.
struct Condition {
  std::string xml;     // <FilePathCondition .../> or <FilePublisherCondition ...>...</...>
  std::string reason;  // set when not available on Windows
};

std::string PathCondition(std::string_view path) {
  return "<FilePathCondition Path=\"" + XmlEscape(path) + "\" />";
}

std::string PublisherCondition(std::string_view publisher, std::string_view low_version) {
  return "<FilePublisherCondition PublisherName=\"" + XmlEscape(publisher) +
         "\" ProductName=\"*\" BinaryName=\"*\"><BinaryVersionRange LowSection=\"" +
         std::string(low_version) + "\" HighSection=\"*\" /></FilePublisherCondition>";
}

Condition ConditionFor(const v1::AppRule& rule) {
  switch (rule.match_case()) {
    case v1::AppRule::kSha256:
      return {{}, std::string(kNoAuthenticodeHash)};
    case v1::AppRule::kPackage:
      return {{}, std::string(kNoPackages)};
    case v1::AppRule::kPath:
      if (!IsWindowsPath(rule.path())) {
        return {{}, "not available on Windows: '" + rule.path() + "' is not a Windows path"};
      }
      return {PathCondition(Backslashes(rule.path())), {}};
    case v1::AppRule::kDirectory: {
      if (!IsWindowsPath(rule.directory())) {
        return {{}, "not available on Windows: '" + rule.directory() + "' is not a Windows path"};
      }
      std::string dir = Backslashes(rule.directory());
      while (dir.ends_with('\\')) {
        dir.pop_back();
      }
      return {PathCondition(dir + "\\*"), {}};
    }
    case v1::AppRule::kSigner:
      // A certificate subject in X.500 form has an organisation part.
      if (rule.signer().find("O=") == std::string::npos) {
        return {{}, std::string(kBareSigner)};
      }
      return {PublisherCondition(rule.signer(), "*"), {}};
    case v1::AppRule::MATCH_NOT_SET:
      break;
  }
  return {{}, "not a rule: no matcher"};
}

std::string Folded(std::string_view text) {
  std::string out = Backslashes(text);
  std::ranges::transform(out, out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  while (out.ends_with('\\')) {
    out.pop_back();
  }
  return out;
}

// A rule AppLocker can express, with what it matches folded for comparing (AppLocker compares
// paths and publishers case-insensitively).
struct Compiled {
  const v1::AppRule* rule;
  std::string condition;  // the condition element
  std::string folded;     // the path, directory or publisher, folded
};

// Whether some program could match both rules. An exception that can never apply is left out,
// so the rules stay readable and small.
bool MayOverlap(const Compiled& allow, const Compiled& deny) {
  const v1::AppRule::MatchCase a = allow.rule->match_case();
  const bool allow_is_place = a == v1::AppRule::kPath || a == v1::AppRule::kDirectory;
  switch (deny.rule->match_case()) {
    case v1::AppRule::kPath:
      return !allow_is_place || allow.folded == deny.folded;
    case v1::AppRule::kDirectory:
      return !allow_is_place ||
             (allow.folded.size() > deny.folded.size() && allow.folded.starts_with(deny.folded) &&
              allow.folded[deny.folded.size()] == '\\');
    case v1::AppRule::kSigner:
      return a != v1::AppRule::kSigner || allow.folded == deny.folded;
    default:
      return true;
  }
}

std::string_view ElementFor(v1::AppRule::MatchCase match) {
  return match == v1::AppRule::kSigner ? "FilePublisherRule" : "FilePathRule";
}

// A UUID (version 8, RFC 9562: application-defined) from the SHA-256 of the rule's XML without
// its Id: the same rule always gets the same GUID, so applying again changes nothing, and a
// changed rule gets a new one.
std::string GuidFromContent(std::string_view content) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), content.size(), digest.data());
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x80);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(
      out, sizeof(out), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
      digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
      digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]);
  return out;
}

// <Element Id="..." Name="..." Description="..." UserOrGroupSid="..." Action="...">
//   <Conditions>...</Conditions>[<Exceptions>...</Exceptions>]</Element>, with "{ID}" standing
// for the Id until the GUID is known.
std::string RuleXml(std::string_view element, std::string_view id, std::string_view name,
                    std::string_view description, std::string_view sid, std::string_view action,
                    std::string_view condition, std::string_view exceptions) {
  std::string out = "<" + std::string(element) + " Id=\"" + std::string(id) + "\" Name=\"" +
                    XmlEscape(name) + "\" Description=\"" + XmlEscape(description) +
                    "\" UserOrGroupSid=\"" + std::string(sid) + "\" Action=\"" +
                    std::string(action) + "\"><Conditions>" + std::string(condition) +
                    "</Conditions>";
  if (!exceptions.empty()) {
    out += "<Exceptions>" + std::string(exceptions) + "</Exceptions>";
  }
  return out + "</" + std::string(element) + ">";
}

AppLockerRule WardRule(std::string_view element, const std::string& rule_id,
                       std::string_view description, std::string_view action,
                       std::string_view condition, std::string_view exceptions) {
  constexpr std::string_view kPlaceholder = "{ID}";
  std::string xml = RuleXml(element, kPlaceholder, std::string(kAppLockerRuleNamePrefix) + rule_id,
                            description, kEveryone, action, condition, exceptions);
  const std::string guid = GuidFromContent(xml);
  xml.replace(xml.find(kPlaceholder), kPlaceholder.size(), guid);
  return {AppLockerCollection::kExe, guid, rule_id, std::move(xml)};
}

// AppLocker's own default rules (the ones "Create Default Rules" makes, with Microsoft's fixed
// Ids), so Windows itself keeps working under an allowlist.
std::vector<AppLockerRule> DefaultExeRules() {
  return {
      {AppLockerCollection::kExe, "921cc481-6e17-4653-8f75-050b80acca20", "",
       RuleXml("FilePathRule", "921cc481-6e17-4653-8f75-050b80acca20",
               "(Default Rule) All files located in the Program Files folder",
               "Allows members of the Everyone group to run applications that are located in the "
               "Program Files folder.",
               kEveryone, "Allow", PathCondition("%PROGRAMFILES%\\*"), "")},
      {AppLockerCollection::kExe, "a61c8b2c-a319-4cd0-9690-d2177cad7b51", "",
       RuleXml("FilePathRule", "a61c8b2c-a319-4cd0-9690-d2177cad7b51",
               "(Default Rule) All files located in the Windows folder",
               "Allows members of the Everyone group to run applications that are located in the "
               "Windows folder.",
               kEveryone, "Allow", PathCondition("%WINDIR%\\*"), "")},
      {AppLockerCollection::kExe, "fd686d83-a829-4351-8ff4-27c7de5755d2", "",
       RuleXml("FilePathRule", "fd686d83-a829-4351-8ff4-27c7de5755d2", "(Default Rule) All files",
               "Allows members of the local Administrators group to run all applications.",
               kAdministrators, "Allow", PathCondition("*"), "")},
  };
}

// With Exe rules in force and no packaged-app rule, Windows blocks every packaged app (the
// Start menu, Settings, Calculator...): AppLocker's default packaged-app rule keeps signed ones.
AppLockerRule DefaultAppxRule() {
  return {AppLockerCollection::kAppx, "a9e18c21-ff8f-43cf-b9fc-db40eed693ba", "",
          RuleXml("FilePublisherRule", "a9e18c21-ff8f-43cf-b9fc-db40eed693ba",
                  "(Default Rule) All signed packaged apps",
                  "Allows members of the Everyone group to run packaged apps that are signed.",
                  kEveryone, "Allow", PublisherCondition("*", "0.0.0.0"), "")};
}

std::string_view CollectionName(AppLockerCollection c) {
  return c == AppLockerCollection::kExe ? "Exe" : "Appx";
}

}  // namespace

AppLockerPolicy CompileAppLockerPolicy(const v1::AppPolicy& apps, v1::Mode mode) {
  AppLockerPolicy out;
  out.enforce = mode == v1::MODE_ENFORCE;
  std::vector<Compiled> compiled;
  for (const v1::AppRule& rule : apps.rules()) {
    Condition c = ConditionFor(rule);
    if (!c.reason.empty()) {
      out.not_enforced.push_back({rule.id(), std::move(c.reason)});
      continue;
    }
    compiled.push_back({&rule, std::move(c.xml),
                        Folded(rule.match_case() == v1::AppRule::kPath        ? rule.path()
                               : rule.match_case() == v1::AppRule::kDirectory ? rule.directory()
                                                                              : rule.signer())});
  }
  if (apps.restricted_interpreters_size() > 0) {
    out.not_enforced.push_back(
        {"restricted_interpreters",
         "not available on Windows: interpreters are restricted by name on Linux only; on Windows "
         "block them with a path or signer rule"});
  }
  std::vector<std::size_t> allows;
  for (std::size_t i = 0; i < compiled.size(); ++i) {
    if (compiled[i].rule->action() == v1::APP_ACTION_ALLOW) {
      allows.push_back(i);
    }
  }
  // AppLocker has no order: a Deny rule always beats an Allow rule. Ward's stronger allow rules
  // (higher precedence, the same kind listed first, or a deeper directory) become exceptions of
  // each weaker deny rule, so "allow this one program, block the rest of the folder" means the
  // same. Cost: each signer allow is repeated in every weaker deny rule
  // (docs/enforcement-windows.md).
  for (std::size_t d = 0; d < compiled.size(); ++d) {
    const v1::AppRule& rule = *compiled[d].rule;
    const bool deny = rule.action() == v1::APP_ACTION_BLOCK;
    std::string exceptions;
    if (deny) {
      const int rd = Rank(rule.match_case());
      for (const std::size_t a : allows) {
        const int ra = Rank(compiled[a].rule->match_case());
        // Between two directories the deeper one wins in Ward (the longest prefix), whatever
        // the order; MayOverlap keeps only allow directories below the denied one.
        const bool first = a < d || rule.match_case() == v1::AppRule::kDirectory;
        if ((ra < rd || (ra == rd && first)) && MayOverlap(compiled[a], compiled[d])) {
          exceptions += compiled[a].condition;
        }
      }
    }
    out.rules.push_back(WardRule(ElementFor(rule.match_case()), rule.id(), rule.message(),
                                 deny ? "Deny" : "Allow", compiled[d].condition, exceptions));
  }
  if (apps.default_action() == v1::APP_ACTION_BLOCK) {
    std::ranges::move(DefaultExeRules(), std::back_inserter(out.rules));
  } else {
    // No rule matched: allowed. AppLocker denies what no rule allows, so Ward says so.
    out.rules.push_back(WardRule("FilePathRule", "default-allow",
                                 "Programs no other rule names may run.", "Allow",
                                 PathCondition("*"), ""));
  }
  out.rules.push_back(DefaultAppxRule());
  std::ranges::sort(out.rules, {},
                    [](const AppLockerRule& r) { return std::tie(r.collection, r.guid); });
  // Two identical rules (the same content) are one AppLocker rule.
  const auto [first, last] = std::ranges::unique(
      out.rules, {}, [](const AppLockerRule& r) { return std::tie(r.collection, r.guid); });
  out.rules.erase(first, last);
  return out;
}

std::string FormatAppLockerXml(const AppLockerPolicy& policy) {
  std::string out = "<AppLockerPolicy Version=\"1\">\n";
  const std::string_view mode = policy.enforce ? "Enabled" : "AuditOnly";
  for (const AppLockerCollection c : {AppLockerCollection::kAppx, AppLockerCollection::kExe}) {
    out += "  <RuleCollection Type=\"" + std::string(CollectionName(c)) + "\" EnforcementMode=\"" +
           std::string(mode) + "\">\n";
    for (const AppLockerRule& rule : policy.rules) {
      if (rule.collection == c) {
        out += "    " + rule.xml + "\n";
      }
    }
    out += "  </RuleCollection>\n";
  }
  return out + "</AppLockerPolicy>\n";
}

RegistryPolicy RenderAppLockerRegistry(const AppLockerPolicy& policy) {
  RegistryPolicy out;
  out.not_enforced = policy.not_enforced;
  const auto dword = [](std::string setting, std::string key, std::string name,
                        std::uint32_t value) {
    return RegistryPolicyValue{.setting = std::move(setting),
                               .root = RegistryRoot::kMachine,
                               .key = std::move(key),
                               .name = std::move(name),
                               .type = RegistryType::kDword,
                               .dword = value,
                               .text = {}};
  };
  for (const AppLockerCollection c : {AppLockerCollection::kExe, AppLockerCollection::kAppx}) {
    const std::string key = std::string(kSrpV2Key) + "\\" + std::string(CollectionName(c));
    out.values.push_back(dword("apps.mode", key, "EnforcementMode", policy.enforce ? 1 : 0));
    out.values.push_back(dword("apps.mode", key, "AllowWindows", 0));
  }
  for (const AppLockerRule& rule : policy.rules) {
    out.values.push_back({.setting = rule.rule_id.empty() ? "apps.default-rules" : rule.rule_id,
                          .root = RegistryRoot::kMachine,
                          .key = std::string(kSrpV2Key) + "\\" +
                                 std::string(CollectionName(rule.collection)) + "\\" + rule.guid,
                          .name = "Value",
                          .type = RegistryType::kSz,
                          .dword = 0,
                          .text = rule.xml});
  }
  // Automatic (2): AppLocker enforces nothing while the Application Identity service is stopped.
  out.values.push_back(dword("apps.service", std::string(kAppIdSvcKey), "Start", 2));
  std::ranges::sort(out.values, {},
                    [](const RegistryPolicyValue& v) { return std::tie(v.root, v.key, v.name); });
  return out;
}

AppLockerEditionSupport AppLockerSupportFor(std::string_view edition_id) {
  // Enterprise, EnterpriseS (LTSC), EnterpriseN, Education, EducationN, IoTEnterprise and the
  // Server editions enforce AppLocker rules delivered by Group Policy.
  const bool enforced = edition_id.starts_with("Enterprise") ||
                        edition_id.starts_with("Education") ||
                        edition_id.starts_with("IoTEnterprise") || edition_id.starts_with("Server");
  if (enforced) {
    return {true, "Windows " + std::string(edition_id) + " enforces AppLocker rules"};
  }
  return {false, "Windows " + std::string(edition_id.empty() ? "(unknown edition)" : edition_id) +
                     " is not known to enforce AppLocker rules written as Group Policy does "
                     "(Microsoft documents enforcement for Enterprise and Education): the rules "
                     "are written, but blocking is not guaranteed"};
}

}  // namespace ward::platform
