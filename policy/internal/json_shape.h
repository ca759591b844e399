// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "ward/policy/loader.h"

namespace ward::policy::internal {

// Checks that `json` is well-formed JSON whose shape fits `descriptor` before protobuf converts
// it: syntax (with line and column), unknown fields (with a suggestion), duplicate keys, two
// members of one oneof, lists where a single value belongs (and the reverse), and values of the
// wrong kind or enum names that do not exist. Paths use protobuf field names. Stops at the first
// syntax error; reports every shape issue otherwise. Pure; thread-safe.
std::vector<PolicyIssue> CheckJsonShape(std::string_view json,
                                        const google::protobuf::Descriptor& descriptor);

}  // namespace ward::policy::internal
