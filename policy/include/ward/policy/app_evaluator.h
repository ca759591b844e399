// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/result.h"
#include "ward/v1/policy.pb.h"

namespace ward::policy {

// A program about to start.
struct ExecRequest {
  std::string_view path;     // absolute path of the executable (symlinks resolved)
  std::uint64_t size = 0;    // bytes; not matched by rules, carried for the caller's cache key
  std::string_view package;  // owning package ("" when none)
  std::string_view signer;   // verified signing identity ("" when unsigned or unknown)
  // Computes the file's SHA-256 as 64 hex digits. Called at most once per Evaluate, and only
  // when a sha256 rule could change the verdict (see AppEvaluator). May be empty when the
  // policy has no sha256 rules.
  std::function<ward::Result<std::string>()> sha256;
};

enum class AppVerdict : std::uint8_t {
  kAllow,
  kBlock,
  kWouldBlock,  // MONITOR mode: the policy would block; the program runs and it is recorded
};

// Which part of the precedence ladder decided.
enum class AppMatch : std::uint8_t {
  kSha256,
  kPath,
  kRestrictedInterpreter,
  kSigner,
  kPackage,
  kDirectory,
  kDefault,
};

// The decision. The string views point into the AppEvaluator and stay valid while it lives.
struct AppDecision {
  AppVerdict verdict = AppVerdict::kAllow;
  AppMatch matched_by = AppMatch::kDefault;
  std::string_view rule_id;        // empty for kDefault and kRestrictedInterpreter
  std::string_view matched_value;  // the digest, path, signer, package, directory or interpreter
  std::string_view message;        // learner-facing; empty when allowed
  std::string_view url;
  bool sha256_computed = false;

  // For staff: "blocked by directory rule \"block-home\" (/home)".
  std::string StaffReason() const;
};

// Decides program starts against a policy's AppPolicy by the ladder
//   sha256 > path > restricted interpreter > signer > package > directory > default
// (directory: the longest rule directory containing the path, on component boundaries; the
// default is apps.default_action, ALLOW when unspecified). A restricted interpreter entry is a
// program name ("python3", which also covers versioned names such as "python3.11") or an
// absolute path; it blocks unless a sha256 or path rule names the file itself.
//
// The sha256 callback runs only when a sha256 rule with an action different from the rest of the
// ladder's answer exists: with only ALLOW sha256 rules, a program already allowed is not hashed.
//
// Rules are held in hash maps (digest, path, signer, package, directory), so a decision costs a
// few lookups whatever the number of rules. Immutable after construction: Evaluate is
// thread-safe if the request's callback is.
class AppEvaluator {
 public:
  // The policy's apps section must pass validation (as in ValidatePolicy); otherwise
  // kInvalidArgument listing the issues. Only `apps` and `mode` are read.
  static ward::Result<std::unique_ptr<AppEvaluator>> Create(const ward::v1::Policy& policy);
  ~AppEvaluator();
  AppEvaluator(const AppEvaluator&) = delete;
  AppEvaluator& operator=(const AppEvaluator&) = delete;

  // Errors: those of the sha256 callback (with context), or kInvalidArgument when it returns
  // something that is not 64 hex digits. The caller's failure policy decides what happens then.
  ward::Result<AppDecision> Evaluate(const ExecRequest& request) const;

  // Whether the policy has package rules at all / one for `package`: a caller finds a
  // program's package (which costs a digest of its content) only when it could matter.
  bool HasPackageRules() const;
  bool HasPackageRule(std::string_view package) const;
  // The packages the rules name, sorted, without duplicates: the only ones whose records a
  // caller needs.
  const std::vector<std::string>& PackageRuleNames() const;

 private:
  struct Compiled;
  explicit AppEvaluator(std::unique_ptr<Compiled> compiled);
  std::unique_ptr<Compiled> compiled_;
};

std::string_view AppVerdictName(AppVerdict verdict);  // "allow", "block", "would-block"
std::string_view AppMatchName(AppMatch match);        // "sha256", "path", ...

}  // namespace ward::policy
