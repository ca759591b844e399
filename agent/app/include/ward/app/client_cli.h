// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "ward/app/config.h"

namespace ward::app {

// `ward-agent concern --category NAME --text TEXT [--anonymous] [--in-danger]
// [--screenshot FILE.png] [--config PATH]`: an IPC client (as whoever runs it) that submits one
// concern to the running agent and prints its reference. Categories: bullying,
// uncomfortable-contact, harmful-content, extremist-content, account-compromised, other.
// Returns the exit code: 0 sent, 1 refused or unreachable, 2 bad arguments.
int RunConcernCommand(int argc, char** argv, std::string config_path);

// `ward-agent --check-config`: checks the policy (signature with the pinned key) and the sync
// settings, and prints one line. Returns the exit code: 0 fine, 1 not.
int RunCheckConfig(const AgentConfig& config);

}  // namespace ward::app
