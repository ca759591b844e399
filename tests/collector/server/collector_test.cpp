// SPDX-License-Identifier: Apache-2.0
// The collector end to end on loopback: real TLS (test CA), real SQLite or PostgreSQL store.
#include "ward/collector/server/collector.h"

#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "ward/collector/storage/secrets.h"
#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/testing/postgres_server.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector {
namespace {

using testing::HttpsConnection;
using testing::HttpsResponse;

class RecordingAlerter final : public ConcernAlerter {
 public:
  void OnNewConcern(const ConcernAlert& alert) override {
    std::scoped_lock lock(mu_);
    alerts_.push_back(alert);
  }
  std::vector<ConcernAlert> alerts() {
    std::scoped_lock lock(mu_);
    return alerts_;
  }

 private:
  std::mutex mu_;
  std::vector<ConcernAlert> alerts_;
};

struct EnrolledDevice {
  std::string id;
  std::string credential;
  std::string Bearer() const { return "Bearer " + id + "." + credential; }
};

Poco::Dynamic::Var ParseJson(const std::string& body) { return Poco::JSON::Parser().parse(body); }

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override { StartWith(CollectorOptions{}); }

  // Opens the store (SQLite unless `conninfo` is given), seeds it, starts a collector.
  void StartWith(CollectorOptions options, const std::string& conninfo = "") {
    collector_.reset();
    store_.reset();
    auto pki = testing::CreateTestPki(dir_.path());
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = *pki;
    auto store =
        conninfo.empty()
            ? OpenSqliteStorage((dir_.path() / ("c" + std::to_string(++starts_) + ".db")).string())
            : OpenPostgresStorage(conninfo);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    auto signer = testing::PolicySigner::Generate();
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(*signer);
    auto site = testing::SeedTestSite(*store_, "learners-under-18", signer_->public_key_hex());
    ASSERT_TRUE(site.has_value()) << site.error().ToString();
    secret_ = site->enrolment_secret;
    tokens_ = site->tokens;
    options_ = options;
    options_.port = 0;
    options_.tls_cert = pki_.server_cert;
    options_.tls_key = pki_.server_key;
    auto c = Collector::Start(options_, *store_, alerter_, SystemClock());
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    collector_ = std::move(*c);
    auto tls = testing::TlsClientContext::Create(pki_.ca_cert);
    ASSERT_TRUE(tls.has_value());
    tls_ = *tls;
  }

  std::unique_ptr<HttpsConnection> Connect(std::uint16_t port = 0) {
    auto c = HttpsConnection::Connect(tls_, port == 0 ? collector_->port() : port);
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    return c.has_value() ? std::move(*c) : nullptr;
  }

  HttpsResponse Post(const std::string& path, const std::string& body, const std::string& auth = "",
                     std::uint16_t port = 0) {
    auto conn = Connect(port);
    if (!conn) {
      return {};
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (!auth.empty()) {
      headers.emplace_back("Authorization", auth);
    }
    auto r = conn->Request("POST", path, body, headers);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(HttpsResponse{});
  }

  HttpsResponse Staff(const std::string& method, const std::string& path, const std::string& role,
                      const std::string& body = "",
                      const std::string& content_type = "application/json") {
    auto conn = Connect();
    if (!conn) {
      return {};
    }
    auto r = conn->Request(method, path, body, {{"Authorization", "Bearer " + tokens_[role]}},
                           content_type);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(HttpsResponse{});
  }

  // An enrolment as an agent sends it; `previous` is the credential it still holds, if any.
  HttpsResponse EnrolRaw(const std::string& machine, const EnrolledDevice& previous = {},
                         std::uint16_t port = 0) {
    ward::v1::EnrolRequest req;
    req.set_enrolment_secret(secret_);
    req.set_hostname("laptop-1");
    req.set_os("debian 12");
    req.set_agent_version("0.1.0");
    req.set_machine_hash(machine.empty() ? NewSecret() : machine);
    req.set_previous_device_id(previous.id);
    req.set_previous_credential(previous.credential);
    return Post("/v1/enrol", req.SerializeAsString(), "", port);
  }

  EnrolledDevice Enrol(const std::string& machine = "", std::uint16_t port = 0,
                       const EnrolledDevice& previous = {}) {
    HttpsResponse r = EnrolRaw(machine, previous, port);
    EXPECT_EQ(r.status, 200) << r.body;
    ward::v1::EnrolResponse out;
    EXPECT_TRUE(out.ParseFromString(r.body));
    EXPECT_EQ(out.group(), "learners-under-18");
    return {out.device_id(), out.credential()};
  }

  std::string NewEventId() { return ids_.Next().ToString(); }

  // Makes every insert into the SQLite store's audit log fail for real (a trigger put in by a
  // second connection to the file), until MendAuditLog.
  void BreakAuditLog() {
    ExecOnStore(
        "CREATE TRIGGER break_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'the "
        "disk is full'); END");
  }
  void MendAuditLog() { ExecOnStore("DROP TRIGGER break_audit"); }
  void ExecOnStore(const std::string& sql) {
    Poco::Data::Session s("SQLite",
                          (dir_.path() / ("c" + std::to_string(starts_) + ".db")).string());
    s << sql, Poco::Data::Keywords::now;
  }

  ward::v1::Event UsbEvent() {
    ward::v1::Event e;
    e.set_id(NewEventId());
    e.set_priority(ward::v1::PRIORITY_HIGH);
    e.mutable_device_time()->set_seconds(1'700'000'000);
    e.mutable_usb()->set_kind(ward::v1::UsbEvent::KIND_DECIDED);
    e.mutable_usb()->mutable_device()->set_device_id("0781:5567");
    return e;
  }

  ward::v1::Event ConcernEvent(const std::string& text) {
    ward::v1::Event e;
    e.set_id(NewEventId());
    e.set_priority(ward::v1::PRIORITY_CRITICAL);
    e.set_user("learner1");
    auto* c = e.mutable_concern();
    c->set_reference("K7QF-2M9X");
    c->set_category(ward::v1::CONCERN_CATEGORY_BULLYING);
    c->set_text(text);
    c->set_in_danger(true);
    return e;
  }

  ward::v1::EventBatchAck Upload(const EnrolledDevice& d, const ward::v1::EventBatch& batch) {
    HttpsResponse r = Post("/v1/events", batch.SerializeAsString(), d.Bearer());
    EXPECT_EQ(r.status, 200) << r.body;
    ward::v1::EventBatchAck ack;
    EXPECT_TRUE(ack.ParseFromString(r.body));
    return ack;
  }

  static ward::v1::ErrorBody ErrorOf(const HttpsResponse& r) {
    ward::v1::ErrorBody e;
    EXPECT_TRUE(e.ParseFromString(r.body));
    return e;
  }

  HttpsResponse Push(std::uint64_t version, const std::string& role = "it") {
    auto bytes = signer_->SignedPolicyBytes(version);
    EXPECT_TRUE(bytes.has_value());
    return Staff("POST", "/v1/staff/policy?group=learners-under-18", role, *bytes,
                 "application/x-protobuf");
  }

  // A long-poll on its own connection, on its own thread.
  std::future<ward::v1::PolicyFetchResponse> LongPoll(const EnrolledDevice& d,
                                                      std::uint64_t current, std::uint32_t wait,
                                                      std::uint16_t port = 0) {
    auto conn = Connect(port);
    return std::async(std::launch::async,
                      [conn = std::shared_ptr<HttpsConnection>(std::move(conn)), d, current, wait] {
                        ward::v1::PolicyFetchRequest req;
                        req.set_current_version(current);
                        req.set_wait_seconds(wait);
                        ward::v1::PolicyFetchResponse out;
                        if (!conn) {
                          return out;
                        }
                        auto r = conn->Request("POST", "/v1/policy", req.SerializeAsString(),
                                               {{"Authorization", d.Bearer()}});
                        if (r.has_value() && r->status == 200) {
                          out.ParseFromString(r->body);
                        }
                        return out;
                      });
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  std::unique_ptr<Storage> store_;
  std::unique_ptr<testing::PolicySigner> signer_;
  std::string secret_;
  std::map<std::string, std::string> tokens_;
  CollectorOptions options_;
  RecordingAlerter alerter_;
  std::unique_ptr<Collector> collector_;
  std::shared_ptr<testing::TlsClientContext> tls_;
  UuidV7Generator ids_{SystemClock(), SystemRandom()};
  int starts_ = 0;
};

TEST_F(CollectorTest, ServesTls13ByDefault) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->NegotiatedProtocol(), "TLSv1.3");
  auto r = conn->Request("GET", "/healthz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok\n");
}

TEST_F(CollectorTest, ClientTrustingAnotherCaRefusesTheServer) {
  testing::TempDir other;
  auto other_pki = testing::CreateTestPki(other.path());
  ASSERT_TRUE(other_pki.has_value());
  auto tls = testing::TlsClientContext::Create(other_pki->ca_cert);
  ASSERT_TRUE(tls.has_value());
  auto conn = HttpsConnection::Connect(*tls, collector_->port());
  ASSERT_FALSE(conn.has_value());
  EXPECT_NE(conn.error().message().find("certificate verify failed"), std::string::npos)
      << conn.error().message();
}

TEST_F(CollectorTest, SecondCollectorCannotTakeTheSamePort) {
  CollectorOptions o = options_;
  o.port = collector_->port();
  auto second = Collector::Start(o, *store_, alerter_, SystemClock());
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message().find("bind"), std::string::npos);
}

TEST_F(CollectorTest, EnrolUploadAndDuplicateUploadIsAckedButStoredOnce) {
  const EnrolledDevice d = Enrol();
  ward::v1::EventBatch batch;
  *batch.add_events() = UsbEvent();
  *batch.add_events() = UsbEvent();
  auto ack = Upload(d, batch);
  ASSERT_EQ(ack.acked_ids_size(), 2);
  EXPECT_EQ(ack.acked_ids(0), batch.events(0).id());
  auto again = Upload(d, batch);
  EXPECT_EQ(again.acked_ids_size(), 2);
  EXPECT_EQ(*store_->CountEvents(), 2u);
  auto events = store_->ListEvents(0, {.reader = StaffRole::kIt, .limit = 10}, testing::kTestRead);
  ASSERT_TRUE(events.has_value());
  EXPECT_EQ(events->events.front().device_id, d.id);
  ward::v1::Event stored;
  ASSERT_TRUE(stored.ParseFromString(events->events.front().body));
  EXPECT_EQ(stored.usb().device().device_id(), "0781:5567");
}

TEST_F(CollectorTest, MalformedEventsAreRejectedOneByOneAndTheRestStored) {
  const EnrolledDevice d = Enrol();
  ward::v1::EventBatch batch;
  *batch.add_events() = UsbEvent();
  batch.add_events()->set_id("not-a-uuid");
  auto ack = Upload(d, batch);
  EXPECT_EQ(ack.acked_ids_size(), 1);
  ASSERT_EQ(ack.rejected_size(), 1);
  EXPECT_EQ(ack.rejected(0).id(), "not-a-uuid");
  EXPECT_EQ(ack.rejected(0).reason(), "id is not a UUID");
}

TEST_F(CollectorTest, ReEnrolmentKeepsTheDeviceAndReplacesTheCredential) {
  const EnrolledDevice first = Enrol("machine-42");
  const EnrolledDevice second = Enrol("machine-42", 0, first);
  EXPECT_EQ(first.id, second.id);
  EXPECT_NE(first.credential, second.credential);
  ward::v1::EventBatch batch;
  *batch.add_events() = UsbEvent();
  EXPECT_EQ(Post("/v1/events", batch.SerializeAsString(), first.Bearer()).status, 401);
  EXPECT_EQ(Post("/v1/events", batch.SerializeAsString(), second.Bearer()).status, 200);
}

// The audit actions recorded for `subject`, oldest first.
std::vector<std::string> AuditActionsFor(const HttpsResponse& audit, const std::string& subject) {
  std::vector<std::string> out;
  auto arr = ParseJson(audit.body).extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = arr->size(); i-- > 0;) {
    auto o = arr->getObject(static_cast<unsigned>(i));
    if (o->getValue<std::string>("concern_id") == subject) {
      out.push_back(o->getValue<std::string>("action"));
    }
  }
  return out;
}

// Finding 4 of issue 14: before, a revoked laptop enrolled again at once under a new device id.
TEST_F(CollectorTest, Regression_Issue14_RevokedLaptopStaysOutUntilItReadmitsIt) {
  const EnrolledDevice d = Enrol("machine-7");
  ASSERT_EQ(Staff("POST", "/v1/staff/devices/" + d.id + "/revoke", "it").status, 200);
  for (int i = 0; i < 3; ++i) {
    HttpsResponse r = EnrolRaw("machine-7", i == 0 ? EnrolledDevice{} : d);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(ErrorOf(r).code(), "PERMISSION_DENIED");
    EXPECT_EQ(
        ErrorOf(r).message(),
        "IT removed this laptop from Ward. IT can let it in with: wardctl devices readmit " + d.id);
  }
  EXPECT_EQ(store_->ListDevices()->size(), 1u);
  auto device = ParseJson(Staff("GET", "/v1/staff/devices/" + d.id, "it").body)
                    .extract<Poco::JSON::Object::Ptr>();
  EXPECT_GT(device->getValue<std::int64_t>("enrol_refused_ms"), 0);

  EXPECT_EQ(Staff("POST", "/v1/staff/devices/" + d.id + "/readmit", "dsl").status, 403);
  ASSERT_EQ(Staff("POST", "/v1/staff/devices/" + d.id + "/readmit", "it").status, 200);
  const EnrolledDevice back = Enrol("machine-7");
  EXPECT_EQ(back.id, d.id);
  ward::v1::EventBatch batch;
  *batch.add_events() = UsbEvent();
  EXPECT_EQ(Post("/v1/events", batch.SerializeAsString(), d.Bearer()).status, 401);
  EXPECT_EQ(Post("/v1/events", batch.SerializeAsString(), back.Bearer()).status, 200);
  // A readmission is good for one enrolment: a second one without the credential waits again.
  EXPECT_EQ(EnrolRaw("machine-7").status, 403);
  EXPECT_EQ(store_->ListDevices()->size(), 1u);

  // Three refusals, one audit entry (they are reported once a day), then IT's readmission.
  EXPECT_EQ(AuditActionsFor(Staff("GET", "/v1/staff/audit", "dsl"), d.id),
            (std::vector<std::string>{"device.enrol.refused-revoked", "device.readmit",
                                      "device.enrol.waiting-for-it"}));
}

// Finding 4 of issue 14: before, anyone with the group's secret could enrol with another laptop's
// machine hash, take its device id and lock the real laptop out (401).
TEST_F(CollectorTest, Regression_Issue14_AKnownMachineHashDoesNotTakeTheDeviceWithoutProof) {
  const EnrolledDevice real = Enrol("machine-9");
  HttpsResponse r = EnrolRaw("machine-9");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorOf(r).message(),
            "this laptop is already enrolled, and this enrolment did not show its credential. IT "
            "can let it in with: wardctl devices readmit " +
                real.id);
  // A wrong credential is no proof either.
  EXPECT_EQ(EnrolRaw("machine-9", EnrolledDevice{real.id, "wrong"}).status, 403);
  ward::v1::EventBatch batch;
  *batch.add_events() = UsbEvent();
  EXPECT_EQ(Post("/v1/events", batch.SerializeAsString(), real.Bearer()).status, 200);
  EXPECT_EQ(store_->ListDevices()->size(), 1u);
  auto device = ParseJson(Staff("GET", "/v1/staff/devices/" + real.id, "it").body)
                    .extract<Poco::JSON::Object::Ptr>();
  EXPECT_GT(device->getValue<std::int64_t>("enrol_refused_ms"), 0);

  // IT approves: the next enrolment takes the id, the old credential stops working.
  ASSERT_EQ(Staff("POST", "/v1/staff/devices/" + real.id + "/readmit", "it").status, 200);
  const EnrolledDevice approved = Enrol("machine-9");
  EXPECT_EQ(approved.id, real.id);
  EXPECT_EQ(Post("/v1/events", batch.SerializeAsString(), real.Bearer()).status, 401);
  device = ParseJson(Staff("GET", "/v1/staff/devices/" + real.id, "it").body)
               .extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(device->getValue<std::int64_t>("enrol_refused_ms"), 0);
  EXPECT_EQ(device->getValue<std::int64_t>("readmitted_ms"), 0);
  EXPECT_EQ(AuditActionsFor(Staff("GET", "/v1/staff/audit", "dsl"), real.id),
            (std::vector<std::string>{"device.enrol.waiting-for-it", "device.readmit"}));
}

// Finding 4 of issue 14: before, 50 enrolments in a row from one address were all accepted.
TEST_F(CollectorTest, Regression_Issue14_EnrolmentIsRateLimitedPerAddress) {
  int accepted = 0;
  int limited = 0;
  for (int i = 0; i < 50; ++i) {
    HttpsResponse r = EnrolRaw("");
    if (r.status == 200) {
      ++accepted;
    } else if (r.status == 429) {
      ++limited;
      EXPECT_FALSE(r.headers["retry-after"].empty());
      EXPECT_EQ(ErrorOf(r).message(), "too many enrolments at once; this laptop will try again");
    }
  }
  EXPECT_EQ(accepted, 20);
  EXPECT_EQ(limited, 30);
  EXPECT_EQ(AuditActionsFor(Staff("GET", "/v1/staff/audit", "dsl"), "address 127.0.0.1"),
            std::vector<std::string>{"device.enrol.rate-limited"});
}

// The per-address connection cap reaches the server from the collector's options (a site
// behind one NAT address raises it in the config).
TEST_F(CollectorTest, ConnectionsPerAddressFollowTheOption) {
  CollectorOptions o;
  o.max_connections_per_address = 2;
  StartWith(o);
  std::vector<std::unique_ptr<HttpsConnection>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(Connect());
    ASSERT_NE(held.back(), nullptr);
  }
  auto third = HttpsConnection::Connect(tls_, collector_->port());
  const bool refused =
      !third.has_value() || !(*third)->Request("GET", "/healthz", "", {}).has_value();
  EXPECT_TRUE(refused);
  held.clear();
  bool healthy = false;
  for (int i = 0; i < 50 && !healthy; ++i) {  // the server notices the closed ones shortly
    auto again = HttpsConnection::Connect(tls_, collector_->port());
    if (again.has_value()) {
      auto r = (*again)->Request("GET", "/healthz", "", {});
      healthy = r.has_value() && r->status == 200;
    }
    if (!healthy) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(healthy);
}

TEST_F(CollectorTest, Regression_Issue14_EnrolmentIsRateLimitedPerGroup) {
  CollectorOptions o;
  o.enrol_address_burst = 1000;
  o.enrol_group_burst = 5;
  StartWith(o);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(EnrolRaw("").status, 200);
  }
  HttpsResponse r = EnrolRaw("");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "2");  // 30 a minute: one every 2 s
  EXPECT_EQ(AuditActionsFor(Staff("GET", "/v1/staff/audit", "dsl"), "group learners-under-18"),
            std::vector<std::string>{"device.enrol.rate-limited"});
}

TEST_F(CollectorTest, UnknownEnrolmentSecretIs401) {
  ward::v1::EnrolRequest req;
  req.set_enrolment_secret("wes_guess");
  HttpsResponse r = Post("/v1/enrol", req.SerializeAsString());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorOf(r).message(), "unknown enrolment secret");
}

TEST_F(CollectorTest, UnknownWrongOrRevokedDeviceIs401) {
  const EnrolledDevice d = Enrol();
  ward::v1::EventBatch batch;
  *batch.add_events() = UsbEvent();
  const std::string body = batch.SerializeAsString();
  EXPECT_EQ(Post("/v1/events", body, "").status, 401);
  EXPECT_EQ(Post("/v1/events", body, "Bearer nobody.secret").status, 401);
  EXPECT_EQ(Post("/v1/events", body, "Bearer " + d.id + ".wrong").status, 401);
  HttpsResponse revoke = Staff("POST", "/v1/staff/devices/" + d.id + "/revoke", "it");
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  HttpsResponse r = Post("/v1/events", body, d.Bearer());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorOf(r).message(), "this device has been revoked");
  EXPECT_EQ(*store_->CountEvents(), 0u);
}

TEST_F(CollectorTest, MalformedProtobufIs400WithTheReason) {
  const EnrolledDevice d = Enrol();
  HttpsResponse r = Post("/v1/events", std::string("\xff\xff\xff\xff", 4), d.Bearer());
  EXPECT_EQ(r.status, 400);
  const auto e = ErrorOf(r);
  EXPECT_EQ(e.code(), "INVALID_ARGUMENT");
  EXPECT_EQ(e.message(), "the body is not a valid ward.v1.EventBatch");
}

TEST_F(CollectorTest, OversizedBodyIs413AndOtherDevicesCarryOn) {
  CollectorOptions o;
  o.max_body_bytes = 1024;
  StartWith(o);
  ASSERT_FALSE(HasFatalFailure());
  const EnrolledDevice big = Enrol();
  const EnrolledDevice small = Enrol();
  ward::v1::EventBatch batch;
  for (int i = 0; i < 50; ++i) {
    *batch.add_events() = UsbEvent();
  }
  ASSERT_GT(batch.ByteSizeLong(), 1024u);
  HttpsResponse r = Post("/v1/events", batch.SerializeAsString(), big.Bearer());
  EXPECT_EQ(r.status, 413);
  ward::v1::EventBatch one;
  *one.add_events() = UsbEvent();
  EXPECT_EQ(Upload(small, one).acked_ids_size(), 1);
  EXPECT_EQ(*store_->CountEvents(), 1u);
}

TEST_F(CollectorTest, TooManyRequestsIs429WithRetryAfterAndOnlyForThatDevice) {
  CollectorOptions o;
  o.device_burst = 3;
  o.device_rate_per_second = 0.2;
  StartWith(o);
  ASSERT_FALSE(HasFatalFailure());
  const EnrolledDevice noisy = Enrol();
  const EnrolledDevice quiet = Enrol();
  ward::v1::DeviceStatus status;
  status.set_policy_version(0);
  const std::string body = status.SerializeAsString();
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 6; ++i) {
    auto r = conn->Request("POST", "/v1/status", body, {{"Authorization", noisy.Bearer()}});
    ASSERT_TRUE(r.has_value());
    if (r->status == 429) {
      ++limited;
      retry_after = r->headers["retry-after"];
    }
  }
  EXPECT_EQ(limited, 3);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
  EXPECT_EQ(Post("/v1/status", body, quiet.Bearer()).status, 200);
}

TEST_F(CollectorTest, StatusIsRecordedOnTheDevice) {
  const EnrolledDevice d = Enrol();
  ward::v1::DeviceStatus status;
  status.set_agent_version("0.2.0");
  status.set_policy_version(7);
  EXPECT_EQ(Post("/v1/status", status.SerializeAsString(), d.Bearer()).status, 200);
  auto device = store_->GetDevice(d.id);
  ASSERT_TRUE(device.has_value());
  EXPECT_EQ(device->policy_version, 7u);
}

TEST_F(CollectorTest, PolicyFetchAnswersAtOnceWhenNewerExists) {
  const EnrolledDevice d = Enrol();
  ASSERT_EQ(Push(3).status, 200);
  auto r = LongPoll(d, 1, 30).get();
  ASSERT_TRUE(r.has_policy());
  EXPECT_EQ(r.latest_version(), 3u);
  ward::v1::Policy p;
  ASSERT_TRUE(p.ParseFromString(r.policy().policy()));
  EXPECT_EQ(p.version(), 3u);
}

TEST_F(CollectorTest, LongPollTimesOutWithTheLatestVersion) {
  const EnrolledDevice d = Enrol();
  ASSERT_EQ(Push(2).status, 200);
  auto r = LongPoll(d, 2, 1).get();
  EXPECT_FALSE(r.has_policy());
  EXPECT_EQ(r.latest_version(), 2u);
}

TEST_F(CollectorTest, PushWakesEveryWaitingLongPollAtOnce) {
  std::vector<EnrolledDevice> devices;
  for (int i = 0; i < 20; ++i) {
    devices.push_back(Enrol());
  }
  std::vector<std::future<ward::v1::PolicyFetchResponse>> polls;
  for (const auto& d : devices) {
    polls.push_back(LongPoll(d, 0, 30));
  }
  // Wait until all 20 are parked, then push once.
  for (int i = 0; i < 200; ++i) {
    auto m = Staff("GET", "/metrics", "it");
    if (m.body.find("ward_collector_long_polls_waiting 20\n") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(Push(1).status, 200);
  for (auto& f : polls) {
    auto r = f.get();
    EXPECT_TRUE(r.has_policy());
    EXPECT_EQ(r.latest_version(), 1u);
  }
}

TEST_F(CollectorTest, PushRefusesBadSignatureRollbackAndNonItStaff) {
  auto other = testing::PolicySigner::Generate();
  ASSERT_TRUE(other.has_value());
  auto forged = (*other)->SignedPolicyBytes(5);
  ASSERT_TRUE(forged.has_value());
  HttpsResponse bad = Staff("POST", "/v1/staff/policy?group=learners-under-18", "it", *forged,
                            "application/x-protobuf");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("policy refused: "), std::string::npos) << bad.body;
  ASSERT_EQ(Push(5).status, 200);
  HttpsResponse rollback = Push(4);
  EXPECT_EQ(rollback.status, 409);
  EXPECT_EQ(Push(6, "dsl").status, 403);
  EXPECT_EQ(Push(6, "viewer").status, 403);
  EXPECT_EQ(Staff("POST", "/v1/staff/policy", "it", "x").status, 400);
  auto latest = store_->LatestPolicy("learners-under-18");
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ((*latest)->version, 5u);
}

TEST_F(CollectorTest, StaffNeedAValidToken) {
  auto conn = Connect();
  auto r = conn->Request("GET", "/v1/staff/devices", "", {{"Authorization", "Bearer wst_no"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 401);
}

TEST_F(CollectorTest, ConcernsAreFullForTheDslRedactedForItHiddenFromViewersAndAudited) {
  const EnrolledDevice d = Enrol();
  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent("an older boy keeps messaging me");
  const std::string concern_id = batch.events(0).id();
  Upload(d, batch);
  Upload(d, batch);  // duplicate: no second alert
  ASSERT_EQ(alerter_.alerts().size(), 1u);
  EXPECT_EQ(alerter_.alerts()[0].concern_id, concern_id);
  EXPECT_TRUE(alerter_.alerts()[0].in_danger);

  HttpsResponse dsl = Staff("GET", "/v1/staff/concerns", "dsl");
  ASSERT_EQ(dsl.status, 200);
  EXPECT_NE(dsl.body.find("an older boy keeps messaging me"), std::string::npos);
  HttpsResponse it = Staff("GET", "/v1/staff/concerns", "it");
  ASSERT_EQ(it.status, 200);
  EXPECT_EQ(it.body.find("older boy"), std::string::npos);
  EXPECT_EQ(it.body.find("learner1"), std::string::npos);
  EXPECT_NE(it.body.find(concern_id), std::string::npos);
  EXPECT_EQ(Staff("GET", "/v1/staff/concerns", "viewer").status, 403);

  HttpsResponse one = Staff("GET", "/v1/staff/concerns/" + concern_id, "dsl");
  ASSERT_EQ(one.status, 200);
  auto obj = ParseJson(one.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(obj->getValue<std::string>("text"), "an older boy keeps messaging me");
  EXPECT_EQ(obj->getValue<std::string>("user"), "learner1");

  HttpsResponse events_it = Staff("GET", "/v1/staff/events", "it");
  ASSERT_EQ(events_it.status, 200);
  EXPECT_EQ(events_it.body.find("older boy"), std::string::npos);
  EXPECT_EQ(events_it.body.find("K7QF-2M9X"), std::string::npos);
  EXPECT_EQ(events_it.body.find(concern_id), std::string::npos);

  auto audit = store_->ListAudit(100);
  ASSERT_TRUE(audit.has_value());
  std::set<std::pair<std::string, std::string>> seen;
  for (const AuditEntry& a : *audit) {
    EXPECT_EQ(a.concern_id, concern_id);
    seen.insert({a.staff_name, a.action});
  }
  EXPECT_TRUE(seen.contains({"staff-dsl", "concern.list"}));
  EXPECT_TRUE(seen.contains({"staff-dsl", "concern.read"}));
  EXPECT_TRUE(seen.contains({"staff-it", "concern.list.redacted"}));
  EXPECT_FALSE(seen.contains({"staff-viewer", "concern.list"}));
}

// Issue 14, finding 5: every event list (all events, one device's events) as `role` over
// HTTPS, after a laptop sent a USB event and a concern with a screenshot. Returns the USB
// event's id and the concern's.
class ConcernListingTest : public CollectorTest {
 protected:
  void SetUp() override {
    CollectorTest::SetUp();
    device_ = Enrol();
    ward::v1::EventBatch batch;
    *batch.add_events() = UsbEvent();
    ward::v1::Event concern = ConcernEvent("an older boy keeps messaging me");
    concern.mutable_concern()->set_screenshot_png(std::string(kPng));
    *batch.add_events() = concern;
    usb_id_ = batch.events(0).id();
    concern_id_ = batch.events(1).id();
    ASSERT_EQ(Upload(device_, batch).acked_ids_size(), 2);
  }

  // Both lists as `role`: each answers 200 with the USB event, and the concern only for the
  // DSL (without its screenshot).
  void ExpectListings(const std::string& role, bool sees_concerns) {
    for (const std::string& path : {std::string("/v1/staff/events?limit=1000"),
                                    "/v1/staff/devices/" + device_.id + "/events?limit=500"}) {
      SCOPED_TRACE(role + " " + path);
      HttpsResponse r = Staff("GET", path, role);
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_NE(r.body.find(usb_id_), std::string::npos);
      EXPECT_EQ(r.body.find(concern_id_) != std::string::npos, sees_concerns) << r.body;
      EXPECT_EQ(r.body.find("K7QF-2M9X") != std::string::npos, sees_concerns);
      EXPECT_EQ(r.body.find("older boy") != std::string::npos, sees_concerns);
      EXPECT_EQ(r.body.find("screenshot_png"), std::string::npos);
      EXPECT_EQ(r.body.find("\"has_screenshot\":true") != std::string::npos, sees_concerns);
    }
    std::size_t audited = 0;
    auto audit = store_->ListAudit(100);
    ASSERT_TRUE(audit.has_value());
    for (const AuditEntry& a : *audit) {
      if (a.concern_id == concern_id_ && a.action == "concern.read.event") {
        EXPECT_EQ(a.staff_name, "staff-" + role);
        ++audited;
      }
    }
    EXPECT_EQ(audited, sees_concerns ? 2u : 0u);
  }

  static constexpr std::string_view kPng = "\x89PNG\r\n\x1a\n-a-learner's-screenshot";
  EnrolledDevice device_;
  std::string usb_id_;
  std::string concern_id_;
};

TEST_F(ConcernListingTest, Regression_Issue14_TheDslListsConcernEventsAndEachIsAudited) {
  ExpectListings("dsl", true);
}

TEST_F(ConcernListingTest, Regression_Issue14_ItListsNoConcernEvents) {
  ExpectListings("it", false);
}

TEST_F(ConcernListingTest, Regression_Issue14_ViewerListsNoConcernEvents) {
  ExpectListings("viewer", false);
}

TEST_F(ConcernListingTest, Regression_Issue14_MetricsListsNoEventsAtAll) {
  EXPECT_EQ(Staff("GET", "/v1/staff/events", "metrics").status, 403);
  EXPECT_EQ(Staff("GET", "/v1/staff/devices/" + device_.id + "/events", "metrics").status, 403);
}

// Issue 15: audit fails closed. With the store's audit log refusing inserts (a trigger put in
// by a second connection to the collector's SQLite file), every route that reads concerns
// answers 500 with a plain message and nothing of the concern; a status change is refused and
// leaves the concern as it was. Before, the concern was sent and the failed write only logged.
TEST_F(ConcernListingTest, Regression_Issue15_AFailedAuditWriteShowsNoConcern) {
  BreakAuditLog();
  const std::string concern = "/v1/staff/concerns/" + concern_id_;
  const std::vector<std::pair<std::string, std::string>> reads = {
      {"dsl", "/v1/staff/concerns"},
      {"dsl", "/v1/staff/concerns/urgent"},
      {"dsl", concern},
      {"dsl", concern + "/screenshot"},
      {"dsl", concern + "/log"},
      {"dsl", "/v1/staff/events?limit=1000"},
      {"dsl", "/v1/staff/devices/" + device_.id + "/events"},
      {"it", "/v1/staff/concerns"},
      {"it", concern},
  };
  for (const auto& [role, path] : reads) {
    SCOPED_TRACE(role + " " + path);
    HttpsResponse r = Staff("GET", path, role);
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("could not write to its audit log"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find(concern_id_), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("older boy"), std::string::npos);
    EXPECT_EQ(r.body.find("K7QF-2M9X"), std::string::npos);
    EXPECT_EQ(r.body.find("learner1"), std::string::npos);
    EXPECT_EQ(r.body.find("PNG"), std::string::npos);
  }
  // IT's event list holds no concern, so it needs no audit row and still works.
  EXPECT_EQ(Staff("GET", "/v1/staff/events", "it").status, 200);
  // Changes are refused whole: the status and the incident log stay as they were.
  EXPECT_EQ(Staff("POST", concern + "/status", "dsl", R"({"status": "closed"})").status, 500);
  EXPECT_EQ(Staff("POST", concern + "/notes", "dsl", R"({"text": "called home"})").status, 500);
  EXPECT_EQ(Staff("POST", concern + "/actions", "dsl",
                  R"({"kind": "referred-external", "text": "the police"})")
                .status,
            500);
  MendAuditLog();
  HttpsResponse after = Staff("GET", concern, "dsl");
  ASSERT_EQ(after.status, 200) << after.body;
  auto obj = ParseJson(after.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(obj->getValue<std::string>("status"), "new");
  EXPECT_EQ(obj->getArray("notes")->size(), 0u);
  auto audit = store_->ListAudit(100);
  ASSERT_TRUE(audit.has_value());
  EXPECT_EQ(audit->size(), 1u);  // the read just now
}

// Issue 15: a list wrote one audit row per concern. Now one request is one row naming every
// concern it returned, and /v1/staff/audit shows them all (`concern_ids`).
TEST_F(ConcernListingTest, Regression_Issue15_AListIsOneAuditRowNamingEveryConcern) {
  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent("two");
  *batch.add_events() = ConcernEvent("three");
  ASSERT_EQ(Upload(device_, batch).acked_ids_size(), 2);
  HttpsResponse list = Staff("GET", "/v1/staff/concerns", "dsl");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(ParseJson(list.body).extract<Poco::JSON::Array::Ptr>()->size(), 3u);
  HttpsResponse audit = Staff("GET", "/v1/staff/audit", "dsl");
  ASSERT_EQ(audit.status, 200);
  auto rows = ParseJson(audit.body).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(rows->size(), 1u) << audit.body;
  auto row = rows->getObject(0);
  EXPECT_EQ(row->getValue<std::string>("action"), "concern.list");
  EXPECT_EQ(row->getValue<std::string>("staff"), "staff-dsl");
  auto ids = row->getArray("concern_ids");
  ASSERT_EQ(ids->size(), 3u);
  std::set<std::string> named;
  for (std::size_t i = 0; i < ids->size(); ++i) {
    named.insert(ids->getElement<std::string>(static_cast<unsigned>(i)));
  }
  EXPECT_EQ(named,
            (std::set<std::string>{concern_id_, batch.events(0).id(), batch.events(1).id()}));
  EXPECT_EQ(row->getValue<std::string>("concern_id"), ids->getElement<std::string>(0));
}

// Issue 14, finding 3: the screenshot leaves only through its own call, to the DSL, audited;
// reading the concern says whether there is one but does not carry it.
TEST_F(ConcernListingTest, Regression_Issue14_TheScreenshotIsItsOwnAuditedCallForTheDsl) {
  HttpsResponse one = Staff("GET", "/v1/staff/concerns/" + concern_id_, "dsl");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body.find("screenshot_png"), std::string::npos);
  EXPECT_TRUE(
      ParseJson(one.body).extract<Poco::JSON::Object::Ptr>()->getValue<bool>("has_screenshot"));
  const std::string path = "/v1/staff/concerns/" + concern_id_ + "/screenshot";
  EXPECT_EQ(Staff("GET", path, "it").status, 403);
  EXPECT_EQ(Staff("GET", path, "viewer").status, 403);
  HttpsResponse shot = Staff("GET", path, "dsl");
  ASSERT_EQ(shot.status, 200);
  EXPECT_EQ(shot.headers["content-type"], "image/png");
  EXPECT_EQ(shot.body, kPng);
  auto audit = store_->ListAudit(100);
  ASSERT_TRUE(audit.has_value());
  EXPECT_TRUE(std::ranges::any_of(*audit, [&](const AuditEntry& a) {
    return a.action == "concern.screenshot" && a.staff_name == "staff-dsl" &&
           a.concern_id == concern_id_;
  }));
  // A concern without a screenshot: 404 with a plain reason.
  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent("no picture");
  Upload(device_, batch);
  HttpsResponse none =
      Staff("GET", "/v1/staff/concerns/" + batch.events(0).id() + "/screenshot", "dsl");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("no screenshot"), std::string::npos);
}

// Issue 14, finding 3: past its quota a laptop's concerns are left with its agent (not
// acknowledged, not rejected: the agent keeps them and sends them again), with a plain 429
// when nothing else could be stored; a concern marked "in danger now" is always taken.
TEST_F(CollectorTest, Regression_Issue14_ConcernsPastTheQuotaStayWithTheAgentUrgentOnesNever) {
  CollectorOptions options;
  options.concern_quota_per_hour = 2;
  StartWith(options);
  const EnrolledDevice d = Enrol();
  auto calm = [&](const std::string& text) {
    ward::v1::Event e = ConcernEvent(text);
    e.mutable_concern()->set_in_danger(false);
    return e;
  };
  ward::v1::EventBatch batch;
  *batch.add_events() = calm("one");
  *batch.add_events() = UsbEvent();
  *batch.add_events() = calm("two");
  *batch.add_events() = calm("three");
  const std::string third = batch.events(3).id();
  ward::v1::EventBatchAck ack = Upload(d, batch);
  ASSERT_EQ(ack.acked_ids_size(), 3);
  EXPECT_EQ(ack.rejected_size(), 0);
  for (const std::string& id : ack.acked_ids()) {
    EXPECT_NE(id, third);
  }
  EXPECT_EQ(store_->GetConcern(third, testing::kTestRead).error().code(), ErrorCode::kNotFound);

  // Sent again alone: a plain, kind 429 and Retry-After; nothing is lost or rejected.
  ward::v1::EventBatch again;
  *again.add_events() = batch.events(3);
  HttpsResponse r = Post("/v1/events", again.SerializeAsString(), d.Bearer());
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "30");
  EXPECT_NE(ErrorOf(r).message().find("kept safe on the laptop"), std::string::npos)
      << ErrorOf(r).message();

  // In danger now: taken at once, alone or beside the deferred one.
  ward::v1::EventBatch urgent;
  *urgent.add_events() = ConcernEvent("please help now");
  ack = Upload(d, urgent);
  ASSERT_EQ(ack.acked_ids_size(), 1);
  EXPECT_TRUE(store_->GetConcern(urgent.events(0).id(), testing::kTestRead).has_value());
  ward::v1::EventBatch mixed;
  *mixed.add_events() = batch.events(3);
  *mixed.add_events() = ConcernEvent("still in danger");
  ack = Upload(d, mixed);
  ASSERT_EQ(ack.acked_ids_size(), 1);
  EXPECT_EQ(ack.acked_ids(0), mixed.events(1).id());
  EXPECT_EQ(alerter_.alerts().size(), 4u);  // one, two and the two urgent ones
  auto metrics = Staff("GET", "/metrics", "metrics");
  EXPECT_NE(metrics.body.find("ward_collector_concerns_deferred_total 3"), std::string::npos)
      << metrics.body;
}

TEST_F(CollectorTest, OnlyTheDslKeepsTheIncidentLog) {
  const EnrolledDevice d = Enrol();
  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent("help");
  const std::string id = batch.events(0).id();
  Upload(d, batch);
  EXPECT_EQ(
      Staff("POST", "/v1/staff/concerns/" + id + "/status", "it", R"({"status":"closed"})").status,
      403);
  EXPECT_EQ(Staff("POST", "/v1/staff/concerns/" + id + "/status", "dsl", R"({"status":"referred"})")
                .status,
            200);
  EXPECT_EQ(
      Staff("POST", "/v1/staff/concerns/" + id + "/status", "dsl", R"({"status":"gone"})").status,
      400);
  EXPECT_EQ(Staff("POST", "/v1/staff/concerns/" + id + "/notes", "dsl", R"({"text":"called home"})")
                .status,
            200);
  EXPECT_EQ(Staff("POST", "/v1/staff/concerns/" + id + "/notes", "dsl", "{not json").status, 400);
  auto concern = store_->GetConcern(id, testing::kTestRead);
  ASSERT_TRUE(concern.has_value());
  EXPECT_EQ(concern->status, ConcernStatus::kReferred);
  auto notes = store_->ListConcernNotes(id);
  ASSERT_TRUE(notes.has_value());
  ASSERT_EQ(notes->size(), 2u);  // the status change is part of the incident log
  EXPECT_EQ((*notes)[0].text, "status set to referred");
  EXPECT_EQ((*notes)[0].author, "staff-dsl");
  EXPECT_EQ((*notes)[1].text, "called home");
  EXPECT_EQ((*notes)[1].author, "staff-dsl");
  HttpsResponse audit = Staff("GET", "/v1/staff/audit", "dsl");
  EXPECT_NE(audit.body.find("concern.note"), std::string::npos);
  EXPECT_EQ(Staff("GET", "/v1/staff/audit", "it").status, 403);
}

TEST_F(CollectorTest, DevicesAndMetricsAreListed) {
  const EnrolledDevice d = Enrol();
  HttpsResponse devices = Staff("GET", "/v1/staff/devices", "viewer");
  ASSERT_EQ(devices.status, 200);
  auto arr = ParseJson(devices.body).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(arr->size(), 1u);
  EXPECT_EQ(arr->getObject(0)->getValue<std::string>("id"), d.id);
  HttpsResponse m = Staff("GET", "/metrics", "metrics");
  EXPECT_NE(m.body.find("ward_collector_requests_total{endpoint=\"/v1/enrol\",status=\"200\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("# TYPE ward_collector_long_polls_waiting gauge"), std::string::npos);
}

// Issue 14, finding 9: /metrics was public and counted concerns as they arrived.
TEST_F(CollectorTest, Regression_Issue14_MetricsNeedATokenAndNoPublicRouteCountsConcerns) {
  const EnrolledDevice d = Enrol();
  ward::v1::EventBatch batch;
  *batch.add_events() = ConcernEvent("please help");
  Upload(d, batch);

  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto anonymous = conn->Request("GET", "/metrics");
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->body.find("ward_collector_"), std::string::npos) << anonymous->body;
  // A device credential is not a staff token.
  auto device = conn->Request("GET", "/metrics", "", {{"Authorization", d.Bearer()}});
  ASSERT_TRUE(device.has_value());
  EXPECT_EQ(device->status, 401);
  // Staff whose role has no business with operations figures.
  for (const char* role : {"viewer", "dsl"}) {
    HttpsResponse r = Staff("GET", "/metrics", role);
    EXPECT_EQ(r.status, 403) << role;
    EXPECT_EQ(r.body.find("ward_collector_"), std::string::npos) << role << ": " << r.body;
  }
  for (const char* role : {"metrics", "it"}) {
    HttpsResponse r = Staff("GET", "/metrics", role);
    EXPECT_EQ(r.status, 200) << role;
    EXPECT_NE(r.body.find("ward_collector_concerns_new_total 1\n"), std::string::npos) << r.body;
  }
  // The metrics token opens /metrics and nothing else.
  EXPECT_EQ(Staff("GET", "/v1/staff/devices", "metrics").status, 403);
  EXPECT_EQ(Staff("GET", "/v1/staff/concerns", "metrics").status, 403);

  // No public route says anything derived from concerns, before or after one arrived.
  for (const char* path : {"/healthz", "/metrics"}) {
    auto r = conn->Request("GET", path);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body.find("concern"), std::string::npos) << path << ": " << r->body;
    EXPECT_EQ(r->body.find("alert"), std::string::npos) << path << ": " << r->body;
  }
}

TEST_F(CollectorTest, RequestWithoutContentLengthFramingIsRefused) {
  auto conn = Connect();
  ASSERT_TRUE(
      conn->WriteRaw("POST /v1/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").has_value());
  auto r = conn->ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 411);
  auto garbage = Connect();
  ASSERT_TRUE(garbage->WriteRaw("HELLO\r\n\r\n").has_value());
  auto g = garbage->ReadResponse();
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->status, 400);
}

// Two collectors share one PostgreSQL: a push through one wakes long-polls held by the other.
TEST(CollectorPostgresTest, PushOnOneCollectorWakesLongPollsOnAnother) {
  auto pg = testing::PostgresServer::Start();
  ASSERT_TRUE(pg.has_value()) << pg.error().ToString();
  auto conninfo = (*pg)->CreateDatabase("two_collectors");
  ASSERT_TRUE(conninfo.has_value());

  testing::TempDir dir;
  auto pki = testing::CreateTestPki(dir.path());
  ASSERT_TRUE(pki.has_value());
  auto store_a = OpenPostgresStorage(*conninfo);
  auto store_b = OpenPostgresStorage(*conninfo);
  ASSERT_TRUE(store_a.has_value() && store_b.has_value());
  auto signer = testing::PolicySigner::Generate();
  ASSERT_TRUE(signer.has_value());
  ASSERT_TRUE((*store_a)->CreateGroup({"g", (*signer)->public_key_hex()}).has_value());
  const std::string secret = NewSecret("wes_");
  ASSERT_TRUE((*store_a)->AddEnrolmentSecret(HashSecret(secret), "g", 1).has_value());
  const std::string token = NewSecret("wst_");
  ASSERT_TRUE((*store_a)->CreateStaffToken("it", StaffRole::kIt, HashSecret(token), 1));
  const std::string metrics_token = NewSecret("wst_");
  ASSERT_TRUE((*store_a)->CreateStaffToken("prometheus", StaffRole::kMetrics,
                                           HashSecret(metrics_token), 1));

  CollectorOptions o;
  o.port = 0;
  o.tls_cert = pki->server_cert;
  o.tls_key = pki->server_key;
  RecordingAlerter alerter;
  auto a = Collector::Start(o, **store_a, alerter, SystemClock());
  auto b = Collector::Start(o, **store_b, alerter, SystemClock());
  ASSERT_TRUE(a.has_value() && b.has_value());
  auto tls = testing::TlsClientContext::Create(pki->ca_cert);
  ASSERT_TRUE(tls.has_value());

  ward::v1::EnrolRequest enrol;
  enrol.set_enrolment_secret(secret);
  auto conn_b = HttpsConnection::Connect(*tls, (*b)->port());
  ASSERT_TRUE(conn_b.has_value());
  auto er = (*conn_b)->Request("POST", "/v1/enrol", enrol.SerializeAsString());
  ASSERT_TRUE(er.has_value());
  ward::v1::EnrolResponse device;
  ASSERT_TRUE(device.ParseFromString(er->body));

  auto poll = std::async(std::launch::async, [&] {
    ward::v1::PolicyFetchRequest req;
    req.set_wait_seconds(30);
    auto r = (*conn_b)->Request(
        "POST", "/v1/policy", req.SerializeAsString(),
        {{"Authorization", "Bearer " + device.device_id() + "." + device.credential()}});
    ward::v1::PolicyFetchResponse out;
    if (r.has_value()) {
      out.ParseFromString(r->body);
    }
    return out;
  });
  // Wait until the poll is parked on B, so the wake-up can only come through NOTIFY.
  auto metrics_b = HttpsConnection::Connect(*tls, (*b)->port());
  ASSERT_TRUE(metrics_b.has_value());
  bool parked = false;
  for (int i = 0; i < 400 && !parked; ++i) {
    auto m = (*metrics_b)
                 ->Request("GET", "/metrics", "", {{"Authorization", "Bearer " + metrics_token}});
    ASSERT_TRUE(m.has_value());
    parked = m->body.find("ward_collector_long_polls_waiting 1\n") != std::string::npos;
    if (!parked) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ASSERT_TRUE(parked);
  auto policy = (*signer)->SignedPolicyBytes(1);
  ASSERT_TRUE(policy.has_value());
  auto conn_a = HttpsConnection::Connect(*tls, (*a)->port());
  ASSERT_TRUE(conn_a.has_value());
  auto pushed = (*conn_a)->Request("POST", "/v1/staff/policy?group=g", *policy,
                                   {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(pushed.has_value());
  ASSERT_EQ(pushed->status, 200) << pushed->body;
  auto r = poll.get();
  EXPECT_TRUE(r.has_policy());
  EXPECT_EQ(r.latest_version(), 1u);
  (*a)->Stop();
  (*b)->Stop();
}

// A laptop for the retention tests, stored directly, last seen at `last_seen_ms`.
DeviceRecord RetentionLaptop(const std::string& id, std::int64_t last_seen_ms) {
  DeviceRecord d;
  d.id = id;
  d.group = "learners-under-18";
  d.hostname = id;
  d.last_seen_ms = last_seen_ms;
  return d;
}

EventRow Telemetry(const std::string& id, const std::string& kind = "usb") {
  EventRow e;
  e.id = id;
  e.kind = kind;
  e.body = "x";
  return e;
}

const std::string kOldLaptop = "0190f3a0-1b2c-7d3e-8f40-000000000017";

// `o` with the retention job on: one record per transaction, `pause` between two.
CollectorOptions WithRetention(CollectorOptions o, std::chrono::milliseconds pause) {
  o.retention_interval = std::chrono::hours(24);
  o.retention_batch_rows = 1;
  o.retention_pause = pause;
  return o;
}

std::int64_t NowMsOf(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

// Issue 17: the retention job runs at start by the collector's clock, deletes in batches, and
// /metrics and the audit log show what it deleted; devices not seen for 90 days are counted,
// not deleted.
TEST_F(CollectorTest, RetentionJobRunsAtStartAndShowsWhatItDeleted) {
  ManualClock clock;
  constexpr std::int64_t kDay = RetentionLimits::kDayMs;
  const std::int64_t now_ms = NowMsOf(clock);
  const DeviceRecord device = RetentionLaptop(kOldLaptop, now_ms - 90 * kDay);
  ASSERT_TRUE(store_->PutDevice(device).has_value());
  std::vector<EventRow> old = {Telemetry("e1"), Telemetry("e2", "exec")};
  ASSERT_TRUE(store_->IngestEvents(device.id, old, now_ms - 90 * kDay).has_value());
  std::vector<EventRow> young = {Telemetry("e3")};
  ASSERT_TRUE(store_->IngestEvents(device.id, young, now_ms - 90 * kDay + 1).has_value());
  ASSERT_TRUE(store_->PutDevice(device).has_value());  // last seen 90 days ago after all
  ASSERT_TRUE(
      store_->AppendAudit({now_ms - 6 * 365 * kDay, "Ms Patel", "concern.read", "c1"}).has_value());

  auto running = Collector::Start(WithRetention(options_, std::chrono::milliseconds(1)), *store_,
                                  alerter_, clock);
  ASSERT_TRUE(running.has_value()) << running.error().ToString();
  std::string metrics;
  for (int i = 0; i < 200; ++i) {
    auto conn = Connect((*running)->port());
    ASSERT_NE(conn, nullptr);
    auto r =
        conn->Request("GET", "/metrics", "", {{"Authorization", "Bearer " + tokens_["metrics"]}});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    metrics = r->body;
    if (metrics.find("ward_collector_retention_deleted_total{class=\"audit\"} 1") !=
        std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (const char* line : {"ward_collector_retention_deleted_total{class=\"telemetry\"} 2",
                           "ward_collector_retention_deleted_total{class=\"aup\"} 0",
                           "ward_collector_retention_deleted_total{class=\"concerns\"} 0",
                           "ward_collector_retention_deleted_total{class=\"audit\"} 1",
                           "ward_collector_devices_unseen 1"}) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line << " in\n" << metrics;
  }
  EXPECT_EQ(*store_->CountEvents(), 1u);
  EXPECT_EQ(store_->ListDevices()->size(), 1u);
  auto audit = store_->ListAudit(10);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 1u);  // the run's own row; the expired one is gone
  EXPECT_EQ(audit->front().staff_name, "ward-collector");
  EXPECT_EQ(audit->front().action, "retention.run");
  EXPECT_EQ(audit->front().concern_id, "telemetry=2 aup=0 concerns=0 audit=1");
  EXPECT_EQ(audit->front().at_ms, now_ms);
  // The devices listing flags the laptop too.
  auto conn = Connect((*running)->port());
  ASSERT_NE(conn, nullptr);
  auto listed = conn->Request("GET", "/v1/staff/devices/" + kOldLaptop, "",
                              {{"Authorization", "Bearer " + tokens_["it"]}});
  ASSERT_TRUE(listed.has_value()) << listed.error().ToString();
  ASSERT_EQ(listed->status, 200) << listed->body;
  EXPECT_TRUE(ParseJson(listed->body).extract<Poco::JSON::Object::Ptr>()->getValue<bool>("unseen"));
  (*running)->Stop();
}

// The job stops between two batches when the collector stops, and records what it did.
TEST_F(CollectorTest, RetentionJobStopsPromptlyBetweenBatches) {
  ManualClock clock;
  const std::int64_t now_ms = NowMsOf(clock);
  const DeviceRecord device = RetentionLaptop("laptop", now_ms);
  ASSERT_TRUE(store_->PutDevice(device).has_value());
  std::vector<EventRow> old = {Telemetry("e1"), Telemetry("e2"), Telemetry("e3")};
  ASSERT_TRUE(
      store_->IngestEvents(device.id, old, now_ms - 100 * RetentionLimits::kDayMs).has_value());
  auto running =
      Collector::Start(WithRetention(options_, std::chrono::hours(1)), *store_, alerter_, clock);
  ASSERT_TRUE(running.has_value()) << running.error().ToString();
  for (int i = 0; i < 200 && *store_->CountEvents() == 3u; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto start = std::chrono::steady_clock::now();
  (*running)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(*store_->CountEvents(), 2u);
  auto audit = store_->ListAudit(10);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(audit->front().concern_id, "telemetry=1 aup=0 concerns=0 audit=0");
}

// Subject access (docs/adr/0015): the DSL's pages of one person's records, each audited.
class SubjectApiTest : public ConcernListingTest {
 protected:
  void SetUp() override {
    ConcernListingTest::SetUp();
    ward::v1::EventBatch batch;
    ward::v1::Event usb = UsbEvent();
    usb.set_user("learner1");
    ward::v1::Event aup = UsbEvent();
    aup.set_user("learner1");
    aup.mutable_aup()->set_aup_version(3);
    ward::v1::Event other = UsbEvent();
    other.set_user("learner2");
    *batch.add_events() = usb;
    *batch.add_events() = aup;
    *batch.add_events() = other;
    learner_usb_id_ = usb.id();
    aup_id_ = aup.id();
    other_id_ = other.id();
    ASSERT_EQ(Upload(device_, batch).acked_ids_size(), 3);
    ASSERT_EQ(Staff("POST", "/v1/staff/concerns/" + concern_id_ + "/notes", "dsl",
                    R"({"text": "spoke to the learner"})")
                  .status,
              200);
  }

  static constexpr const char* kPages[] = {"events", "aup", "concerns", "devices", "screenshot"};
  std::string Body(const std::string& extra = "") const {
    return R"({"account": "learner1", "concern_id": ")" + concern_id_ + "\"" + extra + "}";
  }

  std::string learner_usb_id_;
  std::string aup_id_;
  std::string other_id_;
};

TEST_F(SubjectApiTest, DslGetsEachPartOfOnePersonsRecordsEachPageAudited) {
  auto before = store_->ListAudit(1000);
  ASSERT_TRUE(before.has_value());
  HttpsResponse events = Staff("POST", "/v1/staff/subject/events", "dsl", Body());
  ASSERT_EQ(events.status, 200) << events.body;
  auto list = ParseJson(events.body).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(list->size(), 1u) << events.body;  // not the concern, the AUP or learner2's
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("id"), learner_usb_id_);
  EXPECT_EQ(list->getObject(0)->getObject("event")->getValue<std::string>("user"), "learner1");
  HttpsResponse aup = Staff("POST", "/v1/staff/subject/aup", "dsl", Body());
  ASSERT_EQ(aup.status, 200) << aup.body;
  list = ParseJson(aup.body).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("id"), aup_id_);
  HttpsResponse concerns = Staff("POST", "/v1/staff/subject/concerns", "dsl", Body());
  ASSERT_EQ(concerns.status, 200) << concerns.body;
  list = ParseJson(concerns.body).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(list->size(), 1u);
  auto concern = list->getObject(0);
  EXPECT_EQ(concern->getValue<std::string>("id"), concern_id_);
  EXPECT_EQ(concern->getValue<std::string>("text"), "an older boy keeps messaging me");
  EXPECT_TRUE(concern->getValue<bool>("review_before_release"));
  EXPECT_TRUE(concern->getValue<bool>("has_screenshot"));
  ASSERT_EQ(concern->getArray("incident_log")->size(), 1u);
  EXPECT_EQ(concern->getArray("incident_log")->getObject(0)->getValue<std::string>("text"),
            "spoke to the learner");
  HttpsResponse devices = Staff("POST", "/v1/staff/subject/devices", "dsl", Body());
  ASSERT_EQ(devices.status, 200) << devices.body;
  list = ParseJson(devices.body).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("id"), device_.id);
  EXPECT_EQ(list->getObject(0)->getValue<std::uint64_t>("events"), 3u);  // concern, usb, aup
  HttpsResponse shot = Staff("POST", "/v1/staff/subject/screenshot", "dsl", Body());
  ASSERT_EQ(shot.status, 200) << shot.body;
  EXPECT_EQ(shot.body, std::string(kPng));
  // Another person's name finds none of it.
  HttpsResponse none =
      Staff("POST", "/v1/staff/subject/concerns", "dsl", R"({"account": "learner2"})");
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(ParseJson(none.body).extract<Poco::JSON::Array::Ptr>()->size(), 0u);
  EXPECT_EQ(Staff("POST", "/v1/staff/subject/screenshot", "dsl",
                  R"({"account": "learner2", "concern_id": ")" + concern_id_ + "\"}")
                .status,
            404);

  // One row per request (the refused screenshot none), naming the hash, never the name.
  auto after = store_->ListAudit(1000);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size() - before->size(), 6u);
  const std::string hash = "account:" + *store_->AccountHash("learner1");
  for (std::size_t i = 1; i < 6; ++i) {
    const AuditEntry& row = (*after)[i];
    EXPECT_EQ(row.action, "subject.export");
    EXPECT_EQ(row.staff_name, "staff-dsl");
    EXPECT_EQ(row.concern_id, hash);
  }
  EXPECT_EQ((*after)[0].concern_id, "account:" + *store_->AccountHash("learner2"));
  EXPECT_EQ((*after)[3].concern_ids,
            (std::vector<std::string>{hash, "page:concerns", concern_id_}));
  HttpsResponse log = Staff("GET", "/v1/staff/audit", "dsl");
  EXPECT_EQ(log.body.find("learner1"), std::string::npos) << log.body;
}

TEST_F(SubjectApiTest, FiltersAndBadRequestsGetClearAnswers) {
  HttpsResponse on_other = Staff("POST", "/v1/staff/subject/events", "dsl",
                                 Body(R"(, "device": "00000000-0000-7000-8000-000000000000")"));
  ASSERT_EQ(on_other.status, 200);
  EXPECT_EQ(ParseJson(on_other.body).extract<Poco::JSON::Array::Ptr>()->size(), 0u);
  HttpsResponse future =
      Staff("POST", "/v1/staff/subject/events", "dsl", Body(R"(, "from_ms": 32503680000000)"));
  ASSERT_EQ(future.status, 200);
  EXPECT_EQ(ParseJson(future.body).extract<Poco::JSON::Array::Ptr>()->size(), 0u);
  for (const char* page : kPages) {
    SCOPED_TRACE(page);
    const std::string path = std::string("/v1/staff/subject/") + page;
    HttpsResponse no_account = Staff("POST", path, "dsl", "{}");
    EXPECT_EQ(no_account.status, 400);
    EXPECT_NE(no_account.body.find("account"), std::string::npos) << no_account.body;
    EXPECT_EQ(Staff("POST", path, "dsl", Body(R"(, "from_ms": 5, "to_ms": 5)")).status, 400);
    EXPECT_EQ(Staff("POST", path, "dsl", "not json").status, 400);
    EXPECT_EQ(Staff("GET", path, "dsl").status, 405);
  }
}

TEST_F(SubjectApiTest, OnlyTheDslMayExport) {
  for (const char* page : kPages) {
    for (const char* role : {"it", "viewer", "metrics"}) {
      SCOPED_TRACE(std::string(page) + " as " + role);
      HttpsResponse r = Staff("POST", std::string("/v1/staff/subject/") + page, role, Body());
      EXPECT_EQ(r.status, 403);
      EXPECT_EQ(r.body.find("older boy"), std::string::npos);
    }
  }
}

// Fails closed: with the audit log refusing inserts (a trigger put in by a second connection),
// every page answers 500 and nothing of the person's records.
TEST_F(SubjectApiTest, AFailedAuditWriteRefusesEveryExportPage) {
  BreakAuditLog();
  for (const char* page : kPages) {
    SCOPED_TRACE(page);
    HttpsResponse r = Staff("POST", std::string("/v1/staff/subject/") + page, "dsl", Body());
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("could not write to its audit log"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("older boy"), std::string::npos);
    EXPECT_EQ(r.body.find(learner_usb_id_), std::string::npos);
    EXPECT_EQ(r.body.find(device_.id), std::string::npos);
    EXPECT_EQ(r.body.find("PNG"), std::string::npos);
  }
  MendAuditLog();
  EXPECT_EQ(Staff("POST", "/v1/staff/subject/events", "dsl", Body()).status, 200);
}

}  // namespace
}  // namespace ward::collector
