// SPDX-License-Identifier: Apache-2.0
// The alert outbox with a real ward-collector process on SQLite and on PostgreSQL: the
// collector claims a concern's alert, its first delivery fails, and it is killed (SIGKILL)
// before it could send it. Restarted, it sends the alert: at least once, with the concern id as
// the webhook's Idempotency-Key, so the receiver can drop the repeat.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "ward/collector/storage/secrets.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/hex.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/alert_receivers.h"
#include "ward/testing/child_process.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/testing/paths.h"
#include "ward/testing/postgres_server.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kDevice[] = "0190b6e4-0000-7000-8000-00000000d001";
constexpr char kCredential[] = "device-credential";
constexpr char kMetricsToken[] = "wst_outbox-metrics-token";
constexpr char kHookSecret[] = "a-webhook-secret-of-32-characters";

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             SystemClock().Now().time_since_epoch())
      .count();
}

std::string HmacHex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return HexEncode(std::span<const std::uint8_t>(mac, len));
}

double Metric(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

class AlertOutboxTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto pki = testing::CreateTestPki(dir_.path());
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = *pki;
    if (GetParam() == "postgres") {
      auto pg = testing::PostgresServer::Start();
      ASSERT_TRUE(pg.has_value()) << pg.error().ToString();
      pg_ = std::move(*pg);
      auto conninfo = pg_->CreateDatabase("outbox");
      ASSERT_TRUE(conninfo.has_value());
      storage_url_ = "postgresql:" + *conninfo;
    } else {
      storage_url_ = "sqlite:" + (dir_.path() / "collector.db").string();
    }
    auto store = OpenStorage(storage_url_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->CreateGroup({"learners-under-18", std::string(64, 'a')}).has_value());
    DeviceRecord d;
    d.id = kDevice;
    d.group = "learners-under-18";
    d.credential_hash = HashSecret(kCredential);
    ASSERT_TRUE(store_->PutDevice(d).has_value());
    ASSERT_TRUE(
        store_->CreateStaffToken("prometheus", StaffRole::kMetrics, HashSecret(kMetricsToken), 1));
    std::ofstream(dir_.path() / "hook.secret") << kHookSecret << "\n";
    auto tls = testing::TlsClientContext::Create(pki_.ca_cert);
    ASSERT_TRUE(tls.has_value());
    tls_ = *tls;
  }

  void TearDown() override {
    if (pid_ > 0) {
      testing::Reap(pid_, SIGKILL);
    }
  }

  // Starts ward-collector and waits until it says where it listens.
  void StartCollector(const std::string& webhook_url) {
    ++starts_;
    output_ = dir_.path() / ("collector-" + std::to_string(starts_) + ".log");
    pid_ = testing::Spawn(
        {ward::testing::BuiltFile(WARD_COLLECTOR_BINARY).string(), "serve", "--storage",
         storage_url_, "--listen", "127.0.0.1:0", "--tls-cert", pki_.server_cert.string(),
         "--tls-key", pki_.server_key.string(), "--webhook-url", webhook_url,
         "--webhook-secret-file", (dir_.path() / "hook.secret").string(), "--webhook-ca-file",
         pki_.ca_cert.string(),
         // The first failure is retried only after 10 minutes: long after the kill.
         "--alert-retry-first-ms", "600000", "--alert-claim-lease-seconds", "2"},
        output_.string());
    ASSERT_GT(pid_, 0);
    const std::regex listening("msg=\"collector listening\".* port=([0-9]+)");
    std::smatch m;
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          const std::string log = ReadText(output_);
          return std::regex_search(log, m, listening);
        },
        30s))
        << ReadText(output_);
    const std::string log = ReadText(output_);
    ASSERT_TRUE(std::regex_search(log, m, listening));
    port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  }

  testing::HttpsResponse Call(const std::string& method, const std::string& path,
                              const std::string& body, const std::string& authorization) {
    auto conn = testing::HttpsConnection::Connect(tls_, port_);
    EXPECT_TRUE(conn.has_value());
    if (!conn.has_value()) {
      return {};
    }
    auto r = (*conn)->Request(method, path, body, {{"Authorization", authorization}});
    EXPECT_TRUE(r.has_value());
    return r.value_or(testing::HttpsResponse{});
  }

  std::vector<PendingAlert> Due() {
    auto due = store_->ListAlertsDue(NowMs(), 0, 10);
    EXPECT_TRUE(due.has_value()) << due.error().ToString();
    return due.value_or(std::vector<PendingAlert>{});
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  std::unique_ptr<testing::PostgresServer> pg_;
  std::string storage_url_;
  std::unique_ptr<Storage> store_;
  std::shared_ptr<testing::TlsClientContext> tls_;
  fs::path output_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int starts_ = 0;
};

TEST_P(AlertOutboxTest, AnAlertClaimedButNotSentIsSentAfterTheCollectorIsKilled) {
  // The receiver answers the first delivery 500 and later ones 204.
  auto receiver = testing::WebhookReceiver::Start(pki_.server_cert, pki_.server_key, 1);
  ASSERT_TRUE(receiver.has_value()) << receiver.error().ToString();
  ASSERT_NO_FATAL_FAILURE(StartCollector((*receiver)->url()));

  UuidV7Generator ids(SystemClock(), SystemRandom());
  ward::v1::EventBatch batch;
  ward::v1::Event* e = batch.add_events();
  e->set_id(ids.Next().ToString());
  e->set_priority(ward::v1::PRIORITY_CRITICAL);
  e->mutable_concern()->set_reference("K7QF-2M9X");
  e->mutable_concern()->set_text("please help");
  e->mutable_concern()->set_in_danger(true);
  const std::string concern_id = e->id();
  ASSERT_EQ(Call("POST", "/v1/events", batch.SerializeAsString(),
                 std::string("Bearer ") + kDevice + "." + kCredential)
                .status,
            200);

  // Claimed, tried once (500), waiting ten minutes to try again: claimed but not sent.
  ASSERT_EQ((*receiver)->WaitFor(1, 30s).size(), 1u) << ReadText(output_);
  EXPECT_TRUE(Due().empty()) << "the live collector holds the claim";
  const int status = testing::Reap(pid_, SIGKILL);
  pid_ = -1;
  ASSERT_TRUE(WIFSIGNALED(status));

  // Nobody renews the claim now: it lapses and the alert is due again.
  std::vector<PendingAlert> due;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        due = Due();
        return !due.empty();
      },
      20s));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].concern_id, concern_id);
  EXPECT_TRUE(due[0].claimed_before);

  ASSERT_NO_FATAL_FAILURE(StartCollector((*receiver)->url()));
  auto requests = (*receiver)->WaitFor(2, 30s);
  ASSERT_EQ(requests.size(), 2u) << ReadText(output_);
  for (const testing::ReceivedRequest& r : requests) {
    EXPECT_EQ(r.headers.at("idempotency-key"), concern_id);
    EXPECT_EQ(r.headers.at("x-ward-signature"), "sha256=" + HmacHex(kHookSecret, r.body));
    EXPECT_EQ(r.body.find("please help"), std::string::npos) << r.body;
  }
  EXPECT_EQ(requests[0].body, requests[1].body);

  // Delivered and done: counted, never due again (not even once the lease would have lapsed).
  std::string metrics;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        metrics = Call("GET", "/metrics", "", std::string("Bearer ") + kMetricsToken).body;
        return Metric(metrics, "ward_collector_alerts_sent_total{channel=\"webhook\"}") == 1;
      },
      20s))
      << metrics;
  EXPECT_EQ(Metric(metrics, "ward_collector_alerts_recovered_total"), 1);
  EXPECT_EQ(Metric(metrics, "ward_collector_alerts_claimed_total"), 1);
  std::this_thread::sleep_for(3s);  // longer than the 2 s lease
  EXPECT_TRUE(Due().empty());
  EXPECT_EQ((*receiver)->WaitFor(3, 0ms).size(), 2u) << "sent once more, not again and again";

  const int stopped = testing::Reap(pid_, SIGTERM);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0) << ReadText(output_);
}

TEST_P(AlertOutboxTest, AStoppingCollectorReleasesItsClaimsForTheNextStart) {
  auto receiver = testing::WebhookReceiver::Start(pki_.server_cert, pki_.server_key, 1);
  ASSERT_TRUE(receiver.has_value());
  ASSERT_NO_FATAL_FAILURE(StartCollector((*receiver)->url()));
  UuidV7Generator ids(SystemClock(), SystemRandom());
  ward::v1::EventBatch batch;
  ward::v1::Event* e = batch.add_events();
  e->set_id(ids.Next().ToString());
  e->mutable_concern()->set_reference("K7QF-2M9X");
  ASSERT_EQ(Call("POST", "/v1/events", batch.SerializeAsString(),
                 std::string("Bearer ") + kDevice + "." + kCredential)
                .status,
            200);
  ASSERT_EQ((*receiver)->WaitFor(1, 30s).size(), 1u);
  const int status = testing::Reap(pid_, SIGTERM);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadText(output_);
  // Released, not left to lapse: due at once.
  const auto due = Due();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].concern_id, e->id());
  EXPECT_NE(ReadText(output_).find("the next start sends them"), std::string::npos)
      << ReadText(output_);
}

INSTANTIATE_TEST_SUITE_P(Backends, AlertOutboxTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace ward::collector
