// SPDX-License-Identifier: Apache-2.0
// The device API: what agents call (protobuf bodies, ErrorBody errors).
#include "internal/device_api.h"

#include <algorithm>

#include "internal/erasure_api.h"
#include "internal/responses.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/log.h"
#include "ward/common/random.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector::internal {
namespace {

constexpr std::size_t kMaxConcernText = 4000;
constexpr std::size_t kMaxScreenshot = 4 * 1024 * 1024;
// Enrolment and policy-fetch requests are a few hundred bytes; a status a few KiB.
constexpr std::size_t kSmallBody = 64 * 1024;
constexpr std::size_t kStatusBody = 1024 * 1024;

constexpr ErrorStyle kStyle = ErrorStyle::kProtobuf;
// How long an agent whose concerns are over quota waits before sending them again. Short, so
// that a later concern marked "in danger now" in its next batch is not held up for long.
constexpr int kConcernQuotaRetrySeconds = 30;

// Unusual enrolments go to the audit log, but not every time: a rate-limited key at most every
// ten minutes, and a refused laptop (it asks again every hour or so) once a day.
constexpr std::int64_t kLimitReportEveryMs = 10LL * 60 * 1000;
constexpr std::int64_t kRefusalReportEveryMs = 24LL * 60 * 60 * 1000;

HttpResponse DeviceError(int status, std::string message) {
  return ErrorResponse(kStyle, status, message);
}

HttpResponse DeviceError(const Error& error) { return ErrorResponse(kStyle, error); }

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

// Why an event is refused, or "" when it may be stored.
std::string Validate(const ward::v1::Event& e) {
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

}  // namespace

DeviceApi::DeviceApi(const CollectorOptions& options, Storage& storage, ConcernAlerter& alerter,
                     PolicyFeed& policies, Metrics& metrics, const Clock& clock)
    : options_(options),
      storage_(storage),
      alerter_(alerter),
      policies_(policies),
      metrics_(metrics),
      clock_(clock),
      limiter_(clock, options.device_rate_per_second, options.device_burst),
      enrol_address_limiter_(clock, options.enrol_per_address_per_minute / 60.0,
                             options.enrol_address_burst),
      enrol_group_limiter_(clock, options.enrol_per_group_per_minute / 60.0,
                           options.enrol_group_burst),
      ids_(clock, SystemRandom()) {}

Status DeviceApi::Register(Router& router) {
  router.SetErrorStyle("/v1/", kStyle);
  WARD_RETURN_IF_ERROR(
      router.Add(Route{"POST", "/v1/enrol", kSmallBody, kStyle,
                       PublicHandler([this](const Call& c) { return Enrol(c); })}));
  WARD_RETURN_IF_ERROR(router.Add(
      Route{"POST", "/v1/events", options_.max_body_bytes, kStyle, Limited(&DeviceApi::Events)}));
  WARD_RETURN_IF_ERROR(router.Add(
      Route{"POST", "/v1/policy", kSmallBody, kStyle, Limited(&DeviceApi::PolicyFetch)}));
  return router.Add(
      Route{"POST", "/v1/status", kStatusBody, kStyle, Limited(&DeviceApi::Heartbeat)});
}

DeviceHandler DeviceApi::Limited(HandlerResult (DeviceApi::*handler)(const Call&,
                                                                     const DevicePrincipal&)) {
  return [this, handler](const Call& call, const DevicePrincipal& device) -> HandlerResult {
    if (auto wait = limiter_.Acquire(device.device.id); wait.has_value()) {
      metrics_.rate_limited.fetch_add(1);
      return TooManyRequests(kStyle, *wait, "too many requests from this device; slow down");
    }
    return (this->*handler)(call, device);
  };
}

HandlerResult DeviceApi::Enrol(const Call& call) {
  const std::string peer = PeerAddress(call.request);
  if (auto limited = EnrolLimited(enrol_address_limiter_, "address " + peer); limited) {
    return *std::move(limited);
  }
  ward::v1::EnrolRequest in;
  if (!in.ParseFromString(call.request.body)) {
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
  if (auto limited = EnrolLimited(enrol_group_limiter_, "group " + *group); limited) {
    return *std::move(limited);
  }
  DeviceRecord d;
  if (!in.machine_hash().empty()) {
    auto existing = storage_.FindDeviceByMachineHash(*group, in.machine_hash());
    if (!existing.has_value()) {
      return DeviceError(existing.error());
    }
    if (existing->has_value()) {
      auto old = storage_.GetDevice(**existing);
      if (!old.has_value()) {
        return DeviceError(old.error());
      }
      if (auto refused = RefuseTakeover(*old, in, peer); refused) {
        return *std::move(refused);
      }
      d = *std::move(old);
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
  d.readmitted_ms = 0;  // a readmission is good for one enrolment
  d.enrol_refused_ms = 0;
  if (auto s = storage_.PutDevice(d); !s.has_value()) {
    return DeviceError(s.error());
  }
  log::Info("device enrolled", {{"device_id", d.id}, {"group", d.group}, {"hostname", d.hostname}});
  ward::v1::EnrolResponse out;
  out.set_device_id(d.id);
  out.set_credential(credential);
  out.set_group(d.group);
  return Proto(out);
}

std::optional<HttpResponse> DeviceApi::EnrolLimited(RateLimiter& limiter, const std::string& key) {
  auto wait = limiter.Acquire(key);
  if (!wait.has_value()) {
    return std::nullopt;
  }
  metrics_.rate_limited.fetch_add(1);
  const std::int64_t now = NowMs();
  bool report = false;
  {
    std::scoped_lock lock(reported_mu_);
    std::erase_if(limit_reported_ms_,
                  [now](const auto& entry) { return now - entry.second >= kLimitReportEveryMs; });
    report = limit_reported_ms_.try_emplace(key, now).second;
  }
  if (report) {
    ReportEnrolment("device.enrol.rate-limited", key, "");
  }
  return TooManyRequests(kStyle, *wait, "too many enrolments at once; this laptop will try again");
}

std::optional<HttpResponse> DeviceApi::RefuseTakeover(const DeviceRecord& d,
                                                      const ward::v1::EnrolRequest& in,
                                                      const std::string& peer) {
  const bool proves = !d.revoked && !in.previous_device_id().empty() &&
                      in.previous_device_id() == d.id &&
                      ConstantTimeEquals(HashSecret(in.previous_credential()), d.credential_hash);
  if (proves || d.readmitted_ms > 0) {
    return std::nullopt;
  }
  metrics_.enrol_refused.fetch_add(1);
  const std::int64_t now = NowMs();
  if (d.enrol_refused_ms == 0 || now - d.enrol_refused_ms >= kRefusalReportEveryMs) {
    ReportEnrolment(d.revoked ? "device.enrol.refused-revoked" : "device.enrol.waiting-for-it",
                    d.id, peer);
  }
  if (auto s = storage_.RecordEnrolmentRefused(d.id, now); !s.has_value()) {
    return DeviceError(s.error());
  }
  const std::string fix = "IT can let it in with: wardctl devices readmit " + d.id;
  return DeviceError(403, d.revoked ? "IT removed this laptop from Ward. " + fix
                                    : "this laptop is already enrolled, and this enrolment did not "
                                      "show its credential. " +
                                          fix);
}

void DeviceApi::ReportEnrolment(std::string_view action, const std::string& subject,
                                const std::string& peer) {
  log::Warning("unusual enrolment",
               {{"action", std::string(action)}, {"subject", subject}, {"peer", peer}});
  if (auto s = storage_.AppendAudit({NowMs(), "ward-collector", std::string(action), subject});
      !s.has_value()) {
    log::Error(
        "audit log write failed",
        {{"action", std::string(action)}, {"subject", subject}, {"error", s.error().ToString()}});
  }
}

HandlerResult DeviceApi::Events(const Call& call, const DevicePrincipal& who) {
  const DeviceRecord& device = who.device;
  ward::v1::EventBatch batch;
  if (!batch.ParseFromString(call.request.body)) {
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
    if (e.has_concern()) {
      // Kept once, in the inbox; its event row holds no body. An anonymous concern names
      // nobody, whatever the agent sent.
      const auto& c = e.concern();
      const std::string user = c.anonymous() ? std::string() : e.user();
      row.concern = ConcernRow{c.reference(),     static_cast<int>(c.category()),
                               c.text(),          c.anonymous(),
                               c.in_danger(),     user,
                               c.screenshot_png()};
      row.account = user;
    } else {
      row.body = e.SerializeAsString();
      row.account = e.user();
    }
    rows.push_back(std::move(row));
  }
  // Events of an account being erased are acknowledged, never stored (erasure_api.h).
  auto erasing = PendingForDevice(storage_, device.id);
  if (!erasing.has_value()) {
    log::Error("reading erase instructions failed",
               {{"device_id", device.id}, {"error", erasing.error().ToString()}});
    return DeviceError(erasing.error());
  }
  for (const std::string& id : DropErasedEvents(*erasing, rows)) {
    ack.add_acked_ids(id);
  }
  const std::int64_t received_ms = NowMs();
  auto deferred = DeferConcernsOverQuota(device.id, rows, received_ms);
  if (!deferred.has_value()) {
    log::Error("counting a device's concerns failed",
               {{"device_id", device.id}, {"error", deferred.error().ToString()}});
    return DeviceError(deferred.error());
  }
  if (*deferred > 0) {
    metrics_.concerns_deferred.fetch_add(*deferred);
    log::Warning("concerns over the device's quota left with the agent for later",
                 {{"device_id", device.id}, {"deferred", *deferred}});
    if (rows.empty()) {
      // Nothing else to store: the agent keeps the batch and tries again after Retry-After.
      HttpResponse r = DeviceError(
          429,
          "this laptop has sent more concerns than the collector takes at once; they are kept "
          "safe on the laptop and sent again in a little while (a concern marked \"in danger "
          "now\" is always taken at once)");
      r.headers.emplace_back("Retry-After", std::to_string(kConcernQuotaRetrySeconds));
      return r;
    }
  }
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
  AttachEraseInstructions(device.id, *erasing, ack.mutable_erase());
  return Proto(ack);
}

void DeviceApi::AttachEraseInstructions(
    const std::string& device_id, const std::vector<EraseInstruction>& pending,
    google::protobuf::RepeatedPtrField<v1::EraseInstruction>* out) {
  // The acknowledgement stands without them: the next answer carries them.
  if (auto s = AddEraseInstructions(pending, out); !s.has_value()) {
    log::Error("sending erase instructions failed",
               {{"device_id", device_id}, {"error", s.error().ToString()}});
  }
}

// Finding 3 of issue 14: one laptop could fill the store and the DSL's inbox with concerns
// carrying 4 MiB screenshots. Past its quota a concern is not refused: it is left out of the
// acknowledgement, so the agent keeps it (concerns are never evicted there) and sends it again.
Result<std::size_t> DeviceApi::DeferConcernsOverQuota(const std::string& device_id,
                                                      std::vector<EventRow>& rows,
                                                      std::int64_t now_ms) {
  auto counted = [](const EventRow& r) { return r.concern.has_value() && !r.concern->in_danger; };
  if (std::ranges::none_of(rows, counted)) {
    return 0;
  }
  constexpr std::int64_t kHourMs = 60LL * 60 * 1000;
  WARD_ASSIGN_OR_RETURN(ConcernUsage hour,
                        storage_.CountDeviceConcerns(device_id, now_ms - kHourMs));
  WARD_ASSIGN_OR_RETURN(ConcernUsage day,
                        storage_.CountDeviceConcerns(device_id, now_ms - 24 * kHourMs));
  std::size_t deferred = 0;
  std::erase_if(rows, [&](const EventRow& r) {
    if (!counted(r)) {
      return false;
    }
    const std::uint64_t bytes = r.concern->text.size() + r.concern->screenshot_png.size();
    if (hour.count + 1 > options_.concern_quota_per_hour ||
        day.bytes + bytes > options_.concern_quota_bytes_per_day) {
      ++deferred;
      return true;
    }
    ++hour.count;
    day.bytes += bytes;
    return false;
  });
  return deferred;
}

HandlerResult DeviceApi::PolicyFetch(const Call& call, const DevicePrincipal& who) {
  ward::v1::PolicyFetchRequest in;
  if (!in.ParseFromString(call.request.body)) {
    return DeviceError(400, "the body is not a valid ward.v1.PolicyFetchRequest");
  }
  auto answer = policies_.Fetch(who.device.group, in.current_version(),
                                std::chrono::seconds(in.wait_seconds()));
  if (!answer.has_value()) {
    return DeviceError(answer.error());
  }
  if (std::holds_alternative<Park>(*answer)) {
    metrics_.long_polls.fetch_add(1);
  }
  return std::move(*answer);
}

HandlerResult DeviceApi::Heartbeat(const Call& call, const DevicePrincipal& who) {
  ward::v1::DeviceStatus in;
  if (!in.ParseFromString(call.request.body)) {
    return DeviceError(400, "the body is not a valid ward.v1.DeviceStatus");
  }
  if (auto s = storage_.RecordDeviceStatus(who.device.id, call.request.body, in.policy_version(),
                                           NowMs());
      !s.has_value()) {
    return DeviceError(s.error());
  }
  if (auto s = RecordEraseConfirmations(storage_, who.device.id, in, NowMs()); !s.has_value()) {
    log::Error("recording erase confirmations failed",
               {{"device_id", who.device.id}, {"error", s.error().ToString()}});
    return DeviceError(s.error());
  }
  ward::v1::DeviceStatusAck ack;
  auto pending = PendingForDevice(storage_, who.device.id);
  if (!pending.has_value()) {
    log::Error("reading erase instructions failed",
               {{"device_id", who.device.id}, {"error", pending.error().ToString()}});
    return DeviceError(pending.error());
  }
  AttachEraseInstructions(who.device.id, *pending, ack.mutable_erase());
  return Proto(ack);
}

std::int64_t DeviceApi::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

}  // namespace ward::collector::internal
