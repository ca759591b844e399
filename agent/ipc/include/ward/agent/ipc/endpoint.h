// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>

namespace ward::agent::ipc {

// Where the agent listens by default: "/run/ward/agent.sock" on Linux (a Unix socket),
// "\\.\pipe\ward-agent" on Windows (a named pipe).
std::filesystem::path DefaultEndpoint();

}  // namespace ward::agent::ipc
