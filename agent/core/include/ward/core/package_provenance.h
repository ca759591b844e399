// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ward/core/event_sink.h"
#include "ward/core/failure_policy.h"
#include "ward/platform/exec_control.h"
#include "ward/platform/package_database.h"
#include "ward/policy/app_evaluator.h"

namespace ward::core {

struct PackageProvenanceStats {
  std::uint64_t loads = 0;          // indexes put in force
  std::uint64_t load_failures = 0;  // reads of the database that failed (the old index stays)
  std::uint64_t digests = 0;        // files whose MD5 was computed (once per file version)
  std::uint64_t verified = 0;       // answers "from package P" (content matched)
  std::uint64_t modified = 0;       // content did not match dpkg's records (reported once each)
  std::uint64_t unsettled = 0;      // mismatches while dpkg was changing its records: not reported
  std::size_t index_packages = 0;   // packages in the index in force (those the rules name)
  std::size_t index_files = 0;      // entries in the index in force
  std::size_t index_bytes = 0;
};

// Package provenance for the exec enforcer: a program is "from package P" when dpkg's records
// say P owns its path AND the content the kernel opened has the digest P's records give. Only
// that one file is judged: a file whose content differs (a modified binary, an edited conffile
// such as an /etc/cron.daily script) has no package, and nothing else changes — no other file,
// not even one of the same package, loses its provenance (fapolicyd's deb back end distrusted
// files beyond the one that changed). A difference is recorded once per (path, content) as an
// AgentEvent KIND_PACKAGE_FILE_MODIFIED, unless dpkg is running (an upgrade between writing
// files and writing records): then the answer is "no package" for now, and not cached.
//
// A watcher thread follows the database (PackageDatabase::WaitForChange) and reloads it once
// the changes have paused for 250 ms (at most once per 2 s, and at most 5 s after the first
// change), then bumps generation().
// So that the window just after an install, upgrade or removal does not count, a lookup made
// while the records have changed and dpkg is done reloads the index at once, on the caller's
// thread (PackageDatabase::ChangedSinceLoad: two atomic loads and a poll() per lookup).
// The index holds only the packages the policy's rules name (AppEvaluator::PackageRuleNames):
// the others' files could never change a verdict, so their info/ files are not even read. A
// policy naming other packages has the records read again for those, on the caller's thread,
// before anything is judged with it (and generation() changes).
// Digests are MD5 because that is what dpkg records; they are computed only for files whose
// owner has a package rule in the policy, once per file version.
//
// Start(), Stop(), generation(), index() and Stats() are thread-safe; PackageOf() is confined
// to one thread (the exec enforcer's loop).
class PackageProvenance {
 public:
  PackageProvenance(std::unique_ptr<platform::PackageDatabase> database, EventSink& events,
                    EventFactory& factory, FailurePolicy& failures);
  ~PackageProvenance();
  PackageProvenance(const PackageProvenance&) = delete;
  PackageProvenance& operator=(const PackageProvenance&) = delete;

  // Starts following the database. The records are read only once a policy with package rules
  // needs them, and only for the packages it names (docs/benchmarks.md: a few ms and tens of KiB
  // for a few packages, against 0.2-0.3 s and 7-8 MiB for all of a desktop's): now when
  // `load_for` has package rules (so the first programs are judged with them), else at the
  // first PackageOf(). A failed read is handled by the failure policy (package-index-failed);
  // the next change, or a policy naming other packages, retries.
  void Start(const policy::AppEvaluator* load_for = nullptr);
  void Stop();

  struct Answer {
    std::string package;    // "" when none is verified
    bool cacheable = true;  // false while dpkg is changing its records
  };
  // The verified package of a pending exec, reading the content through `control` (MD5 of the
  // file the kernel opened) only when an owner of the path has a rule in `apps`. When `apps`
  // names other packages than the index in force was read for, the records are read for them
  // first. Errors: those of ExecControl::Md5 (the file could not be read).
  Result<Answer> PackageOf(const platform::ExecRequest& request, const policy::AppEvaluator& apps,
                           platform::ExecControl& control, std::uint64_t policy_version);

  // Changes each time a new index is in force; cached decisions made with package rules are
  // stale then.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Called, on the thread that loaded it, right after each new index is in force (generation()
  // has changed): the exec enforcer wakes to drop what the kernel remembers. An empty function
  // removes it; once set-to-empty returns, the old one is not running and will not run.
  void OnNewIndex(std::function<void()> callback);
  std::shared_ptr<const platform::PackageIndex> index() const;
  PackageProvenanceStats Stats() const;

  static constexpr std::size_t kDigestCacheCapacity = 16384;
  static constexpr std::size_t kReportedCapacity = 4096;

 private:
  // Loads the records of the packages `selection` names and puts the index in force. Without a
  // selection: for the packages of the last load, and only when the records changed since
  // (another thread may just have loaded them); nothing before a first load.
  void Reload(std::optional<platform::PackageSelection> selection);
  // Whether the last load (or the one under way) was for exactly `names` (sorted).
  bool Follows(const std::vector<std::string>& names) const;
  // Reloads now when the records changed and dpkg is not running.
  void FreshenIfSettled();
  // The owners of `path` (a path on this machine) in `index` that a rule names; their views
  // point into `index`.
  std::vector<platform::PackageFile> RuledOwners(const platform::PackageIndex* index,
                                                 std::string_view path,
                                                 const policy::AppEvaluator& apps) const;
  void Watch();
  void Report(std::string_view path, const platform::PackageFile& owner,
              const platform::Md5Digest& found, std::uint64_t policy_version);

  const std::unique_ptr<platform::PackageDatabase> database_;
  EventSink& events_;
  EventFactory& factory_;
  FailurePolicy& failures_;
  const std::string root_;  // without a trailing '/'; "" for "/"

  std::mutex load_mutex_;  // one Load() at a time
  mutable std::mutex mutex_;
  std::shared_ptr<const platform::PackageIndex> index_;  // guarded by mutex_
  PackageProvenanceStats stats_;                         // guarded by mutex_
  // The packages of the last load, tried or done: a policy needed their records, which are
  // followed from then on. Written with load_mutex_ held too.
  std::optional<platform::PackageSelection> wanted_;  // guarded by mutex_
  std::atomic<std::uint64_t> generation_{0};
  std::mutex callback_mutex_;
  std::function<void()> on_new_index_;  // guarded by callback_mutex_
  std::atomic<bool> stopping_{false};
  std::thread watcher_;

  // PackageOf's thread only.
  std::unordered_map<platform::FileIdentity, platform::Md5Digest, platform::FileIdentityHash>
      digests_;
  std::unordered_set<std::string> reported_;  // path + '\0' + found digest
};

}  // namespace ward::core
