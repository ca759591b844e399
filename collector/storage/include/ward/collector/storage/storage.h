// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/result.h"

namespace ward::collector {

// Staff roles. `kIt` manages devices, policy and events but sees concerns redacted; `kDsl`
// (Designated Safeguarding Lead) sees concerns in full and keeps the incident log; `kViewer`
// reads devices and events only.
enum class StaffRole : std::uint8_t { kIt, kDsl, kViewer };
std::string_view StaffRoleName(StaffRole role);
Result<StaffRole> ParseStaffRole(std::string_view name);

// Where a concern is in the DSL's process: new, in-progress (the DSL is acting on it), referred
// (passed to children's services, the police or another agency), closed.
enum class ConcernStatus : std::uint8_t { kNew, kInProgress, kReferred, kClosed };
std::string_view ConcernStatusName(ConcernStatus status);
Result<ConcernStatus> ParseConcernStatus(std::string_view name);

struct Group {
  std::string name;
  // The group's policy-signing public key (hex of the raw 32-byte Ed25519 key).
  std::string signing_public_key;
};

struct DeviceRecord {
  std::string id;
  std::string group;
  std::string hostname;
  std::string os;
  std::string agent_version;
  std::string machine_hash;
  // SHA-256 of the device credential; the credential itself is never stored.
  std::string credential_hash;
  bool revoked = false;
  std::int64_t enrolled_at_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::uint64_t policy_version = 0;
  // Last DeviceStatus the device sent, serialised protobuf ("" for none).
  std::string last_status;
};

// The part of a ConcernEvent the inbox keeps.
struct ConcernRow {
  std::string reference;
  int category = 0;
  std::string text;
  bool anonymous = false;
  bool in_danger = false;
  std::string user;
  std::string screenshot_png;
};

// One uploaded event, already parsed and validated by the server.
struct EventRow {
  std::string id;  // UUIDv7 text
  std::int64_t device_time_ms = 0;
  int priority = 0;
  std::string kind;  // "usb", "exec", "settings", "concern", "agent", "aup"
  std::string body;  // the serialised ward.v1.Event
  std::optional<ConcernRow> concern;
};

struct StoredEvent {
  std::int64_t seq = 0;  // ingest order, for tailing
  std::string id;
  std::string device_id;
  std::int64_t device_time_ms = 0;
  std::int64_t received_ms = 0;
  int priority = 0;
  std::string kind;
  std::string body;
};

struct IngestResult {
  std::size_t inserted = 0;    // new events
  std::size_t duplicates = 0;  // events the store already had
  // Event ids of concerns seen for the first time (for the DSL alert).
  std::vector<std::string> new_concern_ids;
};

struct StoredPolicy {
  std::string group;
  std::uint64_t version = 0;
  std::string signed_policy;  // serialised ward.v1.SignedPolicy, served as is
  std::int64_t pushed_at_ms = 0;
  std::string pushed_by;
};

struct Concern {
  std::string id;  // the event id
  std::string device_id;
  std::string group;
  std::int64_t device_time_ms = 0;
  std::int64_t received_ms = 0;
  ConcernStatus status = ConcernStatus::kNew;
  ConcernRow content;
};

// Which concerns ListConcerns returns.
struct ConcernFilter {
  std::optional<ConcernStatus> status;  // any status when unset
  std::int64_t since_ms = 0;            // received at or after this time
  std::size_t limit = 500;
};

struct ConcernNote {
  std::string concern_id;
  std::string author;
  std::string text;
  std::int64_t at_ms = 0;
};

struct StaffIdentity {
  std::string name;
  StaffRole role = StaffRole::kViewer;
};

struct AuditEntry {
  std::int64_t at_ms = 0;
  std::string staff_name;
  std::string action;  // "concern.list", "concern.read", "concern.status", "concern.note"
  std::string concern_id;
};

// Receives the name of a group whose policy changed, possibly on another collector.
using PolicyChangedFn = std::function<void(const std::string& group)>;

// Stops delivering policy-change notifications when destroyed.
class PolicyChangeSubscription {
 public:
  virtual ~PolicyChangeSubscription() = default;
};

// Everything the collector keeps. Two back-ends (SQLite, PostgreSQL) share one contract test
// suite. Secrets (enrolment secrets, device credentials, staff tokens) arrive already hashed;
// nothing here sees a plaintext secret. Implementations are thread-safe.
class Storage {
 public:
  virtual ~Storage() = default;

  virtual int SchemaVersion() = 0;

  // kAlreadyExists when the name is taken.
  virtual Status CreateGroup(const Group& group) = 0;
  // kNotFound for an unknown name.
  virtual Result<Group> GetGroup(std::string_view name) = 0;
  virtual Result<std::vector<Group>> ListGroups() = 0;

  // Registers an enrolment secret (by hash) for a group. kNotFound for an unknown group.
  virtual Status AddEnrolmentSecret(std::string_view secret_hash, std::string_view group,
                                    std::int64_t now_ms) = 0;
  // The group an enrolment secret names; kNotFound when no live secret has this hash.
  virtual Result<std::string> GroupForEnrolmentSecret(std::string_view secret_hash) = 0;

  // Inserts or replaces the device with this id.
  virtual Status PutDevice(const DeviceRecord& device) = 0;
  virtual Result<DeviceRecord> GetDevice(std::string_view id) = 0;
  // The id of a non-revoked device of `group` with this machine hash, if any.
  virtual Result<std::optional<std::string>> FindDeviceByMachineHash(
      std::string_view group, std::string_view machine_hash) = 0;
  virtual Status SetDeviceRevoked(std::string_view id, bool revoked) = 0;
  virtual Status RecordDeviceStatus(std::string_view id, std::string_view status,
                                    std::uint64_t policy_version, std::int64_t now_ms) = 0;
  virtual Status TouchDevice(std::string_view id, std::int64_t now_ms) = 0;
  virtual Result<std::vector<DeviceRecord>> ListDevices() = 0;

  // Stores the events not already stored (by id) in one transaction; concerns also go to the
  // inbox with status kNew.
  virtual Result<IngestResult> IngestEvents(std::string_view device_id,
                                            std::span<const EventRow> events,
                                            std::int64_t now_ms) = 0;
  // Events with seq > after_seq, oldest first.
  virtual Result<std::vector<StoredEvent>> ListEvents(std::int64_t after_seq,
                                                      std::size_t limit) = 0;
  virtual Result<std::uint64_t> CountEvents() = 0;

  // Stores a new policy version for a group and tells every listener (on PostgreSQL, every
  // collector sharing the database). kFailedPrecondition unless the version is newer than the
  // group's newest; kNotFound for an unknown group.
  virtual Status PutPolicy(const StoredPolicy& policy) = 0;
  virtual Result<std::optional<StoredPolicy>> LatestPolicy(std::string_view group) = 0;
  // Calls `fn` (on a back-end thread) when a policy changes through another Storage object
  // sharing the same database. Returns nullptr when the back-end cannot be shared (SQLite).
  virtual Result<std::unique_ptr<PolicyChangeSubscription>> SubscribePolicyChanges(
      PolicyChangedFn fn) = 0;

  // Newest first.
  virtual Result<std::vector<Concern>> ListConcerns(const ConcernFilter& filter) = 0;
  virtual Result<Concern> GetConcern(std::string_view id) = 0;
  virtual Status SetConcernStatus(std::string_view id, ConcernStatus status) = 0;
  virtual Status AddConcernNote(const ConcernNote& note) = 0;
  virtual Result<std::vector<ConcernNote>> ListConcernNotes(std::string_view concern_id) = 0;
  // Claims the right to alert the DSL about a concern: true for exactly one caller per concern,
  // even across collectors sharing the database (a conditional UPDATE); false when someone
  // already claimed it. kNotFound for an unknown id.
  virtual Result<bool> ClaimConcernAlert(std::string_view id, std::int64_t now_ms) = 0;
  // Concerns nobody has claimed an alert for yet (e.g. a collector stopped between storing and
  // alerting), oldest first.
  virtual Result<std::vector<Concern>> ListUnalertedConcerns(std::size_t limit) = 0;

  // kAlreadyExists when the token hash or name is taken.
  virtual Status CreateStaffToken(std::string_view name, StaffRole role,
                                  std::string_view token_hash, std::int64_t now_ms) = 0;
  // kUnauthenticated when no live token has this hash.
  virtual Result<StaffIdentity> FindStaffByTokenHash(std::string_view token_hash) = 0;
  virtual Status RevokeStaffToken(std::string_view name) = 0;

  virtual Status AppendAudit(const AuditEntry& entry) = 0;
  // Newest first.
  virtual Result<std::vector<AuditEntry>> ListAudit(std::size_t limit) = 0;
};

// Opens (creating if needed) a SQLite store file and applies pending migrations.
Result<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path);
// Connects to PostgreSQL with a libpq connection string ("host=/run/pg port=5432 dbname=ward")
// and applies pending migrations.
Result<std::unique_ptr<Storage>> OpenPostgresStorage(const std::string& conninfo);
// "sqlite:/var/lib/ward/collector.db" or "postgresql:host=... dbname=...".
Result<std::unique_ptr<Storage>> OpenStorage(std::string_view url);

}  // namespace ward::collector
