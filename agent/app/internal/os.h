// SPDX-License-Identifier: Apache-2.0
// What ward-agent's composition root needs from the OS, one file per OS (os_posix.cpp,
// os_windows.cpp; CMake picks it). WriteFileDurably and CheckEnrolmentSecretFile (agent.h) are
// defined there too. No OS header here.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "ward/app/config.h"

namespace ward::app::internal {

// The configuration before any file is read: the AgentConfig defaults on Linux; on Windows the
// same keys under %ProgramData%\Ward and the named pipe (agent::ipc::DefaultEndpoint()).
AgentConfig DefaultAgentConfig();
// The default config file ("/etc/ward/agent.conf", "%ProgramData%\Ward\agent.conf").
std::filesystem::path DefaultConfigPath();

// Whether a config value names an absolute path: "/..." on Linux; "C:\...", "\\server\..."
// or a pipe ("\\.\pipe\...") on Windows.
bool IsAbsolutePath(std::string_view text);

// The OS name the collector is told ("linux", "windows").
const char* OsName();
std::string HostName();
// The machine's stable id, hashed before it leaves the laptop (sync_wiring.cpp): the 32 hex
// digits of config.machine_id_file on Linux, the MachineGuid (dashes removed) on Windows.
// Empty (logged) when there is none.
std::string MachineId(const AgentConfig& config);

long CurrentProcessId();
// Whether a process with this id runs (the status file's writer).
bool ProcessRunning(long pid);

// Before the IPC server listens at `endpoint`: its directory exists (Linux: 0755); nothing to
// do for a named pipe.
void PrepareIpcEndpoint(const std::filesystem::path& endpoint);

}  // namespace ward::app::internal
