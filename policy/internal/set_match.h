// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <span>

#include "ward/v1/policy.pb.h"

namespace ward::policy::internal {

// Evaluates a usbguard-rules.conf(5) set operator: `rule` holds the listed values (patterns),
// `device` the device's values, `matches(pattern, value)` compares one of each.
//   ALL_OF: every listed value matches some device value.
//   ONE_OF: at least one listed value matches some device value.
//   NONE_OF: no listed value matches any device value.
//   EQUALS (also UNSPECIFIED): as many device values as listed ones, each side matching the other.
//   EQUALS_ORDERED: as many, matching pairwise in order.
//   MATCH_ALL: every device value matches some listed value (and there is at least one).
template <typename Pattern, typename Value, typename Matches>
bool EvaluateSet(ward::v1::SetOperator op, std::span<const Pattern> rule,
                 std::span<const Value> device, Matches matches) {
  const auto in_device = [&](const Pattern& p) {
    return std::ranges::any_of(device, [&](const Value& v) { return matches(p, v); });
  };
  const auto in_rule = [&](const Value& v) {
    return std::ranges::any_of(rule, [&](const Pattern& p) { return matches(p, v); });
  };
  switch (op) {
    case ward::v1::SET_OPERATOR_ALL_OF:
      return std::ranges::all_of(rule, in_device);
    case ward::v1::SET_OPERATOR_ONE_OF:
      return std::ranges::any_of(rule, in_device);
    case ward::v1::SET_OPERATOR_NONE_OF:
      return std::ranges::none_of(rule, in_device);
    case ward::v1::SET_OPERATOR_EQUALS_ORDERED:
      if (rule.size() != device.size()) {
        return false;
      }
      for (std::size_t i = 0; i < rule.size(); ++i) {
        if (!matches(rule[i], device[i])) {
          return false;
        }
      }
      return true;
    case ward::v1::SET_OPERATOR_MATCH_ALL:
      return !device.empty() && std::ranges::all_of(device, in_rule);
    case ward::v1::SET_OPERATOR_UNSPECIFIED:
    case ward::v1::SET_OPERATOR_EQUALS:
    default:
      return rule.size() == device.size() && std::ranges::all_of(rule, in_device) &&
             std::ranges::all_of(device, in_rule);
  }
}

}  // namespace ward::policy::internal
