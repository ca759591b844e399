// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ward/common/clock.h"
#include "ward/common/result.h"
#include "ward/platform/key_provider.h"
#include "ward/v1/event.pb.h"
#include "ward/v1/policy.pb.h"
#include "ward/v1/sync.pb.h"

namespace ward::agent::store {

struct StoreOptions {
  // The database file; its directory should be the agent's 0700 state directory.
  std::filesystem::path path;
  // Where unreadable stores are moved (kept for IT). Empty: next to `path`.
  std::filesystem::path quarantine_dir;
  // Size cap and maximum ages (0 = the defaults below). Can be changed later with SetLimits().
  v1::StoreLimits limits;
  // Group commit: telemetry waits at most this long, or until this many events are queued.
  std::chrono::milliseconds batch_interval{20};
  std::size_t batch_max_events = 2000;
  // Telemetry accepted but not yet committed; beyond it Append returns kResourceExhausted.
  std::size_t max_queued_events = 200'000;
  // CRITICAL events held in memory while the disk is full (or the database fails).
  std::size_t max_pending_critical = 1000;
  // How often the writer retries held CRITICAL events and the disk-full probe.
  std::chrono::milliseconds retry_interval{1000};
  // How long a lease lasts before its events may be leased again.
  std::chrono::seconds lease_duration{300};
  // How often events older than their priority's maximum age are removed.
  std::chrono::seconds age_sweep_interval{60};
  // Run PRAGMA quick_check when opening an existing store (reads every page once).
  bool verify_on_open = true;
  // Quarantined stores kept; older ones are deleted.
  std::size_t max_quarantined = 5;
  const Clock* clock = nullptr;  // nullptr: SystemClock()
};

// State keys of erase instructions carried out; the value says whether the collector has the
// confirmation yet.
inline constexpr std::string_view kErasureStatePrefix = "erase/";
inline constexpr std::string_view kErasureApplied = "applied";
inline constexpr std::string_view kErasureConfirmed = "confirmed";

inline constexpr std::uint64_t kDefaultMaxBytes = 256ull << 20;
inline constexpr std::uint32_t kDefaultMaxAgeDaysLow = 7;
inline constexpr std::uint32_t kDefaultMaxAgeDaysNormal = 30;
inline constexpr std::uint32_t kDefaultMaxAgeDaysHigh = 90;
// Per-event bookkeeping added to the payload size when accounting bytes against the cap.
inline constexpr std::uint64_t kRowOverheadBytes = 64;
// Largest serialised event accepted (a concern may carry a 4 MiB screenshot).
inline constexpr std::size_t kMaxEventBytes = 6u << 20;

// What happened when the store was opened.
struct OpenReport {
  bool created = false;      // no store existed (or it was quarantined): a fresh one was made
  bool quarantined = false;  // an unreadable store was moved aside
  std::filesystem::path quarantined_to;
  std::string reason;  // why it was quarantined
  std::string key_source;
};

// A batch handed to the uploader. Ack or Release it; if neither happens before `expires` the
// events become leasable again (a crash mid-upload re-sends, never loses).
struct LeaseBatch {
  std::uint64_t lease_id = 0;
  std::vector<v1::Event> events;
  std::vector<std::int64_t> seqs;  // row of each event, same order
  std::uint64_t bytes = 0;         // serialised size of the events
  std::chrono::steady_clock::time_point expires;
};

// The agent's encrypted event store (SQLCipher 4, raw 256-bit key, WAL).
//
// Durability contract:
//  - Append() of a CRITICAL event returns OK only after the transaction holding it committed
//    with synchronous=FULL: it survives a crash and a power cut.
//  - Append() of any other priority returns OK once the event is queued in memory. It is
//    committed by the writer thread within batch_interval (synchronous=NORMAL: it then survives
//    a process crash; a power cut may lose the last batches). An OK from Append() alone is NOT
//    a durability promise for telemetry: use AppendWithReceipt() or Flush() for that.
//  - AppendWithReceipt() returns a future that becomes OK when the event's batch committed.
//  - Flush() returns when everything queued before it has been committed (or failed).
//  - Ack() deletes; a lost Ack only means a re-send (the collector de-duplicates by id).
// Appending an id that is already stored is a no-op (stored exactly once).
//
// Faults: an unreadable file (wrong key, corruption) or a lost key is quarantined at Open() and
// a fresh store starts with CRITICAL STORE_RESET/TAMPER events. Disk full: telemetry Append()
// returns kResourceExhausted and is dropped (counted, reported later as EVENTS_EVICTED);
// CRITICAL events are held in a bounded memory queue and written when space returns.
//
// Thread-safe: every method may be called from any thread.
class EventStore {
 public:
  // Opens (creating or quarantining as needed) the store at options.path with the key from
  // `keys`. Errors: key provider errors; kUnsupported when the linked library is not SQLCipher 4;
  // kFailedPrecondition when the store has a newer schema than this build (left untouched);
  // I/O errors.
  static Result<std::unique_ptr<EventStore>> Open(const StoreOptions& options,
                                                  platform::KeyProvider& keys,
                                                  OpenReport* report = nullptr);
  // Commits what is queued, then closes. CRITICAL events still held in memory for a full disk
  // are lost (and logged): a shutdown while the disk is full cannot keep them.
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // See the durability contract above. kInvalidArgument: no id, no priority or too large.
  // kResourceExhausted: disk full, the queue is full, or (CRITICAL) the event is held in memory
  // until space returns (PendingCritical() counts those) or the memory queue is full too.
  [[nodiscard]] Status Append(const v1::Event& event);
  // Queues any event; the future resolves when its batch committed (OK) or failed.
  [[nodiscard]] std::future<Status> AppendWithReceipt(const v1::Event& event);
  // Waits until everything queued before the call is committed.
  [[nodiscard]] Status Flush();

  // Called after each transaction that stored events committed (so Lease() sees them), with the
  // highest priority among them, on the store's writer thread (keep it short; it must not call
  // into the store). The sync engine uses it to sleep without a timer while the store is empty.
  // An empty function removes it; once that call returns, the old one is not running and will
  // not run.
  void SetOnAppended(std::function<void(v1::Priority)> listener);

  // Leases up to max_count events and about max_bytes (at least one event if any is stored),
  // highest priority first, oldest first within a priority; skips events leased already.
  [[nodiscard]] Result<LeaseBatch> Lease(std::size_t max_count, std::size_t max_bytes);
  // Deletes every event of the lease (even if the lease expired meanwhile).
  [[nodiscard]] Status Ack(const LeaseBatch& lease);
  // Deletes the events of the lease with these ids; the rest stay leased until Release/expiry.
  [[nodiscard]] Status AckIds(const LeaseBatch& lease, std::span<const std::string> ids);
  // Makes the lease's events available again now.
  void Release(const LeaseBatch& lease);

  // Small key/value table for the agent's own state (device credential, policy in force).
  // Writes are committed with synchronous=FULL before returning.
  [[nodiscard]] Status PutState(std::string_view key, std::string_view value);
  // kNotFound when absent.
  [[nodiscard]] Result<std::string> GetState(std::string_view key);
  [[nodiscard]] Status DeleteState(std::string_view key);
  // The state entries whose key starts with `prefix`, in key order.
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> ListState(
      std::string_view prefix);

  // Carries out the collector's erase instruction `id` (docs/sync.md, "Erasure"): commits what
  // is queued, then in one transaction deletes every stored event, leased or not, whose account
  // (v1::Event.user) has HMAC-SHA256(salt, user) equal to `account_mac`, and records the id in
  // the state table under kErasureStatePrefix + id (value kErasureApplied). Concern events are
  // kept: one still on the laptop has not reached the DSL, and the collector holds open
  // concerns anyway. Returns how many events went, or nullopt when the id was applied before
  // (nothing is deleted twice). kInvalidArgument for an empty id, salt or mac.
  [[nodiscard]] Result<std::optional<std::uint64_t>> ApplyErasure(std::string_view id,
                                                                  std::string_view salt,
                                                                  std::string_view account_mac);

  // Counts per priority, bytes used (payload + kRowOverheadBytes per event), oldest event age,
  // evictions since the store was created.
  [[nodiscard]] Result<v1::StoreStatus> GetStatus();
  // CRITICAL events waiting in memory for space.
  std::size_t PendingCritical() const;
  // Telemetry dropped because the disk was full or the queue overflowed, since Open().
  std::uint64_t DroppedEvents() const;

  // Replaces the limits (from policy); eviction runs with the next batch.
  void SetLimits(const v1::StoreLimits& limits);

  // PRAGMA integrity_check and cipher_integrity_check; kDataLoss with the first problem.
  [[nodiscard]] Status CheckIntegrity();

  // Runs the age sweep now (tests; normally every age_sweep_interval).
  [[nodiscard]] Status SweepExpiredForTesting();

 private:
  class Impl;
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "4.6.1 community" -> OK; "" (plain SQLite) or another major version -> kUnsupported.
[[nodiscard]] Status CheckCipherVersion(std::string_view cipher_version);

}  // namespace ward::agent::store
