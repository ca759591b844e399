// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/result.h"
#include "ward/v1/policy.pb.h"

namespace ward::policy {

// One problem found in a policy: the field it is about, in protobuf field names with list
// indices ("usb.rules[3].device_id"; "line 4, column 7" for JSON syntax errors) and why, in
// plain words.
struct PolicyIssue {
  std::string path;
  std::string message;

  // "<path>: <message>"
  std::string ToString() const;
  friend bool operator==(const PolicyIssue&, const PolicyIssue&) = default;
};

// Semantic validation of a parsed policy: every issue, in field order (empty when the policy is
// valid). Checks versions, modes, rule ids, duplicate and contradictory rules, the syntax of
// device ids, interface classes, time windows, digests, paths and URLs, settings against the
// catalogue, learner text, and that the AUP exists for the policy's audience. Pure; thread-safe.
[[nodiscard]] std::vector<PolicyIssue> ValidatePolicy(const ward::v1::Policy& policy);

// Larger JSON is refused before parsing (a 20,000-rule policy is about 3 MB).
inline constexpr std::size_t kMaxPolicyJsonBytes = 32u << 20;

// Parses policy JSON (protobuf's JSON mapping: proto or lowerCamel field names, enum names,
// RFC 3339 times; unknown fields and duplicate keys are errors) and validates it.
// Errors: kInvalidArgument whose message lists every issue, one "<path>: <why>" per line.
// Pure; thread-safe.
[[nodiscard]] ward::Result<ward::v1::Policy> LoadPolicyJson(std::string_view json);

// Joins issues one per line ("<path>: <why>\n..."), without a trailing newline.
std::string FormatIssues(const std::vector<PolicyIssue>& issues);

}  // namespace ward::policy
