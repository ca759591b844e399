// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "internal/router.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"

namespace ward::collector::internal {

// Subject access for the DSL (docs/adr/0015-uk-gdpr-rights.md, "Subject access (export)"):
// pages of one person's events, AUP acceptances, concerns with their incident log and devices,
// and their screenshots one at a time, for `wardctl subject export` to assemble. Each request
// is a POST whose JSON body names the account, so the name never appears in a URL or a log;
// the store finds the records by the account's keyed hash, and each page is audited
// ("subject.export") in the same transaction as its read. Thread-safe; `storage` and `clock`
// must outlive it.
class SubjectApi {
 public:
  SubjectApi(Storage& storage, const Clock& clock);

  // Adds the /v1/staff/subject/ routes.
  Status Register(Router& router);

 private:
  HandlerResult Events(const Call& call, const StaffPrincipal& who, SubjectEvents which);
  HandlerResult Concerns(const Call& call, const StaffPrincipal& who);
  HandlerResult Devices(const Call& call, const StaffPrincipal& who);
  HandlerResult Screenshot(const Call& call, const StaffPrincipal& who);
  AuditEntry Audit(const StaffPrincipal& who) const;

  Storage& storage_;
  const Clock& clock_;
};

}  // namespace ward::collector::internal
