// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "ward/core/active_policy.h"
#include "ward/core/enforcer_thread.h"
#include "ward/core/event_sink.h"
#include "ward/core/failure_policy.h"
#include "ward/core/package_provenance.h"
#include "ward/platform/exec_control.h"

namespace ward::core {

struct ExecEnforcerStats {
  std::uint64_t decisions = 0;    // requests answered by the enforcer
  std::uint64_t cache_hits = 0;   // answered from the decision cache
  std::uint64_t hashes = 0;       // files hashed (once per file version)
  std::uint64_t blocked = 0;      // refused (ENFORCE)
  std::uint64_t would_block = 0;  // MONITOR: allowed, recorded
};

// Turns the policy's application rules into exec answers. Each request is judged by the
// AppEvaluator; the decision is cached by file version (device, inode, change time, size) for
// the policy in force, so a program rewritten in place is judged again, and its SHA-256 is
// computed at most once per version. A direct run of the dynamic loader ("ld.so <program>")
// is refused in ENFORCE (would-block in MONITOR) unless a sha256 or path rule allows the loader
// itself. Blocks and would-blocks are events; a block also notifies the learner. With
// `packages`, package rules see the program's verified package (PackageProvenance); a new
// index of the package records drops the cached verdicts of a policy that has package rules.
// Allowed programs are handed to ExecControl::AllowAndRemember, so the kernel answers their
// next runs itself; a new policy or new package records make the kernel forget them first.
//
// Owns one event-loop thread (Start/Stop). SetPolicy() and Stats() are thread-safe. Stop()
// answers every pending exec before it returns.
class ExecEnforcer {
 public:
  // `packages` (may be null: package rules then never match) must outlive the enforcer.
  ExecEnforcer(platform::ExecControl& control, EventSink& events, NoticeSink& notices,
               FailurePolicy& failures, EventFactory& factory,
               PackageProvenance* packages = nullptr);
  ~ExecEnforcer();
  ExecEnforcer(const ExecEnforcer&) = delete;
  ExecEnforcer& operator=(const ExecEnforcer&) = delete;

  void Start(std::shared_ptr<const ActivePolicy> policy);
  void SetPolicy(std::shared_ptr<const ActivePolicy> policy);
  void Stop();
  ExecEnforcerStats Stats() const;

  // How many file versions the cache keeps before it starts again.
  static constexpr std::size_t kCacheCapacity = 16384;

 private:
  struct CacheEntry {
    std::optional<std::string> sha256;
    std::uint64_t generation = 0;  // policy generation of `verdict`
    platform::ExecVerdict verdict = platform::ExecVerdict::kAllow;
  };

  void Loop();
  void Decide(platform::ExecRequest& request);
  void ReportPlatformFailures();
  void NewGeneration();        // drops every cached verdict, the kernel's too
  void CheckPackageRecords();  // NewGeneration() when new package records matter to the policy

  platform::ExecControl& control_;
  EventSink& events_;
  NoticeSink& notices_;
  FailurePolicy& failures_;
  EventFactory& factory_;
  PackageProvenance* const packages_;

  mutable std::mutex mutex_;
  ExecEnforcerStats stats_;  // guarded by mutex_
  EnforcerThread thread_{[this] { control_.Interrupt(); }};

  // Loop thread only.
  std::shared_ptr<const ActivePolicy> policy_;
  std::uint64_t generation_ = 0;
  std::uint64_t package_generation_ = 0;  // packages_->generation() the cache was made with
  std::unordered_map<platform::FileIdentity, CacheEntry, platform::FileIdentityHash> cache_;
  platform::ExecControlStats reported_;
};

}  // namespace ward::core
