// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/data_inventory.h"

#include <algorithm>

#include "internal/format.h"

namespace ward::policy {
namespace {

using internal::Format;

// Lawful bases, suggested (the provider is the controller and confirms them in its DPIA).
constexpr std::string_view kSafeguardingBasis =
    "public task or legitimate interests (the provider's safeguarding duty: Keeping Children "
    "Safe in Education, Education and Skills Funding Agency conditions); special category data "
    "a learner writes: Art. 9(2)(g) with DPA 2018 Sch. 1 para 18 (safeguarding)";
constexpr std::string_view kSecurityBasis =
    "legitimate interests or public task (keeping the provider's laptops and the learners on "
    "them safe; Art. 32 security of processing)";
constexpr std::string_view kOperationBasis =
    "legitimate interests (running the service securely; no learner data)";

constexpr std::string_view kCollectorUntilDeleted =
    "no automatic limit: kept until the provider deletes it";
// The retention job's limits (docs/collector.md, "Retention"): the defaults, which the
// collector's configuration can change.
constexpr std::string_view kConcernRetention =
    "12 years after the DSL closes it (the youngest learner is 13; child-protection files are "
    "kept until the learner is 25), then deleted by the retention job with everything below; "
    "never while it is not closed";

const std::vector<InventoryEntry>& Entries() {
  static const std::vector<InventoryEntry> kEntries = {
      // --- On the laptop: the agent's encrypted store (SQLCipher) ---
      {DataHolder::kLaptop,
       "events not yet at the collector: USB devices and decisions, programs blocked, settings "
       "put back, concerns (text, optional screenshot), agreement acceptances, the agent's own "
       "events; each with the local account name unless the learner asked not to be named",
       {"events.seq", "events.id", "events.priority", "events.appended_ms", "events.size",
        "events.payload"},
       "carry the events to the collector when the laptop is offline",
       "as for the same events at the collector",
       "until the collector acknowledges them. Unsent: LOW 7 days, NORMAL 30, HIGH 90 (policy "
       "`StoreLimits`), or earlier at the size cap (256 MiB); concerns and tamper events never "
       "leave for age or size",
       "nobody on the laptop: encrypted, key held by the operating system, root only"},
      {DataHolder::kLaptop,
       "the agent's state: the device credential (`sync.credential`), which agreement versions "
       "each local user accepted (`aup/<uid>/<version>`), and which local user to tell when the "
       "collector has their concern (`concern/<event id>`: uid and reference), and the ids of "
       "the erase instructions it has carried out (`erase/<id>`)",
       {"state.key", "state.value", "state.updated_ms"},
       "authenticate to the collector; ask for the agreement only once; show the learner that "
       "their concern arrived",
       kSecurityBasis,
       "credential: while enrolled; acceptances: while the laptop keeps its store; concern "
       "receipts: until the learner has been told; erase ids: while the laptop keeps its store "
       "(a few bytes each, so an instruction is never carried out twice)",
       "nobody on the laptop: encrypted, root only"},
      {DataHolder::kLaptop,
       "counters that must survive restarts (events evicted)",
       {"counters.name", "counters.value"},
       "report losses to IT",
       kOperationBasis,
       "for the life of the store",
       "IT, through the device status"},

      // --- At the collector ---
      {DataHolder::kCollector,
       "laptop records: id, group, hostname, OS, agent version, machine-id hash, enrolment, "
       "last seen, last status, policy version, revocation, readmission and refused enrolment "
       "times",
       {"devices.id", "devices.group_name", "devices.hostname", "devices.os",
        "devices.agent_version", "devices.machine_hash", "devices.revoked",
        "devices.enrolled_at_ms", "devices.last_seen_ms", "devices.policy_version",
        "devices.last_status", "devices.readmitted_ms", "devices.enrol_refused_ms"},
       "know which laptops are protected and healthy; keep a removed laptop out",
       kSecurityBasis,
       "until IT deletes it; a laptop not seen for 90 days is flagged to IT (`/metrics`), never "
       "deleted by itself",
       "it, dsl, viewer"},
      {DataHolder::kCollector,
       "secrets, as SHA-256 hashes only: device credentials, enrolment secrets, staff tokens "
       "(with the staff member's name and role)",
       {"devices.credential_hash", "enrolment_secrets.secret_hash", "enrolment_secrets.group_name",
        "enrolment_secrets.created_at_ms", "enrolment_secrets.revoked", "staff_tokens.token_hash",
        "staff_tokens.name", "staff_tokens.role", "staff_tokens.created_at_ms",
        "staff_tokens.revoked"},
       "authentication",
       kOperationBasis,
       "until revoked and deleted by IT",
       "nobody: only hashes are stored"},
      {DataHolder::kCollector,
       "groups and their signed policies, with who pushed each version",
       {"device_groups.name", "device_groups.signing_public_key", "device_groups.created_at_ms",
        "policies.group_name", "policies.version", "policies.signed_policy",
        "policies.pushed_at_ms", "policies.pushed_by"},
       "distribute the policy and keep its history",
       kOperationBasis,
       kCollectorUntilDeleted,
       "it, dsl, viewer (versions)"},
      {DataHolder::kCollector,
       "events from the laptops: USB, applications, settings, agent, agreement acceptances, with "
       "the local account name inside `body` and its account's id in `account_id` (a concern's "
       "event keeps only its id, device and times: the concern is stored once, below)",
       {"events.seq", "events.id", "events.device_id", "events.device_time_ms",
        "events.received_ms", "events.priority", "events.kind", "events.body", "events.account_id"},
       "safeguarding and IT evidence of what was allowed or blocked",
       kSecurityBasis,
       "USB, applications, settings and agent events: 90 days after it arrives; agreement "
       "acceptances: a year after the newest event the collector holds for the same account (a "
       "year after it arrives when it has no account); a concern's event: with its concern",
       "it, dsl, viewer; concern events to the DSL only"},
      {DataHolder::kCollector,
       "concerns: the learner's words, category, \"in danger now\", optional screenshot, "
       "reference, status, when the DSL closed it, and the account name and its account's id "
       "unless the learner chose to stay anonymous (then neither, in any table)",
       {"concerns.id", "concerns.device_id", "concerns.group_name", "concerns.device_time_ms",
        "concerns.received_ms", "concerns.status", "concerns.reference", "concerns.category",
        "concerns.text", "concerns.anonymous", "concerns.in_danger", "concerns.user_name",
        "concerns.screenshot", "concerns.account_id", "concerns.closed_ms"},
       "the DSL's duty of care to the learner",
       kSafeguardingBasis,
       kConcernRetention,
       "DSL in full (the screenshot one concern at a time); IT sees only that a concern exists "
       "(id, device, group, time, status); viewers nothing. Every read is audited"},
      {DataHolder::kCollector,
       "the delivery state of each concern's alert to the DSL (claimed by which collector, "
       "until when, done)",
       {"concerns.alert_claimed_ms", "concerns.alert_claimed_by", "concerns.alert_lease_until_ms",
        "concerns.alert_done_ms"},
       "tell the DSL about every concern at least once (ADR 0010)",
       kSafeguardingBasis,
       "with the concern",
       "nobody (the collector only)"},
      {DataHolder::kCollector,
       "the incident log: notes and status changes with their author, typed actions (parent or "
       "guardian contacted, referred), who first opened each concern",
       {"concern_notes.seq", "concern_notes.concern_id", "concern_notes.author",
        "concern_notes.text", "concern_notes.at_ms", "concern_log_kinds.note_seq",
        "concern_log_kinds.kind", "concern_reads.concern_id", "concern_reads.first_read_ms",
        "concern_reads.first_reader"},
       "record the action taken on a concern",
       kSafeguardingBasis,
       "with its concern: deleted with it, 12 years after the DSL closes it",
       "DSL"},
      {DataHolder::kCollector,
       "the audit log: which staff member read or changed which concerns (one row per request, "
       "naming every concern it returned), unusual enrolments, each retention run with what it "
       "deleted, holds set and lifted with their reasons, and each erasure's tombstone (the "
       "account's keyed hash, who asked, the reason, counts per kind; no data), when. "
       "Append-only: the database refuses to change a row, and to delete one except by the "
       "retention job",
       {"audit_log.seq", "audit_log.at_ms", "audit_log.staff_name", "audit_log.action",
        "audit_log.concern_id", "audit_log.subjects", "audit_log.detail"},
       "accountability for access to the most sensitive data",
       kSafeguardingBasis,
       "6 years after it is written (the limitation period for a claim about how the data was "
       "handled), then deleted by the retention job",
       "DSL"},
      {DataHolder::kCollector,
       "safeguarding holds: on one concern or on one account (its id in `accounts`), with the "
       "reason, who set it and when, and who lifted it, when and why. Rows are never deleted",
       {"holds.id", "holds.concern_id", "holds.account_id", "holds.reason", "holds.set_by",
        "holds.set_ms", "holds.lifted_by", "holds.lifted_ms", "holds.lift_reason"},
       "keep safeguarding records from erasure and from the retention job while a hold applies "
       "(UK GDPR Art. 17(3))",
       kSafeguardingBasis,
       "for the life of the store (a hold names no learner: a concern id or an account id)",
       "DSL"},
      {DataHolder::kCollector,
       "erasures sent to the laptops: the account's keyed hash, a random salt and "
       "HMAC-SHA256(salt, account name) (never the name), who asked and when; and for each "
       "laptop told, when it confirmed",
       {"erasures.id", "erasures.account_hash", "erasures.salt_hex", "erasures.account_mac_hex",
        "erasures.requested_by", "erasures.requested_ms", "erase_targets.erasure_id",
        "erase_targets.device_id", "erase_targets.confirmed_ms"},
       "make an erasure reach every laptop, including one offline at the time, and show which "
       "have confirmed",
       kOperationBasis,
       kCollectorUntilDeleted,
       "DSL"},
      {DataHolder::kCollector,
       "the audit log's deletion bound: one row, 0 except inside the retention job's own "
       "transaction (rows older than the bound may be deleted)",
       {"audit_retention.id", "audit_retention.delete_before_ms"},
       "let only the retention job delete audit rows, and only expired ones",
       kOperationBasis,
       "for the life of the store",
       "nobody (the collector only)"},
      {DataHolder::kCollector,
       "staff console sessions: SHA-256 of the session id, hash of the staff token, sign-in and "
       "last-use times",
       {"console_sessions.id_hash", "console_sessions.token_hash", "console_sessions.created_ms",
        "console_sessions.last_seen_ms", "console_sessions.ended_ms"},
       "keep staff signed in for a while; end sessions on sign-out, timeout or revocation",
       kOperationBasis,
       "deleted once ended or expired, at the next sign-in",
       "nobody (the collector only)"},
      {DataHolder::kCollector,
       "accounts: the keyed hash (HMAC-SHA256) of each account name seen, with a small id that "
       "events and concerns carry; and the key of that hash, 256 random bits",
       {"accounts.id", "accounts.hash", "collector_keys.purpose", "collector_keys.key_hex",
        "collector_keys.created_at_ms"},
       "find a person's records by an indexed pseudonym, not by the name (subject access, "
       "erasure; ADR 0013)",
       kOperationBasis,
       "for the life of the store; an erasure removes an account's row once nothing refers to it",
       "nobody (the collector only)"},
      {DataHolder::kCollector,
       "the store's schema version and when each migration ran",
       {"schema_migrations.version", "schema_migrations.applied_at_ms"},
       "upgrade the store safely",
       kOperationBasis,
       "for the life of the store",
       "nobody (the collector only)"},
  };
  return kEntries;
}

// What the learner is told. `monitor_what` is used instead of `what` under a MONITOR policy.
struct LearnerText {
  std::string_view what;
  std::string_view monitor_what;
  std::string_view how_long;
  std::string_view who_sees;
};

// How long the college keeps each kind of record: the retention job's defaults (docs/privacy.md).
constexpr std::string_view kOnLaptopThenCollege =
    "Deleted from this laptop once it reaches the college. The college keeps it for 90 days.";
constexpr std::string_view kAgreementOnLaptopThenCollege =
    "Deleted from this laptop once it reaches the college. The college keeps it until a year "
    "after you last use the laptop.";
// Added to the records that wait on the laptop when the policy says how long unsent records
// stay.
constexpr std::string_view kUnsentSuffix =
    " If it can't be sent, it is deleted from this laptop after {} days.";
constexpr std::string_view kStaff = "The IT team and the safeguarding team.";

constexpr LearnerText kUsb = {"Which USB devices are plugged in, and whether Ward allowed them.",
                              "", kOnLaptopThenCollege, kStaff};
constexpr LearnerText kPrograms = {"Programs Ward blocked, and when.",
                                   "Programs Ward would have blocked.", kOnLaptopThenCollege,
                                   kStaff};
constexpr LearnerText kSettings = {"When a locked setting was changed and Ward put it back.", "",
                                   kOnLaptopThenCollege, kStaff};
constexpr LearnerText kAgreement = {"When you agreed to the rules for using this laptop.", "",
                                    kAgreementOnLaptopThenCollege, kStaff};
constexpr LearnerText kConcerns = {
    "Concerns you report, and what the safeguarding team does about them.", "",
    "Kept while the safeguarding team deals with them, then for 12 years after they finish, as "
    "safeguarding rules say.",
    "Only the safeguarding team can read them. IT can see that a report was sent from this "
    "laptop, but not what it says or who sent it."};
constexpr LearnerText kNever = {
    "Ward does not record your screen, what you type, your messages or the websites you visit.", "",
    "", ""};

LearnerRecordText Text(const LearnerText& t, bool monitor) {
  const std::string_view what = monitor && !t.monitor_what.empty() ? t.monitor_what : t.what;
  return {std::string(what), std::string(t.how_long), std::string(t.who_sees)};
}

void AppendCell(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
}

void AppendTable(std::string& out, DataHolder holder) {
  out += "| data | columns | purpose | lawful basis (suggested) | retention | who can see it |\n";
  out += "|---|---|---|---|---|---|\n";
  for (const InventoryEntry& e : Entries()) {
    if (e.holder != holder) {
      continue;
    }
    out += "| ";
    AppendCell(out, e.data);
    out += " | ";
    for (std::size_t i = 0; i < e.columns.size(); ++i) {
      out += i == 0 ? "`" : ", `";
      out += e.columns[i];
      out += '`';
    }
    for (std::string_view cell : {e.purpose, e.lawful_basis, e.retention, e.who_sees}) {
      out += " | ";
      AppendCell(out, cell);
    }
    out += " |\n";
  }
}

}  // namespace

std::span<const InventoryEntry> DataInventory() { return Entries(); }

std::vector<LearnerRecordText> DescribeKeptData(const ward::v1::Policy& policy) {
  const bool monitor = policy.mode() == ward::v1::MODE_MONITOR;
  std::vector<LearnerRecordText> out;
  out.push_back(Text(kUsb, monitor));
  out.push_back(Text(kPrograms, monitor));
  if (std::ranges::any_of(policy.settings().settings(),
                          [](const ward::v1::SettingLock& s) { return s.locked(); })) {
    out.push_back(Text(kSettings, monitor));
  }
  if (!policy.aup().text_under_18().empty() || !policy.aup().text_adult().empty()) {
    out.push_back(Text(kAgreement, monitor));
  }
  // Every record so far waits on the laptop until it is sent (concerns never leave for age).
  if (const std::uint32_t days = policy.store().max_age_days_normal(); days > 0) {
    for (LearnerRecordText& t : out) {
      t.how_long += Format(kUnsentSuffix, days);
    }
  }
  out.push_back(Text(kConcerns, monitor));
  out.push_back(Text(kNever, monitor));
  return out;
}

std::vector<LearnerRecordText> AllLearnerRecordTexts() {
  std::vector<LearnerRecordText> out;
  for (const LearnerText* t : {&kUsb, &kPrograms, &kSettings, &kAgreement, &kConcerns, &kNever}) {
    out.push_back(Text(*t, false));
    if (!t->monitor_what.empty()) {
      out.push_back(Text(*t, true));
    }
  }
  return out;
}

std::string InventoryMarkdown() {
  std::string out;
  out += "### On the laptop: the agent's encrypted store\n\n";
  AppendTable(out, DataHolder::kLaptop);
  out += "\n### At the collector\n\n";
  AppendTable(out, DataHolder::kCollector);
  out += "\n### What the learner is told (the tray's \"What Ward records about me\")\n\n";
  out += "| what | how long | who sees it |\n|---|---|---|\n";
  for (const LearnerRecordText& t : AllLearnerRecordTexts()) {
    out += Format("| {} | {} | {} |\n", t.what, t.how_long.empty() ? "-" : t.how_long,
                  t.who_sees.empty() ? "-" : t.who_sees);
  }
  out += Format(
      "\nWhen the policy limits how long unsent records stay on the laptop (`StoreLimits`), the "
      "learner is also told: \"{}\"\n",
      Format(kUnsentSuffix, "N").substr(1));
  return out;
}

std::vector<std::string> InventoryColumns(DataHolder holder) {
  std::vector<std::string> out;
  for (const InventoryEntry& e : Entries()) {
    if (e.holder == holder) {
      out.insert(out.end(), e.columns.begin(), e.columns.end());
    }
  }
  std::ranges::sort(out);
  return out;
}

}  // namespace ward::policy
