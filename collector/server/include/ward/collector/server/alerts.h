// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
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

// The ConcernAlerter the collector runs with: OnNewConcern only queues (ingest never waits);
// a background thread claims the alert in storage (so one of several collectors sharing a
// PostgreSQL sends it) and hands it to one delivery thread per channel, which retries with
// exponential backoff and jitter up to max_attempts. The first failure of an alert and giving
// up are logged; every attempt is counted in MetricsText(). Thread-safe. Alerts still queued
// at destruction are not sent (their concerns are in the inbox).
class AlertDispatcher final : public ConcernAlerter {
 public:
  // `storage` and `clock` must outlive the dispatcher.
  AlertDispatcher(Storage& storage, AlertConfig config,
                  std::vector<std::unique_ptr<AlertChannel>> channels, const Clock& clock);
  ~AlertDispatcher() override;
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  void OnNewConcern(const ConcernAlert& alert) override;
  std::string MetricsText() const override;
  // Queues alerts for concerns stored but never claimed (a collector stopped in between).
  Status QueueUnalerted();

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
  void ClaimLoop();
  void LaneLoop(Lane& lane);
  std::chrono::milliseconds Backoff(int attempt);

  Storage& storage_;
  const AlertConfig config_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ConcernAlert> pending_;   // guarded by mu_
  std::atomic<bool> stopping_{false};  // set under mu_ and every lane's mu
  std::atomic<std::uint64_t> claimed_{0};
  std::atomic<std::uint64_t> claimed_elsewhere_{0};
  std::atomic<std::uint64_t> claim_errors_{0};
  std::thread claimer_;
};

// The dispatcher for `config` (a LogConcernAlerter when it names no channel), with the
// concerns nobody has alerted yet already queued. kInvalidArgument
// for a channel that cannot be set up (e.g. an unreadable CA file).
Result<std::unique_ptr<ConcernAlerter>> CreateConcernAlerter(Storage& storage,
                                                             const AlertConfig& config,
                                                             const Clock& clock);

}  // namespace ward::collector
