// SPDX-License-Identifier: Apache-2.0
// Concern alerts end to end on loopback: a device uploads a concern over TLS, the collector
// stores it, and the DSL is told through a real HTTPS webhook receiver (test CA) and a small
// SMTP server, without the concern's contents. Also: one alert with two collectors on one
// PostgreSQL, and the alert settings.
#include "ward/collector/server/alerts.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "ward/collector/server/collector.h"
#include "ward/collector/server/config.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/clock.h"
#include "ward/common/hex.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/alert_receivers.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/testing/postgres_server.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector {
namespace {

using namespace std::chrono_literals;

constexpr char kSecret[] = "a-webhook-secret-of-32-characters";
constexpr char kConcernText[] = "my stepdad hurts me when mum is at work";
constexpr char kReference[] = "K7QF-2M9X";
constexpr char kDevice[] = "0190b6e4-0000-7000-8000-00000000d001";
constexpr char kCredential[] = "device-credential";
constexpr char kMetricsToken[] = "wst_metrics-token-for-the-tests";

// The value of one series in Prometheus text ("name{labels}"), or -1 when absent.
double Metric(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  std::size_t at = 0;
  while ((at = text.find(prefix, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      return std::stod(text.substr(at + prefix.size()));
    }
    at += prefix.size();
  }
  return -1;
}

// Polls `pred` until it holds or 20 s pass (deliveries run on background threads).
template <typename Pred>
bool Eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

std::string IndependentHmacHex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

class AlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::CreateTestPki(dir_.path());
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = *pki;
    auto tls = testing::TlsClientContext::Create(pki_.ca_cert);
    ASSERT_TRUE(tls.has_value());
    tls_ = *tls;
  }

  // Opens a store (SQLite unless `conninfo`), seeded with one group and one device.
  std::unique_ptr<Storage> OpenStore(const std::string& conninfo = "", bool seed = true) {
    auto store = conninfo.empty() ? OpenSqliteStorage((dir_.path() / "c.db").string())
                                  : OpenPostgresStorage(conninfo);
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    if (!store.has_value()) {
      return nullptr;
    }
    if (seed) {
      EXPECT_TRUE((*store)->CreateGroup({"learners-under-18", std::string(64, 'a')}).has_value());
      DeviceRecord d;
      d.id = kDevice;
      d.group = "learners-under-18";
      d.hostname = "laptop-7";
      d.credential_hash = HashSecret(kCredential);
      EXPECT_TRUE((*store)->PutDevice(d).has_value());
      EXPECT_TRUE(
          (*store)
              ->CreateStaffToken("prometheus", StaffRole::kMetrics, HashSecret(kMetricsToken), 1)
              .has_value());
    }
    return std::move(*store);
  }

  std::unique_ptr<Collector> StartCollector(Storage& store, ConcernAlerter& alerter) {
    CollectorOptions o;
    o.port = 0;
    o.tls_cert = pki_.server_cert;
    o.tls_key = pki_.server_key;
    auto c = Collector::Start(o, store, alerter, SystemClock());
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    return c.has_value() ? std::move(*c) : nullptr;
  }

  AlertConfig Config() const {
    AlertConfig c;
    c.site = "Northgate Training";
    c.first_retry = 20ms;
    c.max_retry = 100ms;
    c.max_attempts = 5;
    return c;
  }

  WebhookConfig Webhook(const testing::WebhookReceiver& receiver) const {
    WebhookConfig w;
    w.url = receiver.url();
    w.secret = kSecret;
    w.ca_file = pki_.ca_cert;
    w.timeout = 5s;
    return w;
  }

  SmtpConfig Mail(std::uint16_t port, SmtpConfig::StartTls starttls) const {
    SmtpConfig mail;
    mail.host = "127.0.0.1";
    mail.port = port;
    mail.from = "ward@northgate.example";
    mail.to = {"dsl@northgate.example", "deputy-dsl@northgate.example"};
    mail.starttls = starttls;
    mail.timeout = 5s;
    return mail;
  }

  // A SQLite store, the alerter for `config` and a collector over both, as ward-collector runs.
  void Serve(const AlertConfig& config) {
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    auto alerter = CreateConcernAlerter(*store_, config, SystemClock());
    ASSERT_TRUE(alerter.has_value()) << alerter.error().ToString();
    alerter_ = std::move(*alerter);
    collector_ = StartCollector(*store_, *alerter_);
    ASSERT_NE(collector_, nullptr);
  }

  ward::v1::Event ConcernEvent() {
    ward::v1::Event e;
    e.set_id(ids_.Next().ToString());
    e.set_priority(ward::v1::PRIORITY_CRITICAL);
    e.set_user("learner-jamie");
    auto* c = e.mutable_concern();
    c->set_reference(kReference);
    c->set_category(ward::v1::CONCERN_CATEGORY_UNCOMFORTABLE_CONTACT);
    c->set_text(kConcernText);
    c->set_in_danger(true);
    return e;
  }

  // Uploads a batch as the device would; returns the HTTP status.
  int Upload(std::uint16_t port, const ward::v1::EventBatch& batch) {
    auto conn = testing::HttpsConnection::Connect(tls_, port);
    EXPECT_TRUE(conn.has_value());
    if (!conn.has_value()) {
      return 0;
    }
    auto r =
        (*conn)->Request("POST", "/v1/events", batch.SerializeAsString(),
                         {{"Authorization", std::string("Bearer ") + kDevice + "." + kCredential}});
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? r->status : 0;
  }

  std::string MetricsOf(std::uint16_t port) {
    auto conn = testing::HttpsConnection::Connect(tls_, port);
    EXPECT_TRUE(conn.has_value());
    if (!conn.has_value()) {
      return {};
    }
    auto r = (*conn)->Request("GET", "/metrics", "",
                              {{"Authorization", std::string("Bearer ") + kMetricsToken}});
    return r.has_value() ? r->body : std::string();
  }

  static void ExpectNothingOfTheConcern(const std::string& text) {
    EXPECT_EQ(text.find(kConcernText), std::string::npos) << text;
    EXPECT_EQ(text.find("stepdad"), std::string::npos) << text;
    EXPECT_EQ(text.find("learner-jamie"), std::string::npos) << text;
    EXPECT_EQ(text.find(kDevice), std::string::npos) << text;
    EXPECT_EQ(text.find("learners-under-18"), std::string::npos) << text;
    EXPECT_EQ(text.find("laptop-7"), std::string::npos) << text;
    EXPECT_EQ(text.find("categor"), std::string::npos) << text;
    EXPECT_EQ(text.find("uncomfortable"), std::string::npos) << text;
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  std::shared_ptr<testing::TlsClientContext> tls_;
  std::unique_ptr<Storage> store_;
  std::unique_ptr<ConcernAlerter> alerter_;
  std::unique_ptr<Collector> collector_;
  UuidV7Generator ids_{SystemClock(), SystemRandom()};
};

TEST_F(AlertsTest, WebhookGetsASignedBodyWithoutTheConcernAndIsRetriedAfterA500) {
  auto receiver = testing::WebhookReceiver::Start(pki_.server_cert, pki_.server_key, 1);
  ASSERT_TRUE(receiver.has_value()) << receiver.error().ToString();
  AlertConfig config = Config();
  config.webhook = Webhook(**receiver);
  config.console_url = "https://ward.example/concerns/{id}";
  ASSERT_NO_FATAL_FAILURE(Serve(config));

  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent();
  const std::string id = batch.events(0).id();
  ASSERT_EQ(Upload(collector_->port(), batch), 200);
  // The concern is stored before (and whatever happens to) the alert.
  auto stored = store_->GetConcern(id, testing::kTestRead);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->content.text, kConcernText);

  auto requests = (*receiver)->WaitFor(2, 20s);
  ASSERT_EQ(requests.size(), 2u) << "the first answer was 500, so the alert is sent again";
  for (const testing::ReceivedRequest& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/ward-hook");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("x-ward-signature"), "sha256=" + IndependentHmacHex(kSecret, r.body));
    EXPECT_NE(r.headers.at("x-ward-signature"),
              "sha256=" + IndependentHmacHex("another-secret-entirely", r.body));
    EXPECT_NE(r.body.find("\"concern_id\":\"" + id + "\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"reference\":\"K7QF-2M9X\""), std::string::npos);
    EXPECT_NE(r.body.find("\"urgent\":true"), std::string::npos);
    EXPECT_NE(r.body.find("\"type\":\"ward.concern.new\""), std::string::npos);
    EXPECT_NE(r.body.find("\"link\":\"https://ward.example/concerns/" + id + "\""),
              std::string::npos);
    EXPECT_NE(r.body.find("wardctl concerns show " + id), std::string::npos);
    ExpectNothingOfTheConcern(r.body);
    for (const auto& [name, value] : r.headers) {
      ExpectNothingOfTheConcern(value);
    }
  }
  EXPECT_EQ(requests[0].body, requests[1].body);
  std::string metrics;
  ASSERT_TRUE(Eventually([&] {
    metrics = MetricsOf(collector_->port());
    return Metric(metrics, "ward_collector_alerts_sent_total{channel=\"webhook\"}") == 1;
  })) << metrics;
  EXPECT_EQ(Metric(metrics, "ward_collector_alert_attempts_failed_total{channel=\"webhook\"}"), 1);
  EXPECT_EQ(Metric(metrics, "ward_collector_alerts_given_up_total{channel=\"webhook\"}"), 0);
  EXPECT_EQ(Metric(metrics, "ward_collector_alerts_claimed_total"), 1);
  // A duplicate upload of the same concern (the agent retrying) alerts nobody again.
  ASSERT_EQ(Upload(collector_->port(), batch), 200);
  EXPECT_EQ(Metric(MetricsOf(collector_->port()), "ward_collector_alerts_claimed_total"), 1);
}

TEST_F(AlertsTest, WebhookRefusesAReceiverItsCaDidNotSign) {
  testing::TempDir other_dir;
  auto other = testing::CreateTestPki(other_dir.path());
  ASSERT_TRUE(other.has_value());
  auto receiver = testing::WebhookReceiver::Start(other->server_cert, other->server_key);
  ASSERT_TRUE(receiver.has_value());
  auto channel = CreateWebhookChannel(Webhook(**receiver));  // trusts only pki_'s CA
  ASSERT_TRUE(channel.has_value()) << channel.error().ToString();
  AlertMessage m = MakeAlertMessage({"id-1", kReference, 1'700'000'000'000, false}, Config());
  auto delivered = (*channel)->Deliver(m);
  ASSERT_FALSE(delivered.has_value());
  EXPECT_EQ(delivered.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE((*receiver)->WaitFor(1, 0ms).empty()) << "no body may reach an untrusted server";
}

TEST_F(AlertsTest, EmailReachesTheMailServerWithTheReferenceButNotTheConcern) {
  auto smtp = testing::SmtpReceiver::Start();
  ASSERT_TRUE(smtp.has_value()) << smtp.error().ToString();
  AlertConfig config = Config();
  config.smtp = Mail((*smtp)->port(), SmtpConfig::StartTls::kAuto);
  ASSERT_NO_FATAL_FAILURE(Serve(config));

  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent();
  const std::string id = batch.events(0).id();
  ASSERT_EQ(Upload(collector_->port(), batch), 200);

  auto mails = (*smtp)->WaitFor(1, 20s);
  ASSERT_EQ(mails.size(), 1u);
  const testing::ReceivedMail& m = mails[0];
  EXPECT_TRUE(m.starttls_asked) << "auto mode tries STARTTLS first";
  EXPECT_EQ(m.mail_from, "ward@northgate.example");
  EXPECT_EQ(m.rcpt_to,
            (std::vector<std::string>{"dsl@northgate.example", "deputy-dsl@northgate.example"}));
  EXPECT_NE(m.data.find("Subject: URGENT"), std::string::npos) << m.data;
  EXPECT_NE(m.data.find(kReference), std::string::npos) << m.data;
  EXPECT_NE(m.data.find("wardctl concerns show " + id), std::string::npos) << m.data;
  EXPECT_NE(m.data.find("Northgate Training"), std::string::npos);
  EXPECT_NE(m.data.find("Auto-Submitted: auto-generated"), std::string::npos);
  ExpectNothingOfTheConcern(m.data);
  std::string metrics;
  ASSERT_TRUE(Eventually([&] {
    metrics = MetricsOf(collector_->port());
    return Metric(metrics, "ward_collector_alerts_sent_total{channel=\"email\"}") == 1;
  })) << metrics;
}

TEST_F(AlertsTest, FailedDeliveriesAreRetriedCountedAndNeverLoseTheConcern) {
  auto smtp = testing::SmtpReceiver::Start();  // offers no STARTTLS
  ASSERT_TRUE(smtp.has_value());
  AlertConfig config = Config();
  config.max_attempts = 3;
  config.smtp = Mail((*smtp)->port(), SmtpConfig::StartTls::kRequired);
  ASSERT_NO_FATAL_FAILURE(Serve(config));

  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent();
  ASSERT_EQ(Upload(collector_->port(), batch), 200);
  std::string metrics;
  ASSERT_TRUE(Eventually([&] {
    metrics = MetricsOf(collector_->port());
    return Metric(metrics, "ward_collector_alerts_given_up_total{channel=\"email\"}") == 1;
  })) << metrics;
  EXPECT_EQ(Metric(metrics, "ward_collector_alert_attempts_failed_total{channel=\"email\"}"), 3);
  EXPECT_EQ(Metric(metrics, "ward_collector_alerts_sent_total{channel=\"email\"}"), 0);
  EXPECT_TRUE((*smtp)->WaitFor(1, 0ms).empty()) << "nothing is sent without the required TLS";
  auto stored = store_->GetConcern(batch.events(0).id(), testing::kTestRead);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->content.text, kConcernText);
  EXPECT_EQ(stored->status, ConcernStatus::kNew);
}

TEST_F(AlertsTest, ConcernsStoredButNeverAlertedAreAlertedAtStart) {
  auto receiver = testing::WebhookReceiver::Start(pki_.server_cert, pki_.server_key);
  ASSERT_TRUE(receiver.has_value());
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EventRow row;
  row.id = ids_.Next().ToString();
  row.kind = "concern";
  row.priority = 4;
  row.body = "x";
  row.concern = ConcernRow{kReference, 2, kConcernText, false, false, "learner-jamie", ""};
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(SystemClock().Now().time_since_epoch())
          .count();
  ASSERT_TRUE(store->IngestEvents(kDevice, std::vector<EventRow>{row}, now - 1000).has_value());
  // A month-old concern that never had an alert (a site that ran without alert channels) gets
  // none now: it is in the inbox, and alerts are for what is new.
  EventRow old = row;
  old.id = ids_.Next().ToString();
  ASSERT_TRUE(store->IngestEvents(kDevice, std::vector<EventRow>{old}, now - 30LL * 86'400'000)
                  .has_value());

  AlertConfig config = Config();
  config.webhook = Webhook(**receiver);
  auto alerter = CreateConcernAlerter(*store, config, SystemClock());
  ASSERT_TRUE(alerter.has_value());
  auto requests = (*receiver)->WaitFor(2, 3s);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(requests[0].body.find(row.id), std::string::npos);
  EXPECT_NE(requests[0].body.find("\"urgent\":false"), std::string::npos);
  ExpectNothingOfTheConcern(requests[0].body);
  ASSERT_TRUE(Eventually([&] { return store->ListAlertsDue(now, now - 86'400'000, 10)->empty(); }));
}

TEST_F(AlertsTest, TwoCollectorsOnOnePostgresAlertOnce) {
  auto pg = testing::PostgresServer::Start();
  ASSERT_TRUE(pg.has_value()) << pg.error().ToString();
  auto conninfo = (*pg)->CreateDatabase("alerts");
  ASSERT_TRUE(conninfo.has_value());
  auto receiver = testing::WebhookReceiver::Start(pki_.server_cert, pki_.server_key);
  ASSERT_TRUE(receiver.has_value());
  auto store_a = OpenStore(*conninfo);
  auto store_b = OpenStore(*conninfo, /*seed=*/false);
  ASSERT_NE(store_a, nullptr);
  ASSERT_NE(store_b, nullptr);
  AlertConfig config = Config();
  config.webhook = Webhook(**receiver);
  auto alerter_a = CreateConcernAlerter(*store_a, config, SystemClock());
  auto alerter_b = CreateConcernAlerter(*store_b, config, SystemClock());
  ASSERT_TRUE(alerter_a.has_value() && alerter_b.has_value());
  auto a = StartCollector(*store_a, **alerter_a);
  auto b = StartCollector(*store_b, **alerter_b);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  // The agent's upload times out at the load balancer and is retried on the other collector.
  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent();
  const std::string id = batch.events(0).id();
  ASSERT_EQ(Upload(a->port(), batch), 200);
  ASSERT_EQ(Upload(b->port(), batch), 200);
  // Both collectors also race for it directly, as after a restart of both.
  ConcernAlert alert{id, kReference, 1'700'000'000'000, true};
  std::thread ta([&] { (*alerter_a)->OnNewConcern(alert); });
  std::thread tb([&] { (*alerter_b)->OnNewConcern(alert); });
  ta.join();
  tb.join();

  std::string ma;
  std::string mb;
  ASSERT_TRUE(Eventually([&] {
    ma = (*alerter_a)->MetricsText();
    mb = (*alerter_b)->MetricsText();
    const double decided = Metric(ma, "ward_collector_alerts_claimed_total") +
                           Metric(mb, "ward_collector_alerts_claimed_total") +
                           Metric(ma, "ward_collector_alerts_claimed_elsewhere_total") +
                           Metric(mb, "ward_collector_alerts_claimed_elsewhere_total");
    return decided == 3;  // one upload and two direct alerts reached a claim
  })) << ma
      << mb;
  EXPECT_EQ(Metric(ma, "ward_collector_alerts_claimed_total") +
                Metric(mb, "ward_collector_alerts_claimed_total"),
            1);
  auto requests = (*receiver)->WaitFor(1, 20s);
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_TRUE(Eventually([&] {
    return Metric((*alerter_a)->MetricsText(),
                  "ward_collector_alerts_sent_total{channel=\"webhook\"}") +
               Metric((*alerter_b)->MetricsText(),
                      "ward_collector_alerts_sent_total{channel=\"webhook\"}") ==
           1;
  }));
  EXPECT_EQ((*receiver)->WaitFor(2, 0ms).size(), 1u) << "exactly one alert for one concern";
  EXPECT_NE(requests[0].body.find(id), std::string::npos);
}

TEST(AlertMessageTest, CarriesOnlyTheReferenceTimeUrgencyAndWhereToReadIt) {
  AlertConfig config;
  config.site = "Northgate \"North\" Training";
  config.console_url = "https://ward.example/c/{id}";
  const AlertMessage m =
      MakeAlertMessage({"0190-id", "K7QF-2M9X", 1'764'612'000'000, false}, config);
  EXPECT_EQ(AlertJson(m),
            "{\"type\":\"ward.concern.new\",\"concern_id\":\"0190-id\",\"reference\":"
            "\"K7QF-2M9X\",\"urgent\":false,\"received_at\":\"2025-12-01T18:00:00Z\",\"site\":"
            "\"Northgate \\\"North\\\" Training\",\"command\":\"wardctl concerns show 0190-id\","
            "\"link\":\"https://ward.example/c/0190-id\"}");
  EXPECT_EQ(AlertEmailSubject(m), "New Ward concern K7QF-2M9X");
  EXPECT_NE(AlertEmailText(m).find("01 Dec 2025 at 18:00 UTC"), std::string::npos);
  EXPECT_EQ(WebhookSignature("k", "body"), "sha256=" + IndependentHmacHex("k", "body"));
}

TEST(AlertConfigTest, SettingsResolveAndBadOnesAreNamed) {
  testing::TempDir dir;
  const auto secret = dir.path() / "hook.secret";
  std::ofstream(secret) << "0123456789abcdef0123\n";
  ConfigValues v;
  v.Set("storage", "sqlite:/nonexistent/c.db");
  v.Set("webhook_url", "https://hooks.example/ward");
  v.Set("webhook_secret_file", secret.string());
  v.Set("smtp_host", "smtp.example");
  v.Set("smtp_from", "ward@example");
  v.Set("smtp_to", "dsl@example, deputy@example");
  v.Set("smtp_starttls", "required");
  v.Set("alert_retry_first_ms", "500");
  auto c = ResolveServeConfig(v);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  ASSERT_TRUE(c->alerts.webhook.has_value());
  EXPECT_EQ(c->alerts.webhook->secret, "0123456789abcdef0123");
  ASSERT_TRUE(c->alerts.smtp.has_value());
  EXPECT_EQ(c->alerts.smtp->to, (std::vector<std::string>{"dsl@example", "deputy@example"}));
  EXPECT_EQ(c->alerts.smtp->port, 587);
  EXPECT_EQ(c->alerts.smtp->starttls, SmtpConfig::StartTls::kRequired);
  EXPECT_EQ(c->alerts.first_retry, 500ms);

  ConfigValues bad = v;
  bad.Set("smtp_starttls", "sometimes");
  auto r = ResolveServeConfig(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("smtp_starttls"), std::string::npos);
  bad = v;
  bad.Set("webhook_secret_file", (dir.path() / "missing").string());
  r = ResolveServeConfig(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("webhook_secret_file"), std::string::npos);

  WebhookConfig plain{"http://hooks.example/ward", "0123456789abcdef", {}, 5s};
  auto channel = CreateWebhookChannel(plain);
  ASSERT_FALSE(channel.has_value());
  EXPECT_NE(channel.error().message().find("https://"), std::string::npos);
  SmtpConfig clear;
  clear.host = "smtp.example";
  clear.from = "a@example";
  clear.to = {"b@example"};
  clear.user = "ward";
  clear.starttls = SmtpConfig::StartTls::kOff;
  EXPECT_FALSE(CreateSmtpChannel(clear).has_value()) << "a password is never sent in clear";
}

}  // namespace
}  // namespace ward::collector
