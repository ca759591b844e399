// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ward/agent/ipc/agent_control.h"
#include "ward/agent/ipc/ipc_server.h"
#include "ward/agent/store/event_store.h"
#include "ward/app/concern.h"
#include "ward/common/random.h"
#include "ward/common/result.h"
#include "ward/core/active_policy.h"
#include "ward/core/event_sink.h"

namespace ward::app {

// Bridges the enforcers' core::NoticeSink to the tray's IpcServer (attached once it runs) and,
// when given, to a fallback sink (tests). With neither, notices are logged at debug level.
// Thread-safe; never blocks (IpcServer::Notify only queues).
class NoticeBridge final : public core::NoticeSink {
 public:
  explicit NoticeBridge(std::unique_ptr<core::NoticeSink> fallback = nullptr)
      : fallback_(std::move(fallback)) {}
  // `server` must stay valid until Attach(nullptr).
  void Attach(agent::ipc::IpcServer* server);
  void Notify(v1::Notice notice) override;
  // Only to the trays of the user with this agent::ipc::Caller::user_id (a concern was received).
  void NotifyUser(std::string user_id, v1::Notice notice);

 private:
  std::mutex mu_;
  agent::ipc::IpcServer* server_ = nullptr;  // guarded by mu_
  std::unique_ptr<core::NoticeSink> fallback_;
};

// Degradation lines ("exec: fanotify_init: Operation not permitted") as DeviceStatus entries.
void AddDegradations(const std::vector<std::string>& degraded, v1::DeviceStatus& device);

// The agent's answer to the tray (the real agent::ipc::AgentControl). The policy in force is
// pushed in with SetPolicy(); the sync engine hooks in with SetCollectorReachable(),
// SetUploadTrigger() and OnConcernAcknowledged().
//
// State kept in the store's state table: "aup/<user id>/<version>" for each acceptance and
// "concern/<event id>" = "<user id> <reference>" until the collector acknowledges the concern (so
// the right learner hears "received", also after a restart; it never leaves the laptop).
// Thread-safe: IpcServer calls it on its loop thread, the agent and sync from theirs.
class AgentService final : public agent::ipc::AgentControl {
 public:
  // `store` may be null (store off or degraded): concerns are then refused, since they could
  // not be kept; acceptances are remembered in memory only. Everything must outlive this.
  AgentService(agent::store::EventStore* store, core::EventSink& events,
               core::EventFactory& factory, NoticeBridge& notices, Random& random);

  void SetPolicy(std::shared_ptr<const core::ActivePolicy> policy, bool signed_policy);
  void SetDegraded(std::vector<std::string> degraded);

  // Seams for agent/sync.
  // Whether the collector answered lately (default false: "offline").
  void SetCollectorReachable(bool reachable);
  // Called after each concern is durable, to upload it now. Must not block for long.
  void SetUploadTrigger(std::function<void()> trigger);
  // The collector stored the event: tells the learner who sent it. Unknown ids are ignored.
  void OnConcernAcknowledged(std::string_view event_id);

  Result<v1::StatusResponse> Status(const agent::ipc::Caller& caller) override;
  Result<v1::PolicySummaryResponse> PolicySummary(const agent::ipc::Caller& caller) override;
  Result<v1::SubmitConcernResponse> SubmitConcern(const agent::ipc::Caller& caller,
                                                  const v1::SubmitConcernRequest& request) override;
  ward::Status AcceptAup(const agent::ipc::Caller& caller,
                         const v1::AcceptAupRequest& request) override;
  ward::Status Subscribe(const agent::ipc::Caller& caller) override;

 private:
  std::shared_ptr<const core::ActivePolicy> CurrentPolicy() const;
  bool AupAccepted(const std::string& user_id, std::uint32_t version);

  agent::store::EventStore* store_;
  core::EventSink& events_;
  core::EventFactory& factory_;
  NoticeBridge& notices_;
  Random& random_;

  mutable std::mutex mu_;
  std::shared_ptr<const core::ActivePolicy> policy_;          // guarded by mu_
  bool signed_policy_ = false;                                // guarded by mu_
  std::vector<std::string> degraded_;                         // guarded by mu_
  bool reachable_ = false;                                    // guarded by mu_
  std::function<void()> upload_trigger_;                      // guarded by mu_
  std::set<std::pair<std::string, std::uint32_t>> accepted_;  // guarded by mu_ (store's cache)
};

}  // namespace ward::app
