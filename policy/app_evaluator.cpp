// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/app_evaluator.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "internal/format.h"
#include "internal/validate.h"
#include "ward/common/hex.h"
#include "ward/policy/loader.h"

namespace ward::policy {
namespace {

using Digest = std::array<std::uint8_t, 32>;

struct DigestHash {
  std::size_t operator()(const Digest& d) const {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);  // already uniformly distributed
    return h;
  }
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

std::optional<Digest> ParseDigest(std::string_view hex) {
  if (hex.size() != 64) {
    return std::nullopt;
  }
  const auto bytes = HexDecode(hex);
  if (!bytes) {
    return std::nullopt;
  }
  Digest digest;
  std::memcpy(digest.data(), bytes->data(), digest.size());
  return digest;
}

bool IsSeparator(char c) { return c == '/' || c == '\\'; }

// Strips trailing separators, keeping a root ("/", "C:\").
std::string NormaliseDirectory(std::string dir) {
  while (dir.size() > 1 && IsSeparator(dir.back()) && !(dir.size() == 3 && dir[1] == ':')) {
    dir.pop_back();
  }
  return dir;
}

std::string_view BaseName(std::string_view path) {
  const auto slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "python3" covers "python3" and versioned names such as "python3.11".
bool NameCovers(std::string_view name, std::string_view base) {
  if (!base.starts_with(name)) {
    return false;
  }
  const std::string_view suffix = base.substr(name.size());
  return suffix.find_first_not_of("0123456789.") == std::string_view::npos;
}

struct Rule {
  std::string id;
  bool allow = true;
  std::string value;  // the matcher's value (directories normalised)
  std::string message;
  std::string url;
};

}  // namespace

struct AppEvaluator::Compiled {
  std::vector<Rule> rules;
  std::unordered_map<Digest, std::uint32_t, DigestHash> by_sha256;
  StringMap<std::uint32_t> by_path, by_signer, by_package, by_directory;
  std::vector<std::string> package_names;  // the keys of by_package, sorted
  std::vector<std::string> interpreter_names;
  std::unordered_set<std::string, StringHash, std::equal_to<>> interpreter_paths;
  bool sha256_allow = false;  // some sha256 rule allows / blocks
  bool sha256_block = false;
  std::size_t longest_directory = 0;
  bool default_allow = true;
  bool enforce = true;
  std::string default_message;

  const Rule* Find(const StringMap<std::uint32_t>& map, std::string_view key) const {
    if (map.empty()) {
      return nullptr;
    }
    const auto it = map.find(key);
    return it == map.end() ? nullptr : &rules[it->second];
  }

  const Rule* FindDirectory(std::string_view path) const {
    if (by_directory.empty()) {
      return nullptr;
    }
    // Walk the parent directories from the deepest up; the first hit is the longest prefix.
    for (std::size_t end = path.size(); end > 0; --end) {
      if (!IsSeparator(path[end - 1]) || end - 1 > longest_directory) {
        continue;
      }
      const std::size_t sep = end - 1;
      // The root keeps its separator ("/", "C:\"); other directories are looked up without it.
      const bool root = sep == 0 || (sep == 2 && path[1] == ':');
      if (const Rule* rule = Find(by_directory, path.substr(0, root ? sep + 1 : sep))) {
        return rule;
      }
    }
    return nullptr;
  }

  bool IsRestrictedInterpreter(std::string_view path, std::string_view* which) const {
    if (const auto it = interpreter_paths.find(path); it != interpreter_paths.end()) {
      *which = *it;
      return true;
    }
    const std::string_view base = BaseName(path);
    for (const std::string& name : interpreter_names) {
      if (NameCovers(name, base)) {
        *which = name;
        return true;
      }
    }
    return false;
  }

  AppDecision FromRule(const Rule& rule, AppMatch match) const {
    AppDecision d;
    d.matched_by = match;
    d.rule_id = rule.id;
    d.matched_value = rule.value;
    d.verdict = rule.allow ? AppVerdict::kAllow : AppVerdict::kBlock;
    if (!rule.allow) {
      d.message = rule.message.empty() ? std::string_view(default_message) : rule.message;
      d.url = rule.url;
    }
    return d;
  }

  // The ladder below sha256.
  AppDecision WithoutDigest(const ExecRequest& request) const {
    if (const Rule* rule = Find(by_path, request.path)) {
      return FromRule(*rule, AppMatch::kPath);
    }
    std::string_view interpreter;
    if (IsRestrictedInterpreter(request.path, &interpreter)) {
      AppDecision d;
      d.matched_by = AppMatch::kRestrictedInterpreter;
      d.matched_value = interpreter;
      d.verdict = AppVerdict::kBlock;
      d.message = default_message;
      return d;
    }
    if (!request.signer.empty()) {
      if (const Rule* rule = Find(by_signer, request.signer)) {
        return FromRule(*rule, AppMatch::kSigner);
      }
    }
    if (!request.package.empty()) {
      if (const Rule* rule = Find(by_package, request.package)) {
        return FromRule(*rule, AppMatch::kPackage);
      }
    }
    if (const Rule* rule = FindDirectory(request.path)) {
      return FromRule(*rule, AppMatch::kDirectory);
    }
    AppDecision d;
    d.matched_by = AppMatch::kDefault;
    d.verdict = default_allow ? AppVerdict::kAllow : AppVerdict::kBlock;
    if (!default_allow) {
      d.message = default_message;
    }
    return d;
  }

  // The sha256 rule for the request's digest, computing it; nullptr when none matches.
  ward::Result<const Rule*> ByDigest(const ExecRequest& request) const {
    if (!request.sha256) {
      return InvalidArgumentError(internal::Format(
          "no sha256 callback for {}, and the policy has sha256 rules", request.path));
    }
    auto hex = request.sha256();
    if (!hex) {
      return std::unexpected(
          std::move(hex).error().WithContext(internal::Format("hashing {}", request.path)));
    }
    const auto digest = ParseDigest(*hex);
    if (!digest) {
      return InvalidArgumentError(
          internal::Format("the sha256 of {} is not 64 hex digits: \"{}\"", request.path, *hex));
    }
    const auto it = by_sha256.find(*digest);
    return it == by_sha256.end() ? nullptr : &rules[it->second];
  }

  AppDecision Finish(AppDecision d, bool computed) const {
    d.sha256_computed = computed;
    if (d.verdict == AppVerdict::kBlock && !enforce) {
      d.verdict = AppVerdict::kWouldBlock;
    }
    return d;
  }
};

AppEvaluator::AppEvaluator(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}
AppEvaluator::~AppEvaluator() = default;

ward::Result<std::unique_ptr<AppEvaluator>> AppEvaluator::Create(const ward::v1::Policy& policy) {
  if (const auto issues = internal::ValidateSection(policy, internal::PolicySection::kApps);
      !issues.empty()) {
    return InvalidArgumentError("policy is not valid: " + FormatIssues(issues));
  }
  auto c = std::make_unique<Compiled>();
  const auto& apps = policy.apps();
  c->default_allow = apps.default_action() != ward::v1::APP_ACTION_BLOCK;
  c->enforce = policy.mode() == ward::v1::MODE_ENFORCE;
  c->default_message = apps.default_message().empty()
                           ? "This program can't run on this laptop. Ask IT if you need it."
                           : apps.default_message();
  c->rules.reserve(static_cast<std::size_t>(apps.rules_size()));
  for (const auto& r : apps.rules()) {
    const auto index = static_cast<std::uint32_t>(c->rules.size());
    Rule rule{r.id(), r.action() == ward::v1::APP_ACTION_ALLOW, "", r.message(), r.url()};
    switch (r.match_case()) {
      case ward::v1::AppRule::kSha256:
        rule.value = r.sha256();
        c->by_sha256.emplace(*ParseDigest(r.sha256()), index);
        (rule.allow ? c->sha256_allow : c->sha256_block) = true;
        break;
      case ward::v1::AppRule::kPath:
        rule.value = r.path();
        c->by_path.emplace(r.path(), index);
        break;
      case ward::v1::AppRule::kSigner:
        rule.value = r.signer();
        c->by_signer.emplace(r.signer(), index);
        break;
      case ward::v1::AppRule::kPackage:
        rule.value = r.package();
        c->by_package.emplace(r.package(), index);
        break;
      case ward::v1::AppRule::kDirectory:
        rule.value = NormaliseDirectory(r.directory());
        c->longest_directory = std::max(c->longest_directory, rule.value.size());
        c->by_directory.emplace(rule.value, index);
        break;
      case ward::v1::AppRule::MATCH_NOT_SET:
        break;  // rejected by validation
    }
    c->rules.push_back(std::move(rule));
  }
  for (const auto& [name, index] : c->by_package) {
    c->package_names.push_back(name);
  }
  std::sort(c->package_names.begin(), c->package_names.end());
  for (const std::string& entry : apps.restricted_interpreters()) {
    if (entry.find_first_of("/\\") == std::string::npos) {
      c->interpreter_names.push_back(entry);
    } else {
      c->interpreter_paths.insert(entry);
    }
  }
  return std::unique_ptr<AppEvaluator>(new AppEvaluator(std::move(c)));
}

ward::Result<AppDecision> AppEvaluator::Evaluate(const ExecRequest& request) const {
  const Compiled& c = *compiled_;
  if (c.sha256_allow && c.sha256_block) {
    // Either answer of the ladder could be overturned: the digest is needed anyway.
    WARD_ASSIGN_OR_RETURN(const Rule* rule, c.ByDigest(request));
    if (rule != nullptr) {
      return c.Finish(c.FromRule(*rule, AppMatch::kSha256), true);
    }
    return c.Finish(c.WithoutDigest(request), true);
  }
  AppDecision lower = c.WithoutDigest(request);
  const bool lower_allows = lower.verdict == AppVerdict::kAllow;
  const bool could_change = lower_allows ? c.sha256_block : c.sha256_allow;
  if (!could_change) {
    return c.Finish(lower, false);
  }
  WARD_ASSIGN_OR_RETURN(const Rule* rule, c.ByDigest(request));
  if (rule != nullptr) {
    return c.Finish(c.FromRule(*rule, AppMatch::kSha256), true);
  }
  return c.Finish(lower, true);
}

bool AppEvaluator::HasPackageRules() const { return !compiled_->by_package.empty(); }

bool AppEvaluator::HasPackageRule(std::string_view package) const {
  return compiled_->Find(compiled_->by_package, package) != nullptr;
}

const std::vector<std::string>& AppEvaluator::PackageRuleNames() const {
  return compiled_->package_names;
}

std::string AppDecision::StaffReason() const {
  const std::string_view what = verdict == AppVerdict::kAllow   ? "allowed"
                                : verdict == AppVerdict::kBlock ? "blocked"
                                                                : "would be blocked (monitor mode)";
  switch (matched_by) {
    case AppMatch::kDefault:
      return internal::Format("{} by the default action (no rule matched)", what);
    case AppMatch::kRestrictedInterpreter:
      return internal::Format("{}: {} is a restricted interpreter", what, matched_value);
    default:
      return internal::Format("{} by {} rule \"{}\" ({})", what, AppMatchName(matched_by), rule_id,
                              matched_value);
  }
}

std::string_view AppVerdictName(AppVerdict verdict) {
  switch (verdict) {
    case AppVerdict::kAllow:
      return "allow";
    case AppVerdict::kBlock:
      return "block";
    case AppVerdict::kWouldBlock:
      return "would-block";
  }
  return "block";
}

std::string_view AppMatchName(AppMatch match) {
  switch (match) {
    case AppMatch::kSha256:
      return "sha256";
    case AppMatch::kPath:
      return "path";
    case AppMatch::kRestrictedInterpreter:
      return "restricted interpreter";
    case AppMatch::kSigner:
      return "signer";
    case AppMatch::kPackage:
      return "package";
    case AppMatch::kDirectory:
      return "directory";
    case AppMatch::kDefault:
      return "default";
  }
  return "default";
}

}  // namespace ward::policy
