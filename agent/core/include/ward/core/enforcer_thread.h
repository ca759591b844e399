// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "ward/core/active_policy.h"

namespace ward::core {

// The event-loop thread and the policy hand-over every enforcer shares. The loop calls
// TakePolicy() and stopping() between waits; other threads call Post() and Stop(), which wake
// the loop through `wake` (the enforcer's platform Interrupt()). Thread-safe.
class EnforcerThread {
 public:
  explicit EnforcerThread(std::function<void()> wake) : wake_(std::move(wake)) {}
  ~EnforcerThread() { Stop(); }
  EnforcerThread(const EnforcerThread&) = delete;
  EnforcerThread& operator=(const EnforcerThread&) = delete;

  // Posts the first policy and starts `loop` on the thread.
  void Start(std::shared_ptr<const ActivePolicy> policy, std::function<void()> loop);
  // Hands a new policy to the loop and wakes it.
  void Post(std::shared_ptr<const ActivePolicy> policy);
  // The policy posted since the last call, or nullptr.
  std::shared_ptr<const ActivePolicy> TakePolicy();
  bool stopping() const;
  // For a degraded loop: sleeps up to `limit`, less if a policy is posted or Stop() is called.
  void Pause(std::chrono::milliseconds limit);
  // Stops and joins the loop. false when it was not running.
  bool Stop();

 private:
  const std::function<void()> wake_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::shared_ptr<const ActivePolicy> next_;  // guarded by mutex_
  bool stop_ = false;                         // guarded by mutex_
  std::thread thread_;
};

}  // namespace ward::core
