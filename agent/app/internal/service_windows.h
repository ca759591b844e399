// SPDX-License-Identifier: Apache-2.0
// Windows only: ward-agent.exe as a service of the Service Control Manager
// (service_windows.cpp). The contract the MSI's ServiceInstall keeps (docs/agent-windows.md):
// service name "WardAgent", own process, LocalSystem, auto-start, binary
// "<install dir>\ward-agent.exe" with an optional `--config PATH`.
#pragma once

#include <filesystem>
#include <string>

#include "ward/common/result.h"

namespace ward::app::internal {

inline constexpr const wchar_t* kServiceName = L"WardAgent";
inline constexpr const wchar_t* kServiceDisplayName = L"Ward Agent";
inline constexpr const wchar_t* kEventSource = L"WardAgent";
// Who may do what to the service: SYSTEM and the Administrators everything; interactive users
// only query it (config, status, dependents, interrogate, read its security). Nobody else.
inline constexpr const wchar_t* kServiceSddl =
    L"D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)"
    L"(A;;CCLCSWLORC;;;IU)";
// Recovery: restart 5 s after the first failure, 60 s after later ones; the count of failures
// goes back to zero after a day without one.
inline constexpr unsigned long kFirstRestartMs = 5000;
inline constexpr unsigned long kLaterRestartMs = 60000;
inline constexpr unsigned long kFailureResetSeconds = 24 * 60 * 60;

// Started by the SCM: runs the agent until the SCM stops it, then returns the exit code.
// Returns 2 (with a line on stderr) when the process was not started by the SCM.
int RunAsService(const std::filesystem::path& config_path);
// `--console`: runs the agent in this console until Ctrl+C (for debugging; no SCM).
int RunInConsole(const std::filesystem::path& config_path);

// `install`: creates the service (auto-start, LocalSystem) for this executable with
// `--config config_path` when it is not empty, registers the event source and configures it
// (ConfigureService). kAlreadyExists when it exists; Win32 errors otherwise.
Status InstallService(const std::filesystem::path& config_path);
// `uninstall`: stops the service (waits up to 30 s), deletes it and its event source.
Status UninstallService();
// `uninstall`, after UninstallService: puts back what Ward replaced in the registry (the USB
// device installation policy, the settings lock-down; UsbInstallPolicy/SettingsLockdown
// Restore()). Both are tried; the first error is returned.
Status RestoreWindowsPolicies();
// Sets the recovery actions (also on non-crash failures: a non-zero exit), the pre-shutdown
// time and the service's access list. The service does this itself at every start (the MSI
// cannot set recovery actions), so an installed service always has them.
Status ConfigureService();
// HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\WardAgent, with this executable
// as the message file.
Status RegisterEventLogSource();

}  // namespace ward::app::internal
