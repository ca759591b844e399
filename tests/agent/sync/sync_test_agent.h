// SPDX-License-Identifier: Apache-2.0
// The agent half of the sync tests: a policy sink that remembers what it was given, and sync
// options with short backoff so restarts are noticed quickly.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "ward/agent/sync/sync_engine.h"

namespace ward::agent::sync::testing {

// Holds the policy "in force". Thread-safe.
class MemoryPolicySink final : public PolicySink {
 public:
  std::uint64_t CurrentPolicyVersion() override {
    std::scoped_lock lock(mu_);
    return version_;
  }
  Status ApplyPolicy(const v1::Policy& policy, const v1::SignedPolicy&) override {
    std::scoped_lock lock(mu_);
    version_ = policy.version();
    applied_.push_back(policy.version());
    return OkStatus();
  }
  std::vector<std::uint64_t> applied() {
    std::scoped_lock lock(mu_);
    return applied_;
  }

 private:
  std::mutex mu_;
  std::uint64_t version_ = 0;           // guarded by mu_
  std::vector<std::uint64_t> applied_;  // guarded by mu_
};

inline SyncOptions TestSyncOptions(const std::string& secret, std::size_t batch = 50) {
  SyncOptions o;
  o.enrolment_secret = secret;
  o.hostname = "laptop-7";
  o.os = "debian 12";
  o.agent_version = "0.1.0-test";
  o.machine_hash = "machine-hash-7";
  o.batch_max_events = batch;
  o.upload_interval = std::chrono::milliseconds(200);
  o.backoff_base = std::chrono::milliseconds(50);
  o.backoff_cap = std::chrono::milliseconds(500);
  o.policy_wait = std::chrono::seconds(30);
  o.request_timeout = std::chrono::seconds(10);
  return o;
}

}  // namespace ward::agent::sync::testing
