// SPDX-License-Identifier: Apache-2.0
// What a concern alert says, and the dispatcher that claims and delivers it (docs/adr/0003).
#include "ward/collector/server/alerts.h"

#include <algorithm>
#include <ctime>
#include <random>

#include "ward/collector/storage/secrets.h"
#include "ward/common/log.h"

namespace ward::collector {
namespace {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

std::string FormatUtc(std::int64_t ms, const char* format) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::int64_t ToMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string Metric(std::string_view name, std::string_view type, std::string_view help) {
  return "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) +
         " " + std::string(type) + "\n";
}

}  // namespace

AlertMessage MakeAlertMessage(const ConcernAlert& alert, const AlertConfig& config) {
  AlertMessage m;
  m.concern_id = alert.concern_id;
  m.reference = alert.reference;
  m.urgent = alert.in_danger;
  m.received_ms = alert.received_ms;
  m.site = config.site;
  m.command = "wardctl concerns show " + alert.concern_id;
  if (!config.console_url.empty()) {
    m.link = config.console_url;
    if (const auto at = m.link.find("{id}"); at != std::string::npos) {
      m.link.replace(at, 4, alert.concern_id);
    }
  }
  return m;
}

std::string AlertJson(const AlertMessage& m) {
  std::string out = "{\"type\":\"ward.concern.new\"";
  out += ",\"concern_id\":" + JsonString(m.concern_id);
  out += ",\"reference\":" + JsonString(m.reference);
  out += ",\"urgent\":";
  out += m.urgent ? "true" : "false";
  out += ",\"received_at\":" + JsonString(FormatUtc(m.received_ms, "%Y-%m-%dT%H:%M:%SZ"));
  out += ",\"site\":" + JsonString(m.site);
  out += ",\"command\":" + JsonString(m.command);
  out += ",\"link\":" + JsonString(m.link);
  out += "}";
  return out;
}

std::string WebhookSignature(std::string_view secret, std::string_view body) {
  return "sha256=" + HmacSha256Hex(secret, body);
}

std::string AlertEmailSubject(const AlertMessage& m) {
  std::string s = m.urgent ? "URGENT: a learner says they are in danger now - Ward concern "
                           : "New Ward concern ";
  s += m.reference;
  return s;
}

std::string AlertEmailText(const AlertMessage& m) {
  std::string t;
  if (m.urgent) {
    t += "URGENT: the learner said they are in danger now. Please read this concern at once.\n\n";
  }
  t += "A new concern has arrived in Ward";
  if (!m.site.empty()) {
    t += " for " + m.site;
  }
  t += ".\n\n";
  t += "Reference: " + m.reference + "\n";
  t += "Received:  " + FormatUtc(m.received_ms, "%d %b %Y at %H:%M UTC") + "\n\n";
  t += "Read it with:\n    " + m.command + "\n";
  if (!m.link.empty()) {
    t += "or open " + m.link + "\n";
  }
  t += "\nThis e-mail leaves out what the concern says on purpose. Only the safeguarding team\n"
       "can read it, and every read is recorded.\n";
  return t;
}

AlertDispatcher::AlertDispatcher(Storage& storage, AlertConfig config,
                                 std::vector<std::unique_ptr<AlertChannel>> channels,
                                 const Clock& clock)
    : storage_(storage),
      config_(std::move(config)),
      clock_(clock),
      claimer_("collector-" + NewSecret().substr(0, 16)) {
  for (auto& channel : channels) {
    auto lane = std::make_unique<Lane>();
    lane->channel = std::move(channel);
    lanes_.push_back(std::move(lane));
  }
  for (auto& lane : lanes_) {
    lane->thread = std::thread([this, l = lane.get()] { LaneLoop(*l); });
  }
  claim_thread_ = std::thread([this] { ClaimLoop(); });
}

AlertDispatcher::~AlertDispatcher() {
  {
    std::scoped_lock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  claim_thread_.join();
  for (auto& lane : lanes_) {
    {
      // A lane that saw stopping_ false under its mutex is waiting by the time this lock is
      // taken, so the notify below cannot be lost.
      std::scoped_lock lock(lane->mu);
    }
    lane->cv.notify_all();
    lane->thread.join();
    // Counted after the join: a delivery in flight at shutdown that failed is queued again by
    // the lane before it stops, and is one of the alerts left for the next start.
    std::scoped_lock lock(lane->mu);
    if (!lane->jobs.empty()) {
      log::Warning("alerts not delivered before shutdown; the next start sends them",
                   {{"channel", lane->channel->name()},
                    {"count", static_cast<std::uint64_t>(lane->jobs.size())}});
    }
  }
  // Unfinished claims would lapse by themselves; released now, the next start (or another
  // collector) sends them without waiting for the lease.
  RenewClaims(0);
}

void AlertDispatcher::OnNewConcern(const ConcernAlert& alert) {
  {
    // Always claimed: the store, not this process, decides who sends it.
    std::scoped_lock lock(mu_);
    known_.insert(alert.concern_id);
    pending_.push_back(Pending{alert, false});
  }
  cv_.notify_one();
}

void AlertDispatcher::ClaimLoop() {
  using SteadyClock = std::chrono::steady_clock;
  const auto renew_every =
      std::max<std::chrono::milliseconds>(std::chrono::milliseconds(100), config_.claim_lease / 3);
  const auto sweep_every =
      std::max<std::chrono::milliseconds>(std::chrono::milliseconds(100), config_.claim_lease / 2);
  auto next_renew = SteadyClock::now() + renew_every;
  auto next_sweep = SteadyClock::now();  // at once: alerts a stopped collector left behind
  while (true) {
    std::optional<Pending> next;
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, std::min(next_renew, next_sweep),
                     [&] { return stopping_ || !pending_.empty(); });
      if (stopping_) {
        return;
      }
      if (!pending_.empty()) {
        next = std::move(pending_.front());
        pending_.pop_front();
      }
    }
    if (next.has_value()) {
      Claim(*next);
    }
    const auto now = SteadyClock::now();
    if (now >= next_renew) {
      RenewClaims(NowMs() + std::chrono::milliseconds(config_.claim_lease).count());
      next_renew = now + renew_every;
    }
    if (now >= next_sweep) {
      Sweep();
      next_sweep = now + sweep_every;
    }
  }
}

void AlertDispatcher::Claim(const Pending& pending) {
  const ConcernAlert& alert = pending.alert;
  const std::int64_t now = NowMs();
  auto claimed =
      storage_.ClaimConcernAlert(alert.concern_id, claimer_, now,
                                 now + std::chrono::milliseconds(config_.claim_lease).count());
  if (!claimed.has_value() || !*claimed) {
    {
      std::scoped_lock lock(mu_);
      if (!in_flight_.contains(alert.concern_id)) {
        known_.erase(alert.concern_id);
      }
    }
    if (!claimed.has_value()) {
      // Without a claim we could double-send; the alert stays due, and a later sweep tries again.
      claim_errors_.fetch_add(1);
      log::Error("cannot claim a concern alert; it will be tried again",
                 {{"concern_id", alert.concern_id}, {"error", claimed.error().ToString()}});
    } else {
      claimed_elsewhere_.fetch_add(1);
    }
    return;
  }
  claimed_.fetch_add(1);
  if (pending.claimed_before) {
    recovered_.fetch_add(1);
  }
  log::Warning(pending.claimed_before
                   ? "concern alert not sent before its collector stopped; alerting the DSL now"
                   : "new concern; alerting the DSL",
               {{"concern_id", alert.concern_id},
                {"reference", alert.reference},
                {"urgent", alert.in_danger}});
  {
    std::scoped_lock lock(mu_);
    in_flight_[alert.concern_id] = lanes_.size();
  }
  const AlertMessage message = MakeAlertMessage(alert, config_);
  for (auto& lane : lanes_) {
    {
      std::scoped_lock lock(lane->mu);
      lane->jobs.push_back(Job{message, 0, std::chrono::steady_clock::now()});
    }
    lane->cv.notify_one();
  }
}

void AlertDispatcher::Sweep() {
  constexpr auto kRecoverWithin = std::chrono::days(7);
  const std::int64_t now = NowMs();
  auto due = storage_.ListAlertsDue(
      now, now - std::chrono::duration_cast<std::chrono::milliseconds>(kRecoverWithin).count(),
      100);
  if (!due.has_value()) {
    if (!sweep_failing_) {
      log::Error("cannot look for concern alerts still to send; trying again",
                 {{"error", due.error().ToString()}});
    }
    sweep_failing_ = true;
    return;
  }
  sweep_failing_ = false;
  bool queued = false;
  {
    std::scoped_lock lock(mu_);
    for (const PendingAlert& a : *due) {
      if (known_.insert(a.concern_id).second) {
        pending_.push_back(Pending{
            ConcernAlert{a.concern_id, a.reference, a.received_ms, a.in_danger}, a.claimed_before});
        queued = true;
      }
    }
  }
  if (queued) {
    cv_.notify_one();
  }
}

void AlertDispatcher::RenewClaims(std::int64_t lease_until_ms) {
  std::vector<std::string> ids;
  {
    std::scoped_lock lock(mu_);
    for (const auto& [id, lanes] : in_flight_) {
      ids.push_back(id);
    }
  }
  if (ids.empty()) {
    return;
  }
  if (auto s = storage_.RenewConcernAlertClaims(ids, claimer_, lease_until_ms); !s.has_value()) {
    // A claim that lapses is taken by the next sweep here or elsewhere: sent twice at worst.
    log::Warning("cannot renew concern alert claims", {{"error", s.error().ToString()}});
  }
}

void AlertDispatcher::Settled(const std::string& concern_id) {
  {
    std::scoped_lock lock(mu_);
    auto it = in_flight_.find(concern_id);
    if (it == in_flight_.end() || --it->second > 0) {
      return;
    }
    in_flight_.erase(it);
    known_.erase(concern_id);
  }
  if (auto s = storage_.FinishConcernAlert(concern_id, NowMs()); !s.has_value()) {
    log::Error("cannot mark a concern alert sent; it may be sent again",
               {{"concern_id", concern_id}, {"error", s.error().ToString()}});
  }
}

std::int64_t AlertDispatcher::NowMs() const { return ToMs(clock_.Now()); }

std::chrono::milliseconds AlertDispatcher::Backoff(int attempt) {
  thread_local std::minstd_rand jitter(std::random_device{}());
  auto delay = config_.first_retry;
  for (int i = 1; i < attempt && delay < config_.max_retry; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, config_.max_retry);
  // +-20% so many collectors retrying one receiver spread out.
  const auto spread = std::max<std::int64_t>(1, delay.count() / 5);
  const auto offset =
      static_cast<std::int64_t>(jitter() % static_cast<std::uint64_t>(2 * spread + 1)) - spread;
  return std::chrono::milliseconds(std::max<std::int64_t>(1, delay.count() + offset));
}

void AlertDispatcher::LaneLoop(Lane& lane) {
  while (true) {
    Job job;
    {
      std::unique_lock lock(lane.mu);
      while (true) {
        if (stopping_) {
          return;
        }
        if (lane.jobs.empty()) {
          lane.cv.wait(lock);
          continue;
        }
        auto next = std::min_element(lane.jobs.begin(), lane.jobs.end(),
                                     [](const Job& a, const Job& b) { return a.due < b.due; });
        if (next->due <= std::chrono::steady_clock::now()) {
          job = std::move(*next);
          lane.jobs.erase(next);
          break;
        }
        lane.cv.wait_until(lock, next->due);
      }
    }
    ++job.attempt;
    Status delivered = lane.channel->Deliver(job.message);
    if (delivered.has_value()) {
      lane.sent.fetch_add(1);
      log::Info("concern alert delivered", {{"channel", lane.channel->name()},
                                            {"concern_id", job.message.concern_id},
                                            {"attempt", job.attempt}});
      Settled(job.message.concern_id);
      continue;
    }
    lane.failed_attempts.fetch_add(1);
    if (job.attempt >= config_.max_attempts) {
      lane.given_up.fetch_add(1);
      log::Error("gave up on a concern alert; the concern is in the inbox",
                 {{"channel", lane.channel->name()},
                  {"concern_id", job.message.concern_id},
                  {"attempts", job.attempt},
                  {"error", delivered.error().ToString()}});
      Settled(job.message.concern_id);
      continue;
    }
    if (job.attempt == 1) {
      log::Warning("concern alert not delivered; retrying",
                   {{"channel", lane.channel->name()},
                    {"concern_id", job.message.concern_id},
                    {"error", delivered.error().ToString()}});
    }
    job.due = std::chrono::steady_clock::now() + Backoff(job.attempt);
    std::scoped_lock lock(lane.mu);
    lane.jobs.push_back(std::move(job));
  }
}

std::string AlertDispatcher::MetricsText() const {
  std::string out;
  auto per_lane = [&](std::string_view name, std::string_view help, auto field) {
    out += Metric(name, "counter", help);
    for (const auto& lane : lanes_) {
      out += std::string(name) + "{channel=\"" + std::string(lane->channel->name()) + "\"} " +
             std::to_string(((*lane).*field).load()) + "\n";
    }
  };
  per_lane("ward_collector_alerts_sent_total", "Concern alerts delivered.", &Lane::sent);
  per_lane("ward_collector_alert_attempts_failed_total", "Failed concern alert deliveries.",
           &Lane::failed_attempts);
  per_lane("ward_collector_alerts_given_up_total", "Concern alerts abandoned after every retry.",
           &Lane::given_up);
  out += Metric("ward_collector_alerts_claimed_total", "counter",
                "Concern alerts this collector claimed.");
  out += "ward_collector_alerts_claimed_total " + std::to_string(claimed_.load()) + "\n";
  out += Metric("ward_collector_alerts_claimed_elsewhere_total", "counter",
                "Concern alerts another collector had already claimed.");
  out += "ward_collector_alerts_claimed_elsewhere_total " +
         std::to_string(claimed_elsewhere_.load()) + "\n";
  out += Metric("ward_collector_alert_claim_errors_total", "counter",
                "Concern alerts that could not be claimed (store errors).");
  out += "ward_collector_alert_claim_errors_total " + std::to_string(claim_errors_.load()) + "\n";
  out += Metric("ward_collector_alerts_recovered_total", "counter",
                "Concern alerts claimed again after the collector holding them stopped.");
  out += "ward_collector_alerts_recovered_total " + std::to_string(recovered_.load()) + "\n";
  return out;
}

Result<std::unique_ptr<ConcernAlerter>> CreateConcernAlerter(Storage& storage,
                                                             const AlertConfig& config,
                                                             const Clock& clock) {
  std::vector<std::unique_ptr<AlertChannel>> channels;
  if (config.webhook.has_value()) {
    WARD_ASSIGN_OR_RETURN(auto webhook, CreateWebhookChannel(*config.webhook));
    channels.push_back(std::move(webhook));
  }
  if (config.smtp.has_value()) {
    WARD_ASSIGN_OR_RETURN(auto smtp, CreateSmtpChannel(*config.smtp));
    channels.push_back(std::move(smtp));
  }
  if (channels.empty()) {
    return std::unique_ptr<ConcernAlerter>(std::make_unique<LogConcernAlerter>());
  }
  return std::unique_ptr<ConcernAlerter>(
      std::make_unique<AlertDispatcher>(storage, config, std::move(channels), clock));
}

}  // namespace ward::collector
