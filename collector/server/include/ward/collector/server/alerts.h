// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ward/collector/server/concern_alerter.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/result.h"

namespace ward::collector {

// HTTPS POST of a small signed JSON body (AlertJson) to a site's URL.
struct WebhookConfig {
  std::string url;                // https://...
  std::string secret;             // HMAC-SHA256 key for the X-Ward-Signature header
  std::filesystem::path ca_file;  // empty: the system's CAs
  std::chrono::seconds timeout{10};
};

// E-mail through an SMTP relay (submission port, STARTTLS).
struct SmtpConfig {
  enum class StartTls : std::uint8_t {
    kAuto,      // use it when the server accepts STARTTLS, else send in plain text
    kRequired,  // refuse to send unless the server accepts STARTTLS
    kOff,
  };
  std::string host;
  std::uint16_t port = 587;
  std::string from;             // a bare address: ward@example.ac.uk
  std::vector<std::string> to;  // bare addresses
  StartTls starttls = StartTls::kAuto;
  std::string user;  // empty: no AUTH; a login is only ever sent over TLS
  std::string password;
  std::filesystem::path ca_file;  // empty: the system's CAs
  std::chrono::seconds timeout{30};
};

struct AlertConfig {
  std::optional<WebhookConfig> webhook;
  std::optional<SmtpConfig> smtp;
  std::string site;         // shown in the alert, e.g. "Northgate Training"
  std::string console_url;  // optional link; "{id}" is replaced by the concern id
  int max_attempts = 12;    // per channel and concern, first try included
  std::chrono::milliseconds first_retry{2000};
  std::chrono::milliseconds max_retry{std::chrono::minutes(5)};
  // How long a claim on an alert holds without renewal: after a crash, the alerts the dead
  // collector held are sent again this long (and up to half as long again) later.
  std::chrono::seconds claim_lease{30};
};

// The whole content of an alert. Built only from a ConcernAlert, so it cannot carry the
// concern's words (docs/adr/0003).
struct AlertMessage {
  std::string concern_id;
  std::string reference;
  bool urgent = false;
  std::int64_t received_ms = 0;
  std::string site;
  std::string command;  // "wardctl concerns show <id>"
  std::string link;     // console URL, or ""
};
AlertMessage MakeAlertMessage(const ConcernAlert& alert, const AlertConfig& config);
// The webhook body: {"type":"ward.concern.new","concern_id":...,"reference":...,"urgent":...,
// "received_at":"<RFC 3339 UTC>","site":...,"command":...,"link":...}.
std::string AlertJson(const AlertMessage& message);
// "sha256=<lower-case hex of HMAC-SHA256(secret, body)>", the X-Ward-Signature header value.
std::string WebhookSignature(std::string_view secret, std::string_view body);
std::string AlertEmailSubject(const AlertMessage& message);
std::string AlertEmailText(const AlertMessage& message);

// One way of telling the DSL. Deliver blocks until the alert is accepted or fails (bounded by
// the channel's timeout). Thread-compatible: the dispatcher calls it from one thread.
class AlertChannel {
 public:
  virtual ~AlertChannel() = default;
  virtual std::string_view name() const = 0;
  // kUnavailable (worth retrying) or kInvalidArgument (a configuration problem).
  virtual Status Deliver(const AlertMessage& message) = 0;
};
Result<std::unique_ptr<AlertChannel>> CreateWebhookChannel(const WebhookConfig& config);
Result<std::unique_ptr<AlertChannel>> CreateSmtpChannel(const SmtpConfig& config);

// The ConcernAlerter the collector runs with: OnNewConcern only queues (ingest never waits). A
// background thread claims each alert in storage for a lease (so one of several collectors
// sharing a PostgreSQL sends it) and hands it to one delivery thread per channel, which retries
// with exponential backoff and jitter up to max_attempts. While a channel still works on an
// alert its claim is renewed; when every channel has delivered it or given up, the alert is
// marked done. An alert claimed but not done when its collector dies (or stops) is claimed and
// sent again once the claim lapses: at least once, so receivers de-duplicate on the concern id
// (the webhook's Idempotency-Key). The same thread sweeps the store at start and every half
// lease for alerts that are due (never claimed, or a lapsed claim) of concerns from the last 7
// days. The first failure of an alert and giving up are logged; every attempt is counted in
// MetricsText(). Thread-safe.
class AlertDispatcher final : public ConcernAlerter {
 public:
  // `storage` and `clock` must outlive the dispatcher.
  AlertDispatcher(Storage& storage, AlertConfig config,
                  std::vector<std::unique_ptr<AlertChannel>> channels, const Clock& clock);
  // Stops the threads; claims still held are released so the next start sends them at once.
  ~AlertDispatcher() override;
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  void OnNewConcern(const ConcernAlert& alert) override;
  std::string MetricsText() const override;

 private:
  struct Job {
    AlertMessage message;
    int attempt = 0;
    std::chrono::steady_clock::time_point due;
  };
  struct Lane {
    std::unique_ptr<AlertChannel> channel;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Job> jobs;  // guarded by mu
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> failed_attempts{0};
    std::atomic<std::uint64_t> given_up{0};
    std::thread thread;
  };
  struct Pending {
    ConcernAlert alert;
    bool claimed_before = false;
  };
  void ClaimLoop();
  void Claim(const Pending& pending);
  void Sweep();
  // Sets the lapse time of every claim held here (`lease_until_ms` 0 releases them).
  void RenewClaims(std::int64_t lease_until_ms);
  void LaneLoop(Lane& lane);
  // One channel is finished with the alert (delivered or given up); the last one marks it done.
  void Settled(const std::string& concern_id);
  std::chrono::milliseconds Backoff(int attempt);
  std::int64_t NowMs() const;

  Storage& storage_;
  const AlertConfig config_;
  const Clock& clock_;
  const std::string claimer_;  // this dispatcher's name on its claims
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;  // guarded by mu_
  // Concerns queued or claimed here, so a sweep does not queue them again; guarded by mu_.
  std::set<std::string> known_;
  // Claimed here: how many channels are still working on each; guarded by mu_.
  std::map<std::string, std::size_t> in_flight_;
  std::atomic<bool> stopping_{false};  // set under mu_; each lane's mu is taken before its notify
  std::atomic<std::uint64_t> claimed_{0};
  std::atomic<std::uint64_t> claimed_elsewhere_{0};
  std::atomic<std::uint64_t> claim_errors_{0};
  std::atomic<std::uint64_t> recovered_{0};
  bool sweep_failing_ = false;  // the claim thread's own
  std::thread claim_thread_;
};

// The dispatcher for `config` (a LogConcernAlerter when it names no channel); it starts by
// sending the alerts that are due. kInvalidArgument
// for a channel that cannot be set up (e.g. an unreadable CA file).
Result<std::unique_ptr<ConcernAlerter>> CreateConcernAlerter(Storage& storage,
                                                             const AlertConfig& config,
                                                             const Clock& clock);

}  // namespace ward::collector
