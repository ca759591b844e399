// SPDX-License-Identifier: Apache-2.0
// ward-agent: the root service. `ward-agent [--config PATH]` runs it (systemd Type=notify;
// the notifications come from ward::platform::ServiceNotifier, not libsystemd),
// `--check-config` validates config and policy, `ward-agent status` reports on a running agent,
// `ward-agent concern ...` reports a concern through the running agent's socket; `enrol`,
// `last-upload` and `restore-os` are run by the Debian package's scripts (package_cli.h).
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "ward/app/agent.h"
#include "ward/app/client_cli.h"
#include "ward/app/config.h"
#include "ward/app/package_cli.h"
#include "ward/common/log.h"
#include "ward/platform/service_notifier.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/ward/agent.conf";  // internal::DefaultConfigPath()

void PrintUsage() {
  std::printf(
      "Usage: ward-agent [--config PATH]        run the agent (as root, under systemd)\n"
      "       ward-agent --check-config [--config PATH]\n"
      "                                         check the configuration and the policy\n"
      "       ward-agent status [--config PATH] show what the running agent is doing\n"
      "       ward-agent concern --category NAME --text TEXT [--anonymous] [--in-danger]\n"
      "                  [--screenshot FILE.png] [--config PATH]\n"
      "                                         report a concern through the agent's socket\n"
      "                                         (as the calling user; prints the reference)\n"
      "       ward-agent enrol [--from DIR] [--within SECONDS] [--config PATH]\n"
      "                                         enrol with IT's files in /etc/ward/enrol.d\n"
      "       ward-agent last-upload [--within SECONDS] [--config PATH]\n"
      "                                         send unsent concerns and tamper events (agent\n"
      "                                         stopped; the package runs it before removal)\n"
      "       ward-agent restore-os [--config PATH]\n"
      "                                         undo USB defaults, dconf locks, polkit rule\n"
      "                                         (agent stopped; the package runs it on removal)\n"
      "       ward-agent --help\n\n"
      "Signals: SIGTERM/SIGINT stop (pending program checks are answered first), SIGHUP\n"
      "re-reads the signed policy bundle. A stop that is not the package's (its scripts\n"
      "leave /run/ward/package-stop) nor a shutdown is recorded as tamper.\n"
      "Default config: %s (and %s.d/*.conf)\n\n%s",
      kDefaultConfig, kDefaultConfig, ward::app::ConfigHelp().c_str());
}

// Runs until SIGTERM/SIGINT. Returns the process exit code.
int Run(const ward::app::AgentConfig& config) {
  // Signals are taken from a signalfd on this thread only: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    ward::log::Error("cannot block signals");
    return 1;
  }
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    ward::log::Error("signalfd failed", {{"error", std::strerror(errno)}});
    return 1;
  }

  // A NOTIFY_SOCKET systemd would never set is a broken start; a notification that cannot be
  // sent later is logged and the agent runs on (systemd then fails the start or the watchdog).
  auto notifier = ward::platform::CreateServiceNotifier();
  if (!notifier.has_value()) {
    ward::log::Error("cannot talk to the service manager",
                     {{"error", notifier.error().ToString()}});
    return 1;
  }
  auto deps = ward::app::AgentDeps::Create(config);
  if (!deps.has_value()) {
    ward::log::Error("cannot build the agent", {{"error", deps.error().ToString()}});
    return 1;
  }
  ward::app::Agent agent(*std::move(deps));
  if (auto started = agent.Start(); !started.has_value()) {
    ward::log::Error("cannot start", {{"error", started.error().ToString()}});
    return 1;
  }

  ward::platform::ServiceNotifier& service = **notifier;
  const auto notify = [](const ward::Status& sent, const char* what) {
    if (!sent.has_value()) {
      ward::log::Warning("cannot notify the service manager",
                         {{"what", what}, {"error", sent.error().ToString()}});
    }
  };
  std::optional<std::chrono::microseconds> watchdog;
  if (auto interval = service.WatchdogInterval(); interval.has_value()) {
    watchdog = *interval;
  } else {
    ward::log::Warning("watchdog settings ignored", {{"error", interval.error().ToString()}});
  }
  notify(service.Ready(agent.Summary()), "READY");
  // Idle, the agent wakes only for the watchdog (half its interval) or a signal.
  const int timeout_ms = watchdog.has_value() ? static_cast<int>(watchdog->count() / 2000) : -1;
  bool watchdog_failing = false;
  for (;;) {
    pollfd fd{signal_fd, POLLIN, 0};
    const int ready = poll(&fd, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      ward::log::Error("poll failed", {{"error", std::strerror(errno)}});
      agent.Stop();
      return 1;
    }
    if (watchdog.has_value()) {
      // Logged when pings start failing, not on every one of them.
      const auto pinged = service.WatchdogPing();
      if (!pinged.has_value() && !watchdog_failing) {
        notify(pinged, "WATCHDOG");
      }
      watchdog_failing = !pinged.has_value();
    }
    if (ready <= 0) {
      continue;
    }
    signalfd_siginfo info{};
    if (read(signal_fd, &info, sizeof(info)) != static_cast<ssize_t>(sizeof(info))) {
      continue;
    }
    if (info.ssi_signo == SIGHUP) {
      notify(service.Reloading(), "RELOADING");
      if (auto reloaded = agent.Reload(); !reloaded.has_value()) {
        ward::log::Error("policy reload rejected; the previous policy stays",
                         {{"error", reloaded.error().ToString()}});
      }
      notify(service.Ready(agent.Summary()), "READY");
      continue;
    }
    ward::log::Info("stopping", {{"signal", static_cast<int>(info.ssi_signo)}});
    notify(service.Stopping(), "STOPPING");
    ward::app::RecordStop(agent, config, ward::app::TakeStopCause(config),
                          "signal " + std::to_string(info.ssi_signo));
    agent.Stop();
    close(signal_fd);
    return 0;
  }
}

int Main(int argc, char** argv) {
  std::string config_path = kDefaultConfig;
  if (argc >= 2 && std::string_view(argv[1]) == "concern") {
    return ward::app::RunConcernCommand(argc - 2, argv + 2, config_path);
  }
  if (argc >= 2 && std::string_view(argv[1]) == "enrol") {
    return ward::app::RunEnrolCommand(argc - 2, argv + 2, config_path);
  }
  if (argc >= 2 && std::string_view(argv[1]) == "last-upload") {
    return ward::app::RunLastUploadCommand(argc - 2, argv + 2, config_path);
  }
  if (argc >= 2 && std::string_view(argv[1]) == "restore-os") {
    return ward::app::RunRestoreOsCommand(argc - 2, argv + 2, config_path);
  }
  bool check = false;
  bool status = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage();
      return 0;
    }
    if (arg == "--check-config") {
      check = true;
    } else if (arg == "status") {
      status = true;
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else {
      std::fprintf(stderr, "ward-agent: unknown argument '%s' (try --help)\n", argv[i]);
      return 2;
    }
  }
  auto config = ward::app::LoadConfig(config_path);
  if (!config.has_value()) {
    std::fprintf(stderr, "ward-agent: %s\n", config.error().ToString().c_str());
    return 2;
  }
  if (status) {
    return ward::app::PrintStatus(config->status_file);
  }
  if (check) {
    return ward::app::RunCheckConfig(*config);
  }
  return Run(*config);
}

}  // namespace

int main(int argc, char** argv) {
  // Ten threads, almost always asleep, that allocate little: glibc's default of one malloc
  // arena per thread (up to 8 per core) only keeps freed memory resident. Two arenas are plenty
  // (measured: tests/bench/agent_idle.sh, docs/benchmarks.md "Idle memory and wake-ups").
  mallopt(M_ARENA_MAX, 2);
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    ward::log::Error("unexpected exception", {{"what", e.what()}});
  } catch (...) {
    ward::log::Error("unexpected exception");
  }
  return 1;
}
