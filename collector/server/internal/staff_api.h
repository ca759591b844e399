// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <Poco/JSON/Object.h>

#include <string>
#include <vector>

#include "internal/metrics.h"
#include "internal/policy_feed.h"
#include "internal/router.h"
#include "ward/collector/server/collector.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"

namespace ward::collector::internal {

// The staff API (JSON, docs/collector.md "Staff API"): devices, groups, events, policy push and
// the DSL's concerns inbox and incident log, for whoever the router authenticated as staff.
// Which role may call what is the role table's business (access.h); what each role sees of a
// concern (the DSL in full, IT redacted) and the audit entries are this unit's. Thread-safe;
// everything passed in must outlive it.
// An event as the staff API shows it. Concern events reach here only for the DSL (the store
// leaves them out of everyone else's lists), audited by the store with the read.
Poco::JSON::Object::Ptr EventJson(const StoredEvent& e);

// The answer to an audited read or change that failed (`action` names it in the log): when its
// audit row could not be written, a plain 500 that shows nothing.
HttpResponse AuditedError(const Error& error, const StaffPrincipal& who, std::string_view action);

class StaffApi {
 public:
  StaffApi(const CollectorOptions& options, Storage& storage, PolicyFeed& policies,
           Metrics& metrics, const Clock& clock);

  // Adds every /v1/staff/ route.
  Status Register(Router& router);

 private:
  HandlerResult Devices(const Call& call, const StaffPrincipal& who);
  HandlerResult Device(const Call& call, const StaffPrincipal& who);
  HandlerResult DeviceEvents(const Call& call, const StaffPrincipal& who);
  HandlerResult RevokeDevice(const Call& call, const StaffPrincipal& who);
  HandlerResult ReadmitDevice(const Call& call, const StaffPrincipal& who);
  HandlerResult Groups(const Call& call, const StaffPrincipal& who);
  HandlerResult GroupDetail(const Call& call, const StaffPrincipal& who);
  HandlerResult GroupPolicies(const Call& call, const StaffPrincipal& who);
  HandlerResult GroupPolicy(const Call& call, const StaffPrincipal& who);
  // A group with its newest policy version and push progress.
  Result<Poco::JSON::Object::Ptr> GroupJson(const Group& group);
  HandlerResult Events(const Call& call, const StaffPrincipal& who);
  HandlerResult PushPolicy(const Call& call, const StaffPrincipal& who);
  HandlerResult Audit(const Call& call, const StaffPrincipal& who);
  HandlerResult ListConcerns(const Call& call, const StaffPrincipal& who);
  HandlerResult UrgentConcerns(const Call& call, const StaffPrincipal& who);
  // One page of concerns (only the open "in danger now" ones when `urgent`).
  HandlerResult ConcernPage(const Call& call, const StaffPrincipal& who, bool urgent);
  HandlerResult ConcernSummary(const Call& call, const StaffPrincipal& who);
  HandlerResult ConcernLog(const Call& call, const StaffPrincipal& who);
  HandlerResult ConcernAction(const Call& call, const StaffPrincipal& who);
  HandlerResult GetConcern(const Call& call, const StaffPrincipal& who);
  HandlerResult ConcernScreenshot(const Call& call, const StaffPrincipal& who);
  HandlerResult SetConcernStatus(const Call& call, const StaffPrincipal& who);
  HandlerResult AddConcernNote(const Call& call, const StaffPrincipal& who);
  // IT's reads of concerns: through the store's RedactedConcern, which has no field for the
  // learner's words, so these cannot show them.
  HandlerResult RedactedConcernPage(const Call& call, const StaffPrincipal& who, bool urgent);
  HandlerResult GetRedactedConcern(const Call& call, const StaffPrincipal& who);

  // A page of events as JSON, with its next cursor.
  HttpResponse EventsJson(const EventList& events);
  // The audit entry for `who` doing `action` now; the store names the concerns and writes it
  // with the read or change, or refuses both.
  AuditEntry Audit(const StaffPrincipal& who, std::string_view action) const;
  // Records an action that is not a read or change of concerns (device.readmit); a failed
  // write is logged.
  void RecordAudit(const StaffPrincipal& who, const std::string& action, const std::string& id);
  std::int64_t NowMs() const;

  const CollectorOptions& options_;
  Storage& storage_;
  PolicyFeed& policies_;
  Metrics& metrics_;
  const Clock& clock_;
};

}  // namespace ward::collector::internal
