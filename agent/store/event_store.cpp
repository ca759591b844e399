// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/store/event_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "internal/os.h"
#include "internal/schema.h"
#include "internal/sqlite.h"
#include "ward/common/check.h"
#include "ward/common/hex.h"
#include "ward/common/log.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"

namespace ward::agent::store {
namespace {

namespace fs = std::filesystem;
using internal::Database;
using internal::Statement;

constexpr std::array<v1::Priority, 3> kEvictable = {v1::PRIORITY_LOW, v1::PRIORITY_NORMAL,
                                                    v1::PRIORITY_HIGH};
constexpr std::array<std::string_view, 5> kPriorityNames = {"UNSPECIFIED", "LOW", "NORMAL", "HIGH",
                                                            "CRITICAL"};
constexpr std::int64_t kMsPerDay = 86'400'000;

std::int64_t ToMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string UtcStamp(std::chrono::system_clock::time_point t) {
  const std::tm tm = internal::UtcTime(std::chrono::system_clock::to_time_t(t));
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::uint32_t MaxAgeDays(const v1::StoreLimits& limits, v1::Priority p) {
  switch (p) {
    case v1::PRIORITY_LOW:
      return limits.max_age_days_low() != 0 ? limits.max_age_days_low() : kDefaultMaxAgeDaysLow;
    case v1::PRIORITY_NORMAL:
      return limits.max_age_days_normal() != 0 ? limits.max_age_days_normal()
                                               : kDefaultMaxAgeDaysNormal;
    case v1::PRIORITY_HIGH:
      return limits.max_age_days_high() != 0 ? limits.max_age_days_high() : kDefaultMaxAgeDaysHigh;
    default:
      return 0;  // CRITICAL: no maximum age
  }
}

std::uint64_t MaxBytes(const v1::StoreLimits& limits) {
  return limits.max_bytes() != 0 ? limits.max_bytes() : kDefaultMaxBytes;
}

// Opens `path` with the raw key, checks it is SQLCipher 4, sets WAL and migrates.
Result<Database> OpenEncrypted(const fs::path& path, const platform::StoreKey& key, bool create,
                               bool verify) {
  WARD_ASSIGN_OR_RETURN(Database db, Database::Open(path, create));
  // SQLCipher would print its own errors to stderr; the store reports them itself, once.
  (void)db.Exec("PRAGMA cipher_log_level = NONE");
  // Built in one reserved buffer so no copy of the key is left behind in freed memory.
  std::string hex = HexEncode(key.bytes);
  std::string pragma;
  pragma.reserve(hex.size() + 32);
  pragma.append("PRAGMA key = \"x'").append(hex).append("'\";");
  OPENSSL_cleanse(hex.data(), hex.size());
  Status keyed = db.Exec(pragma);
  OPENSSL_cleanse(pragma.data(), pragma.size());
  WARD_RETURN_IF_ERROR(keyed);
  // Plain SQLite ignores PRAGMA key and would write clear text: refuse unless this is SQLCipher.
  WARD_ASSIGN_OR_RETURN(std::string cipher, db.QueryText("PRAGMA cipher_version"));
  WARD_RETURN_IF_ERROR(CheckCipherVersion(cipher));
  WARD_RETURN_IF_ERROR(db.Exec("PRAGMA cipher_page_size = 4096"));
  auto probe = db.QueryInt("SELECT count(*) FROM sqlite_master");
  if (!probe) {
    if (probe.error().code() == ErrorCode::kDataLoss) {
      return DataLossError("cannot decrypt " + path.string() +
                           " (wrong key, or the file is corrupt or not a Ward store)");
    }
    return std::unexpected(probe.error());
  }
  WARD_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return UnavailableError("could not switch " + path.string() + " to WAL (journal mode '" + mode +
                            "')");
  }
  WARD_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"));
  WARD_ASSIGN_OR_RETURN(std::int64_t version, db.QueryInt("PRAGMA user_version"));
  if (version > internal::kSchemaVersion) {
    return FailedPreconditionError("store " + path.string() + " has schema version " +
                                   std::to_string(version) + ", newer than this agent's " +
                                   std::to_string(internal::kSchemaVersion) +
                                   ": leaving it untouched");
  }
  if (verify && *probe > 0) {
    WARD_ASSIGN_OR_RETURN(std::string check, db.QueryText("PRAGMA quick_check"));
    if (check != "ok") {
      if (check.size() > 300) {
        check.resize(300);
        check += "...";
      }
      return DataLossError("store " + path.string() + " failed its check: " + check);
    }
  }
  for (auto v = static_cast<std::size_t>(version); v < internal::kMigrations.size(); ++v) {
    std::string sql = "BEGIN;" + std::string(internal::kMigrations[v]) +
                      "PRAGMA user_version = " + std::to_string(v + 1) + "; COMMIT;";
    if (auto s = db.Exec(sql); !s) {
      (void)db.Exec("ROLLBACK");
      return std::unexpected(
          s.error().WithContext("migrating the store to version " + std::to_string(v + 1)));
    }
  }
  internal::KeepPrivate(path);
  return db;
}

struct Pending {
  std::string id;
  v1::Priority priority = v1::PRIORITY_UNSPECIFIED;
  std::string payload;
  std::int64_t appended_ms = 0;
  std::optional<std::promise<Status>> done;
  bool marker = false;  // Flush(): nothing to insert
};

// Changes a transaction makes to the in-memory accounting; applied only once it commits.
// Whether HMAC-SHA256(salt, user) is `mac`, compared in constant time.
// Bounds of an erase instruction's fields (sync.proto EraseInstruction; the collector sends a
// 24-character id, a 32-byte salt and a 32-byte MAC).
constexpr std::size_t kMaxErasureIdBytes = 64;
constexpr std::size_t kMinErasureSaltBytes = 16;
constexpr std::size_t kMaxErasureSaltBytes = 64;
constexpr std::size_t kErasureMacBytes = 32;

bool AccountMacMatches(std::string_view salt, std::string_view user, std::string_view mac) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
           reinterpret_cast<const unsigned char*>(user.data()), user.size(), out.data(),
           &size) == nullptr) {
    return false;
  }
  return size == mac.size() && CRYPTO_memcmp(out.data(), mac.data(), size) == 0;
}

struct Delta {
  std::array<std::int64_t, 5> count{};
  std::array<std::int64_t, 5> bytes{};
  std::array<std::uint64_t, 5> evicted_space{};
  std::uint64_t evicted_age = 0;
  std::uint64_t dropped = 0;  // reported in this transaction's notice
  int highest_lost = 0;
};

struct LeaseInfo {
  std::vector<std::int64_t> seqs;
  std::chrono::steady_clock::time_point expires;
};

}  // namespace

Status CheckCipherVersion(std::string_view cipher_version) {
  if (cipher_version.empty()) {
    return UnsupportedError(
        "the SQLite library in use is not SQLCipher (PRAGMA cipher_version is empty): refusing "
        "to write events unencrypted; is plain libsqlite3 linked into this binary?");
  }
  if (!cipher_version.starts_with("4.")) {
    return UnsupportedError("SQLCipher " + std::string(cipher_version) +
                            " is not supported: the store needs SQLCipher 4");
  }
  return OkStatus();
}

class EventStore::Impl {
 public:
  Impl(StoreOptions options, Database db)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? *options_.clock : SystemClock()),
        ids_(clock_, SystemRandom()),
        db_(std::move(db)),
        limits_(options_.limits) {}

  ~Impl() {
    {
      std::scoped_lock lock(q_mu_);
      stop_ = true;
    }
    q_cv_.notify_all();
    if (writer_.joinable()) {
      writer_.join();
    }
    if (!pending_critical_.empty()) {
      log::Error("event store closing with CRITICAL events still held in memory (disk full)",
                 {{"count", pending_critical_.size()}});
    }
  }

  Status Init() {
    WARD_ASSIGN_OR_RETURN(insert_, db_.Prepare(internal::kInsertEvent));
    WARD_ASSIGN_OR_RETURN(evict_, db_.Prepare("DELETE FROM events WHERE seq IN (SELECT seq FROM "
                                              "events WHERE priority = ?1 ORDER BY seq LIMIT ?2) "
                                              "RETURNING seq, size"));
    WARD_ASSIGN_OR_RETURN(delete_, db_.Prepare("DELETE FROM events WHERE seq = ?1 AND id = ?2 "
                                               "RETURNING priority, size"));
    WARD_ASSIGN_OR_RETURN(delete_seq_, db_.Prepare("DELETE FROM events WHERE seq = ?1 "
                                                   "RETURNING priority, size"));
    WARD_ASSIGN_OR_RETURN(by_priority_, db_.Prepare("SELECT seq, payload, appended_ms, size FROM "
                                                    "events WHERE priority = ?1 ORDER BY seq"));
    WARD_ASSIGN_OR_RETURN(add_evicted_, db_.Prepare("UPDATE counters SET value = value + ?1 "
                                                    "WHERE name = 'evicted_total'"));
    WARD_ASSIGN_OR_RETURN(auto totals, db_.Prepare("SELECT priority, count(*), sum(size) FROM "
                                                   "events GROUP BY priority"));
    while (true) {
      WARD_ASSIGN_OR_RETURN(bool row, totals.Step());
      if (!row) {
        break;
      }
      auto p = static_cast<std::size_t>(std::clamp<std::int64_t>(totals.ColumnInt(0), 0, 4));
      count_[p] += static_cast<std::uint64_t>(totals.ColumnInt(1));
      bytes_[p] += static_cast<std::uint64_t>(totals.ColumnInt(2));
    }
    WARD_ASSIGN_OR_RETURN(auto evicted,
                          db_.QueryInt("SELECT value FROM counters WHERE name = 'evicted_total'"));
    evicted_total_ = static_cast<std::uint64_t>(evicted);
    last_sweep_ = clock_.SteadyNow();
    {
      std::scoped_lock lock(db_mu_);
      WARD_RETURN_IF_ERROR(SweepExpiredLocked());
    }
    writer_ = std::thread([this] { WriterLoop(); });
    return OkStatus();
  }

  Result<Pending> Prepare(const v1::Event& event) {
    if (event.id().empty() || event.id().size() > 64) {
      return InvalidArgumentError("event needs an id of 1 to 64 characters");
    }
    if (event.priority() < v1::PRIORITY_LOW || event.priority() > v1::PRIORITY_CRITICAL) {
      return InvalidArgumentError("event " + event.id() + " has no valid priority");
    }
    std::size_t size = event.ByteSizeLong();
    if (size > kMaxEventBytes) {
      return InvalidArgumentError("event " + event.id() + " is " + std::to_string(size) +
                                  " bytes; the most the store takes is " +
                                  std::to_string(kMaxEventBytes));
    }
    Pending p;
    p.id = event.id();
    p.priority = event.priority();
    p.appended_ms = ToMillis(clock_.Now());
    if (!event.SerializeToString(&p.payload)) {
      return InternalError("could not serialise event " + event.id());
    }
    return p;
  }

  // Queues `p`; the future is valid for receipts, CRITICAL events and flush markers.
  Result<std::future<Status>> Enqueue(Pending p, bool want_receipt) {
    bool critical = p.priority == v1::PRIORITY_CRITICAL;
    std::future<Status> future;
    bool wake = false;
    {
      std::scoped_lock lock(q_mu_);
      if (stop_) {
        return FailedPreconditionError("the event store is closing");
      }
      if (!critical && !p.marker) {
        if (disk_full_) {
          dropped_total_.fetch_add(1);
          dropped_unreported_.fetch_add(1);
          return ResourceExhaustedError("disk full: event " + p.id + " was not stored");
        }
        if (queued_telemetry_ >= options_.max_queued_events) {
          dropped_total_.fetch_add(1);
          dropped_unreported_.fetch_add(1);
          return ResourceExhaustedError("event store queue is full (" +
                                        std::to_string(queued_telemetry_) + " waiting): event " +
                                        p.id + " was not stored");
        }
        ++queued_telemetry_;
      }
      if (want_receipt || critical || p.marker) {
        p.done.emplace();
        future = p.done->get_future();
      }
      bool was_empty = queue_.empty();
      if (was_empty) {
        first_queued_ = std::chrono::steady_clock::now();
      }
      bool now_urgent = !urgent_ && (critical || p.marker);
      urgent_ = urgent_ || critical || p.marker;
      queue_.push_back(std::move(p));
      // The writer sleeps without a deadline only on an empty queue; otherwise it wakes at the
      // batch deadline by itself. Wake it only when that is too late (saves a futex per event).
      wake = was_empty || now_urgent || queue_.size() == options_.batch_max_events;
    }
    if (wake) {
      q_cv_.notify_one();
    }
    return future;
  }

  Status Append(const v1::Event& event) {
    WARD_ASSIGN_OR_RETURN(Pending p, Prepare(event));
    bool critical = p.priority == v1::PRIORITY_CRITICAL;
    WARD_ASSIGN_OR_RETURN(auto future, Enqueue(std::move(p), /*want_receipt=*/false));
    if (!critical) {
      return OkStatus();
    }
    return future.get();
  }

  std::future<Status> AppendWithReceipt(const v1::Event& event) {
    auto prepared = Prepare(event);
    if (!prepared) {
      return Ready(std::unexpected(prepared.error()));
    }
    auto future = Enqueue(std::move(*prepared), /*want_receipt=*/true);
    if (!future) {
      return Ready(std::unexpected(future.error()));
    }
    return std::move(*future);
  }

  Status Flush() {
    Pending marker;
    marker.marker = true;
    WARD_ASSIGN_OR_RETURN(auto future, Enqueue(std::move(marker), false));
    return future.get();
  }

  static std::future<Status> Ready(Status s) {
    std::promise<Status> promise;
    promise.set_value(std::move(s));
    return promise.get_future();
  }

  // ---- writer ------------------------------------------------------------------------------

  void SetOnCommitted(std::function<void(v1::Priority)> listener) {
    std::scoped_lock lock(listener_mu_);
    on_committed_ = std::move(listener);
  }

  // Tells the listener the highest priority a committed transaction stored (markers, which
  // store nothing, do not count).
  void NotifyCommitted(std::optional<v1::Priority> highest, const std::vector<Pending>& batch) {
    for (const Pending& p : batch) {
      if (!p.marker && (!highest.has_value() || p.priority > *highest)) {
        highest = p.priority;
      }
    }
    std::scoped_lock lock(listener_mu_);
    if (highest.has_value() && on_committed_) {
      on_committed_(*highest);
    }
  }

  void WriterLoop() {
    std::vector<Pending> batch;
    while (true) {
      bool retry = false;
      {
        std::unique_lock lock(q_mu_);
        while (true) {
          if (!queue_.empty() &&
              (urgent_ || stop_ || queue_.size() >= options_.batch_max_events ||
               std::chrono::steady_clock::now() >= first_queued_ + options_.batch_interval)) {
            break;
          }
          bool waiting_for_space = !pending_critical_.empty() || dropped_unreported_.load() > 0;
          if (queue_.empty() && stop_) {
            break;
          }
          if (queue_.empty() && waiting_for_space && disk_full_) {
            if (q_cv_.wait_for(lock, options_.retry_interval) == std::cv_status::timeout) {
              retry = true;
              break;
            }
            continue;
          }
          if (queue_.empty()) {
            if (disk_full_) {
              disk_full_ = false;  // nothing left to probe with: let the next append try
            }
            q_cv_.wait(lock);
          } else {
            q_cv_.wait_until(lock, first_queued_ + options_.batch_interval);
          }
        }
        if (queue_.empty() && stop_ && !retry) {
          return;
        }
        // One transaction takes at most batch_max_events; the rest go in the next one at once.
        std::size_t take =
            std::min(queue_.size(), std::max<std::size_t>(options_.batch_max_events, 1));
        for (std::size_t i = 0; i < take; ++i) {
          Pending& p = queue_.front();
          if (p.priority != v1::PRIORITY_CRITICAL && !p.marker) {
            --queued_telemetry_;
          }
          batch.push_back(std::move(p));
          queue_.pop_front();
        }
        if (queue_.empty()) {
          urgent_ = false;
        } else {
          first_queued_ = std::chrono::steady_clock::now() - options_.batch_interval;
        }
      }
      CommitBatch(batch);
      batch.clear();
    }
  }

  void CommitBatch(std::vector<Pending>& batch) {
    // Held CRITICAL events go first: they have waited longest. Only this thread changes
    // pending_critical_ (under q_mu_, so PendingCritical() can read its size); they leave it
    // only once their transaction committed.
    const std::deque<Pending>& retried = pending_critical_;
    std::size_t retried_count = 0;
    {
      std::scoped_lock lock(q_mu_);
      retried_count = pending_critical_.size();
    }
    Delta delta;
    delta.dropped = dropped_unreported_.exchange(0);
    bool full_sync =
        retried_count > 0 || std::any_of(batch.begin(), batch.end(), [](const Pending& p) {
          return p.priority == v1::PRIORITY_CRITICAL;
        });
    Status result;
    {
      std::scoped_lock lock(db_mu_);
      result = WriteTransaction(retried, retried_count, batch, delta, full_sync);
      if (result) {
        ApplyLocked(delta);
      }
    }
    if (result) {
      if (retried_count > 0) {
        log::Info("held CRITICAL events written after the disk had space again",
                  {{"count", retried_count}});
      }
      {
        std::scoped_lock lock(q_mu_);
        pending_critical_.clear();
        if (disk_full_) {
          disk_full_ = false;
          log::Info("event store is writing again (disk space returned)");
        }
      }
      NotifyCommitted(retried_count > 0 ? std::optional(v1::PRIORITY_CRITICAL) : std::nullopt,
                      batch);
      for (auto& p : batch) {
        if (p.done) {
          p.done->set_value(OkStatus());
        }
      }
      return;
    }
    // The transaction rolled back: nothing of it is stored.
    dropped_unreported_.fetch_add(delta.dropped);
    const Error& error = result.error();
    bool full = error.code() == ErrorCode::kResourceExhausted;
    std::size_t dropped = 0;
    std::size_t held = 0;
    {
      std::scoped_lock lock(q_mu_);
      if (full) {
        disk_full_ = true;
      }
      auto hold = [&](Pending& p) {
        if (pending_critical_.size() < options_.max_pending_critical) {
          pending_critical_.push_back(std::move(p));
          ++held;
          return true;
        }
        return false;
      };
      for (auto& p : batch) {
        if (p.marker) {
          p.done->set_value(std::unexpected(error));
          continue;
        }
        if (p.priority == v1::PRIORITY_CRITICAL) {
          std::promise<Status> done = std::move(*p.done);
          p.done.reset();
          std::string id = p.id;
          if (hold(p)) {
            done.set_value(ResourceExhaustedError(
                "could not store CRITICAL event " + id + " (" + error.message() +
                "); it is held in memory and will be written when space returns"));
          } else {
            done.set_value(ResourceExhaustedError("could not store CRITICAL event " + id + " (" +
                                                  error.message() +
                                                  "); the memory queue is full too: not kept"));
          }
          continue;
        }
        ++dropped;
        if (p.done) {
          p.done->set_value(std::unexpected(error));
        }
      }
    }
    dropped_total_.fetch_add(dropped);
    dropped_unreported_.fetch_add(dropped);
    log::Error(
        "event store write failed",
        {{"error", error.ToString()}, {"telemetry_dropped", dropped}, {"critical_held", held}});
  }

  Status SetSyncLocked(bool full) {
    if (full == full_sync_) {
      return OkStatus();
    }
    WARD_RETURN_IF_ERROR(
        db_.Exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
    full_sync_ = full;
    return OkStatus();
  }

  Status WriteTransaction(const std::deque<Pending>& retried, std::size_t retried_count,
                          const std::vector<Pending>& batch, Delta& delta, bool full_sync) {
    WARD_RETURN_IF_ERROR(SetSyncLocked(full_sync));
    WARD_RETURN_IF_ERROR(db_.Exec("BEGIN"));
    auto body = [&]() -> Status {
      for (std::size_t i = 0; i < retried_count; ++i) {
        WARD_RETURN_IF_ERROR(InsertLocked(retried[i], delta));
      }
      for (const auto& p : batch) {
        if (!p.marker) {
          WARD_RETURN_IF_ERROR(InsertLocked(p, delta));
        }
      }
      WARD_RETURN_IF_ERROR(EvictForSpaceLocked(delta));
      if (clock_.SteadyNow() - last_sweep_ >= options_.age_sweep_interval) {
        WARD_RETURN_IF_ERROR(SweepAgeLocked(delta));
      }
      return WriteNoticeLocked(delta);
    };
    Status s = body();
    if (s) {
      s = db_.Exec("COMMIT");
    }
    if (!s) {
      (void)db_.Exec("ROLLBACK");
      RollbackLeasesLocked();
    }
    return s;
  }

  Status InsertLocked(const Pending& p, Delta& delta) {
    insert_.BindText(1, p.id)
        .Bind(2, p.priority)
        .Bind(3, p.appended_ms)
        .Bind(4, static_cast<std::int64_t>(p.payload.size()))
        .BindBlob(5, p.payload);
    WARD_RETURN_IF_ERROR(insert_.Run());
    if (db_.Changes() == 1) {
      auto pi = static_cast<std::size_t>(p.priority);
      delta.count[pi] += 1;
      delta.bytes[pi] += static_cast<std::int64_t>(p.payload.size());
    }
    return OkStatus();
  }

  std::uint64_t UsedLocked(const Delta& delta) const {
    std::int64_t used = 0;
    for (std::size_t p = 0; p < 5; ++p) {
      used += static_cast<std::int64_t>(bytes_[p]) + delta.bytes[p] +
              (static_cast<std::int64_t>(count_[p]) + delta.count[p]) *
                  static_cast<std::int64_t>(kRowOverheadBytes);
    }
    return static_cast<std::uint64_t>(std::max<std::int64_t>(used, 0));
  }

  // Over the cap: delete the oldest events of the lowest priority first, down to 90% of the
  // cap (so eviction, and its notice, happen in bursts rather than on every batch).
  Status EvictForSpaceLocked(Delta& delta) {
    std::uint64_t cap = MaxBytes(limits_);
    if (UsedLocked(delta) <= cap) {
      return OkStatus();
    }
    std::uint64_t target = cap - cap / 10;
    for (v1::Priority priority : kEvictable) {
      auto pi = static_cast<std::size_t>(priority);
      while (UsedLocked(delta) > target &&
             static_cast<std::int64_t>(count_[pi]) + delta.count[pi] > 0) {
        std::uint64_t over = UsedLocked(delta) - target;
        std::uint64_t avg =
            (bytes_[pi] + kRowOverheadBytes * count_[pi]) / std::max<std::uint64_t>(count_[pi], 1);
        auto chunk = static_cast<std::int64_t>(
            std::clamp<std::uint64_t>(over / std::max<std::uint64_t>(avg, 1) + 1, 1, 4096));
        evict_.Bind(1, priority).Bind(2, chunk);
        int rows = 0;
        while (true) {
          WARD_ASSIGN_OR_RETURN(bool row, evict_.Step());
          if (!row) {
            break;
          }
          ++rows;
          delta.count[pi] -= 1;
          delta.bytes[pi] -= evict_.ColumnInt(1);
          delta.evicted_space[pi] += 1;
          delta.highest_lost = std::max(delta.highest_lost, static_cast<int>(priority));
        }
        evict_.Reset();
        if (rows == 0) {
          break;
        }
      }
    }
    return OkStatus();
  }

  // Removes events older than their priority's maximum age, oldest first (stops at the first
  // young one: insertion order is age order).
  Status SweepAgeLocked(Delta& delta) {
    last_sweep_ = clock_.SteadyNow();
    std::int64_t now_ms = ToMillis(clock_.Now());
    for (v1::Priority priority : kEvictable) {
      std::int64_t cutoff =
          now_ms - static_cast<std::int64_t>(MaxAgeDays(limits_, priority)) * kMsPerDay;
      std::vector<std::int64_t> expired;
      by_priority_.Bind(1, priority);
      while (true) {
        WARD_ASSIGN_OR_RETURN(bool row, by_priority_.Step());
        if (!row || by_priority_.ColumnInt(2) >= cutoff) {
          break;
        }
        expired.push_back(by_priority_.ColumnInt(0));
      }
      by_priority_.Reset();
      auto pi = static_cast<std::size_t>(priority);
      for (std::int64_t seq : expired) {
        delete_seq_.Bind(1, seq);
        WARD_ASSIGN_OR_RETURN(bool row, delete_seq_.Step());
        if (row) {
          delta.count[pi] -= 1;
          delta.bytes[pi] -= delete_seq_.ColumnInt(1);
          delta.evicted_age += 1;
          delta.highest_lost = std::max(delta.highest_lost, static_cast<int>(priority));
        }
        delete_seq_.Reset();
      }
    }
    return OkStatus();
  }

  Status SweepExpiredLocked() {
    Delta delta;
    delta.dropped = dropped_unreported_.exchange(0);
    WARD_RETURN_IF_ERROR(SetSyncLocked(false));
    WARD_RETURN_IF_ERROR(db_.Exec("BEGIN"));
    Status s = SweepAgeLocked(delta);
    if (s) {
      s = WriteNoticeLocked(delta);
    }
    if (s) {
      s = db_.Exec("COMMIT");
    }
    if (!s) {
      (void)db_.Exec("ROLLBACK");
      dropped_unreported_.fetch_add(delta.dropped);
      return s;
    }
    ApplyLocked(delta);
    return OkStatus();
  }

  // Records what this transaction (and earlier failed writes) lost, as a CRITICAL agent event
  // in the same transaction: the loss and its notice commit or vanish together.
  Status WriteNoticeLocked(Delta& delta) {
    std::uint64_t space = 0;
    for (auto n : delta.evicted_space) {
      space += n;
    }
    std::uint64_t total = space + delta.evicted_age + delta.dropped;
    if (total == 0) {
      return OkStatus();
    }
    if (delta.dropped > 0) {
      delta.highest_lost = std::max(delta.highest_lost, static_cast<int>(v1::PRIORITY_HIGH));
    }
    std::string detail;
    if (space > 0) {
      detail += "store full: removed the oldest " + std::to_string(space) + " events (LOW " +
                std::to_string(delta.evicted_space[1]) + ", NORMAL " +
                std::to_string(delta.evicted_space[2]) + ", HIGH " +
                std::to_string(delta.evicted_space[3]) + ")";
    }
    if (delta.evicted_age > 0) {
      detail += (detail.empty() ? "" : "; ") + std::string("older than the maximum age: ") +
                std::to_string(delta.evicted_age);
    }
    if (delta.dropped > 0) {
      detail += (detail.empty() ? "" : "; ") +
                std::string("not stored (disk full or queue full): ") +
                std::to_string(delta.dropped);
    }
    v1::Event event = MakeAgentEvent(v1::AgentEvent::KIND_EVENTS_EVICTED, detail);
    event.mutable_agent()->set_count(total);
    event.mutable_agent()->set_priority(static_cast<v1::Priority>(delta.highest_lost));
    WARD_ASSIGN_OR_RETURN(Pending p, Prepare(event));
    WARD_RETURN_IF_ERROR(InsertLocked(p, delta));
    add_evicted_.Bind(1, static_cast<std::int64_t>(total));
    return add_evicted_.Run();
  }

  void ApplyLocked(const Delta& delta) {
    std::uint64_t lost = delta.evicted_age + delta.dropped;
    for (std::size_t p = 0; p < 5; ++p) {
      count_[p] = static_cast<std::uint64_t>(static_cast<std::int64_t>(count_[p]) + delta.count[p]);
      bytes_[p] = static_cast<std::uint64_t>(static_cast<std::int64_t>(bytes_[p]) + delta.bytes[p]);
      lost += delta.evicted_space[p];
    }
    evicted_total_ += lost;
    if (lost > 0) {
      log::Warning("event store removed events", {{"count", lost}});
    }
  }

  v1::Event MakeAgentEvent(v1::AgentEvent::Kind kind, std::string_view detail) {
    v1::Event event;
    event.set_id(ids_.Next().ToString());
    std::int64_t ms = ToMillis(clock_.Now());
    event.mutable_device_time()->set_seconds(ms / 1000);
    event.mutable_device_time()->set_nanos(static_cast<std::int32_t>((ms % 1000) * 1'000'000));
    event.set_priority(v1::PRIORITY_CRITICAL);
    event.mutable_agent()->set_kind(kind);
    event.mutable_agent()->set_detail(std::string(detail));
    return event;
  }

  // ---- leases ------------------------------------------------------------------------------

  void ExpireLeasesLocked() {
    auto now = clock_.SteadyNow();
    for (auto it = leases_.begin(); it != leases_.end();) {
      if (it->second.expires <= now) {
        for (auto seq : it->second.seqs) {
          leased_.erase(seq);
        }
        it = leases_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Evictions that rolled back do not touch leases; nothing to undo today.
  void RollbackLeasesLocked() {}

  Result<LeaseBatch> Lease(std::size_t max_count, std::size_t max_bytes) {
    std::scoped_lock lock(db_mu_);
    ExpireLeasesLocked();
    LeaseBatch out;
    for (int p = v1::PRIORITY_CRITICAL; p >= v1::PRIORITY_LOW; --p) {
      if (out.events.size() >= max_count) {
        break;
      }
      by_priority_.Bind(1, p);
      bool full = false;
      while (!full) {
        auto row = by_priority_.Step();
        if (!row) {
          by_priority_.Reset();
          return std::unexpected(row.error().WithContext("leasing events"));
        }
        if (!*row) {
          break;
        }
        std::int64_t seq = by_priority_.ColumnInt(0);
        if (leased_.contains(seq)) {
          continue;
        }
        std::string_view payload = by_priority_.ColumnBlob(1);
        if (!out.events.empty() && out.bytes + payload.size() > max_bytes) {
          full = true;
          break;
        }
        v1::Event event;
        if (!event.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
          WARD_BUG("stored event does not parse");
          continue;
        }
        out.bytes += payload.size();
        out.seqs.push_back(seq);
        out.events.push_back(std::move(event));
        full = out.events.size() >= max_count;
      }
      by_priority_.Reset();
      if (full) {
        break;
      }
    }
    if (out.events.empty()) {
      return out;
    }
    out.lease_id = ++next_lease_;
    out.expires = clock_.SteadyNow() + options_.lease_duration;
    for (auto seq : out.seqs) {
      leased_.insert(seq);
    }
    leases_[out.lease_id] = LeaseInfo{out.seqs, out.expires};
    return out;
  }

  Status DeleteLeased(const LeaseBatch& lease, const std::unordered_set<std::string>* only) {
    std::scoped_lock lock(db_mu_);
    Delta delta;
    WARD_RETURN_IF_ERROR(SetSyncLocked(false));
    WARD_RETURN_IF_ERROR(db_.Exec("BEGIN"));
    std::vector<std::int64_t> deleted;
    auto body = [&]() -> Status {
      for (std::size_t i = 0; i < lease.seqs.size() && i < lease.events.size(); ++i) {
        const std::string& id = lease.events[i].id();
        if (only != nullptr && !only->contains(id)) {
          continue;
        }
        // seq and id: a row number can be reused after the newest row was deleted.
        delete_.Bind(1, lease.seqs[i]).BindText(2, id);
        WARD_ASSIGN_OR_RETURN(bool row, delete_.Step());
        if (row) {
          auto pi = static_cast<std::size_t>(std::clamp<std::int64_t>(delete_.ColumnInt(0), 0, 4));
          delta.count[pi] -= 1;
          delta.bytes[pi] -= delete_.ColumnInt(1);
        }
        delete_.Reset();
        deleted.push_back(lease.seqs[i]);
      }
      return OkStatus();
    };
    Status s = body();
    if (s) {
      s = db_.Exec("COMMIT");
    }
    if (!s) {
      (void)db_.Exec("ROLLBACK");
      return std::unexpected(s.error().WithContext("acknowledging uploaded events"));
    }
    ApplyLocked(delta);
    auto it = leases_.find(lease.lease_id);
    for (auto seq : deleted) {
      if (it != leases_.end()) {
        leased_.erase(seq);
      }
    }
    if (it != leases_.end()) {
      std::erase_if(it->second.seqs, [&](std::int64_t seq) {
        return std::find(deleted.begin(), deleted.end(), seq) != deleted.end();
      });
      if (it->second.seqs.empty()) {
        leases_.erase(it);
      }
    }
    return OkStatus();
  }

  void Release(const LeaseBatch& lease) {
    std::scoped_lock lock(db_mu_);
    auto it = leases_.find(lease.lease_id);
    if (it == leases_.end()) {
      return;  // expired or acknowledged already
    }
    for (auto seq : it->second.seqs) {
      leased_.erase(seq);
    }
    leases_.erase(it);
  }

  // ---- state, status -----------------------------------------------------------------------

  Status PutState(std::string_view key, std::string_view value) {
    std::scoped_lock lock(db_mu_);
    WARD_RETURN_IF_ERROR(SetSyncLocked(true));
    WARD_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("INSERT OR REPLACE INTO state(key, value, "
                                                 "updated_ms) VALUES (?1, ?2, ?3)"));
    stmt.BindText(1, key).BindBlob(2, value).Bind(3, ToMillis(clock_.Now()));
    auto s = stmt.Run();
    if (!s) {
      return std::unexpected(
          s.error().WithContext("saving agent state '" + std::string(key) + "'"));
    }
    return OkStatus();
  }

  Result<std::string> GetState(std::string_view key) {
    std::scoped_lock lock(db_mu_);
    WARD_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT value FROM state WHERE key = ?1"));
    stmt.BindText(1, key);
    WARD_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return NotFoundError("no agent state '" + std::string(key) + "'");
    }
    return std::string(stmt.ColumnBlob(0));
  }

  Status DeleteState(std::string_view key) {
    std::scoped_lock lock(db_mu_);
    WARD_RETURN_IF_ERROR(SetSyncLocked(true));
    WARD_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("DELETE FROM state WHERE key = ?1"));
    stmt.BindText(1, key);
    return stmt.Run();
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListState(std::string_view prefix) {
    std::scoped_lock lock(db_mu_);
    WARD_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT key, value FROM state WHERE substr(key, "
                                                 "1, length(?1)) = ?1 ORDER BY key"));
    stmt.BindText(1, prefix);
    std::vector<std::pair<std::string, std::string>> out;
    for (;;) {
      WARD_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) {
        return out;
      }
      out.emplace_back(std::string(stmt.ColumnText(0)), std::string(stmt.ColumnBlob(1)));
    }
  }

  Result<std::optional<std::uint64_t>> ApplyErasure(std::string_view id, std::string_view salt,
                                                    std::string_view account_mac) {
    // The instruction comes from the collector over the pinned connection, but its bytes are
    // still checked: the id becomes a state key, and the salt is hashed once per stored event.
    const auto id_char = [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             c == '-' || c == '_';
    };
    if (id.empty() || id.size() > kMaxErasureIdBytes || !std::ranges::all_of(id, id_char)) {
      return InvalidArgumentError(
          "an erase instruction's id must be 1 to 64 letters, digits, '-' or '_'");
    }
    if (salt.size() < kMinErasureSaltBytes || salt.size() > kMaxErasureSaltBytes) {
      return InvalidArgumentError("an erase instruction's salt must be 16 to 64 bytes");
    }
    if (account_mac.size() != kErasureMacBytes) {
      return InvalidArgumentError(
          "an erase instruction's account mac must be an HMAC-SHA256 (32 bytes)");
    }
    // An event appended before the instruction arrived is matched too.
    WARD_RETURN_IF_ERROR(Flush());
    std::scoped_lock lock(db_mu_);
    const std::string key = std::string(kErasureStatePrefix) + std::string(id);
    {
      WARD_ASSIGN_OR_RETURN(auto seen, db_.Prepare("SELECT 1 FROM state WHERE key = ?1"));
      seen.BindText(1, key);
      WARD_ASSIGN_OR_RETURN(bool row, seen.Step());
      if (row) {
        return std::optional<std::uint64_t>();
      }
    }
    WARD_RETURN_IF_ERROR(SetSyncLocked(true));
    WARD_RETURN_IF_ERROR(db_.Exec("BEGIN"));
    Delta delta;
    std::vector<std::int64_t> matched;
    auto body = [&]() -> Status {
      WARD_ASSIGN_OR_RETURN(auto all, db_.Prepare("SELECT seq, payload FROM events"));
      for (;;) {
        WARD_ASSIGN_OR_RETURN(bool row, all.Step());
        if (!row) {
          break;
        }
        v1::Event event;
        const std::string_view payload = all.ColumnBlob(1);
        if (!event.ParseFromArray(payload.data(), static_cast<int>(payload.size())) ||
            event.user().empty() || event.has_concern()) {
          continue;
        }
        if (AccountMacMatches(salt, event.user(), account_mac)) {
          matched.push_back(all.ColumnInt(0));
        }
      }
      for (std::int64_t seq : matched) {
        delete_seq_.Bind(1, seq);
        WARD_ASSIGN_OR_RETURN(bool row, delete_seq_.Step());
        if (row) {
          auto pi =
              static_cast<std::size_t>(std::clamp<std::int64_t>(delete_seq_.ColumnInt(0), 0, 4));
          delta.count[pi] -= 1;
          delta.bytes[pi] -= delete_seq_.ColumnInt(1);
        }
        delete_seq_.Reset();
      }
      WARD_ASSIGN_OR_RETURN(auto done, db_.Prepare("INSERT INTO state(key, value, updated_ms) "
                                                   "VALUES (?1, ?2, ?3)"));
      done.BindText(1, key).BindBlob(2, kErasureApplied).Bind(3, ToMillis(clock_.Now()));
      return done.Run();
    };
    Status s = body();
    if (s) {
      s = db_.Exec("COMMIT");
    }
    if (!s) {
      (void)db_.Exec("ROLLBACK");
      return std::unexpected(s.error().WithContext("erasing an account's events"));
    }
    ApplyLocked(delta);
    for (std::int64_t seq : matched) {
      leased_.erase(seq);  // an upload in flight acknowledges nothing for it
    }
    return std::optional<std::uint64_t>(matched.size());
  }

  Result<v1::StoreStatus> GetStatus() {
    std::scoped_lock lock(db_mu_);
    v1::StoreStatus status;
    std::uint64_t used = 0;
    for (std::size_t p = 1; p < 5; ++p) {
      (*status.mutable_events_by_priority())[std::string(kPriorityNames[p])] = count_[p];
      used += bytes_[p] + kRowOverheadBytes * count_[p];
    }
    status.set_bytes_used(used);
    status.set_evicted_total(evicted_total_);
    WARD_ASSIGN_OR_RETURN(auto oldest, db_.Prepare("SELECT appended_ms FROM events ORDER BY seq "
                                                   "LIMIT 1"));
    WARD_ASSIGN_OR_RETURN(bool row, oldest.Step());
    if (row) {
      std::int64_t age_ms = ToMillis(clock_.Now()) - oldest.ColumnInt(0);
      status.set_oldest_event_age_seconds(
          static_cast<std::uint64_t>(std::max<std::int64_t>(age_ms, 0) / 1000));
    }
    return status;
  }

  std::size_t PendingCritical() const {
    std::scoped_lock lock(q_mu_);
    return pending_critical_.size();
  }

  void SetLimits(const v1::StoreLimits& limits) {
    std::scoped_lock lock(db_mu_);
    limits_ = limits;
  }

  Status CheckIntegrity() {
    std::scoped_lock lock(db_mu_);
    WARD_ASSIGN_OR_RETURN(std::string check, db_.QueryText("PRAGMA integrity_check"));
    if (check != "ok") {
      return DataLossError("integrity_check: " + check);
    }
    WARD_ASSIGN_OR_RETURN(std::string cipher, db_.QueryText("PRAGMA cipher_integrity_check"));
    if (!cipher.empty()) {
      return DataLossError("cipher_integrity_check: " + cipher);
    }
    return OkStatus();
  }

  Status SweepNow() {
    std::scoped_lock lock(db_mu_);
    return SweepExpiredLocked();
  }

  std::uint64_t Dropped() const { return dropped_total_.load(); }

 private:
  StoreOptions options_;
  const Clock& clock_;
  UuidV7Generator ids_;

  mutable std::mutex db_mu_;  // guards everything from db_ to leases_
  Database db_;
  Statement insert_, evict_, delete_, delete_seq_, by_priority_, add_evicted_;
  bool full_sync_ = false;
  v1::StoreLimits limits_;
  std::array<std::uint64_t, 5> count_{};
  std::array<std::uint64_t, 5> bytes_{};
  std::uint64_t evicted_total_ = 0;
  std::chrono::steady_clock::time_point last_sweep_;
  std::uint64_t next_lease_ = 0;
  std::unordered_map<std::uint64_t, LeaseInfo> leases_;
  std::unordered_set<std::int64_t> leased_;

  std::mutex listener_mu_;
  std::function<void(v1::Priority)> on_committed_;  // guarded by listener_mu_

  mutable std::mutex q_mu_;  // guards the queue state below
  std::condition_variable q_cv_;
  std::deque<Pending> queue_;
  std::size_t queued_telemetry_ = 0;
  std::chrono::steady_clock::time_point first_queued_;
  bool urgent_ = false;
  bool stop_ = false;
  bool disk_full_ = false;
  std::deque<Pending> pending_critical_;
  std::atomic<std::uint64_t> dropped_unreported_{0};
  std::atomic<std::uint64_t> dropped_total_{0};

  std::thread writer_;  // last: started by Init(), joined first
};

// ---- Open and quarantine ---------------------------------------------------------------------

namespace {

void PruneQuarantine(const fs::path& dir, const std::string& prefix, std::size_t keep) {
  std::error_code ec;
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(prefix)) {
      found.push_back(entry.path());
    }
  }
  std::sort(found.begin(), found.end());  // the UTC stamp sorts by time
  // Each quarantine is the database plus maybe its -wal: count databases only.
  std::vector<fs::path> databases;
  for (const auto& p : found) {
    if (!p.string().ends_with("-wal")) {
      databases.push_back(p);
    }
  }
  while (databases.size() > keep) {
    fs::remove(databases.front(), ec);
    fs::remove(databases.front().string() + "-wal", ec);
    databases.erase(databases.begin());
  }
}

// Moves the database (and its WAL) aside, kept for IT. Returns where it went.
Result<fs::path> Quarantine(const StoreOptions& options, const Clock& clock) {
  fs::path dir =
      options.quarantine_dir.empty() ? options.path.parent_path() : options.quarantine_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string prefix = options.path.filename().string() + ".quarantined-";
  fs::path target = dir / (prefix + UtcStamp(clock.Now()));
  for (int n = 1; fs::exists(target, ec); ++n) {
    target = dir / (prefix + UtcStamp(clock.Now()) + "-" + std::to_string(n));
  }
  fs::rename(options.path, target, ec);
  if (ec) {
    return std::unexpected(ErrnoError("quarantining " + options.path.string(), ec.value()));
  }
  fs::path wal = options.path.string() + "-wal";
  if (fs::exists(wal, ec)) {
    fs::rename(wal, target.string() + "-wal", ec);
  }
  fs::remove(options.path.string() + "-shm", ec);
  PruneQuarantine(dir, prefix, options.max_quarantined);
  return target;
}

}  // namespace

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventStore::~EventStore() = default;

Result<std::unique_ptr<EventStore>> EventStore::Open(const StoreOptions& options,
                                                     platform::KeyProvider& keys,
                                                     OpenReport* report) {
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock();
  OpenReport local;
  OpenReport& rep = report != nullptr ? *report : local;
  rep = OpenReport{};
  if (options.path.empty()) {
    return InvalidArgumentError("event store: no database path configured");
  }
  std::error_code ec;
  fs::path dir = options.path.parent_path();
  if (!dir.empty() && !fs::exists(dir, ec)) {
    WARD_RETURN_IF_ERROR(platform::CreatePrivateDirectory(dir));
  }
  WARD_ASSIGN_OR_RETURN(platform::StoreKey key, keys.GetOrCreateStoreKey());
  rep.key_source = key.source;

  std::optional<Database> db;
  bool tamper = false;
  if (fs::exists(options.path, ec)) {
    if (key.previous_key_missing) {
      rep.reason =
          "the store key was missing (a new key was made), so the old store cannot be "
          "read";
      tamper = true;
    } else {
      auto opened = OpenEncrypted(options.path, key, /*create=*/false, options.verify_on_open);
      if (opened) {
        db = std::move(*opened);
      } else if (opened.error().code() == ErrorCode::kDataLoss) {
        rep.reason = opened.error().message();
        tamper = true;
      } else {
        OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
        return std::unexpected(opened.error().WithContext("opening the event store"));
      }
    }
    if (!db) {
      auto moved = Quarantine(options, clock);
      if (!moved) {
        OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
        return std::unexpected(moved.error());
      }
      rep.quarantined = true;
      rep.quarantined_to = *moved;
      log::Error("event store quarantined; starting a fresh one",
                 {{"reason", rep.reason}, {"moved_to", moved->string()}});
    }
  }
  if (!db) {
    auto created = OpenEncrypted(options.path, key, /*create=*/true, false);
    if (!created) {
      OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
      return std::unexpected(created.error().WithContext("creating the event store"));
    }
    db = std::move(*created);
    rep.created = true;
  }
  OPENSSL_cleanse(key.bytes.data(), key.bytes.size());

  auto impl = std::make_unique<Impl>(options, std::move(*db));
  WARD_RETURN_IF_ERROR(impl->Init());
  std::unique_ptr<EventStore> store(new EventStore(std::move(impl)));
  if (rep.quarantined) {
    std::string detail = rep.reason + "; the old store was kept as " + rep.quarantined_to.string();
    // A failure here (disk full) keeps the events in memory; the fresh store still opens, so
    // the next start does not quarantine again.
    if (auto s =
            store->Append(store->impl_->MakeAgentEvent(v1::AgentEvent::KIND_STORE_RESET, detail));
        !s) {
      log::Warning("store reset event not yet written", {{"error", s.error().ToString()}});
    }
    if (tamper) {
      if (auto s =
              store->Append(store->impl_->MakeAgentEvent(v1::AgentEvent::KIND_TAMPER, rep.reason));
          !s) {
        log::Warning("tamper event not yet written", {{"error", s.error().ToString()}});
      }
    }
  }
  return store;
}

Status EventStore::Append(const v1::Event& event) { return impl_->Append(event); }
std::future<Status> EventStore::AppendWithReceipt(const v1::Event& event) {
  return impl_->AppendWithReceipt(event);
}
void EventStore::SetOnAppended(std::function<void(v1::Priority)> listener) {
  impl_->SetOnCommitted(std::move(listener));
}
Status EventStore::Flush() { return impl_->Flush(); }
Result<LeaseBatch> EventStore::Lease(std::size_t max_count, std::size_t max_bytes) {
  return impl_->Lease(max_count, max_bytes);
}
Status EventStore::Ack(const LeaseBatch& lease) { return impl_->DeleteLeased(lease, nullptr); }
Status EventStore::AckIds(const LeaseBatch& lease, std::span<const std::string> ids) {
  std::unordered_set<std::string> only(ids.begin(), ids.end());
  return impl_->DeleteLeased(lease, &only);
}
void EventStore::Release(const LeaseBatch& lease) { impl_->Release(lease); }
Status EventStore::PutState(std::string_view key, std::string_view value) {
  return impl_->PutState(key, value);
}
Result<std::string> EventStore::GetState(std::string_view key) { return impl_->GetState(key); }
Status EventStore::DeleteState(std::string_view key) { return impl_->DeleteState(key); }
Result<std::vector<std::pair<std::string, std::string>>> EventStore::ListState(
    std::string_view prefix) {
  return impl_->ListState(prefix);
}
Result<std::optional<std::uint64_t>> EventStore::ApplyErasure(std::string_view id,
                                                              std::string_view salt,
                                                              std::string_view account_mac) {
  return impl_->ApplyErasure(id, salt, account_mac);
}
Result<v1::StoreStatus> EventStore::GetStatus() { return impl_->GetStatus(); }
std::size_t EventStore::PendingCritical() const { return impl_->PendingCritical(); }
std::uint64_t EventStore::DroppedEvents() const { return impl_->Dropped(); }
void EventStore::SetLimits(const v1::StoreLimits& limits) { impl_->SetLimits(limits); }
Status EventStore::CheckIntegrity() { return impl_->CheckIntegrity(); }
Status EventStore::SweepExpiredForTesting() { return impl_->SweepNow(); }

}  // namespace ward::agent::store
