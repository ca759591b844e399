// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <vector>

#include "ward/policy/loader.h"

namespace ward::policy::internal {

enum class PolicySection { kAll, kUsb, kApps };

// ValidatePolicy restricted to one section (kUsb: usb.*; kApps: apps.*), for evaluators that
// need their own input well-formed without re-checking the whole policy. Pure; thread-safe.
std::vector<PolicyIssue> ValidateSection(const ward::v1::Policy& policy, PolicySection section);

}  // namespace ward::policy::internal
