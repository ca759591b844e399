// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <string>
#include <vector>

#include "internal/router.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector::internal {

// Safeguarding holds and erasure for the DSL (docs/collector.md, "Erasure and holds"; JSON):
// POST /v1/staff/holds, POST /v1/staff/holds/{id}/lift, GET /v1/staff/holds,
// POST /v1/staff/erasures (a dry run with "dry_run": true), GET /v1/staff/erasures. The role
// table lets only the DSL call them. Thread-safe; `storage` and `clock` must outlive it.
class ErasureApi {
 public:
  ErasureApi(Storage& storage, const Clock& clock) : storage_(storage), clock_(clock) {}

  Status Register(Router& router);

 private:
  HandlerResult SetHold(const Call& call, const StaffPrincipal& who);
  HandlerResult LiftHold(const Call& call, const StaffPrincipal& who);
  HandlerResult ListHolds(const Call& call, const StaffPrincipal& who);
  HandlerResult Erase(const Call& call, const StaffPrincipal& who);
  HandlerResult ListErasures(const Call& call, const StaffPrincipal& who);
  std::int64_t NowMs() const;

  Storage& storage_;
  const Clock& clock_;
};

// The device side of erasure (docs/sync.md, "Erasure"), called by the device API.
//
// The erase instructions `device_id` has not confirmed, oldest first (as many as one
// acknowledgement carries).
Result<std::vector<EraseInstruction>> PendingForDevice(Storage& storage,
                                                       const std::string& device_id);
// Adds `pending` to an acknowledgement. kDataLoss when one is damaged in the store.
Status AddEraseInstructions(const std::vector<EraseInstruction>& pending,
                            google::protobuf::RepeatedPtrField<v1::EraseInstruction>* out);
// Records the confirmations a DeviceStatus carries (at most 100 ids of at most 64 bytes are
// read; the rest wait for the next status).
Status RecordEraseConfirmations(Storage& storage, const std::string& device_id,
                                const v1::DeviceStatus& status, std::int64_t now_ms);
// Removes from `rows` the events (not concerns) whose account one of `pending` names, and
// returns their ids: the collector acknowledges them without storing them, so a laptop that was
// offline during the erasure cannot upload the account's events before it has carried out the
// instruction.
std::vector<std::string> DropErasedEvents(const std::vector<EraseInstruction>& pending,
                                          std::vector<EventRow>& rows);

}  // namespace ward::collector::internal
