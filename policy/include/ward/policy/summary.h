// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "ward/v1/policy.pb.h"

// Plain-English descriptions of a policy for the learner (the tray's "My policy" page). Short,
// kind sentences a 13-year-old can read. Pure; thread-safe.
namespace ward::policy {

// What the policy means for the learner, most important first: "Right now Ward is only
// watching, not blocking." (MONITOR), "USB memory sticks are blocked.", "Keyboards and mice
// always work.", "Only approved programs can run.", one sentence per locked setting, who to talk
// to. The policy should be valid (ValidatePolicy); otherwise what cannot be judged is left out.
std::vector<std::string> SummarizeForLearner(const ward::v1::Policy& policy);

// "What Ward records about me" is DescribeKeptData (ward/policy/data_inventory.h).

}  // namespace ward::policy
