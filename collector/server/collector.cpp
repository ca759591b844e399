// SPDX-License-Identifier: Apache-2.0
// The collector's HTTP API: device endpoints (protobuf, /v1/...), staff endpoints (JSON,
// /v1/staff/...), /healthz and /metrics, over the epoll TLS server.
#include "ward/collector/server/collector.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/URI.h>

#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <sstream>

#include "internal/http_server.h"
#include "internal/metrics.h"
#include "internal/policy_verify.h"
#include "internal/rate_limiter.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/log.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector {
namespace {

using internal::HandlerResult;
using internal::HttpRequest;
using internal::HttpResponse;
using internal::Park;

constexpr std::size_t kMaxConcernText = 4000;
constexpr std::size_t kMaxScreenshot = 4 * 1024 * 1024;

std::string_view StatusCodeName(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "FAILED_PRECONDITION";
    case 413:
      return "RESOURCE_EXHAUSTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 503:
      return "UNAVAILABLE";
    default:
      return "INTERNAL";
  }
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse Proto(const google::protobuf::MessageLite& message, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = message.SerializeAsString();
  return r;
}

// Device API errors: an ErrorBody, so the agent can show and log the reason.
HttpResponse DeviceError(int status, std::string message) {
  ward::v1::ErrorBody body;
  body.set_code(std::string(StatusCodeName(status)));
  body.set_message(std::move(message));
  return Proto(body, status);
}

HttpResponse DeviceError(const Error& error) {
  return DeviceError(HttpStatusFor(error.code()), error.message());
}

HttpResponse Json(const Poco::Dynamic::Var& value, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(value, out);
  r.body = out.str();
  r.body += "\n";
  return r;
}

HttpResponse StaffError(int status, const std::string& message) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("code", std::string(StatusCodeName(status)));
  o->set("message", message);
  return Json(o, status);
}

HttpResponse StaffError(const Error& error) {
  return StaffError(HttpStatusFor(error.code()), error.message());
}

std::string Base64(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out, Poco::BASE64_NO_PADDING);
  enc.rdbuf()->setLineLength(0);
  enc << bytes;
  enc.close();
  return out.str();
}

std::string_view KindOf(const ward::v1::Event& e) {
  switch (e.body_case()) {
    case ward::v1::Event::kUsb:
      return "usb";
    case ward::v1::Event::kExec:
      return "exec";
    case ward::v1::Event::kSettings:
      return "settings";
    case ward::v1::Event::kConcern:
      return "concern";
    case ward::v1::Event::kAgent:
      return "agent";
    case ward::v1::Event::kAup:
      return "aup";
    default:
      return "";
  }
}

std::map<std::string, std::string> ParseQuery(const std::string& query) {
  std::map<std::string, std::string> out;
  try {
    Poco::URI uri("/?" + query);
    for (const auto& [k, v] : uri.getQueryParameters()) {
      out[k] = v;
    }
  } catch (const Poco::Exception&) {
    // A malformed query string reads as empty; the handler reports missing parameters.
  }
  return out;
}

std::int64_t ToInt(const std::string& s, std::int64_t fallback) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : fallback;
}

std::string BearerToken(const HttpRequest& req) {
  const std::string& auth = req.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth.starts_with(kBearer)) {
    return {};
  }
  return auth.substr(kBearer.size());
}

struct PolicySnapshot {
  std::uint64_t version = 0;
  std::string signed_policy;
};

class CollectorImpl final : public Collector {
 public:
  CollectorImpl(const CollectorOptions& options, Storage& storage, ConcernAlerter& alerter,
                const Clock& clock)
      : options_(options),
        storage_(storage),
        alerter_(alerter),
        clock_(clock),
        limiter_(clock, options.device_rate_per_second, options.device_burst),
        ids_(clock, SystemRandom()) {}

  ~CollectorImpl() override { Stop(); }

  Status Start() {
    tls_ = SSL_CTX_new(TLS_server_method());
    if (tls_ == nullptr) {
      return InternalError("cannot create a TLS context");
    }
    SSL_CTX_set_min_proto_version(tls_, TLS1_2_VERSION);
    SSL_CTX_set_options(tls_, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_cipher_list(tls_, "ECDHE+AESGCM:ECDHE+CHACHA20");
    // Idle (parked) connections give their 16 KiB read/write buffers back.
    SSL_CTX_set_mode(tls_, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(tls_, options_.tls_cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_, options_.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls_) != 1) {
      ERR_clear_error();
      return InvalidArgumentError("cannot load TLS certificate " + options_.tls_cert.string() +
                                  " and key " + options_.tls_key.string());
    }
    internal::HttpServerOptions http;
    http.address = options_.listen_address;
    http.port = options_.port;
    http.max_body_bytes = options_.max_body_bytes;
    http.worker_threads = options_.worker_threads;
    http.max_connections = options_.max_connections;
    WARD_ASSIGN_OR_RETURN(server_, internal::HttpServer::Start(
                                       http, tls_, [this](const auto& r) { return Handle(r); }));
    // After the server exists: a notification may arrive at once and wakes its waiters.
    auto sub =
        storage_.SubscribePolicyChanges([this](const std::string& group) { PolicyChanged(group); });
    if (!sub.has_value()) {
      return std::unexpected(sub.error());
    }
    subscription_ = std::move(*sub);
    log::Info("collector listening", {{"address", options_.listen_address},
                                      {"port", static_cast<int>(server_->port())},
                                      {"shared_store", subscription_ != nullptr}});
    return OkStatus();
  }

  std::uint16_t port() const override { return server_->port(); }

  void Stop() override {
    subscription_.reset();
    if (server_) {
      server_->Stop();
    }
    if (tls_ != nullptr) {
      SSL_CTX_free(tls_);
      tls_ = nullptr;
    }
  }

 private:
  HandlerResult Handle(const HttpRequest& req) {
    try {
      HandlerResult result = Route(req);
      if (const auto* r = std::get_if<HttpResponse>(&result)) {
        metrics_.CountRequest(req.path, r->status);
      } else {
        metrics_.CountRequest(req.path, 0);
      }
      return result;
    } catch (const std::exception& e) {
      // Our code does not throw; this catches protobuf/Poco/std surprises at the boundary.
      log::Error("request failed", {{"path", req.path}, {"error", e.what()}});
      return DeviceError(500, "internal error");
    }
  }

  HandlerResult Route(const HttpRequest& req) {
    const std::string& p = req.path;
    if (req.method == "GET" && p == "/healthz") {
      return Healthz();
    }
    if (req.method == "GET" && p == "/metrics") {
      return Metrics();
    }
    if (p.starts_with("/v1/staff/")) {
      return Staff(req);
    }
    if (req.method != "POST") {
      return p.starts_with("/v1/") ? DeviceError(405, "use POST") : DeviceError(404, "not found");
    }
    if (p == "/v1/enrol") {
      return Enrol(req);
    }
    if (p != "/v1/events" && p != "/v1/policy" && p != "/v1/status") {
      return DeviceError(404, "no endpoint " + p);
    }
    auto device = Authenticate(req);
    if (!device.has_value()) {
      return DeviceError(device.error());
    }
    if (auto wait = limiter_.Acquire(device->id); wait.has_value()) {
      metrics_.rate_limited.fetch_add(1);
      HttpResponse r = DeviceError(429, "too many requests from this device; slow down");
      r.headers.emplace_back("Retry-After", std::to_string((wait->count() + 999) / 1000));
      return r;
    }
    if (p == "/v1/events") {
      return Events(req, *device);
    }
    if (p == "/v1/policy") {
      return PolicyFetch(req, *device);
    }
    return DeviceStatus(req, *device);
  }

  // ---- device API --------------------------------------------------------------------------

  Result<DeviceRecord> Authenticate(const HttpRequest& req) {
    const std::string token = BearerToken(req);
    const std::size_t dot = token.find('.');
    if (dot == std::string::npos) {
      return UnauthenticatedError("send Authorization: Bearer <device_id>.<credential>");
    }
    auto device = storage_.GetDevice(token.substr(0, dot));
    if (!device.has_value()) {
      if (device.error().code() == ErrorCode::kNotFound) {
        return UnauthenticatedError("unknown device; enrol again");
      }
      return std::unexpected(device.error());
    }
    if (!ConstantTimeEquals(HashSecret(token.substr(dot + 1)), device->credential_hash)) {
      return UnauthenticatedError("wrong device credential; enrol again");
    }
    if (device->revoked) {
      return UnauthenticatedError("this device has been revoked");
    }
    return device;
  }

  HandlerResult Enrol(const HttpRequest& req) {
    ward::v1::EnrolRequest in;
    if (!in.ParseFromString(req.body)) {
      return DeviceError(400, "the body is not a valid ward.v1.EnrolRequest");
    }
    if (in.enrolment_secret().empty()) {
      return DeviceError(400, "enrolment_secret is empty");
    }
    auto group = storage_.GroupForEnrolmentSecret(HashSecret(in.enrolment_secret()));
    if (!group.has_value()) {
      if (group.error().code() == ErrorCode::kNotFound) {
        metrics_.enrol_refused.fetch_add(1);
        return DeviceError(401, "unknown enrolment secret");
      }
      return DeviceError(group.error());
    }
    DeviceRecord d;
    if (!in.machine_hash().empty()) {
      auto existing = storage_.FindDeviceByMachineHash(*group, in.machine_hash());
      if (!existing.has_value()) {
        return DeviceError(existing.error());
      }
      if (existing->has_value()) {
        auto old = storage_.GetDevice(**existing);
        if (old.has_value()) {
          d = *old;
        }
      }
    }
    const std::int64_t now = NowMs();
    if (d.id.empty()) {
      d.id = ids_.Next().ToString();
      d.enrolled_at_ms = now;
    }
    const std::string credential = NewSecret();
    d.group = *group;
    d.hostname = in.hostname();
    d.os = in.os();
    d.agent_version = in.agent_version();
    d.machine_hash = in.machine_hash();
    d.credential_hash = HashSecret(credential);
    d.revoked = false;
    d.last_seen_ms = now;
    if (auto s = storage_.PutDevice(d); !s.has_value()) {
      return DeviceError(s.error());
    }
    log::Info("device enrolled",
              {{"device_id", d.id}, {"group", d.group}, {"hostname", d.hostname}});
    ward::v1::EnrolResponse out;
    out.set_device_id(d.id);
    out.set_credential(credential);
    out.set_group(d.group);
    return Proto(out);
  }

  HandlerResult Events(const HttpRequest& req, const DeviceRecord& device) {
    ward::v1::EventBatch batch;
    if (!batch.ParseFromString(req.body)) {
      return DeviceError(400, "the body is not a valid ward.v1.EventBatch");
    }
    if (static_cast<std::size_t>(batch.events_size()) > options_.max_events_per_batch) {
      return DeviceError(413, "a batch may hold at most " +
                                  std::to_string(options_.max_events_per_batch) + " events");
    }
    ward::v1::EventBatchAck ack;
    std::vector<EventRow> rows;
    rows.reserve(static_cast<std::size_t>(batch.events_size()));
    for (const ward::v1::Event& e : batch.events()) {
      std::string reason = Validate(e);
      if (!reason.empty()) {
        auto* rejected = ack.add_rejected();
        rejected->set_id(e.id());
        rejected->set_reason(reason);
        continue;
      }
      EventRow row;
      row.id = e.id();
      row.device_time_ms = e.device_time().seconds() * 1000 + e.device_time().nanos() / 1000000;
      row.priority = static_cast<int>(e.priority());
      row.kind = std::string(KindOf(e));
      row.body = e.SerializeAsString();
      if (e.has_concern()) {
        const auto& c = e.concern();
        row.concern = ConcernRow{c.reference(),     static_cast<int>(c.category()),
                                 c.text(),          c.anonymous(),
                                 c.in_danger(),     c.anonymous() ? std::string() : e.user(),
                                 c.screenshot_png()};
      }
      rows.push_back(std::move(row));
    }
    const std::int64_t received_ms = NowMs();
    auto result = storage_.IngestEvents(device.id, rows, received_ms);
    if (!result.has_value()) {
      log::Error("storing events failed",
                 {{"device_id", device.id}, {"error", result.error().ToString()}});
      return DeviceError(result.error());
    }
    for (const EventRow& r : rows) {
      ack.add_acked_ids(r.id);
    }
    metrics_.events_stored.fetch_add(result->inserted);
    metrics_.events_duplicate.fetch_add(result->duplicates);
    metrics_.events_rejected.fetch_add(static_cast<std::uint64_t>(ack.rejected_size()));
    for (const std::string& id : result->new_concern_ids) {
      for (const EventRow& r : rows) {
        if (r.id == id && r.concern.has_value()) {
          metrics_.concerns_new.fetch_add(1);
          alerter_.OnNewConcern(
              ConcernAlert{id, r.concern->reference, received_ms, r.concern->in_danger});
        }
      }
    }
    return Proto(ack);
  }

  static std::string Validate(const ward::v1::Event& e) {
    auto id = Uuid::Parse(e.id());
    if (!id.has_value()) {
      return "id is not a UUID";
    }
    if (e.body_case() == ward::v1::Event::BODY_NOT_SET) {
      return "event has no body";
    }
    if (e.has_concern()) {
      if (e.concern().text().size() > kMaxConcernText * 4) {  // 4000 characters of UTF-8
        return "concern text is longer than 4000 characters";
      }
      if (e.concern().screenshot_png().size() > kMaxScreenshot) {
        return "concern screenshot is larger than 4 MiB";
      }
    }
    return {};
  }

  HandlerResult PolicyFetch(const HttpRequest& req, const DeviceRecord& device) {
    ward::v1::PolicyFetchRequest in;
    if (!in.ParseFromString(req.body)) {
      return DeviceError(400, "the body is not a valid ward.v1.PolicyFetchRequest");
    }
    auto snapshot = Snapshot(device.group);
    if (!snapshot.has_value()) {
      return DeviceError(snapshot.error());
    }
    if (snapshot->version > in.current_version()) {
      return PolicyResponse(*snapshot);
    }
    ward::v1::PolicyFetchResponse none;
    none.set_latest_version(snapshot->version);
    const auto wait = std::min<std::chrono::seconds>(std::chrono::seconds(in.wait_seconds()),
                                                     options_.long_poll_max);
    if (wait.count() == 0) {
      return Proto(none);
    }
    metrics_.long_polls.fetch_add(1);
    return Park{device.group, in.current_version(), clock_.SteadyNow() + wait, Proto(none)};
  }

  static HttpResponse PolicyResponse(const PolicySnapshot& snapshot) {
    ward::v1::PolicyFetchResponse out;
    out.set_latest_version(snapshot.version);
    out.mutable_policy()->ParseFromString(snapshot.signed_policy);
    return Proto(out);
  }

  // The group's newest policy, from the cache or, the first time, the store.
  Result<PolicySnapshot> Snapshot(const std::string& group) {
    {
      std::scoped_lock lock(policy_mu_);
      if (auto it = policies_.find(group); it != policies_.end()) {
        return it->second;
      }
    }
    WARD_ASSIGN_OR_RETURN(auto latest, storage_.LatestPolicy(group));
    PolicySnapshot s;
    if (latest.has_value()) {
      s = PolicySnapshot{latest->version, latest->signed_policy};
    }
    std::scoped_lock lock(policy_mu_);
    auto& cached = policies_[group];
    if (cached.version < s.version || cached.version == 0) {
      cached = s;
    }
    return cached;
  }

  // A policy changed (here or on another collector): refresh the cache and wake the waiters.
  void PolicyChanged(const std::string& group) {
    std::vector<std::string> groups;
    if (group.empty()) {
      auto all = storage_.ListGroups();
      if (!all.has_value()) {
        log::Error("cannot refresh policies", {{"error", all.error().ToString()}});
        return;
      }
      for (const Group& g : *all) {
        groups.push_back(g.name);
      }
    } else {
      groups.push_back(group);
    }
    for (const std::string& g : groups) {
      auto latest = storage_.LatestPolicy(g);
      if (!latest.has_value() || !latest->has_value()) {
        continue;
      }
      PolicySnapshot s{(*latest)->version, (*latest)->signed_policy};
      {
        std::scoped_lock lock(policy_mu_);
        auto& cached = policies_[g];
        if (cached.version >= s.version) {
          continue;
        }
        cached = s;
      }
      if (server_) {
        server_->Publish(g, s.version, PolicyResponse(s));
      }
      log::Info("policy published", {{"group", g}, {"version", s.version}});
    }
  }

  HandlerResult DeviceStatus(const HttpRequest& req, const DeviceRecord& device) {
    ward::v1::DeviceStatus in;
    if (!in.ParseFromString(req.body)) {
      return DeviceError(400, "the body is not a valid ward.v1.DeviceStatus");
    }
    if (auto s = storage_.RecordDeviceStatus(device.id, req.body, in.policy_version(), NowMs());
        !s.has_value()) {
      return DeviceError(s.error());
    }
    return Proto(ward::v1::DeviceStatusAck());
  }

  // ---- health and metrics -------------------------------------------------------------------

  HttpResponse Healthz() {
    HttpResponse r;
    r.content_type = "text/plain; charset=utf-8";
    auto groups = storage_.ListGroups();
    if (!groups.has_value()) {
      r.status = 503;
      r.body = "store unavailable: " + groups.error().message() + "\n";
      return r;
    }
    r.body = "ok\n";
    return r;
  }

  HttpResponse Metrics() {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    const auto stats = server_->Stats();
    r.body = metrics_.Render(stats.connections_open, stats.parked, stats.handshake_failures) +
             alerter_.MetricsText();
    return r;
  }

  // ---- staff API ----------------------------------------------------------------------------

  HandlerResult Staff(const HttpRequest& req) {
    const std::string token = BearerToken(req);
    if (token.empty()) {
      return StaffError(401, "send Authorization: Bearer <staff token>");
    }
    auto who = storage_.FindStaffByTokenHash(HashSecret(token));
    if (!who.has_value()) {
      return StaffError(who.error());
    }
    const std::string rest = req.path.substr(std::string_view("/v1/staff/").size());
    const bool get = req.method == "GET";
    const bool post = req.method == "POST";
    if (get && rest == "devices") {
      return StaffDevices();
    }
    if (get && rest == "groups") {
      return StaffGroups();
    }
    if (get && rest == "events") {
      return StaffEvents(req, *who);
    }
    if (post && rest == "policy") {
      return StaffPushPolicy(req, *who);
    }
    if (post && rest.starts_with("devices/") && rest.ends_with("/revoke")) {
      if (who->role != StaffRole::kIt) {
        return StaffError(403, "only IT staff may revoke devices");
      }
      const std::string id = rest.substr(8, rest.size() - 8 - 7);
      if (auto s = storage_.SetDeviceRevoked(id, true); !s.has_value()) {
        return StaffError(s.error());
      }
      log::Info("device revoked", {{"device_id", id}, {"by", who->name}});
      return Json(Poco::JSON::Object::Ptr(new Poco::JSON::Object));
    }
    if (get && rest == "audit") {
      if (who->role != StaffRole::kDsl) {
        return StaffError(403, "only the DSL may read the audit log");
      }
      return StaffAudit();
    }
    if (rest == "concerns" || rest.starts_with("concerns/")) {
      return StaffConcerns(req, *who, rest);
    }
    return StaffError(404, "no staff endpoint " + req.method + " " + req.path);
  }

  HttpResponse StaffDevices() {
    auto devices = storage_.ListDevices();
    if (!devices.has_value()) {
      return StaffError(devices.error());
    }
    Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
    for (const DeviceRecord& d : *devices) {
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
      // From the last heartbeat: what the laptop says of itself.
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
      out->add(o);
    }
    return Json(out);
  }

  HttpResponse StaffGroups() {
    auto groups = storage_.ListGroups();
    if (!groups.has_value()) {
      return StaffError(groups.error());
    }
    Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
    for (const Group& g : *groups) {
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("name", g.name);
      o->set("signing_public_key", g.signing_public_key);
      auto snapshot = Snapshot(g.name);
      o->set("policy_version", snapshot.has_value() ? snapshot->version : 0);
      out->add(o);
    }
    return Json(out);
  }

  HttpResponse StaffEvents(const HttpRequest& req, const StaffIdentity& who) {
    auto q = ParseQuery(req.query);
    const std::int64_t after = ToInt(q["after"], 0);
    const std::int64_t limit = std::clamp<std::int64_t>(ToInt(q["limit"], 100), 1, 1000);
    auto events = storage_.ListEvents(after, static_cast<std::size_t>(limit));
    if (!events.has_value()) {
      return StaffError(events.error());
    }
    Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
    for (const StoredEvent& e : *events) {
      ward::v1::Event event;
      event.ParseFromString(e.body);
      if (event.has_concern()) {
        if (who.role != StaffRole::kDsl) {
          RedactConcern(event);
        } else {
          Audit(who, "concern.read.event", e.id);
        }
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
      try {
        o->set("event", Poco::JSON::Parser().parse(json.empty() ? "{}" : json));
      } catch (const Poco::Exception&) {
        o->set("event", Poco::JSON::Object::Ptr(new Poco::JSON::Object));
      }
      out->add(o);
    }
    return Json(out);
  }

  static void RedactConcern(ward::v1::Event& event) {
    auto* c = event.mutable_concern();
    c->clear_text();
    c->clear_screenshot_png();
    c->clear_category();
    c->clear_in_danger();
    event.clear_user();
  }

  HttpResponse StaffPushPolicy(const HttpRequest& req, const StaffIdentity& who) {
    if (who.role != StaffRole::kIt) {
      return StaffError(403, "only IT staff may push policy");
    }
    auto q = ParseQuery(req.query);
    const std::string group_name = q["group"];
    if (group_name.empty()) {
      return StaffError(400, "say which group: POST /v1/staff/policy?group=<name>");
    }
    auto group = storage_.GetGroup(group_name);
    if (!group.has_value()) {
      return StaffError(group.error());
    }
    auto verified = internal::VerifySignedPolicy(req.body, group->signing_public_key);
    if (!verified.has_value()) {
      return StaffError(verified.error());
    }
    StoredPolicy p{group_name, verified->version, req.body, NowMs(), who.name};
    if (auto s = storage_.PutPolicy(p); !s.has_value()) {
      return StaffError(s.error());
    }
    metrics_.policy_pushes.fetch_add(1);
    log::Info("policy pushed",
              {{"group", group_name}, {"version", verified->version}, {"by", who.name}});
    PolicyChanged(group_name);
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("group", group_name);
    o->set("version", verified->version);
    return Json(o);
  }

  HttpResponse StaffAudit() {
    auto entries = storage_.ListAudit(1000);
    if (!entries.has_value()) {
      return StaffError(entries.error());
    }
    Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
    for (const AuditEntry& a : *entries) {
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("at_ms", a.at_ms);
      o->set("staff", a.staff_name);
      o->set("action", a.action);
      o->set("concern_id", a.concern_id);
      out->add(o);
    }
    return Json(out);
  }

  HttpResponse StaffConcerns(const HttpRequest& req, const StaffIdentity& who,
                             const std::string& rest) {
    if (who.role == StaffRole::kViewer) {
      return StaffError(403, "viewers cannot see concerns");
    }
    const bool full = who.role == StaffRole::kDsl;
    if (req.method == "GET" && rest == "concerns") {
      auto filter = ConcernFilterFrom(req.query);
      if (!filter.has_value()) {
        return StaffError(filter.error());
      }
      auto concerns = storage_.ListConcerns(*filter);
      if (!concerns.has_value()) {
        return StaffError(concerns.error());
      }
      Poco::JSON::Array::Ptr out = new Poco::JSON::Array;
      for (const Concern& c : *concerns) {
        Audit(who, full ? "concern.list" : "concern.list.redacted", c.id);
        out->add(ConcernJson(c, full, nullptr));
      }
      return Json(out);
    }
    std::string id = rest.substr(std::string_view("concerns/").size());
    std::string action;
    if (const std::size_t slash = id.find('/'); slash != std::string::npos) {
      action = id.substr(slash + 1);
      id.resize(slash);
    }
    if (req.method == "GET" && action.empty()) {
      auto concern = storage_.GetConcern(id);
      if (!concern.has_value()) {
        return StaffError(concern.error());
      }
      Audit(who, full ? "concern.read" : "concern.read.redacted", id);
      std::vector<ConcernNote> notes;
      if (full) {
        auto n = storage_.ListConcernNotes(id);
        if (!n.has_value()) {
          return StaffError(n.error());
        }
        notes = std::move(*n);
      }
      return Json(ConcernJson(*concern, full, full ? &notes : nullptr));
    }
    if (req.method != "POST" || (action != "status" && action != "notes")) {
      return StaffError(404, "no staff endpoint " + req.method + " " + req.path);
    }
    if (!full) {
      return StaffError(403, "only the DSL may change a concern");
    }
    Poco::JSON::Object::Ptr body;
    try {
      body = Poco::JSON::Parser().parse(req.body).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& e) {
      return StaffError(400, "the body is not a JSON object: " + e.displayText());
    }
    if (action == "status") {
      auto status = ParseConcernStatus(body->optValue<std::string>("status", ""));
      if (!status.has_value()) {
        return StaffError(status.error());
      }
      if (auto s = storage_.SetConcernStatus(id, *status); !s.has_value()) {
        return StaffError(s.error());
      }
      // The incident log shows who moved the concern on, and when, next to the notes.
      const std::string change = "status set to " + std::string(ConcernStatusName(*status));
      if (auto s = storage_.AddConcernNote({id, who.name, change, NowMs()}); !s.has_value()) {
        return StaffError(s.error());
      }
      Audit(who, "concern.status", id);
    } else {
      const std::string text = body->optValue<std::string>("text", "");
      if (text.empty()) {
        return StaffError(400, "a note needs \"text\"");
      }
      if (auto s = storage_.AddConcernNote({id, who.name, text, NowMs()}); !s.has_value()) {
        return StaffError(s.error());
      }
      Audit(who, "concern.note", id);
    }
    return Json(Poco::JSON::Object::Ptr(new Poco::JSON::Object));
  }

  // ?status=<name>&since_ms=<ms>&limit=<n> of GET /v1/staff/concerns.
  static Result<ConcernFilter> ConcernFilterFrom(const std::string& query) {
    auto q = ParseQuery(query);
    ConcernFilter filter;
    if (const std::string& status = q["status"]; !status.empty()) {
      WARD_ASSIGN_OR_RETURN(filter.status, ParseConcernStatus(status));
    }
    filter.since_ms = std::max<std::int64_t>(0, ToInt(q["since_ms"], 0));
    filter.limit =
        static_cast<std::size_t>(std::clamp<std::int64_t>(ToInt(q["limit"], 500), 1, 5000));
    return filter;
  }

  static Poco::JSON::Object::Ptr ConcernJson(const Concern& c, bool full,
                                             const std::vector<ConcernNote>* notes) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", c.id);
    o->set("device_id", c.device_id);
    o->set("group", c.group);
    o->set("received_ms", c.received_ms);
    o->set("status", std::string(ConcernStatusName(c.status)));
    o->set("redacted", !full);
    if (full) {
      o->set("reference", c.content.reference);
      o->set("category", c.content.category);
      o->set("text", c.content.text);
      o->set("anonymous", c.content.anonymous);
      o->set("in_danger", c.content.in_danger);
      o->set("user", c.content.user);
      o->set("device_time_ms", c.device_time_ms);
      o->set("has_screenshot", !c.content.screenshot_png.empty());
      if (notes != nullptr) {
        o->set("screenshot_png_base64", Base64(c.content.screenshot_png));
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

  void Audit(const StaffIdentity& who, const std::string& action, const std::string& id) {
    if (auto s = storage_.AppendAudit({NowMs(), who.name, action, id}); !s.has_value()) {
      // The read has happened; losing its record is a safeguarding failure worth shouting about.
      log::Error("audit log write failed", {{"staff", who.name},
                                            {"action", action},
                                            {"concern_id", id},
                                            {"error", s.error().ToString()}});
    }
  }

  std::int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
        .count();
  }

  const CollectorOptions options_;
  Storage& storage_;
  ConcernAlerter& alerter_;
  const Clock& clock_;
  internal::RateLimiter limiter_;
  UuidV7Generator ids_;
  internal::Metrics metrics_;
  SSL_CTX* tls_ = nullptr;
  std::unique_ptr<PolicyChangeSubscription> subscription_;
  std::unique_ptr<internal::HttpServer> server_;
  std::mutex policy_mu_;
  std::map<std::string, PolicySnapshot> policies_;  // guarded by policy_mu_
};

}  // namespace

Result<std::unique_ptr<Collector>> Collector::Start(const CollectorOptions& options,
                                                    Storage& storage, ConcernAlerter& alerter,
                                                    const Clock& clock) {
  auto c = std::make_unique<CollectorImpl>(options, storage, alerter, clock);
  WARD_RETURN_IF_ERROR(c->Start());
  return std::unique_ptr<Collector>(std::move(c));
}

}  // namespace ward::collector
