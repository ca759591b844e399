// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ward/agent/ipc/ipc_server.h"

#include "ward/agent/store/event_store.h"
#include "ward/agent/sync/sync_engine.h"
#include "ward/agent/sync/transport.h"
#include "ward/app/agent_service.h"
#include "ward/app/config.h"
#include "ward/common/result.h"
#include "ward/core/active_policy.h"
#include "ward/core/declarative_enforcer.h"
#include "ward/core/event_sink.h"
#include "ward/core/exec_enforcer.h"
#include "ward/core/failure_policy.h"
#include "ward/core/package_provenance.h"
#include "ward/core/settings_enforcer.h"
#include "ward/core/usb_enforcer.h"
#include "ward/platform/device_control.h"
#include "ward/platform/exec_control.h"
#include "ward/platform/key_provider.h"
#include "ward/platform/settings_control.h"
#include "ward/platform/settings_lockdown.h"
#include "ward/platform/uevent_source.h"
#include "ward/platform/usb_install_policy.h"
#include "ward/policy/signing.h"

namespace ward::app {

// Reads, validates and compiles an unsigned JSON policy file (dev_policy_json).
// kNotFound / kInvalidArgument (every issue).
Result<std::shared_ptr<const core::ActivePolicy>> LoadPolicyFile(const std::filesystem::path& path);

// `--check-config`: the policy the agent would start with (the dev JSON file, or the signed
// bundle verified with the pinned key; the one in force in state_dir when no bundle is there).
Result<v1::Policy> CheckPolicy(const AgentConfig& config);

// `--check-config` for sync: with collector_url set, the enrolment secret must be readable and
// not empty and the URL and CA must make a transport (kInvalidArgument / kNotFound).
Status CheckSync(const AgentConfig& config);

// The enrolment secret file must be a regular file of root's (or this process's user's) that
// group and others may not use: whoever reads it can enrol laptops into the group.
// kNotFound when there is no such file; kPermissionDenied, naming the file and the chown/chmod
// that fixes it, otherwise.
Status CheckEnrolmentSecretFile(const std::filesystem::path& path);

// Where the signed policy in force is kept (root-only, written atomically).
std::filesystem::path PolicyInForcePath(const AgentConfig& config);

// Writes `bytes` to `path` (mode 0600) so that a crash leaves the old file or the new one.
Status WriteFileDurably(const std::filesystem::path& path, std::string_view bytes);

// The encrypted store in config.state_dir and the key provider that holds its key, opened the
// way the service opens them (a store that cannot be read is quarantined, see EventStore::Open).
struct OpenedStore {
  std::unique_ptr<platform::KeyProvider> keys;
  std::unique_ptr<agent::store::EventStore> store;
};
Result<OpenedStore> OpenAgentStore(const AgentConfig& config);

// The collector transport for config.collector_url and config.collector_ca (kInvalidArgument).
Result<std::unique_ptr<agent::sync::CollectorTransport>> CreateCollectorTransport(
    const AgentConfig& config);
// The sync options the agent enrols and uploads with: the enrolment secret (empty when its file
// is gone: it is deleted once the device is enrolled), host name, OS, version, machine hash.
// kInvalidArgument when the secret file is unreadable for another reason, empty or too long.
Result<agent::sync::SyncOptions> SyncOptionsFor(const AgentConfig& config);

// How many CRITICAL events (concerns, tamper) the store holds, i.e. not yet acknowledged by
// the collector.
Result<std::uint64_t> UnsentCritical(agent::store::EventStore& store);
// Asks `engine` to upload now and waits until the store holds no CRITICAL event or `within`
// has passed. Returns how many are still unsent.
Result<std::uint64_t> UploadCriticalWithin(agent::sync::SyncEngine& engine,
                                           agent::store::EventStore& store,
                                           std::chrono::milliseconds within);

// The composition root (Santa's SantadDeps): builds the object graph from the config and owns
// it. Members are destroyed in reverse order, enforcers before what they use.
struct AgentDeps {
  // `events`/`notices` replace the defaults when not null (tests). Notices always go through
  // the NoticeBridge (to the tray's IpcServer once it runs; `notices`, when given, also gets
  // them). Default events: the encrypted store in config.state_dir, or journal lines when
  // config.store is off or the store cannot open (degraded, fail-open: enforcement goes on).
  static Result<std::unique_ptr<AgentDeps>> Create(
      const AgentConfig& config, std::unique_ptr<core::EventSink> events = nullptr,
      std::unique_ptr<core::NoticeSink> notices = nullptr);

  AgentConfig config;
  // The encrypted store, when `config.store` and no sink was given; `events` writes to it.
  std::unique_ptr<platform::KeyProvider> keys;
  std::unique_ptr<agent::store::EventStore> store;
  std::unique_ptr<core::EventSink> events;
  std::unique_ptr<NoticeBridge> notices;
  std::unique_ptr<core::EventFactory> factory;
  std::unique_ptr<core::FailurePolicy> failures;
  // Windows: the Device Installation Restrictions values the USB policy compiles into, kept
  // (applied, read back, drift reverted) by `usb_policy`; started before `usb`.
  std::unique_ptr<platform::UsbInstallPolicy> usb_install;
  std::unique_ptr<core::DeclarativeTarget> usb_install_target;
  std::unique_ptr<core::DeclarativeEnforcer> usb_policy;
  std::unique_ptr<platform::DeviceControl> devices;
  std::unique_ptr<platform::UeventSource> uevents;
  std::unique_ptr<core::UsbEnforcer> usb;
  std::unique_ptr<platform::ExecControl> exec_control;
  // Package provenance (null: packages off, exec off, or no dpkg database); outlives `exec`.
  std::unique_ptr<core::PackageProvenance> packages;
  std::unique_ptr<core::ExecEnforcer> exec;
  std::unique_ptr<platform::SettingsControl> settings_control;
  std::unique_ptr<core::SettingsEnforcer> settings;
  // Windows: the settings lock-down as registry policy values (ADR 0014), in place of `settings`.
  std::unique_ptr<platform::SettingsLockdown> settings_lockdown;
  std::unique_ptr<core::DeclarativeTarget> settings_target;
  std::unique_ptr<core::DeclarativeEnforcer> settings_policy;
  // The collector connection (null: sync off, collector_url unset, or degraded). The engine
  // itself lives in Agent (its policy sink is the agent).
  std::unique_ptr<agent::sync::CollectorTransport> collector;
  agent::sync::SyncOptions sync_options;
  // Subsystems that could not start ("exec: fanotify_init: Operation not permitted").
  std::vector<std::string> degraded;

 private:
  // Builds `collector` and `sync_options` when collector_url is set (sync_wiring.cpp).
  void CreateSync();
  // Builds the enforcers the config turns on (enforcer_wiring_<os>.cpp); one that cannot start,
  // or has no backend on this OS yet, is added to `degraded` and reported to `failures`.
  void CreateEnforcers();
};

// Where a signed policy came from: the sync engine records its own rejections.
enum class PolicyOrigin { kLocal, kSync };

// The running agent: starts the enforcers under a policy, serves the tray (IpcServer +
// AgentService), reloads the policy, stops cleanly and writes the status file. Start, Reload,
// Stop and Summary belong to the main thread; ApplySignedPolicy and service() may be used from
// any thread while the agent runs (agent/sync hands over new policies there).
class Agent {
 public:
  explicit Agent(std::unique_ptr<AgentDeps> deps) : deps_(std::move(deps)) {}
  ~Agent();

  // Loads the policy (the signed one in force, or a newer signed bundle; or the dev JSON file),
  // starts every enforcer and the IPC server. Without a valid policy the agent does not start
  // (kInvalidArgument / kNotFound / kUnauthenticated): USB stays at the kernel's state, nothing
  // is allowed by accident. An IPC server that cannot start is a degradation, not a failure.
  Status Start();
  // SIGHUP: re-reads the bundle (or the dev JSON file). The same bundle is a no-op; a bundle
  // that does not verify, or is not newer than the one in force, is rejected and the old policy
  // stays (counted, recorded).
  Status Reload();
  // Verifies a serialised v1::SignedPolicy with the pinned key and rollback protection,
  // keeps it (so a restart runs it), applies it to the enforcers, records KIND_POLICY_APPLIED
  // and tells the trays (PolicyChangedNotice). On any error records KIND_POLICY_REJECTED and
  // the policy in force stays. kFailedPrecondition before Start or with a dev JSON policy.
  // With PolicyOrigin::kSync the rejection is not recorded here: the engine records it (once).
  Status ApplySignedPolicy(std::string_view bundle, PolicyOrigin origin = PolicyOrigin::kLocal);
  // The sync engine (null when sync is off).
  agent::sync::SyncEngine* sync() { return sync_.get(); }
  // The tray's AgentControl (null before Start or with ipc off): sync hooks in here.
  AgentService* service() { return service_.get(); }
  // The policy in force (null before Start).
  std::shared_ptr<const core::ActivePolicy> policy() const;
  AgentDeps& deps() { return *deps_; }
  // Answers every pending exec, stops the enforcers. Idempotent.
  void Stop();
  // Records why the agent is about to stop (KIND_STOPPING, or KIND_TAMPER when nobody who may
  // stop it did: a CRITICAL event).
  void RecordStopCause(v1::AgentEvent::Kind kind, const std::string& detail);
  // Before a stop: gives the collector up to `within` to take the CRITICAL events still in the
  // store. Returns how many are left (0 when sync is off and the store holds none); kUnavailable
  // without a store.
  Result<std::uint64_t> LastUpload(std::chrono::milliseconds within);
  // One line for sd_notify STATUS= and the status file.
  std::string Summary() const;
  Status WriteStatus(std::string_view state) const;

 private:
  void RecordAgent(v1::AgentEvent::Kind kind, const std::string& detail);
  Result<std::shared_ptr<const core::ActivePolicy>> LoadStartPolicy();
  Status ReloadBundle();
  Status RejectPolicy(const Error& error, PolicyOrigin origin = PolicyOrigin::kLocal);
  // Makes `policy` the one in force everywhere; `bundle` (signed) is kept first.
  Status Adopt(std::shared_ptr<const core::ActivePolicy> policy, std::string bundle,
               PolicyOrigin origin = PolicyOrigin::kLocal);
  void StartIpc();
  void StopIpc();
  void StartSync();
  void StopSync();

  std::unique_ptr<AgentDeps> deps_;
  std::optional<policy::PublicKey> key_;  // the pinned key; empty with dev_policy_json
  std::mutex apply_mu_;                   // one policy change at a time
  mutable std::mutex policy_mu_;
  mutable std::mutex status_mu_;                      // one writer of the status file at a time
  std::shared_ptr<const core::ActivePolicy> policy_;  // guarded by policy_mu_
  std::string bundle_in_force_;                       // guarded by apply_mu_
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<agent::ipc::IpcServer> ipc_;
  std::unique_ptr<agent::sync::PolicySink> sync_sink_;
  std::unique_ptr<agent::sync::SyncEngine> sync_;  // stopped before the store closes
  std::atomic<bool> running_{false};
  bool stop_recorded_ = false;  // RecordStopCause was called (main thread only)
};

// Whether the status file says "running" for a process that exists.
bool AgentIsRunning(const std::filesystem::path& status_file);

// `ward-agent status`: prints the status file; 0 when the agent runs, 3 when not (LSB).
int PrintStatus(const std::filesystem::path& status_file);

}  // namespace ward::app
