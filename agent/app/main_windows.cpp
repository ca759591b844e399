// SPDX-License-Identifier: Apache-2.0
// ward-agent.exe: the WardAgent Windows service (started by the Service Control Manager with no
// subcommand), `--console` to run it in a console for debugging, `install`/`uninstall` for
// administrators (the MSI uses ServiceInstall instead, with the same name and binary:
// docs/agent-windows.md), `--check-config`, `status` and `concern` as on Linux.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "internal/os.h"
#include "internal/service_windows.h"
#include "ward/app/agent.h"
#include "ward/app/client_cli.h"
#include "ward/app/config.h"
#include "ward/common/log.h"

namespace {

void PrintUsage(const std::filesystem::path& default_config) {
  std::printf(
      "Usage: ward-agent [--config PATH]        run as the WardAgent service (the service\n"
      "                                         manager starts it this way)\n"
      "       ward-agent --console [--config PATH]\n"
      "                                         run in this console until Ctrl+C (debugging)\n"
      "       ward-agent install [--config PATH] create the WardAgent service (auto-start,\n"
      "                                         LocalSystem, restarts itself on failure)\n"
      "       ward-agent uninstall              stop and delete the WardAgent service and put\n"
      "                                         back the USB and settings policies\n"
      "       ward-agent --check-config [--config PATH]\n"
      "                                         check the configuration and the policy\n"
      "       ward-agent status [--config PATH] show what the running agent is doing\n"
      "       ward-agent concern --category NAME --text TEXT [--anonymous] [--in-danger]\n"
      "                  [--screenshot FILE.png] [--config PATH]\n"
      "                                         report a concern through the agent's pipe\n"
      "       ward-agent --help\n\n"
      "Default config: %s (and its .d\\*.conf files). Logs: the Application event log\n"
      "(source WardAgent) and <folder of status_file>\\logs\\ward-agent.log.\n",
      default_config.string().c_str());
}

int Main(int argc, char** argv) {
  std::filesystem::path config_path = ward::app::internal::DefaultConfigPath();
  if (argc >= 2 && std::string_view(argv[1]) == "concern") {
    return ward::app::RunConcernCommand(argc - 2, argv + 2, config_path.string());
  }
  std::string_view command;
  bool console = false;
  bool check = false;
  bool config_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage(config_path);
      return 0;
    }
    if (arg == "--console") {
      console = true;
    } else if (arg == "--check-config") {
      check = true;
    } else if ((arg == "status" || arg == "install" || arg == "uninstall") && command.empty()) {
      command = arg;
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = std::filesystem::absolute(argv[++i]);
      config_given = true;
    } else {
      std::fprintf(stderr, "ward-agent: unknown argument '%s' (try --help)\n", argv[i]);
      return 2;
    }
  }
  if (command == "install") {
    auto installed =
        ward::app::internal::InstallService(config_given ? config_path : std::filesystem::path());
    if (!installed.has_value()) {
      std::fprintf(stderr, "ward-agent install: %s\n", installed.error().ToString().c_str());
      return 1;
    }
    std::printf("Ward: the WardAgent service is installed; start it with: sc start WardAgent\n");
    return 0;
  }
  if (command == "uninstall") {
    if (auto removed = ward::app::internal::UninstallService(); !removed.has_value()) {
      std::fprintf(stderr, "ward-agent uninstall: %s\n", removed.error().ToString().c_str());
      return 1;
    }
    std::printf("Ward: the WardAgent service is stopped and removed.\n");
    // What Ward replaced in the registry goes back (the USB device installation policy and the
    // settings lock-down), now that nothing puts Ward's values back.
    if (auto restored = ward::app::internal::RestoreWindowsPolicies(); !restored.has_value()) {
      std::fprintf(stderr, "ward-agent uninstall: %s\n", restored.error().ToString().c_str());
      return 1;
    }
    std::printf("Ward: the USB and settings policies are back as they were before Ward.\n");
    return 0;
  }
  if (command == "status" || check) {
    auto config = ward::app::LoadConfig(config_path);
    if (!config.has_value()) {
      std::fprintf(stderr, "ward-agent: %s\n", config.error().ToString().c_str());
      return 2;
    }
    return check ? ward::app::RunCheckConfig(*config) : ward::app::PrintStatus(config->status_file);
  }
  if (console) {
    return ward::app::internal::RunInConsole(config_path);
  }
  return ward::app::internal::RunAsService(config_path);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    ward::log::Error("unexpected exception", {{"what", e.what()}});
  } catch (...) {
    ward::log::Error("unexpected exception");
  }
  return 1;
}
