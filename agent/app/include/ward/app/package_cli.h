// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "ward/app/config.h"
#include "ward/common/result.h"

namespace ward::app {

class Agent;

// Subcommands the Debian package's maintainer scripts run as root (IT may run them by hand).
// Each returns the process exit code and prints plain lines for the person installing or
// removing Ward.

// `ward-agent enrol [--from DIR] [--within SECONDS] [--config PATH]`: enrols this laptop with
// the settings IT dropped in DIR (default /etc/ward/enrol.d): `collector.url`, `ca.pem` (the
// site CA), `policy.pub` (the group's policy key: PEM from `wardctl keygen`, or its 64 hex
// digits) and `secret` (the enrolment secret; root-only, mode 0600, or it is refused). Pins the
// CA and the key next to the config file, writes the collector settings to
// <config>.d/50-enrolment.conf, enrols, and waits (at most SECONDS, default 60) for the group's
// signed policy, which it keeps as the policy in force. Only then are DIR's files deleted (the
// secret with them). Refused while the agent runs (it owns the store). 0 enrolled (or already
// enrolled), 1 not, 2 bad arguments.
int RunEnrolCommand(int argc, char** argv, std::string config_path);

// `ward-agent last-upload [--within SECONDS] [--config PATH]`: when the agent is not running,
// gives the collector up to SECONDS (default 10) to take the CRITICAL events (concerns,
// tamper) still in the store, and says how many are left. 0 none left, 1 some left.
int RunLastUploadCommand(int argc, char** argv, std::string config_path);

// `ward-agent restore-os [--config PATH]`: puts back what the agent changed (USB defaults, dconf
// locks, the polkit rule; see platform::RestoreOsDefaults). Refused while the agent runs.
// 0 restored, 1 something could not be.
int RunRestoreOsCommand(int argc, char** argv, std::string config_path);

// Why the service is being stopped.
enum class StopCause { kPackageUpgrade, kPackageRemove, kShutdown, kOther };

// The file the package's scripts write ("upgrade" or "remove", root-owned) before they stop the
// agent: in the directory of config.status_file ("/run/ward/package-stop").
std::filesystem::path PackageStopMarker(const AgentConfig& config);
// Where the agent leaves the result of its last upload before a removal, for the package's
// prerm to print ("/run/ward/last-upload").
std::filesystem::path LastUploadReportPath(const AgentConfig& config);

// Reads and deletes the package's marker. Without one: kShutdown when PID 1 is systemd's
// shutdown program (the final kill of a power-off or reboot), else kOther (someone stopped the
// agent: `systemctl stop`, `kill`).
StopCause TakeStopCause(const AgentConfig& config);

// Records why the agent stops (`how`: "signal 15", "the service manager's stop"); before a
// removal, gives the collector a bounded last chance at the CRITICAL events and leaves the
// result at LastUploadReportPath for the package to print. kOther is recorded as tamper.
void RecordStop(Agent& agent, const AgentConfig& config, StopCause cause, const std::string& how);

// One line for the person removing Ward: nothing left, or how many safeguarding events could
// not be sent and where they stay. `why` (may be empty) says what failed.
std::string LastUploadReport(const Result<std::uint64_t>& left, const std::string& why);

}  // namespace ward::app
