// SPDX-License-Identifier: Apache-2.0
// The staff API: what wardctl (and later the console) calls, as JSON.
#include "internal/staff_api.h"

#include <google/protobuf/util/json_util.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>

#include "internal/policy_verify.h"
#include "internal/query_params.h"
#include "internal/responses.h"
#include "ward/common/hex.h"
#include "ward/common/log.h"
#include "ward/policy/summary.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector::internal {
namespace {

constexpr ErrorStyle kStyle = ErrorStyle::kJson;
// A status change or a note is a short JSON object.
constexpr std::size_t kNoteBody = 64 * 1024;
// What one page of a list may hold of event bodies or concern texts; past it the page ends
// early with a next cursor (docs/security.md, finding 3). Screenshots are never in a list.
constexpr std::size_t kMaxListBytes = 4 * 1024 * 1024;
// The longest concern text the device API accepts (4000 characters of UTF-8).
constexpr std::size_t kMaxConcernTextBytes = 4000 * 4;
// The audit action of a page of events that holds concern events (the DSL's).
constexpr std::string_view kReadEvent = "concern.read.event";

HttpResponse StaffError(int status, const std::string& message) {
  return ErrorResponse(kStyle, status, message);
}

HttpResponse StaffError(const Error& error) { return ErrorResponse(kStyle, error); }

HttpResponse ConcernError(const Error& error, const StaffPrincipal& who, std::string_view action) {
  return AuditedError(error, who, action);
}

HttpResponse EmptyObject() { return Json(Poco::JSON::Object::Ptr(new Poco::JSON::Object)); }

// ?status=<name>&since_ms=<ms>&until_ms=<ms>&group=<g>&cursor=<c>&limit=<n> of
// GET /v1/staff/concerns. The cursor is "<received_ms>.<id>" of the last concern of a page.
Result<ConcernFilter> ConcernFilterFrom(const std::string& query) {
  auto q = ParseQuery(query);
  ConcernFilter filter;
  if (const std::string& status = q["status"]; !status.empty()) {
    WARD_ASSIGN_OR_RETURN(filter.status, ParseConcernStatus(status));
  }
  filter.since_ms = std::max<std::int64_t>(0, ToInt(q["since_ms"], 0));
  filter.until_ms = std::max<std::int64_t>(0, ToInt(q["until_ms"], 0));
  filter.group = q["group"];
  filter.limit = PageLimit(q, 500, 5000);
  if (const std::string& cursor = q["cursor"]; !cursor.empty()) {
    const auto dot = cursor.find('.');
    filter.before_received_ms = ToInt(cursor.substr(0, dot), -1);
    filter.before_id = dot == std::string::npos ? "" : cursor.substr(dot + 1);
    if (filter.before_received_ms < 0 || filter.before_id.empty()) {
      return InvalidArgumentError("the cursor '" + cursor + "' is not one this API gave out");
    }
  }
  return filter;
}

// A device as the staff API shows it, with what its last heartbeat said of itself. `unseen`
// flags a device last seen at or before `unseen_by_ms` (docs/collector.md, "Retention").
Poco::JSON::Object::Ptr DeviceJson(const DeviceRecord& d, std::int64_t unseen_by_ms) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("id", d.id);
  o->set("group", d.group);
  o->set("hostname", d.hostname);
  o->set("os", d.os);
  o->set("agent_version", d.agent_version);
  o->set("policy_version", d.policy_version);
  o->set("enrolled_at_ms", d.enrolled_at_ms);
  o->set("last_seen_ms", d.last_seen_ms);
  o->set("revoked", d.revoked);
  o->set("unseen", d.last_seen_ms <= unseen_by_ms);
  // Device trust (docs/adr/0012): a refused enrolment waiting for IT, and IT's readmission.
  o->set("enrol_refused_ms", d.enrol_refused_ms);
  o->set("readmitted_ms", d.readmitted_ms);
  v1::DeviceStatus status;
  std::string mode;
  Poco::JSON::Array::Ptr degraded = new Poco::JSON::Array;
  if (!d.last_status.empty() && status.ParseFromString(d.last_status)) {
    mode = status.mode() == v1::MODE_ENFORCE   ? "enforce"
           : status.mode() == v1::MODE_MONITOR ? "monitor"
                                               : "";
    for (const v1::Degradation& g : status.degraded()) {
      degraded->add(g.subsystem() + (g.reason().empty() ? "" : ": " + g.reason()));
    }
    if (!status.agent_version().empty()) {
      o->set("agent_version", status.agent_version());
    }
  }
  o->set("mode", mode);
  o->set("degraded", degraded);
  return o;
}

// True when the device's last heartbeat named a subsystem that is not working.
bool IsDegraded(const DeviceRecord& d) {
  v1::DeviceStatus status;
  return !d.last_status.empty() && status.ParseFromString(d.last_status) &&
         status.degraded_size() > 0;
}

// A path segment with its %XX escapes decoded (group names may hold spaces).
std::string PathText(const std::string& segment) {
  std::string out;
  try {
    Poco::URI::decode(segment, out);
  } catch (const Poco::Exception&) {
    return segment;
  }
  return out;
}

// A stored policy version: who pushed it and when, and what it says in the same plain words
// the learner reads in the tray (policy/summary.h).
Poco::JSON::Object::Ptr PolicyJson(const StoredPolicy& p) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("version", p.version);
  o->set("pushed_at_ms", p.pushed_at_ms);
  o->set("pushed_by", p.pushed_by);
  v1::SignedPolicy signed_policy;
  v1::Policy policy;
  Poco::JSON::Array::Ptr words = new Poco::JSON::Array;
  // Verified when pushed; a version that no longer parses is shown without words.
  if (signed_policy.ParseFromString(p.signed_policy) &&
      policy.ParseFromString(signed_policy.policy())) {
    o->set("name", policy.name());
    o->set("mode", policy.mode() == v1::MODE_ENFORCE ? "enforce" : "monitor");
    for (const std::string& line : policy::SummarizeForLearner(policy)) {
      words->add(line);
    }
  }
  o->set("summary", words);
  return o;
}

std::string HexOf(std::string_view text) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// A concern event as the DSL's event list shows it: rebuilt from the inbox's columns, so its
// stored body (which holds the screenshot) is never read for a list.
ward::v1::Event ConcernEvent(const StoredEvent& e) {
  ward::v1::Event event;
  event.set_id(e.id);
  event.mutable_device_time()->set_seconds(e.device_time_ms / 1000);
  event.mutable_device_time()->set_nanos(static_cast<std::int32_t>(e.device_time_ms % 1000) *
                                         1000000);
  event.set_priority(static_cast<ward::v1::Priority>(e.priority));
  if (e.concern.has_value()) {
    event.set_user(e.concern->user);
    auto* c = event.mutable_concern();
    c->set_reference(e.concern->reference);
    c->set_category(static_cast<ward::v1::ConcernCategory>(e.concern->category));
    c->set_text(e.concern->text);
    c->set_anonymous(e.concern->anonymous);
    c->set_in_danger(e.concern->in_danger);
  }
  return event;
}

// What every role that may see a concern gets: that it exists, from where, when, its status.
Poco::JSON::Object::Ptr ConcernHeadJson(const std::string& id, const std::string& device_id,
                                        const std::string& group, std::int64_t received_ms,
                                        ConcernStatus status, bool redacted) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("id", id);
  o->set("device_id", device_id);
  o->set("group", group);
  o->set("received_ms", received_ms);
  o->set("status", std::string(ConcernStatusName(status)));
  o->set("redacted", redacted);
  return o;
}

Poco::JSON::Object::Ptr RedactedConcernJson(const RedactedConcern& c) {
  return ConcernHeadJson(c.id, c.device_id, c.group, c.received_ms, c.status, true);
}

Poco::JSON::Object::Ptr ConcernJson(const Concern& c, bool full,
                                    const std::vector<ConcernNote>* notes) {
  Poco::JSON::Object::Ptr o =
      ConcernHeadJson(c.id, c.device_id, c.group, c.received_ms, c.status, !full);
  if (full) {
    o->set("reference", c.content.reference);
    o->set("category", c.content.category);
    o->set("text", c.content.text);
    o->set("anonymous", c.content.anonymous);
    o->set("in_danger", c.content.in_danger);
    o->set("user", c.content.user);
    o->set("device_time_ms", c.device_time_ms);
    o->set("has_screenshot", c.content.has_screenshot);
    if (notes != nullptr) {
      Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
      for (const ConcernNote& n : *notes) {
        Poco::JSON::Object::Ptr no = new Poco::JSON::Object;
        no->set("author", n.author);
        no->set("text", n.text);
        no->set("at_ms", n.at_ms);
        arr->add(no);
      }
      o->set("notes", arr);
    }
  }
  return o;
}

Result<Poco::JSON::Object::Ptr> JsonObjectBody(const std::string& body) {
  try {
    return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return InvalidArgumentError("the body is not a JSON object: " + e.displayText());
  }
}

}  // namespace

// When the audit row could not be written the store rolled it all back: the staff member gets a
// plain 500 and nothing of the concern, and the log says why.
HttpResponse AuditedError(const Error& error, const StaffPrincipal& who, std::string_view action) {
  if (!IsAuditWriteFailure(error)) {
    return StaffError(error);
  }
  log::Error("audit log write failed; the request was refused",
             {{"staff", who.name}, {"action", std::string(action)}, {"error", error.ToString()}});
  return StaffError(500,
                    "the collector could not write to its audit log, so it has not shown or "
                    "changed anything. Try again in a moment; if it keeps happening, tell IT");
}

StaffApi::StaffApi(const CollectorOptions& options, Storage& storage, PolicyFeed& policies,
                   Metrics& metrics, const Clock& clock)
    : options_(options), storage_(storage), policies_(policies), metrics_(metrics), clock_(clock) {}

Status StaffApi::Register(Router& router) {
  router.SetErrorStyle("/v1/staff/", kStyle);
  using Method = HandlerResult (StaffApi::*)(const Call&, const StaffPrincipal&);
  auto add = [&](std::string method, std::string pattern, std::size_t max_body, Method handler) {
    return router.Add(Route{std::move(method), std::move(pattern), max_body, kStyle,
                            StaffHandler([this, handler](const Call& c, const StaffPrincipal& w) {
                              return (this->*handler)(c, w);
                            })});
  };
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/devices", 0, &StaffApi::Devices));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/devices/{id:uuid}", 0, &StaffApi::Device));
  WARD_RETURN_IF_ERROR(
      add("GET", "/v1/staff/devices/{id:uuid}/events", 0, &StaffApi::DeviceEvents));
  WARD_RETURN_IF_ERROR(
      add("POST", "/v1/staff/devices/{id:uuid}/revoke", 0, &StaffApi::RevokeDevice));
  WARD_RETURN_IF_ERROR(
      add("POST", "/v1/staff/devices/{id:uuid}/readmit", 0, &StaffApi::ReadmitDevice));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/groups", 0, &StaffApi::Groups));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/groups/{name:segment}", 0, &StaffApi::GroupDetail));
  WARD_RETURN_IF_ERROR(
      add("GET", "/v1/staff/groups/{name:segment}/policies", 0, &StaffApi::GroupPolicies));
  WARD_RETURN_IF_ERROR(
      add("GET", "/v1/staff/groups/{name:segment}/policy", 0, &StaffApi::GroupPolicy));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/events", 0, &StaffApi::Events));
  WARD_RETURN_IF_ERROR(
      add("POST", "/v1/staff/policy", options_.max_body_bytes, &StaffApi::PushPolicy));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/audit", 0, &StaffApi::Audit));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/concerns", 0, &StaffApi::ListConcerns));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/concerns/urgent", 0, &StaffApi::UrgentConcerns));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/concerns/summary", 0, &StaffApi::ConcernSummary));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/concerns/{id:uuid}/log", 0, &StaffApi::ConcernLog));
  WARD_RETURN_IF_ERROR(
      add("GET", "/v1/staff/concerns/{id:uuid}/screenshot", 0, &StaffApi::ConcernScreenshot));
  WARD_RETURN_IF_ERROR(
      add("POST", "/v1/staff/concerns/{id:uuid}/actions", kNoteBody, &StaffApi::ConcernAction));
  WARD_RETURN_IF_ERROR(add("GET", "/v1/staff/concerns/{id:uuid}", 0, &StaffApi::GetConcern));
  WARD_RETURN_IF_ERROR(
      add("POST", "/v1/staff/concerns/{id:uuid}/status", kNoteBody, &StaffApi::SetConcernStatus));
  return add("POST", "/v1/staff/concerns/{id:uuid}/notes", kNoteBody, &StaffApi::AddConcernNote);
}

// ?group=<g>&not_seen_days=<n>&degraded=1&cursor=<c>&limit=<n>, ordered by hostname. The
// cursor is "<hex of hostname>.<id>" (hostnames are the devices' words, not fit for a header).
HandlerResult StaffApi::Devices(const Call& call, const StaffPrincipal& /*who*/) {
  auto q = ParseQuery(call.request.query);
  DeviceQuery query;
  query.group = q["group"];
  if (const std::int64_t days = ToInt(q["not_seen_days"], 0); days > 0) {
    query.seen_before_ms = NowMs() - days * 24 * 60 * 60 * 1000;
  }
  const bool degraded_only = q["degraded"] == "1" || q["degraded"] == "true";
  const std::int64_t unseen_by_ms = NowMs() - options_.retention.device_unseen_ms;
  const std::size_t limit = PageLimit(q, 500, 1000);
  if (const std::string& cursor = q["cursor"]; !cursor.empty()) {
    const auto dot = cursor.find('.');
    auto host = HexDecode(cursor.substr(0, dot));
    if (dot == std::string::npos || !host.has_value()) {
      return StaffError(400, "the cursor '" + cursor + "' is not one this API gave out");
    }
    query.after_hostname.assign(host->begin(), host->end());
    query.after_id = cursor.substr(dot + 1);
  }
  // "Degraded" is read from each device's last heartbeat, so that filter walks pages of the
  // fleet until the page is full, a bounded number of rows at most.
  constexpr std::size_t kScanBudget = 5000;
  query.limit = degraded_only ? std::min<std::size_t>(500, kScanBudget) : limit;
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  std::size_t scanned = 0;
  std::string next;
  while (true) {
    auto page = storage_.ListDevicePage(query);
    if (!page.has_value()) {
      return StaffError(page.error());
    }
    for (const DeviceRecord& d : *page) {
      ++scanned;
      query.after_hostname = d.hostname;
      query.after_id = d.id;
      if (degraded_only && !IsDegraded(d)) {
        continue;
      }
      out->add(DeviceJson(d, unseen_by_ms));
      if (out->size() == limit) {
        break;
      }
    }
    const bool more = page->size() == query.limit || out->size() == limit;
    if (out->size() == limit || (more && scanned >= kScanBudget)) {
      next = HexOf(query.after_hostname) + "." + query.after_id;
      break;
    }
    if (!more) {
      break;
    }
  }
  HttpResponse r = Json(out);
  SetNextCursor(r, next);
  return r;
}

HandlerResult StaffApi::Device(const Call& call, const StaffPrincipal& /*who*/) {
  auto device = storage_.GetDevice(call.params.Get("id"));
  if (!device.has_value()) {
    return StaffError(device.error());
  }
  return Json(DeviceJson(*device, NowMs() - options_.retention.device_unseen_ms));
}

// Newest first: ?cursor=<seq>&limit=<n>.
HandlerResult StaffApi::DeviceEvents(const Call& call, const StaffPrincipal& who) {
  auto q = ParseQuery(call.request.query);
  const std::string& id = call.params.Get("id");
  if (auto device = storage_.GetDevice(id); !device.has_value()) {
    return StaffError(device.error());
  }
  const EventPage page{
      .reader = who.role, .limit = PageLimit(q, 50, 500), .max_bytes = kMaxListBytes};
  auto events = storage_.ListDeviceEvents(id, std::max<std::int64_t>(0, ToInt(q["cursor"], 0)),
                                          page, Audit(who, kReadEvent));
  if (!events.has_value()) {
    return ConcernError(events.error(), who, kReadEvent);
  }
  return EventsJson(*events);
}

HandlerResult StaffApi::RevokeDevice(const Call& call, const StaffPrincipal& who) {
  const std::string& id = call.params.Get("id");
  if (auto s = storage_.SetDeviceRevoked(id, true); !s.has_value()) {
    return StaffError(s.error());
  }
  log::Info("device revoked", {{"device_id", id}, {"by", who.name}});
  return EmptyObject();
}

// IT lets the device's laptop enrol once more without its credential: after a revocation, or
// to approve an enrolment that could not prove it is the device (docs/adr/0012).
HandlerResult StaffApi::ReadmitDevice(const Call& call, const StaffPrincipal& who) {
  const std::string& id = call.params.Get("id");
  if (auto s = storage_.ReadmitDevice(id, NowMs()); !s.has_value()) {
    return StaffError(s.error());
  }
  RecordAudit(who, "device.readmit", id);
  log::Info("device readmitted", {{"device_id", id}, {"by", who.name}});
  return EmptyObject();
}

// Groups by name: ?cursor=<name>&limit=<n>, each with its newest policy version and push
// progress (how many of its devices run that version).
HandlerResult StaffApi::Groups(const Call& call, const StaffPrincipal& /*who*/) {
  auto q = ParseQuery(call.request.query);
  const std::size_t limit = PageLimit(q, 500, 500);
  const std::string& after = q["cursor"];
  auto groups = storage_.ListGroups();
  if (!groups.has_value()) {
    return StaffError(groups.error());
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  std::string next;
  for (const Group& g : *groups) {
    if (!after.empty() && g.name <= after) {
      continue;
    }
    if (out->size() == limit) {
      next = out->getObject(static_cast<unsigned>(limit - 1))->getValue<std::string>("name");
      break;
    }
    auto o = GroupJson(g);
    if (!o.has_value()) {
      return StaffError(o.error());
    }
    out->add(*o);
  }
  HttpResponse r = Json(out);
  SetNextCursor(r, next);
  return r;
}

Result<Poco::JSON::Object::Ptr> StaffApi::GroupJson(const Group& g) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("name", g.name);
  o->set("signing_public_key", g.signing_public_key);
  auto snapshot = policies_.Snapshot(g.name);
  const std::uint64_t version = snapshot.has_value() ? snapshot->version : 0;
  o->set("policy_version", version);
  WARD_ASSIGN_OR_RETURN(std::optional<StoredPolicy> latest, storage_.LatestPolicy(g.name));
  o->set("pushed_at_ms", latest.has_value() ? latest->pushed_at_ms : 0);
  o->set("pushed_by", latest.has_value() ? latest->pushed_by : std::string());
  WARD_ASSIGN_OR_RETURN(GroupDeviceCounts counts, storage_.CountGroupDevices(g.name, version));
  o->set("devices", counts.total);
  o->set("devices_on_newest", version == 0 ? 0 : counts.on_version);
  return o;
}

// One group: as in the list, plus its newest policy in plain words.
HandlerResult StaffApi::GroupDetail(const Call& call, const StaffPrincipal& /*who*/) {
  const std::string name = PathText(call.params.Get("name"));
  auto group = storage_.GetGroup(name);
  if (!group.has_value()) {
    return StaffError(group.error());
  }
  auto o = GroupJson(*group);
  if (!o.has_value()) {
    return StaffError(o.error());
  }
  auto latest = storage_.LatestPolicy(name);
  if (!latest.has_value()) {
    return StaffError(latest.error());
  }
  if (latest->has_value()) {
    (*o)->set("policy", PolicyJson(**latest));
  }
  return Json(*o);
}

// A group's pushes, newest first: ?cursor=<version>&limit=<n>.
HandlerResult StaffApi::GroupPolicies(const Call& call, const StaffPrincipal& /*who*/) {
  auto q = ParseQuery(call.request.query);
  const std::string name = PathText(call.params.Get("name"));
  if (auto group = storage_.GetGroup(name); !group.has_value()) {
    return StaffError(group.error());
  }
  const std::size_t limit = PageLimit(q, 50, 500);
  const auto before = static_cast<std::uint64_t>(std::max<std::int64_t>(0, ToInt(q["cursor"], 0)));
  auto history = storage_.ListPolicyHistory(name, before, limit);
  if (!history.has_value()) {
    return StaffError(history.error());
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const StoredPolicy& p : *history) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("version", p.version);
    o->set("pushed_at_ms", p.pushed_at_ms);
    o->set("pushed_by", p.pushed_by);
    out->add(o);
  }
  HttpResponse r = Json(out);
  SetNextCursor(r, history->size() == limit ? std::to_string(history->back().version) : "");
  return r;
}

// One version of a group's policy in plain words: ?version=<n> (the newest when absent).
HandlerResult StaffApi::GroupPolicy(const Call& call, const StaffPrincipal& /*who*/) {
  auto q = ParseQuery(call.request.query);
  const std::string name = PathText(call.params.Get("name"));
  const std::int64_t version = ToInt(q["version"], 0);
  if (version <= 0) {
    auto latest = storage_.LatestPolicy(name);
    if (!latest.has_value()) {
      return StaffError(latest.error());
    }
    if (!latest->has_value()) {
      return StaffError(404, "group '" + name + "' has no policy yet");
    }
    return Json(PolicyJson(**latest));
  }
  auto stored = storage_.GetPolicyVersion(name, static_cast<std::uint64_t>(version));
  if (!stored.has_value()) {
    return StaffError(stored.error());
  }
  return Json(PolicyJson(*stored));
}

HandlerResult StaffApi::Events(const Call& call, const StaffPrincipal& who) {
  auto q = ParseQuery(call.request.query);
  const std::int64_t after = ToInt(q["after"], 0);
  const std::int64_t limit = std::clamp<std::int64_t>(ToInt(q["limit"], 100), 1, 1000);
  const EventPage page{
      .reader = who.role, .limit = static_cast<std::size_t>(limit), .max_bytes = kMaxListBytes};
  auto events = storage_.ListEvents(after, page, Audit(who, kReadEvent));
  if (!events.has_value()) {
    return ConcernError(events.error(), who, kReadEvent);
  }
  return EventsJson(*events);
}

// A page of events; the next cursor is the last one's seq when there may be more. The store
// lists concern events to the DSL only (EventPage), and audited them with the read.
HttpResponse StaffApi::EventsJson(const EventList& events) {
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const StoredEvent& e : events.events) {
    out->add(EventJson(e));
  }
  HttpResponse r = Json(out);
  SetNextCursor(
      r, events.more && !events.events.empty() ? std::to_string(events.events.back().seq) : "");
  return r;
}

Poco::JSON::Object::Ptr EventJson(const StoredEvent& e) {
  ward::v1::Event event;
  if (e.kind == "concern") {
    event = ConcernEvent(e);
  } else {
    // An event that no longer parses is still listed, with its metadata.
    (void)event.ParseFromString(e.body);
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  // An event that no longer prints is still listed, with its metadata.
  (void)google::protobuf::util::MessageToJsonString(event, &json, opts);
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("seq", e.seq);
  o->set("id", e.id);
  o->set("device_id", e.device_id);
  o->set("kind", e.kind);
  o->set("priority", e.priority);
  o->set("received_ms", e.received_ms);
  if (e.concern.has_value()) {
    o->set("has_screenshot", e.concern->has_screenshot);
  }
  try {
    o->set("event", Poco::JSON::Parser().parse(json.empty() ? "{}" : json));
  } catch (const Poco::Exception&) {
    o->set("event", Poco::JSON::Object::Ptr(new Poco::JSON::Object));
  }
  return o;
}

HandlerResult StaffApi::PushPolicy(const Call& call, const StaffPrincipal& who) {
  auto q = ParseQuery(call.request.query);
  const std::string group_name = q["group"];
  if (group_name.empty()) {
    return StaffError(400, "say which group: POST /v1/staff/policy?group=<name>");
  }
  auto group = storage_.GetGroup(group_name);
  if (!group.has_value()) {
    return StaffError(group.error());
  }
  auto verified = VerifySignedPolicy(call.request.body, group->signing_public_key);
  if (!verified.has_value()) {
    return StaffError(verified.error());
  }
  StoredPolicy p{group_name, verified->version, call.request.body, NowMs(), who.name};
  if (auto s = storage_.PutPolicy(p); !s.has_value()) {
    return StaffError(s.error());
  }
  metrics_.policy_pushes.fetch_add(1);
  log::Info("policy pushed",
            {{"group", group_name}, {"version", verified->version}, {"by", who.name}});
  policies_.Changed(group_name);
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("group", group_name);
  o->set("version", verified->version);
  return Json(o);
}

// Newest first: ?cursor=<seq>&limit=<n> (default and most 1000).
HandlerResult StaffApi::Audit(const Call& call, const StaffPrincipal& /*who*/) {
  auto q = ParseQuery(call.request.query);
  const std::size_t limit = PageLimit(q, 1000, 1000);
  auto entries = storage_.ListAuditPage(std::max<std::int64_t>(0, ToInt(q["cursor"], 0)), limit);
  if (!entries.has_value()) {
    return StaffError(entries.error());
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const AuditRecord& r : *entries) {
    const AuditEntry& a = r.entry;
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("at_ms", a.at_ms);
    o->set("staff", a.staff_name);
    o->set("action", a.action);
    o->set("concern_id", a.concern_id);
    // Every concern the request named: a list is one entry naming all it returned.
    Poco::JSON::Array::Ptr ids = new Poco::JSON::Array;
    for (const std::string& id : a.concern_ids) {
      ids->add(id);
    }
    o->set("concern_ids", ids);
    out->add(o);
  }
  HttpResponse r = Json(out);
  SetNextCursor(r, entries->size() == limit ? std::to_string(entries->back().seq) : "");
  return r;
}

HandlerResult StaffApi::ListConcerns(const Call& call, const StaffPrincipal& who) {
  return ConcernPage(call, who, false);
}

HandlerResult StaffApi::UrgentConcerns(const Call& call, const StaffPrincipal& who) {
  return ConcernPage(call, who, true);
}

HandlerResult StaffApi::ConcernPage(const Call& call, const StaffPrincipal& who, bool urgent) {
  const bool full = who.role == StaffRole::kDsl;
  if (!full) {
    return RedactedConcernPage(call, who, urgent);
  }
  auto filter = ConcernFilterFrom(call.request.query);
  if (!filter.has_value()) {
    return StaffError(filter.error());
  }
  filter->urgent_open = urgent;
  filter->max_bytes = kMaxListBytes;
  filter->with_contents = full;
  const std::string_view action = full ? "concern.list" : "concern.list.redacted";
  auto concerns = storage_.ListConcerns(*filter, Audit(who, action));
  if (!concerns.has_value()) {
    return ConcernError(concerns.error(), who, action);
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const Concern& c : *concerns) {
    out->add(ConcernJson(c, full, nullptr));
  }
  HttpResponse r = Json(out);
  // Full, or stopped by the size bound: the next concern's text might not have fitted.
  std::size_t text_bytes = 0;
  for (const Concern& c : *concerns) {
    text_bytes += c.content.text.size();
  }
  if (!concerns->empty() && (concerns->size() == filter->limit ||
                             text_bytes + kMaxConcernTextBytes > filter->max_bytes)) {
    const Concern& last = concerns->back();
    SetNextCursor(r, std::to_string(last.received_ms) + "." + last.id);
  }
  return r;
}

HandlerResult StaffApi::ConcernSummary(const Call& /*call*/, const StaffPrincipal& /*who*/) {
  auto counts = storage_.CountConcerns(200);
  if (!counts.has_value()) {
    return StaffError(counts.error());
  }
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("new", counts->new_count);
  o->set("unread", counts->unread);
  o->set("urgent_open", counts->urgent_open);
  Poco::JSON::Array::Ptr ids = new Poco::JSON::Array;
  for (const std::string& id : counts->unread_ids) {
    ids->add(id);
  }
  o->set("unread_ids", ids);
  return Json(o);
}

HandlerResult StaffApi::GetConcern(const Call& call, const StaffPrincipal& who) {
  const bool full = who.role == StaffRole::kDsl;
  if (!full) {
    return GetRedactedConcern(call, who);
  }
  const std::string& id = call.params.Get("id");
  const std::string_view action = full ? "concern.read" : "concern.read.redacted";
  auto concern = storage_.GetConcern(id, Audit(who, action));
  if (!concern.has_value()) {
    return ConcernError(concern.error(), who, action);
  }
  std::vector<ConcernNote> notes;
  if (full) {
    // The inbox's "unread" count: opened by someone on the safeguarding team.
    if (auto s = storage_.MarkConcernOpened(id, who.name, NowMs()); !s.has_value()) {
      return StaffError(s.error());
    }
    auto n = storage_.ListConcernNotes(id);
    if (!n.has_value()) {
      return StaffError(n.error());
    }
    notes = std::move(*n);
  }
  return Json(ConcernJson(*concern, full, full ? &notes : nullptr));
}

HandlerResult StaffApi::RedactedConcernPage(const Call& call, const StaffPrincipal& who,
                                            bool urgent) {
  auto filter = ConcernFilterFrom(call.request.query);
  if (!filter.has_value()) {
    return StaffError(filter.error());
  }
  filter->urgent_open = urgent;
  constexpr std::string_view kAction = "concern.list.redacted";
  auto concerns = storage_.ListRedactedConcerns(*filter, Audit(who, kAction));
  if (!concerns.has_value()) {
    return ConcernError(concerns.error(), who, kAction);
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const RedactedConcern& c : *concerns) {
    out->add(RedactedConcernJson(c));
  }
  HttpResponse r = Json(out);
  // No texts, so only a full page can have more after it.
  if (!concerns->empty() && concerns->size() == filter->limit) {
    const RedactedConcern& last = concerns->back();
    SetNextCursor(r, std::to_string(last.received_ms) + "." + last.id);
  }
  return r;
}

HandlerResult StaffApi::GetRedactedConcern(const Call& call, const StaffPrincipal& who) {
  const std::string& id = call.params.Get("id");
  constexpr std::string_view kAction = "concern.read.redacted";
  auto concern = storage_.GetRedactedConcern(id, Audit(who, kAction));
  if (!concern.has_value()) {
    return ConcernError(concern.error(), who, kAction);
  }
  return Json(RedactedConcernJson(*concern));
}

// The one way a screenshot leaves the collector: one concern's, as image/png, to the DSL,
// audited like every other read of a concern.
HandlerResult StaffApi::ConcernScreenshot(const Call& call, const StaffPrincipal& who) {
  const std::string& id = call.params.Get("id");
  constexpr std::string_view kAction = "concern.screenshot";
  auto png = storage_.GetConcernScreenshot(id, Audit(who, kAction));
  if (!png.has_value()) {
    return ConcernError(png.error(), who, kAction);
  }
  if (png->empty()) {
    return StaffError(404, "this concern has no screenshot");
  }
  HttpResponse r;
  r.content_type = "image/png";
  r.body = std::move(*png);
  return r;
}

HandlerResult StaffApi::SetConcernStatus(const Call& call, const StaffPrincipal& who) {
  const std::string& id = call.params.Get("id");
  auto body = JsonObjectBody(call.request.body);
  if (!body.has_value()) {
    return StaffError(body.error());
  }
  auto status = ParseConcernStatus((*body)->optValue<std::string>("status", ""));
  if (!status.has_value()) {
    return StaffError(status.error());
  }
  // The incident log shows who moved the concern on, and when, next to the notes; the status,
  // its entry and the audit row are written together or not at all.
  const ConcernChange change{
      .concern_id = id,
      .author = who.name,
      .at_ms = NowMs(),
      .status = *status,
      .status_text = "status set to " + std::string(ConcernStatusName(*status)),
  };
  if (auto s = storage_.ApplyConcernChange(change); !s.has_value()) {
    return ConcernError(s.error(), who, "concern.status");
  }
  return EmptyObject();
}

HandlerResult StaffApi::AddConcernNote(const Call& call, const StaffPrincipal& who) {
  const std::string& id = call.params.Get("id");
  auto body = JsonObjectBody(call.request.body);
  if (!body.has_value()) {
    return StaffError(body.error());
  }
  const std::string text = (*body)->optValue<std::string>("text", "");
  if (text.empty()) {
    return StaffError(400, "a note needs \"text\"");
  }
  const ConcernChange change{.concern_id = id,
                             .author = who.name,
                             .at_ms = NowMs(),
                             .kind = IncidentKind::kNote,
                             .text = text,
                             .action = "concern.note"};
  if (auto s = storage_.ApplyConcernChange(change); !s.has_value()) {
    return ConcernError(s.error(), who, change.action);
  }
  return EmptyObject();
}

// Oldest first: ?cursor=<seq>&limit=<n>.
HandlerResult StaffApi::ConcernLog(const Call& call, const StaffPrincipal& who) {
  auto q = ParseQuery(call.request.query);
  const std::string& id = call.params.Get("id");
  const std::size_t limit = PageLimit(q, 200, 500);
  constexpr std::string_view kAction = "concern.log";
  auto log = storage_.ListIncidentLog(id, std::max<std::int64_t>(0, ToInt(q["cursor"], 0)), limit,
                                      Audit(who, kAction));
  if (!log.has_value()) {
    return ConcernError(log.error(), who, kAction);
  }
  Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
  for (const IncidentEntry& e : *log) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("seq", e.seq);
    o->set("kind", std::string(IncidentKindName(e.kind)));
    o->set("author", e.note.author);
    o->set("text", e.note.text);
    o->set("at_ms", e.note.at_ms);
    out->add(o);
  }
  HttpResponse r = Json(out);
  SetNextCursor(r, log->size() == limit ? std::to_string(log->back().seq) : "");
  return r;
}

// {"kind": "parent-contacted" | "referred-external", "text": "..."}: one of the incident
// log's typed actions. A referral names the agency and moves the concern to "referred".
HandlerResult StaffApi::ConcernAction(const Call& call, const StaffPrincipal& who) {
  const std::string& id = call.params.Get("id");
  auto body = JsonObjectBody(call.request.body);
  if (!body.has_value()) {
    return StaffError(body.error());
  }
  auto kind = ParseIncidentKind((*body)->optValue<std::string>("kind", ""));
  if (!kind.has_value()) {
    return StaffError(kind.error());
  }
  const std::string text = (*body)->optValue<std::string>("text", "");
  std::string entry;
  switch (*kind) {
    case IncidentKind::kParentContacted:
      entry = "Parent or guardian contacted" + (text.empty() ? "" : ": " + text);
      break;
    case IncidentKind::kReferredExternal:
      if (text.empty()) {
        return StaffError(400, "say which agency the concern was referred to in \"text\"");
      }
      entry = "Referred to an external agency: " + text;
      break;
    case IncidentKind::kNote:
    case IncidentKind::kStatus:
      return StaffError(400,
                        "an action is \"parent-contacted\" or \"referred-external\"; notes "
                        "and status changes have their own endpoints");
  }
  // A referral moves an open concern to referred, in the same transaction as its entry.
  const bool referral = *kind == IncidentKind::kReferredExternal;
  const ConcernChange change{
      .concern_id = id,
      .author = who.name,
      .at_ms = NowMs(),
      .kind = *kind,
      .text = entry,
      .action = "concern." + std::string(IncidentKindName(*kind)),
      .status = referral ? std::optional(ConcernStatus::kReferred) : std::nullopt,
      .status_text = referral ? "status set to referred" : "",
      .status_only_if_open = true,
  };
  if (auto s = storage_.ApplyConcernChange(change); !s.has_value()) {
    return ConcernError(s.error(), who, change.action);
  }
  return EmptyObject();
}

AuditEntry StaffApi::Audit(const StaffPrincipal& who, std::string_view action) const {
  return AuditEntry{.at_ms = NowMs(),
                    .staff_name = who.name,
                    .action = std::string(action),
                    .concern_id = {},
                    .concern_ids = {}};
}

void StaffApi::RecordAudit(const StaffPrincipal& who, const std::string& action,
                           const std::string& id) {
  if (auto s = storage_.AppendAudit({NowMs(), who.name, action, id}); !s.has_value()) {
    // The read has happened; losing its record is a safeguarding failure worth shouting about.
    log::Error("audit log write failed", {{"staff", who.name},
                                          {"action", action},
                                          {"concern_id", id},
                                          {"error", s.error().ToString()}});
  }
}

std::int64_t StaffApi::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

}  // namespace ward::collector::internal
