// SPDX-License-Identifier: Apache-2.0
// Subject access: the pages `wardctl subject export` assembles into one export for a DPO.
#include "internal/subject_api.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <string>

#include "internal/query_params.h"
#include "internal/responses.h"
#include "internal/staff_api.h"

namespace ward::collector::internal {
namespace {

constexpr ErrorStyle kStyle = ErrorStyle::kJson;
constexpr std::string_view kAction = "subject.export";
// A request is a small JSON object: the account, the filters and a cursor.
constexpr std::size_t kMaxRequestBody = 4 * 1024;
// What one page may hold of event bodies, or concern texts and incident logs: the staff API's
// page bound (staff_api.cpp, kMaxListBytes).
constexpr std::size_t kMaxPageBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxAccountBytes = 256;
// The longest concern text the device API accepts (4000 characters of UTF-8).
constexpr std::size_t kMaxConcernTextBytes = 4000 * 4;

HttpResponse SubjectError(int status, const std::string& message) {
  return ErrorResponse(kStyle, status, message);
}

// One request: the query, the cursor it continues from, and (for a screenshot) the concern.
struct SubjectRequest {
  SubjectQuery query;
  std::string cursor;
  std::string concern_id;
};

// {"account": "NAME", "device": "ID", "from_ms": N, "to_ms": N, "cursor": "C", "limit": N,
// "concern_id": "ID"}; only "account" is required.
Result<SubjectRequest> ParseRequest(Storage& storage, const std::string& body,
                                    std::size_t default_limit, std::size_t max_limit) {
  Poco::JSON::Object::Ptr o;
  try {
    o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return InvalidArgumentError("the body is not a JSON object: " + e.displayText());
  }
  SubjectRequest r;
  try {
    const std::string account = o->optValue<std::string>("account", "");
    if (account.empty() || account.size() > kMaxAccountBytes) {
      return InvalidArgumentError("say whose records: \"account\" is the learner's account name");
    }
    WARD_ASSIGN_OR_RETURN(r.query.account_hash, storage.AccountHash(account));
    r.query.device_id = o->optValue<std::string>("device", "");
    r.query.from_ms = o->optValue<std::int64_t>("from_ms", 0);
    r.query.to_ms = o->optValue<std::int64_t>("to_ms", 0);
    const auto limit = o->optValue<std::int64_t>("limit", 0);
    r.cursor = o->optValue<std::string>("cursor", "");
    r.concern_id = o->optValue<std::string>("concern_id", "");
    if (r.query.from_ms < 0 || r.query.to_ms < 0 ||
        (r.query.to_ms > 0 && r.query.from_ms >= r.query.to_ms)) {
      return InvalidArgumentError("\"from_ms\" must be before \"to_ms\", and neither negative");
    }
    r.query.limit = limit <= 0 ? default_limit
                               : std::min<std::size_t>(static_cast<std::size_t>(limit), max_limit);
  } catch (const Poco::Exception& e) {
    return InvalidArgumentError("a field of the body has the wrong type: " + e.displayText());
  }
  r.query.max_bytes = kMaxPageBytes;
  return r;
}

Poco::JSON::Object::Ptr ConcernJson(const Concern& c, const std::vector<IncidentEntry>& log) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("id", c.id);
  o->set("device_id", c.device_id);
  o->set("group", c.group);
  o->set("device_time_ms", c.device_time_ms);
  o->set("received_ms", c.received_ms);
  o->set("status", std::string(ConcernStatusName(c.status)));
  o->set("reference", c.content.reference);
  o->set("category", c.content.category);
  o->set("text", c.content.text);
  o->set("in_danger", c.content.in_danger);
  o->set("user", c.content.user);
  o->set("has_screenshot", c.content.has_screenshot);
  // A learner's words may name other people: the DSL reads and redacts before release.
  o->set("review_before_release", true);
  Poco::JSON::Array::Ptr entries = new Poco::JSON::Array;
  for (const IncidentEntry& e : log) {
    Poco::JSON::Object::Ptr n = new Poco::JSON::Object;
    n->set("seq", e.seq);
    n->set("kind", std::string(IncidentKindName(e.kind)));
    n->set("author", e.note.author);
    n->set("text", e.note.text);
    n->set("at_ms", e.note.at_ms);
    entries->add(n);
  }
  o->set("incident_log", entries);
  return o;
}

}  // namespace

SubjectApi::SubjectApi(Storage& storage, const Clock& clock) : storage_(storage), clock_(clock) {}

Status SubjectApi::Register(Router& router) {
  auto add = [&](std::string pattern, StaffHandler handler) {
    return router.Add(
        Route{"POST", std::move(pattern), kMaxRequestBody, kStyle, std::move(handler)});
  };
  WARD_RETURN_IF_ERROR(
      add("/v1/staff/subject/events", [this](const Call& c, const StaffPrincipal& w) {
        return Events(c, w, SubjectEvents::kTelemetry);
      }));
  WARD_RETURN_IF_ERROR(add("/v1/staff/subject/aup", [this](const Call& c, const StaffPrincipal& w) {
    return Events(c, w, SubjectEvents::kAup);
  }));
  WARD_RETURN_IF_ERROR(
      add("/v1/staff/subject/concerns",
          [this](const Call& c, const StaffPrincipal& w) { return Concerns(c, w); }));
  WARD_RETURN_IF_ERROR(
      add("/v1/staff/subject/devices",
          [this](const Call& c, const StaffPrincipal& w) { return Devices(c, w); }));
  return add("/v1/staff/subject/screenshot",
             [this](const Call& c, const StaffPrincipal& w) { return Screenshot(c, w); });
}

// Oldest first; the cursor is the last event's seq.
HandlerResult SubjectApi::Events(const Call& call, const StaffPrincipal& who, SubjectEvents which) {
  auto request = ParseRequest(storage_, call.request.body, 500, 1000);
  if (!request.has_value()) {
    return ErrorResponse(kStyle, request.error());
  }
  const std::int64_t after = std::max<std::int64_t>(0, ToInt(request->cursor, 0));
  auto events = storage_.ListSubjectEvents(request->query, which, after, Audit(who));
  if (!events.has_value()) {
    return AuditedError(events.error(), who, kAction);
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const StoredEvent& e : events->events) {
    out->add(EventJson(e));
  }
  HttpResponse r = Json(out);
  SetNextCursor(
      r, events->more && !events->events.empty() ? std::to_string(events->events.back().seq) : "");
  return r;
}

// By id; the cursor is the last concern's id. The store bounds the page by the concerns' texts;
// here it also ends before the incident logs would pass the page bound (the concerns left out
// come again, and are audited again, on the next page).
HandlerResult SubjectApi::Concerns(const Call& call, const StaffPrincipal& who) {
  auto request = ParseRequest(storage_, call.request.body, 50, 200);
  if (!request.has_value()) {
    return ErrorResponse(kStyle, request.error());
  }
  auto concerns = storage_.ListSubjectConcerns(request->query, request->cursor, Audit(who));
  if (!concerns.has_value()) {
    return AuditedError(concerns.error(), who, kAction);
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  std::size_t bytes = 0;
  std::size_t texts = 0;
  std::string last;
  bool cut = false;
  for (const auto& [concern, log] : *concerns) {
    texts += concern.content.text.size();
  }
  for (const auto& [concern, log] : *concerns) {
    std::size_t size = concern.content.text.size();
    for (const IncidentEntry& e : log) {
      size += e.note.text.size() + e.note.author.size();
    }
    if (!last.empty() && bytes + size > kMaxPageBytes) {
      cut = true;
      break;
    }
    bytes += size;
    out->add(ConcernJson(concern, log));
    last = concern.id;
  }
  HttpResponse r = Json(out);
  // Cut here, full, or perhaps stopped by the store's bound on texts (the next concern's text
  // might not have fitted): there may be more.
  const bool more = cut || concerns->size() == request->query.limit ||
                    texts + kMaxConcernTextBytes > request->query.max_bytes;
  SetNextCursor(r, more && !last.empty() ? last : "");
  return r;
}

// By id; the cursor is the last device's id.
HandlerResult SubjectApi::Devices(const Call& call, const StaffPrincipal& who) {
  auto request = ParseRequest(storage_, call.request.body, 200, 1000);
  if (!request.has_value()) {
    return ErrorResponse(kStyle, request.error());
  }
  auto devices = storage_.ListSubjectDevices(request->query, request->cursor, Audit(who));
  if (!devices.has_value()) {
    return AuditedError(devices.error(), who, kAction);
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const SubjectDevice& d : *devices) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", d.id);
    o->set("hostname", d.hostname);
    o->set("group", d.group);
    o->set("os", d.os);
    o->set("events", d.events);
    o->set("first_received_ms", d.first_received_ms);
    o->set("last_received_ms", d.last_received_ms);
    out->add(o);
  }
  HttpResponse r = Json(out);
  SetNextCursor(r, devices->size() == request->query.limit ? devices->back().id : "");
  return r;
}

// One concern's screenshot as image/png: "concern_id" must be one of the person's concerns.
HandlerResult SubjectApi::Screenshot(const Call& call, const StaffPrincipal& who) {
  auto request = ParseRequest(storage_, call.request.body, 1, 1);
  if (!request.has_value()) {
    return ErrorResponse(kStyle, request.error());
  }
  if (request->concern_id.empty()) {
    return SubjectError(400, "say which concern's screenshot: \"concern_id\"");
  }
  auto png = storage_.GetSubjectScreenshot(request->query, request->concern_id, Audit(who));
  if (!png.has_value()) {
    return AuditedError(png.error(), who, kAction);
  }
  if (png->empty()) {
    return SubjectError(404, "this concern has no screenshot");
  }
  HttpResponse r;
  r.content_type = "image/png";
  r.body = std::move(*png);
  return r;
}

AuditEntry SubjectApi::Audit(const StaffPrincipal& who) const {
  return AuditEntry{.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 clock_.Now().time_since_epoch())
                                 .count(),
                    .staff_name = who.name,
                    .action = std::string(kAction),
                    .concern_id = {},
                    .concern_ids = {}};
}

}  // namespace ward::collector::internal
