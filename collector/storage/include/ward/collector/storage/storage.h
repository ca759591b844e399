// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ward/common/result.h"

namespace ward::collector {

// Staff roles. `kIt` manages devices, policy and events but sees concerns redacted; `kDsl`
// (Designated Safeguarding Lead) sees concerns in full and keeps the incident log; `kViewer`
// reads devices and events only; `kMetrics` is for a monitoring system and reads /metrics only.
enum class StaffRole : std::uint8_t { kIt, kDsl, kViewer, kMetrics };
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
  // When IT let this device's laptop enrol again without its credential (wardctl devices
  // readmit); 0 when not, or once that enrolment happened.
  std::int64_t readmitted_ms = 0;
  // When an enrolment with this device's machine hash was last refused (the device is revoked,
  // or the enrolment could not prove it holds the credential); 0 when none is waiting.
  std::int64_t enrol_refused_ms = 0;
};

// The part of a ConcernEvent the inbox keeps.
struct ConcernRow {
  std::string reference;
  int category = 0;
  std::string text;
  bool anonymous = false;
  bool in_danger = false;
  std::string user;
  // Ingest: the screenshot to keep. Reads leave it empty (every list and GetConcern):
  // `has_screenshot` says whether there is one, and GetConcernScreenshot fetches it.
  std::string screenshot_png = {};
  bool has_screenshot = false;
};

// One uploaded event, already parsed and validated by the server.
struct EventRow {
  std::string id;  // UUIDv7 text
  std::int64_t device_time_ms = 0;
  int priority = 0;
  std::string kind;  // "usb", "exec", "settings", "concern", "agent", "aup"
  // The serialised ward.v1.Event. Not stored for a concern: its content is kept once, in the
  // inbox, and its event row refers to it (docs/adr/0013-concern-stored-once.md).
  std::string body;
  std::optional<ConcernRow> concern;
  // The local account the event concerns (ward.v1.Event.user; "" for none). The store keeps
  // only its keyed hash (AccountHash), and nothing of it for an anonymous concern.
  std::string account = {};
};

struct StoredEvent {
  std::int64_t seq = 0;  // ingest order, for tailing
  std::string id;
  std::string device_id;
  std::int64_t device_time_ms = 0;
  std::int64_t received_ms = 0;
  int priority = 0;
  std::string kind;
  // The serialised ward.v1.Event; empty for a concern, whose listing carries `concern`
  // instead (read from the inbox, without the screenshot).
  std::string body;
  std::optional<ConcernRow> concern = {};
};

// Who reads a list of events, and how much of it. Concern events are in the list only when
// `reader` is the DSL (docs/privacy.md); for every other role the query leaves them out.
// A page holds at most `limit` events and stops early, after at least one event, before its
// bodies would pass `max_bytes`.
struct EventPage {
  StaffRole reader = StaffRole::kViewer;
  std::size_t limit = 100;
  std::size_t max_bytes = 4 * 1024 * 1024;
};

// One page of events, and whether there may be more after its last event (it stopped at its
// `limit` or its `max_bytes`).
struct EventList {
  std::vector<StoredEvent> events;
  bool more = false;
};

// What the inbox holds for one device recently, for the collector's per-device concern quota.
// Concerns marked "in danger now" are not counted.
struct ConcernUsage {
  std::uint64_t count = 0;  // received at or after `since_ms`
  std::uint64_t bytes = 0;  // their text and screenshots
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

// What IT may know of a concern: that it exists, where it came from, when, and where it is in
// the DSL's process. It has no field for the learner's words (reference, category, text,
// urgency, name): a reader of this type cannot show them (docs/privacy.md).
struct RedactedConcern {
  std::string id;
  std::string device_id;
  std::string group;
  std::int64_t device_time_ms = 0;
  std::int64_t received_ms = 0;
  ConcernStatus status = ConcernStatus::kNew;
  bool has_screenshot = false;
};

// How many records the store holds for one account hash (a person, for subject access and
// erasure).
struct AccountCounts {
  std::uint64_t events = 0;    // events, concern events included
  std::uint64_t concerns = 0;  // concerns that carry the account (never anonymous ones)
};

// Which of one person's records a subject-access page reads (docs/adr/0015, "Subject access
// (export)"). The dates are when the collector received a record.
struct SubjectQuery {
  std::string account_hash;    // AccountHash of the account name
  std::string device_id = {};  // "" for every device
  std::int64_t from_ms = 0;    // > 0: received at or after this time
  std::int64_t to_ms = 0;      // > 0: received before this time
  std::size_t limit = 100;
  // After the first record, a page stops before its bodies or texts pass this many bytes.
  std::size_t max_bytes = 4 * 1024 * 1024;
};

// Which events a subject-access page of events holds: telemetry (every kind but concerns, whose
// contents come with the concerns, and AUP acceptances) or AUP acceptances.
enum class SubjectEvents : std::uint8_t { kTelemetry, kAup };

// A laptop a person's events came from, and how many in the query's range.
struct SubjectDevice {
  std::string id;
  std::string hostname;  // "" when the device is no longer in the store
  std::string group;
  std::string os;
  std::uint64_t events = 0;
  std::int64_t first_received_ms = 0;
  std::int64_t last_received_ms = 0;
};

// Which concerns ListConcerns returns.
struct ConcernFilter {
  std::optional<ConcernStatus> status;  // any status when unset
  std::int64_t since_ms = 0;            // received at or after this time
  std::size_t limit = 500;
  std::string group = {};     // "" for every group
  std::int64_t until_ms = 0;  // > 0: received before this time
  // The page cursor: only concerns after (older than) this one in newest-first order. Unset
  // (empty id) for the first page.
  std::int64_t before_received_ms = 0;
  std::string before_id = {};
  // Only concerns whose learner said they are in danger now and that are not closed.
  bool urgent_open = false;
  // After the first concern, the page stops before its texts pass this many characters (0: no
  // bound). Lists never load screenshots (GetConcernScreenshot does, one at a time).
  std::size_t max_bytes = 0;
  // false: the learner's words (reference, text, user, category, urgency) are not read at all,
  // for a redacted list.
  bool with_contents = true;
};

// A concern whose DSL alert is still to be sent: only what an alert may carry (docs/adr/0003).
struct PendingAlert {
  std::string concern_id;
  std::string reference;
  std::int64_t received_ms = 0;
  bool in_danger = false;
  bool claimed_before = false;  // a claim on it lapsed: its collector stopped or died
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

// One row of the audit log: who did what to which concerns, and when. Rows cannot be changed
// or deleted, through this interface or in the database (triggers refuse it).
//
// The reads of concerns for staff (ListConcerns, GetConcern, GetConcernScreenshot, the event
// lists, ListIncidentLog) take an entry with `at_ms`, `staff_name` and `action`, and write it in
// the same transaction as the read, naming the concerns the read returns: a concern leaves the
// store only when its audit row is written. If the row cannot be written the read fails with an
// error for which IsAuditWriteFailure is true, and returns nothing.
struct AuditEntry {
  std::int64_t at_ms = 0;
  std::string staff_name;
  std::string action;  // "concern.list", "concern.read", "concern.status", "concern.note"
  // What the entry is about: a concern id (for a request that returned several, the first),
  // or, for the device.* actions, a device id, address or group.
  std::string concern_id;
  // Every concern the request returned, in order: one entry names all the concerns of a list.
  // Empty for an entry about one subject (`concern_id`). Reads fill it in.
  std::vector<std::string> concern_ids = {};
};

// The start of the message of every error that means an audit row could not be written.
inline constexpr std::string_view kAuditWriteFailed = "the audit log could not be written";
// True when `error` says an audit row could not be written (the read or change it belonged to
// was rolled back).
bool IsAuditWriteFailure(const Error& error);

// An audit entry with its place in the log (newest has the highest seq).
struct AuditRecord {
  std::int64_t seq = 0;
  AuditEntry entry;
};

// A console sign-in (docs/console.md). The session id itself lives only in the browser's
// cookie; the store keeps its SHA-256 and the hash of the staff token it was opened with, so
// revoking the token ends the session.
struct ConsoleSession {
  std::string id_hash;
  std::string token_hash;
  std::int64_t created_ms = 0;
};

// How long a console session lives: `idle_ms` after its last activity, `absolute_ms` after
// sign-in, whichever comes first.
struct SessionLimits {
  std::int64_t idle_ms = 30LL * 60 * 1000;
  std::int64_t absolute_ms = 12LL * 60 * 60 * 1000;
};

// Which devices ListDevicePage returns, ordered by hostname then id.
struct DeviceQuery {
  // The page cursor: devices after this (hostname, id); both empty for the first page.
  std::string after_hostname = {};
  std::string after_id = {};
  std::string group = {};           // "" for every group
  std::int64_t seen_before_ms = 0;  // > 0: only devices last seen before this time
  std::size_t limit = 100;
};

// Push progress: the group's devices (not revoked) and how many run `version` or newer.
struct GroupDeviceCounts {
  std::uint64_t total = 0;
  std::uint64_t on_version = 0;
};

// What an incident-log entry records: a note, a status change, or one of the DSL's typed
// actions (parent or guardian contacted; referred to an external agency).
enum class IncidentKind : std::uint8_t { kNote, kStatus, kParentContacted, kReferredExternal };
std::string_view IncidentKindName(IncidentKind kind);
Result<IncidentKind> ParseIncidentKind(std::string_view name);

struct IncidentEntry {
  std::int64_t seq = 0;  // order in the log, the page cursor
  IncidentKind kind = IncidentKind::kNote;
  ConcernNote note;
};

// What the safeguarding team changes on a concern in one request (ApplyConcernChange): an
// incident-log entry, a new status, or both (a referral also moves the concern to referred).
struct ConcernChange {
  std::string concern_id;
  std::string author;
  std::int64_t at_ms = 0;
  // The incident-log entry, recorded under the audit action `action` ("concern.note",
  // "concern.referred-external", ...). No entry when `text` is empty.
  IncidentKind kind = IncidentKind::kNote;
  std::string text = {};
  std::string action = {};
  // The status the concern moves to, with its own incident-log entry `status_text` (kind
  // kStatus, none when empty) and audit action "concern.status". Unset: the status stays.
  std::optional<ConcernStatus> status = {};
  std::string status_text = {};
  // Move the status only when the concern is neither referred nor closed (a referral does not
  // reopen a closed concern); otherwise the status, its entry and its audit row are skipped.
  bool status_only_if_open = false;
};

// The inbox's counters. `unread` are new concerns nobody on the safeguarding team has opened.
struct ConcernCounts {
  std::uint64_t new_count = 0;
  std::uint64_t unread = 0;
  std::uint64_t urgent_open = 0;        // in danger now, not closed
  std::vector<std::string> unread_ids;  // newest first, at most what was asked for
};

// How long each class of data is kept (docs/adr/0015-uk-gdpr-rights.md, "Retention,
// automatic"). A record goes when its age reaches its limit: at `now_ms - limit` exactly, it is
// deleted; one millisecond younger, it is kept.
struct RetentionLimits {
  static constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
  // USB, applications, settings and agent events (every kind but concerns and AUP acceptances),
  // by the time the collector received them.
  std::int64_t telemetry_ms = 90 * kDayMs;
  // AUP acceptances (kind "aup"), counted from the newest event the store holds for the same
  // account (the acceptance itself when it has no account or nothing newer).
  std::int64_t aup_ms = 365 * kDayMs;
  // Closed concerns, with their incident log, screenshot, read mark and event row, by the time
  // the DSL closed them. Concerns that are not closed are never deleted.
  std::int64_t concern_ms = 12 * 365 * kDayMs;
  // Audit log rows, by their time.
  std::int64_t audit_ms = 6 * 365 * kDayMs;
  // Devices not seen for this long are counted (flagged), never deleted.
  std::int64_t device_unseen_ms = 90 * kDayMs;
};

// What one PurgeExpired call deleted, per class.
struct RetentionCounts {
  std::uint64_t telemetry = 0;
  std::uint64_t aup = 0;
  std::uint64_t concerns = 0;  // each with its incident log, screenshot and event row
  std::uint64_t audit = 0;

  std::uint64_t Total() const { return telemetry + aup + concerns + audit; }
  RetentionCounts& operator+=(const RetentionCounts& other) {
    telemetry += other.telemetry;
    aup += other.aup;
    concerns += other.concerns;
    audit += other.audit;
    return *this;
  }
};

// Held by the one collector running the retention job (see TryRetentionLease); releases it
// when destroyed.
class RetentionLease {
 public:
  virtual ~RetentionLease() = default;
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
  // The id of the device of `group` with this machine hash, if any: a device that is not revoked
  // if there is one, else the newest revoked one (a revoked laptop stays known, so it cannot
  // come back as a new device).
  virtual Result<std::optional<std::string>> FindDeviceByMachineHash(
      std::string_view group, std::string_view machine_hash) = 0;
  virtual Status SetDeviceRevoked(std::string_view id, bool revoked) = 0;
  // Lets the device's laptop enrol once more without its credential (IT's approval): sets
  // readmitted_ms and clears enrol_refused_ms. kNotFound for an unknown id.
  virtual Status ReadmitDevice(std::string_view id, std::int64_t now_ms) = 0;
  // Records that an enrolment with the device's machine hash was refused at `now_ms`.
  // kNotFound for an unknown id.
  virtual Status RecordEnrolmentRefused(std::string_view id, std::int64_t now_ms) = 0;
  virtual Status RecordDeviceStatus(std::string_view id, std::string_view status,
                                    std::uint64_t policy_version, std::int64_t now_ms) = 0;
  virtual Status TouchDevice(std::string_view id, std::int64_t now_ms) = 0;
  virtual Result<std::vector<DeviceRecord>> ListDevices() = 0;

  // Stores the events not already stored (by id) in one transaction; concerns also go to the
  // inbox with status kNew.
  virtual Result<IngestResult> IngestEvents(std::string_view device_id,
                                            std::span<const EventRow> events,
                                            std::int64_t now_ms) = 0;
  // Events with seq > after_seq, oldest first (see EventPage for what a page holds). When the
  // page holds concern events (the DSL's), writes `audit` naming them in the same transaction.
  virtual Result<EventList> ListEvents(std::int64_t after_seq, const EventPage& page,
                                       const AuditEntry& audit) = 0;
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

  // Newest first. When any concern is returned, writes `audit` (see AuditEntry) naming them
  // all, in the same transaction.
  virtual Result<std::vector<Concern>> ListConcerns(const ConcernFilter& filter,
                                                    const AuditEntry& audit) = 0;
  // kNotFound for an unknown id; writes `audit` naming the concern in the same transaction.
  virtual Result<Concern> GetConcern(std::string_view id, const AuditEntry& audit) = 0;
  // The screenshot of one concern ("" when it has none); kNotFound for an unknown id. The only
  // read that loads a screenshot. Writes `audit` in the same transaction when there is one.
  virtual Result<std::string> GetConcernScreenshot(std::string_view id,
                                                   const AuditEntry& audit) = 0;
  // The device's concerns received at or after `since_ms`, not counting those in danger now.
  virtual Result<ConcernUsage> CountDeviceConcerns(std::string_view device_id,
                                                   std::int64_t since_ms) = 0;
  // Applies `change` and writes its audit entries, all in one transaction: nothing is written
  // when any part fails. kNotFound for an unknown concern.
  virtual Status ApplyConcernChange(const ConcernChange& change) = 0;
  virtual Result<std::vector<ConcernNote>> ListConcernNotes(std::string_view concern_id) = 0;

  // The DSL alert of each concern goes through an outbox kept with the concern: a collector
  // claims the alert for a while (a lease), sends it, and marks it done; a claim whose
  // collector died lapses and the alert is claimed and sent again (at least once).
  //
  // Claims the alert of concern `id` for `claimer` until `lease_until_ms`: true for exactly one
  // caller at a time, even across collectors sharing the database (a conditional UPDATE). false
  // when the alert is done or someone holds a claim that has not lapsed at `now_ms`. kNotFound
  // for an unknown id.
  virtual Result<bool> ClaimConcernAlert(std::string_view id, std::string_view claimer,
                                         std::int64_t now_ms, std::int64_t lease_until_ms) = 0;
  // Moves the lapse time of the claims `claimer` still holds on `ids` to `lease_until_ms` (a
  // time already past releases them at once). Claims taken over by someone else are left alone.
  virtual Status RenewConcernAlertClaims(std::span<const std::string> ids, std::string_view claimer,
                                         std::int64_t lease_until_ms) = 0;
  // The alert was delivered, or given up on: it is never claimed again.
  virtual Status FinishConcernAlert(std::string_view id, std::int64_t now_ms) = 0;
  // Alerts of concerns received at or after `received_since_ms` that are not done and not
  // claimed, or whose claim lapsed before `now_ms` (a collector stopped or died holding it),
  // oldest concern first.
  virtual Result<std::vector<PendingAlert>> ListAlertsDue(std::int64_t now_ms,
                                                          std::int64_t received_since_ms,
                                                          std::size_t limit) = 0;

  // kAlreadyExists when the token hash or name is taken.
  virtual Status CreateStaffToken(std::string_view name, StaffRole role,
                                  std::string_view token_hash, std::int64_t now_ms) = 0;
  // kUnauthenticated when no live token has this hash.
  virtual Result<StaffIdentity> FindStaffByTokenHash(std::string_view token_hash) = 0;
  virtual Status RevokeStaffToken(std::string_view name) = 0;

  virtual Status AppendAudit(const AuditEntry& entry) = 0;
  // Newest first.
  virtual Result<std::vector<AuditEntry>> ListAudit(std::size_t limit) = 0;

  // --- The staff console (docs/console.md). Every list is one bounded page. ---

  // Newest first: entries with seq < before_seq (0: from the newest).
  virtual Result<std::vector<AuditRecord>> ListAuditPage(std::int64_t before_seq,
                                                         std::size_t limit) = 0;

  // kAlreadyExists for an id hash in use.
  virtual Status CreateConsoleSession(const ConsoleSession& session) = 0;
  // The staff member behind a live session. kUnauthenticated when the session is unknown,
  // ended, idle longer than limits.idle_ms, older than limits.absolute_ms, or its staff token
  // is revoked. `touch` records `now_ms` as its last activity (a background request does not).
  virtual Result<StaffIdentity> ResumeConsoleSession(std::string_view id_hash, std::int64_t now_ms,
                                                     const SessionLimits& limits, bool touch) = 0;
  // Ends a session for good (sign-out). kNotFound for an unknown id hash.
  virtual Status EndConsoleSession(std::string_view id_hash, std::int64_t now_ms) = 0;
  // Deletes ended sessions and those last active before `before_ms`; returns how many.
  virtual Result<std::size_t> PurgeConsoleSessions(std::int64_t before_ms) = 0;

  // Tells every collector sharing the database that a concern arrived (PostgreSQL NOTIFY, a
  // no-op on SQLite). `origin` is passed to the subscribers, so a collector can tell its own.
  virtual Status AnnounceConcernArrival(std::string_view origin) = 0;
  // Calls `fn` with the origin of each announcement (and "" after a reconnect) on a back-end
  // thread. nullptr when the back-end cannot be shared (SQLite).
  virtual Result<std::unique_ptr<PolicyChangeSubscription>> SubscribeConcernArrivals(
      PolicyChangedFn fn) = 0;

  // A page of devices (see DeviceQuery).
  virtual Result<std::vector<DeviceRecord>> ListDevicePage(const DeviceQuery& query) = 0;
  // A device's events, newest first, with seq < before_seq (0: from the newest); see
  // EventPage for what a page holds, and ListEvents for `audit`.
  virtual Result<EventList> ListDeviceEvents(std::string_view device_id, std::int64_t before_seq,
                                             const EventPage& page, const AuditEntry& audit) = 0;
  virtual Result<GroupDeviceCounts> CountGroupDevices(std::string_view group,
                                                      std::uint64_t version) = 0;
  // A group's policy history, newest first, versions below before_version (0: from the
  // newest); `signed_policy` is left empty.
  virtual Result<std::vector<StoredPolicy>> ListPolicyHistory(std::string_view group,
                                                              std::uint64_t before_version,
                                                              std::size_t limit) = 0;
  // kNotFound when the group has no such version.
  virtual Result<StoredPolicy> GetPolicyVersion(std::string_view group, std::uint64_t version) = 0;

  // The incident log oldest first, entries with seq > after_seq; kNotFound for an unknown
  // concern. Writes `audit` naming the concern in the same transaction.
  virtual Result<std::vector<IncidentEntry>> ListIncidentLog(std::string_view concern_id,
                                                             std::int64_t after_seq,
                                                             std::size_t limit,
                                                             const AuditEntry& audit) = 0;
  // Records that the safeguarding team has opened a concern (the first opening is kept).
  virtual Status MarkConcernOpened(std::string_view id, std::string_view staff_name,
                                   std::int64_t now_ms) = 0;
  virtual Result<ConcernCounts> CountConcerns(std::size_t max_unread_ids) = 0;

  // --- IT's reads of concerns: the redacted type, which cannot carry the learner's words. ---

  // The concerns `filter` selects, newest first, as ListConcerns (`with_contents` and
  // `max_bytes` play no part: nothing of the contents is read), audited as ListConcerns.
  virtual Result<std::vector<RedactedConcern>> ListRedactedConcerns(const ConcernFilter& filter,
                                                                    const AuditEntry& audit) = 0;
  // kNotFound for an unknown id. Audited as GetConcern.
  virtual Result<RedactedConcern> GetRedactedConcern(std::string_view id,
                                                     const AuditEntry& audit) = 0;

  // --- A person's records, by account (the base of subject access and erasure). ---

  // The keyed hash events and concerns carry for the local account name `account`: lower-case
  // hex HMAC-SHA256 under the collector's key (kept in the store). "" for "".
  virtual Result<std::string> AccountHash(std::string_view account) = 0;
  // The events with this account hash and seq > after_seq, oldest first, at most `limit`. A
  // concern event is listed with its metadata only (body empty, no `concern`).
  virtual Result<EventList> ListAccountEvents(std::string_view account_hash, std::int64_t after_seq,
                                              std::size_t limit) = 0;
  virtual Result<AccountCounts> CountAccountRecords(std::string_view account_hash) = 0;

  // Subject access: one page of a person's records each (SubjectQuery). Every page, even an
  // empty one, writes `audit` in the same transaction as its read, or fails and returns nothing
  // (IsAuditWriteFailure). The entry names "account:<hash>", then "device:<id>", "from:<ms>",
  // "to:<ms>" for the filters given, "page:<what>", then every concern the page returned.
  //
  // Events with seq > after_seq, oldest first; `more` as EventPage.
  virtual Result<EventList> ListSubjectEvents(const SubjectQuery& query, SubjectEvents which,
                                              std::int64_t after_seq, const AuditEntry& audit) = 0;
  // The person's concerns with id > after_id, by id, each with its whole incident log, oldest
  // entry first. Anonymous concerns carry no account and are never here.
  virtual Result<std::vector<std::pair<Concern, std::vector<IncidentEntry>>>> ListSubjectConcerns(
      const SubjectQuery& query, std::string_view after_id, const AuditEntry& audit) = 0;
  // The devices the person's events came from, id > after_id, by id.
  virtual Result<std::vector<SubjectDevice>> ListSubjectDevices(const SubjectQuery& query,
                                                                std::string_view after_id,
                                                                const AuditEntry& audit) = 0;
  // The screenshot of one of the person's concerns ("" when it has none); kNotFound when the
  // concern is not the person's or not in the query's range.
  virtual Result<std::string> GetSubjectScreenshot(const SubjectQuery& query,
                                                   std::string_view concern_id,
                                                   const AuditEntry& audit) = 0;

  // --- Retention (docs/collector.md, "Retention"). ---

  // Deletes at most `max_rows` expired records at `now_ms`, in one transaction, taking the
  // classes in order (telemetry, AUP acceptances, closed concerns, audit rows): a concern
  // counts as one record however long its incident log. Call again until the total is below
  // `max_rows`. The audit log's rows leave only through here (the database refuses every
  // other DELETE). kInvalidArgument for a `max_rows` of 0.
  virtual Result<RetentionCounts> PurgeExpired(std::int64_t now_ms, const RetentionLimits& limits,
                                               std::size_t max_rows) = 0;
  // How many devices that are not revoked were last seen at or before `ms`.
  virtual Result<std::uint64_t> CountDevicesLastSeenBy(std::int64_t ms) = 0;
  // The right to run the retention job: on PostgreSQL a session advisory lock
  // (pg_try_advisory_lock) held until the lease is destroyed, nullptr when another collector
  // holds it; on SQLite always granted.
  virtual Result<std::unique_ptr<RetentionLease>> TryRetentionLease() = 0;
  // Gives the pages freed by deletions back to the file system: on SQLite, PRAGMA
  // incremental_vacuum when the file's auto_vacuum is INCREMENTAL (new stores; an older file
  // keeps its mode); returns whether it ran. PostgreSQL: nothing (autovacuum), false.
  virtual Result<bool> ReclaimFreePages() = 0;
};

// Opens (creating if needed) a SQLite store file and applies pending migrations.
Result<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path);
// Connects to PostgreSQL with a libpq connection string ("host=/run/pg port=5432 dbname=ward")
// and applies pending migrations.
Result<std::unique_ptr<Storage>> OpenPostgresStorage(const std::string& conninfo);
// "sqlite:/var/lib/ward/collector.db" or "postgresql:host=... dbname=...".
Result<std::unique_ptr<Storage>> OpenStorage(std::string_view url);

// What VacuumStore did (ward-collector vacuum, docs/collector.md "Retention").
struct VacuumReport {
  bool postgres = false;  // nothing done: PostgreSQL's autovacuum reclaims space by itself
  bool switched = false;  // the SQLite file was rewritten once into auto_vacuum = INCREMENTAL
  std::int64_t pages_before = 0;
  std::int64_t pages_after = 0;
};
// Switches the SQLite store at `url` ("sqlite:PATH") to auto_vacuum = INCREMENTAL with one
// VACUUM, which rewrites the whole file (it needs as much free disk again); a file already in
// that mode only gives its free pages back. kNotFound when there is no such file;
// kFailedPrecondition when another process (a running collector) has the store open, detected
// by the shared lock every SQLite connection holds on the store's -shm file.
Result<VacuumReport> VacuumStore(std::string_view url);

}  // namespace ward::collector
