// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace ward::app {

// `ward-agent concern --category NAME --text TEXT [--anonymous] [--in-danger]
// [--screenshot FILE.png] [--config PATH]`: an IPC client (as whoever runs it) that submits one
// concern to the running agent and prints its reference. Categories: bullying,
// uncomfortable-contact, harmful-content, extremist-content, account-compromised, other.
// Returns the exit code: 0 sent, 1 refused or unreachable, 2 bad arguments.
int RunConcernCommand(int argc, char** argv, std::string config_path);

}  // namespace ward::app
