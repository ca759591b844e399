// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ward/agent/store/event_store.h"
#include "ward/app/config.h"
#include "ward/common/result.h"
#include "ward/core/active_policy.h"
#include "ward/core/event_sink.h"
#include "ward/core/exec_enforcer.h"
#include "ward/core/failure_policy.h"
#include "ward/core/settings_enforcer.h"
#include "ward/core/usb_enforcer.h"
#include "ward/platform/device_control.h"
#include "ward/platform/exec_control.h"
#include "ward/platform/key_provider.h"
#include "ward/platform/settings_control.h"
#include "ward/platform/uevent_source.h"

namespace ward::app {

// Reads, validates and compiles a policy file. kNotFound / kInvalidArgument (every issue).
Result<std::shared_ptr<const core::ActivePolicy>> LoadPolicyFile(const std::filesystem::path& path);

// The composition root (Santa's SantadDeps): builds the object graph from the config and owns
// it. Members are destroyed in reverse order, enforcers before what they use.
struct AgentDeps {
  // `events`/`notices` replace the defaults when not null (tests; the tray IPC server plugs in
  // here). Default events: the encrypted store in config.state_dir, or journal lines when
  // config.store is off or the store cannot open (degraded, fail-open: enforcement goes on).
  static Result<std::unique_ptr<AgentDeps>> Create(
      const AgentConfig& config, std::unique_ptr<core::EventSink> events = nullptr,
      std::unique_ptr<core::NoticeSink> notices = nullptr);

  AgentConfig config;
  // The encrypted store, when `config.store` and no sink was given; `events` writes to it.
  std::unique_ptr<platform::KeyProvider> keys;
  std::unique_ptr<agent::store::EventStore> store;
  std::unique_ptr<core::EventSink> events;
  std::unique_ptr<core::NoticeSink> notices;
  std::unique_ptr<core::EventFactory> factory;
  std::unique_ptr<core::FailurePolicy> failures;
  std::unique_ptr<platform::DeviceControl> devices;
  std::unique_ptr<platform::UeventSource> uevents;
  std::unique_ptr<core::UsbEnforcer> usb;
  std::unique_ptr<platform::ExecControl> exec_control;
  std::unique_ptr<core::ExecEnforcer> exec;
  std::unique_ptr<platform::SettingsControl> settings_control;
  std::unique_ptr<core::SettingsEnforcer> settings;
  // Subsystems that could not start ("exec: fanotify_init: Operation not permitted").
  std::vector<std::string> degraded;
};

// The running agent: starts the enforcers under a policy, reloads it, stops cleanly and writes
// the status file. Confined to the main thread.
class Agent {
 public:
  explicit Agent(std::unique_ptr<AgentDeps> deps) : deps_(std::move(deps)) {}
  ~Agent();

  // Loads the policy file and starts every enforcer. Without a valid policy the agent does not
  // start (kInvalidArgument / kNotFound): USB stays at the kernel's state, nothing is allowed
  // by accident.
  Status Start();
  // Re-reads the policy file. A policy that does not load, or whose version is lower than the
  // one in force, is rejected and the old one stays (counted, recorded).
  Status Reload();
  // Answers every pending exec, stops the enforcers. Idempotent.
  void Stop();
  // One line for sd_notify STATUS= and the status file.
  std::string Summary() const;
  Status WriteStatus(std::string_view state) const;

 private:
  void RecordAgent(v1::AgentEvent::Kind kind, const std::string& detail);

  std::unique_ptr<AgentDeps> deps_;
  std::shared_ptr<const core::ActivePolicy> policy_;
  bool running_ = false;
};

// `ward-agent status`: prints the status file; 0 when the agent runs, 3 when not (LSB).
int PrintStatus(const std::filesystem::path& status_file);

}  // namespace ward::app
