// SPDX-License-Identifier: Apache-2.0
// Safeguarding holds and erasure: the DSL's staff routes and the device side of erase
// instructions (docs/adr/0015-uk-gdpr-rights.md, "Erasure and safeguarding holds").
#include "internal/erasure_api.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <charconv>

#include "internal/query_params.h"
#include "internal/responses.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/hex.h"
#include "ward/common/log.h"

namespace ward::collector::internal {
namespace {

constexpr ErrorStyle kStyle = ErrorStyle::kJson;
constexpr std::size_t kBody = 16 * 1024;
// Instructions sent in one acknowledgement; the rest follow in the next ones.
constexpr std::size_t kInstructionsPerAck = 16;
constexpr int kMaxConfirmations = 100;
constexpr std::size_t kMaxIdBytes = 64;

HttpResponse ErasureError(int status, const std::string& message) {
  return ErrorResponse(kStyle, status, message);
}
HttpResponse ErasureError(const ward::Error& error) { return ErrorResponse(kStyle, error); }

Result<Poco::JSON::Object::Ptr> Body(const std::string& body) {
  try {
    auto parsed = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    if (parsed.isNull()) {
      return InvalidArgumentError("the body is not a JSON object");
    }
    return parsed;
  } catch (const Poco::Exception& e) {
    return InvalidArgumentError("the body is not a JSON object: " + e.displayText());
  }
}

// A string member, "" when absent; kInvalidArgument when it is not a string.
Result<std::string> Text(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  if (!o->has(name)) {
    return std::string();
  }
  try {
    return o->getValue<std::string>(name);
  } catch (const Poco::Exception&) {
    return InvalidArgumentError("\"" + name + "\" must be a string");
  }
}

Poco::JSON::Object::Ptr HoldJson(const Hold& h) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("id", h.id);
  o->set("concern_id", h.concern_id);
  o->set("account_hash", h.account_hash);
  o->set("reason", h.reason);
  o->set("set_by", h.set_by);
  o->set("set_ms", h.set_ms);
  o->set("lifted_by", h.lifted_by);
  o->set("lifted_ms", h.lifted_ms);
  o->set("lift_reason", h.lift_reason);
  return o;
}

Poco::JSON::Object::Ptr ReportJson(const ErasureReport& r) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("erasure_id", r.erasure_id);
  o->set("account_hash", r.account_hash);
  o->set("dry_run", r.dry_run);
  Poco::JSON::Object::Ptr kinds = new Poco::JSON::Object;
  for (const auto& [kind, count] : r.events_by_kind) {
    kinds->set(kind, count);
  }
  o->set("events_by_kind", kinds);
  Poco::JSON::Array::Ptr erased = new Poco::JSON::Array;
  for (const std::string& id : r.concerns_erased) {
    erased->add(id);
  }
  o->set("concerns_erased", erased);
  o->set("incident_entries_erased", r.incident_entries_erased);
  o->set("screenshots_erased", r.screenshots_erased);
  Poco::JSON::Array::Ptr kept = new Poco::JSON::Array;
  for (const KeptConcern& k : r.concerns_kept) {
    Poco::JSON::Object::Ptr ko = new Poco::JSON::Object;
    ko->set("concern_id", k.concern_id);
    ko->set("why", k.why);
    kept->add(ko);
  }
  o->set("concerns_kept", kept);
  Poco::JSON::Array::Ptr devices = new Poco::JSON::Array;
  for (const std::string& d : r.devices) {
    devices->add(d);
  }
  o->set("devices", devices);
  o->set("account_row_removed", r.account_row_removed);
  return o;
}

}  // namespace

Status ErasureApi::Register(Router& router) {
  using Method = HandlerResult (ErasureApi::*)(const Call&, const StaffPrincipal&);
  auto add = [&](std::string method, std::string pattern, std::size_t max_body, Method handler) {
    return router.Add(Route{std::move(method), std::move(pattern), max_body, kStyle,
                            StaffHandler([this, handler](const Call& c, const StaffPrincipal& w) {
                              return (this->*handler)(c, w);
                            })});
  };
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/holds", 0, &ErasureApi::ListHolds));
  WARD_RETURN_IF_ERROR(add("POST", "/v1/staff/holds", kBody, &ErasureApi::SetHold));
  WARD_RETURN_IF_ERROR(
      add("POST", "/v1/staff/holds/{id:segment}/lift", kBody, &ErasureApi::LiftHold));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/erasures", 0, &ErasureApi::ListErasures));
  return add("POST", "/v1/staff/erasures", kBody, &ErasureApi::Erase);
}

// {"concern_id": "..."} or {"account": "..."}, with "reason".
HandlerResult ErasureApi::SetHold(const Call& call, const StaffPrincipal& who) {
  auto body = Body(call.request.body);
  if (!body.has_value()) {
    return ErasureError(body.error());
  }
  auto concern = Text(*body, "concern_id");
  auto account = Text(*body, "account");
  auto reason = Text(*body, "reason");
  for (const auto* field : {&concern, &account, &reason}) {
    if (!field->has_value()) {
      return ErasureError(field->error());
    }
  }
  auto hold = storage_.SetHold({.concern_id = *concern,
                                .account = *account,
                                .reason = *reason,
                                .by = who.name,
                                .at_ms = NowMs()});
  if (!hold.has_value()) {
    return ErasureError(hold.error());
  }
  return Json(HoldJson(*hold));
}

HandlerResult ErasureApi::LiftHold(const Call& call, const StaffPrincipal& who) {
  const std::string& text = call.params.Get("id");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return ErasureError(400, "'" + text + "' is not a hold number");
  }
  auto body = Body(call.request.body);
  if (!body.has_value()) {
    return ErasureError(body.error());
  }
  auto reason = Text(*body, "reason");
  if (!reason.has_value()) {
    return ErasureError(reason.error());
  }
  auto hold = storage_.LiftHold(id, who.name, *reason, NowMs());
  if (!hold.has_value()) {
    return ErasureError(hold.error());
  }
  return Json(HoldJson(*hold));
}

// ?all=1 lists lifted holds too.
HandlerResult ErasureApi::ListHolds(const Call& call, const StaffPrincipal& /*who*/) {
  auto q = ParseQuery(call.request.query);
  auto holds = storage_.ListHolds("", q["all"] == "1" || q["all"] == "true");
  if (!holds.has_value()) {
    return ErasureError(holds.error());
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const Hold& h : *holds) {
    out->add(HoldJson(h));
  }
  return Json(out);
}

// {"account": "...", "device_id": "...", "reason": "...", "dry_run": true}
HandlerResult ErasureApi::Erase(const Call& call, const StaffPrincipal& who) {
  auto body = Body(call.request.body);
  if (!body.has_value()) {
    return ErasureError(body.error());
  }
  auto account = Text(*body, "account");
  auto device = Text(*body, "device_id");
  auto reason = Text(*body, "reason");
  for (const auto* field : {&account, &device, &reason}) {
    if (!field->has_value()) {
      return ErasureError(field->error());
    }
  }
  bool dry_run = false;
  try {
    dry_run = (*body)->optValue<bool>("dry_run", false);
  } catch (const Poco::Exception&) {
    return ErasureError(400, "\"dry_run\" must be true or false");
  }
  auto report = storage_.EraseAccount({.account = *account,
                                       .device_id = *device,
                                       .reason = *reason,
                                       .by = who.name,
                                       .at_ms = NowMs(),
                                       .dry_run = dry_run});
  if (!report.has_value()) {
    if (IsAuditWriteFailure(report.error())) {
      log::Error("audit log write failed; the erasure was not done",
                 {{"staff", who.name}, {"error", report.error().ToString()}});
    }
    return ErasureError(report.error());
  }
  if (!dry_run) {
    log::Info("erasure done", {{"staff", who.name},
                               {"erasure_id", report->erasure_id},
                               {"laptops", report->devices.size()}});
  }
  return Json(ReportJson(*report));
}

// ?limit=<n>, newest first, each with its laptops.
HandlerResult ErasureApi::ListErasures(const Call& call, const StaffPrincipal& /*who*/) {
  auto q = ParseQuery(call.request.query);
  auto list = storage_.ListErasures(PageLimit(q, 50, 500));
  if (!list.has_value()) {
    return ErasureError(list.error());
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const ErasureSummary& e : *list) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", e.id);
    o->set("account_hash", e.account_hash);
    o->set("requested_by", e.requested_by);
    o->set("requested_ms", e.requested_ms);
    Poco::JSON::Array::Ptr targets = new Poco::JSON::Array;
    for (const EraseTarget& t : e.targets) {
      Poco::JSON::Object::Ptr to = new Poco::JSON::Object;
      to->set("device_id", t.device_id);
      to->set("hostname", t.hostname);
      to->set("agent_version", t.agent_version);
      to->set("last_seen_ms", t.last_seen_ms);
      to->set("confirmed_ms", t.confirmed_ms);
      targets->add(to);
    }
    o->set("targets", targets);
    out->add(o);
  }
  return Json(out);
}

std::int64_t ErasureApi::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

Result<std::vector<EraseInstruction>> PendingForDevice(Storage& storage,
                                                       const std::string& device_id) {
  return storage.PendingErasures(device_id, kInstructionsPerAck);
}

Status AddEraseInstructions(const std::vector<EraseInstruction>& pending,
                            google::protobuf::RepeatedPtrField<v1::EraseInstruction>* out) {
  for (const EraseInstruction& i : pending) {
    auto salt = HexDecode(i.salt_hex);
    auto mac = HexDecode(i.account_mac_hex);
    if (!salt.has_value() || !mac.has_value()) {
      return DataLossError("erase instruction " + i.id + " is damaged in the store");
    }
    v1::EraseInstruction* e = out->Add();
    e->set_id(i.id);
    e->set_salt(std::string(salt->begin(), salt->end()));
    e->set_account_mac(std::string(mac->begin(), mac->end()));
  }
  return OkStatus();
}

Status RecordEraseConfirmations(Storage& storage, const std::string& device_id,
                                const v1::DeviceStatus& status, std::int64_t now_ms) {
  std::vector<std::string> ids;
  for (int i = 0; i < std::min(status.erased_ids_size(), kMaxConfirmations); ++i) {
    if (status.erased_ids(i).size() <= kMaxIdBytes) {
      ids.push_back(status.erased_ids(i));
    }
  }
  if (ids.empty()) {
    return OkStatus();
  }
  WARD_RETURN_IF_ERROR(storage.ConfirmErasures(device_id, ids, now_ms));
  log::Info("laptop confirmed erasures", {{"device_id", device_id}, {"count", ids.size()}});
  return OkStatus();
}

std::vector<std::string> DropErasedEvents(const std::vector<EraseInstruction>& pending,
                                          std::vector<EventRow>& rows) {
  std::vector<std::string> dropped;
  if (pending.empty()) {
    return dropped;
  }
  std::vector<std::pair<std::string, std::string>> keys;  // salt bytes, mac hex
  for (const EraseInstruction& i : pending) {
    auto salt = HexDecode(i.salt_hex);
    if (salt.has_value()) {
      keys.emplace_back(std::string(salt->begin(), salt->end()), i.account_mac_hex);
    }
  }
  std::erase_if(rows, [&](const EventRow& r) {
    if (r.account.empty() || r.concern.has_value()) {
      return false;  // concerns always arrive: an open concern is held
    }
    for (const auto& [salt, mac] : keys) {
      if (ConstantTimeEquals(HmacSha256Hex(salt, r.account), mac)) {
        dropped.push_back(r.id);
        return true;
      }
    }
    return false;
  });
  return dropped;
}

}  // namespace ward::collector::internal
