// SPDX-License-Identifier: Apache-2.0
// Why the agent stops, and what it does about it (package_cli.h). Portable: the OS decides the
// StopCause (TakeStopCause on Linux; the service control on Windows).
#include <chrono>

#include "ward/app/agent.h"
#include "ward/app/package_cli.h"
#include "ward/common/log.h"

namespace ward::app {

std::filesystem::path PackageStopMarker(const AgentConfig& config) {
  return config.status_file.parent_path() / "package-stop";
}

std::filesystem::path LastUploadReportPath(const AgentConfig& config) {
  return config.status_file.parent_path() / "last-upload";
}

// Records why the agent stops; before a removal, gives the collector a bounded last chance at
// the CRITICAL events and leaves the result for the package's prerm to print.
void RecordStop(Agent& agent, const AgentConfig& config, StopCause cause, const std::string& how) {
  using std::chrono::seconds;
  using ward::v1::AgentEvent;
  switch (cause) {
    case StopCause::kPackageUpgrade:
      agent.RecordStopCause(AgentEvent::KIND_STOPPING, "stopped by its package for an upgrade");
      return;
    case StopCause::kShutdown:
      agent.RecordStopCause(AgentEvent::KIND_STOPPING, "the system is shutting down");
      return;
    case StopCause::kPackageRemove: {
      agent.RecordStopCause(AgentEvent::KIND_STOPPING, "stopped by its package for removal");
      // Well inside the unit's TimeoutStopSec (20 s).
      const auto left = agent.LastUpload(seconds(10));
      std::string why;
      if (const auto* sync = agent.sync(); sync != nullptr) {
        why = sync->Snapshot().last_error;
      }
      if (auto written =
              WriteFileDurably(LastUploadReportPath(config), LastUploadReport(left, why) + "\n");
          !written.has_value()) {
        log::Warning("cannot leave the last upload's report",
                     {{"error", written.error().ToString()}});
      }
      return;
    }
    case StopCause::kOther: {
      const std::string detail = "ward-agent was stopped (" + how +
                                 ") by someone other than its package, outside a shutdown";
      log::Warning("stopped outside the package and a shutdown: recorded as tamper");
      agent.RecordStopCause(AgentEvent::KIND_TAMPER, detail);
      // A short try, so the collector hears of it now rather than at the next start.
      (void)agent.LastUpload(seconds(2));
      return;
    }
  }
}

std::string LastUploadReport(const Result<std::uint64_t>& left, const std::string& why) {
  if (!left.has_value()) {
    return "Ward: cannot tell whether safeguarding events are still unsent: " +
           left.error().ToString();
  }
  if (*left == 0) {
    return "Ward: no safeguarding events (concerns, tamper) are waiting to be sent.";
  }
  return "Ward: " + std::to_string(*left) +
         " safeguarding event(s) (concerns, tamper) could not be sent to the collector" +
         (why.empty() ? std::string() : " (" + why + ")") +
         ". They stay encrypted on this laptop until it is purged; reinstalling Ward sends them.";
}

}  // namespace ward::app
