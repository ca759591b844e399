// SPDX-License-Identifier: Apache-2.0
// The staff console's server side on loopback (real TLS, real SQLite): its files and headers,
// sign-in and the session cookie, the CSRF token, session expiry and revocation, the inbox
// long-poll, and the staff API calls its pages make. The browser tests (tests/console) drive
// the same through Chromium.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <future>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "ward/collector/server/collector.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector {
namespace {

using testing::HttpsConnection;
using testing::HttpsResponse;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kImportMap = R"({"imports":{"preact":"/console/vendor/p.mjs"}})";

Poco::JSON::Object::Ptr Object(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}
Poco::JSON::Array::Ptr Array(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
}

std::string Sha256Base64(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(), nullptr);
  std::array<unsigned char, 64> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(len));
  return {reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n)};
}

// A signed-in browser: its cookie and the session's CSRF token.
struct Browser {
  std::string cookie;  // "__Host-ward_session=..."
  std::string csrf;
  Headers Get() const { return {{"Cookie", cookie}}; }
  Headers Change() const { return {{"Cookie", cookie}, {"X-Ward-CSRF", csrf}}; }
};

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() / "www" / "lib");
    std::ofstream(dir_.path() / "www" / "index.html")
        << "<!doctype html><title>t</title><script type=\"importmap\">" << kImportMap
        << "</script><script type=\"module\" src=\"/console/app.mjs\"></script>";
    std::ofstream(dir_.path() / "www" / "app.mjs") << "export {};\n";
    std::ofstream(dir_.path() / "www" / "lib" / "x.css") << "p{}\n";
    std::ofstream(dir_.path() / "secret.txt") << "outside the console\n";
    CollectorOptions o;
    o.console = true;
    o.console_dir = dir_.path() / "www";
    o.console_idle = std::chrono::seconds(60);
    o.console_session_max = std::chrono::seconds(600);
    Start(o);
  }

  // `real_clock`: the system's clocks instead of the manual one (the HTTP server times parked
  // long-polls by the real steady clock).
  void Start(CollectorOptions options, bool real_clock = false) {
    collector_.reset();
    store_.reset();
    auto pki = testing::CreateTestPki(dir_.path());
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    auto store =
        OpenSqliteStorage((dir_.path() / ("c" + std::to_string(++starts_) + ".db")).string());
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    auto signer = testing::PolicySigner::Generate();
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(*signer);
    auto site = testing::SeedTestSite(*store_, "learners-under-18", signer_->public_key_hex());
    ASSERT_TRUE(site.has_value()) << site.error().ToString();
    secret_ = site->enrolment_secret;
    tokens_ = site->tokens;
    options.port = 0;
    options.tls_cert = pki->server_cert;
    options.tls_key = pki->server_key;
    auto c = Collector::Start(options, *store_, alerter_,
                              real_clock ? static_cast<const Clock&>(SystemClock()) : clock_);
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    collector_ = std::move(*c);
    auto tls = testing::TlsClientContext::Create(pki->ca_cert);
    ASSERT_TRUE(tls.has_value());
    tls_ = *tls;
  }

  HttpsResponse Send(const std::string& method, const std::string& path, const Headers& headers,
                     const std::string& body = "",
                     const std::string& content_type = "application/json") {
    auto conn = HttpsConnection::Connect(tls_, collector_->port());
    EXPECT_TRUE(conn.has_value());
    if (!conn.has_value()) {
      return {};
    }
    auto r = (*conn)->Request(method, path, body, headers, content_type);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(HttpsResponse{});
  }

  HttpsResponse SignInRaw(const std::string& token, const Headers& headers = {}) {
    return Send("POST", "/v1/staff/session", headers, "{\"token\": \"" + token + "\"}");
  }

  Browser SignIn(const std::string& role) {
    HttpsResponse r = SignInRaw(tokens_[role]);
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string set_cookie = r.headers["set-cookie"];
    Browser b;
    b.cookie = set_cookie.substr(0, set_cookie.find(';'));
    b.csrf = Object(r.body)->getValue<std::string>("csrf_token");
    return b;
  }

  HttpsResponse Bearer(const std::string& method, const std::string& path, const std::string& role,
                       const std::string& body = "", const std::string& type = "application/json") {
    return Send(method, path, {{"Authorization", "Bearer " + tokens_[role]}}, body, type);
  }

  // Enrols a laptop and uploads one concern from it; returns the concern's id.
  std::string UploadConcern(const std::string& text, bool in_danger = false) {
    if (device_.empty()) {
      ward::v1::EnrolRequest req;
      req.set_enrolment_secret(secret_);
      req.set_hostname("laptop-7");
      req.set_os("debian 12");
      req.set_machine_hash(NewSecret());
      HttpsResponse r =
          Send("POST", "/v1/enrol", {}, req.SerializeAsString(), "application/x-protobuf");
      EXPECT_EQ(r.status, 200);
      ward::v1::EnrolResponse out;
      EXPECT_TRUE(out.ParseFromString(r.body));
      device_ = out.device_id();
      device_auth_ = "Bearer " + out.device_id() + "." + out.credential();
    }
    ward::v1::EventBatch batch;
    ward::v1::Event* e = batch.add_events();
    e->set_id(ids_.Next().ToString());
    e->set_priority(ward::v1::PRIORITY_CRITICAL);
    e->set_user("learner1");
    e->mutable_concern()->set_reference("K7QF-2M9X");
    e->mutable_concern()->set_category(ward::v1::CONCERN_CATEGORY_BULLYING);
    e->mutable_concern()->set_text(text);
    e->mutable_concern()->set_in_danger(in_danger);
    HttpsResponse r = Send("POST", "/v1/events", {{"Authorization", device_auth_}},
                           batch.SerializeAsString(), "application/x-protobuf");
    EXPECT_EQ(r.status, 200) << r.body;
    return e->id();
  }

  testing::TempDir dir_;
  ManualClock clock_{std::chrono::system_clock::now()};
  int starts_ = 0;
  std::unique_ptr<Storage> store_;
  std::unique_ptr<testing::PolicySigner> signer_;
  std::string secret_;
  std::map<std::string, std::string> tokens_;
  LogConcernAlerter alerter_;
  std::unique_ptr<Collector> collector_;
  std::shared_ptr<testing::TlsClientContext> tls_;
  std::string device_;
  std::string device_auth_;
  UuidV7Generator ids_{SystemClock(), SystemRandom()};
};

TEST_F(ConsoleTest, ServesItsFilesWithAStrictContentSecurityPolicy) {
  for (const char* path : {"/console", "/console/"}) {
    HttpsResponse page = Send("GET", path, {});
    ASSERT_EQ(page.status, 200) << path;
    EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
    EXPECT_NE(page.body.find("importmap"), std::string::npos);
    const std::string& csp = page.headers["content-security-policy"];
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    // The import map, and nothing else inline, by its hash.
    EXPECT_NE(csp.find("script-src 'self' 'sha256-" + Sha256Base64(kImportMap) + "';"),
              std::string::npos)
        << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
    EXPECT_EQ(page.headers["referrer-policy"], "no-referrer");
    EXPECT_EQ(page.headers["x-frame-options"], "DENY");
  }
  HttpsResponse script = Send("GET", "/console/app.mjs", {});
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(Send("GET", "/console/lib/x.css", {}).headers["content-type"],
            "text/css; charset=utf-8");
  // Only the console's own files: nothing beside or above its directory.
  EXPECT_EQ(Send("GET", "/console/nope.mjs", {}).status, 404);
  EXPECT_EQ(Send("GET", "/console/../secret.txt", {}).status, 404);
  EXPECT_EQ(Send("GET", "/console/%2e%2e/secret.txt", {}).status, 404);
  EXPECT_EQ(Send("GET", "/console/lib//x.css", {}).status, 404);
  // A staff answer is never cached and runs nothing.
  HttpsResponse api = Bearer("GET", "/v1/staff/devices", "it");
  EXPECT_EQ(api.status, 200);
  EXPECT_EQ(api.headers["cache-control"], "no-store");
  EXPECT_EQ(api.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(api.headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
}

TEST_F(ConsoleTest, StaysOffUnlessTurnedOn) {
  Start(CollectorOptions{});
  EXPECT_EQ(Send("GET", "/console/", {}).status, 404);
  EXPECT_EQ(SignInRaw(tokens_["dsl"]).status, 404);
}

TEST_F(ConsoleTest, ATokenIsExchangedOnceForASecureHttpOnlyStrictCookie) {
  HttpsResponse r = SignInRaw(tokens_["dsl"]);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string& cookie = r.headers["set-cookie"];
  EXPECT_TRUE(cookie.starts_with("__Host-ward_session=wcs_")) << cookie;
  for (const char* attribute : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict"}) {
    EXPECT_NE(cookie.find(attribute), std::string::npos) << attribute << " in " << cookie;
  }
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  auto body = Object(r.body);
  EXPECT_EQ(body->getValue<std::string>("name"), "staff-dsl");
  EXPECT_EQ(body->getValue<std::string>("role"), "dsl");
  EXPECT_EQ(body->getValue<std::string>("csrf_token").size(), 64u);
  EXPECT_EQ(r.body.find(tokens_["dsl"]), std::string::npos);
  // Only a hash of the session id is stored.
  const std::string id =
      cookie.substr(cookie.find('=') + 1, cookie.find(';') - cookie.find('=') - 1);
  std::string bytes;
  for (const char* file : {"c1.db", "c1.db-wal"}) {
    std::ifstream db(dir_.path() / file, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(db), std::istreambuf_iterator<char>());
  }
  EXPECT_NE(bytes.find(HashSecret(id)), std::string::npos);
  EXPECT_EQ(bytes.find(id), std::string::npos);

  Browser b = SignIn("dsl");
  HttpsResponse me = Send("GET", "/v1/staff/session", b.Get());
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Object(me.body)->getValue<std::string>("csrf_token"), b.csrf);
  EXPECT_EQ(Send("GET", "/v1/staff/concerns", b.Get()).status, 200);
}

TEST_F(ConsoleTest, WrongTokensFormsAndOtherOriginsCannotSignIn) {
  EXPECT_EQ(SignInRaw("wst_nope").status, 401);
  ASSERT_TRUE(store_->RevokeStaffToken("staff-it").has_value());
  EXPECT_EQ(SignInRaw(tokens_["it"]).status, 401);
  // An HTML form on another site can post only form encodings, and a browser says where from.
  EXPECT_EQ(Send("POST", "/v1/staff/session", {}, "token=" + tokens_["dsl"],
                 "application/x-www-form-urlencoded")
                .status,
            415);
  EXPECT_EQ(SignInRaw(tokens_["dsl"], {{"Origin", "https://evil.example"}}).status, 403);
  EXPECT_EQ(Send("POST", "/v1/staff/session", {}, "{}").status, 400);
}

TEST_F(ConsoleTest, SignInAttemptsAreLimitedPerAddress) {
  CollectorOptions o;
  o.console = true;
  o.console_dir = dir_.path() / "www";
  o.console_sign_ins_per_minute = 1;
  o.console_sign_in_burst = 3;
  Start(o);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(SignInRaw("wst_guess" + std::to_string(i)).status, 401);
  }
  HttpsResponse limited = SignInRaw(tokens_["dsl"]);  // right, but too many tries
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.headers["retry-after"].empty());
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(SignInRaw(tokens_["dsl"]).status, 200);
}

TEST_F(ConsoleTest, EveryChangeNeedsTheSessionsCsrfTokenFromTheConsolesOrigin) {
  const std::string id = UploadConcern("someone keeps messaging me");
  Browser b = SignIn("dsl");
  const std::string path = "/v1/staff/concerns/" + id + "/notes";
  const std::string note = R"({"text": "called the learner's tutor"})";
  EXPECT_EQ(Send("POST", path, b.Get(), note).status, 403);
  Headers wrong = {{"Cookie", b.cookie}, {"X-Ward-CSRF", std::string(64, '0')}};
  EXPECT_EQ(Send("POST", path, wrong, note).status, 403);
  Headers elsewhere = b.Change();
  elsewhere.emplace_back("Origin", "https://evil.example");
  EXPECT_EQ(Send("POST", path, elsewhere, note).status, 403);
  // Another session's token does not fit this session.
  Browser other = SignIn("dsl");
  EXPECT_EQ(Send("POST", path, {{"Cookie", b.cookie}, {"X-Ward-CSRF", other.csrf}}, note).status,
            403);
  EXPECT_EQ(Send("POST", path, b.Change(), note).status, 200);
  auto log = Array(Send("GET", "/v1/staff/concerns/" + id + "/log", b.Get()).body);
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ(log->getObject(0)->getValue<std::string>("author"), "staff-dsl");
}

TEST_F(ConsoleTest, SessionsEndWhenIdleAndAfterTheirLongestLife) {
  Browser b = SignIn("dsl");
  clock_.Advance(std::chrono::seconds(50));
  EXPECT_EQ(Send("GET", "/v1/staff/session", b.Get()).status, 200);  // activity: idle restarts
  clock_.Advance(std::chrono::seconds(50));
  // A background request (the inbox's long-poll) is not activity.
  Headers background = b.Get();
  background.emplace_back("X-Ward-Background", "1");
  EXPECT_EQ(Send("GET", "/v1/staff/concerns/summary", background).status, 200);
  clock_.Advance(std::chrono::seconds(11));
  HttpsResponse ended = Send("GET", "/v1/staff/concerns/summary", b.Get());
  EXPECT_EQ(ended.status, 401);
  EXPECT_NE(ended.body.find("session has ended"), std::string::npos) << ended.body;

  Browser busy = SignIn("dsl");
  for (int i = 0; i < 10; ++i) {  // busy every 55 s, for 550 s
    clock_.Advance(std::chrono::seconds(55));
    EXPECT_EQ(Send("GET", "/v1/staff/session", busy.Get()).status, 200) << i;
  }
  clock_.Advance(std::chrono::seconds(51));  // 601 s after sign-in, 51 s after the last use
  EXPECT_EQ(Send("GET", "/v1/staff/session", busy.Get()).status, 401);
}

TEST_F(ConsoleTest, SigningOutOrRevokingTheTokenEndsTheSession) {
  Browser b = SignIn("it");
  HttpsResponse out = Send("POST", "/v1/staff/session/end", b.Change());
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.headers["set-cookie"].find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Send("GET", "/v1/staff/devices", b.Get()).status, 401);

  Browser c = SignIn("it");
  EXPECT_EQ(Send("GET", "/v1/staff/devices", c.Get()).status, 200);
  ASSERT_TRUE(store_->RevokeStaffToken("staff-it").has_value());
  EXPECT_EQ(Send("GET", "/v1/staff/devices", c.Get()).status, 401);
  // A bearer call has no session to end.
  EXPECT_EQ(Bearer("POST", "/v1/staff/session/end", "dsl").status, 400);
}

TEST_F(ConsoleTest, ASessionHasItsRolesRightsAndNoMore) {
  const std::string text = "my cousin's friend says he will hurt me";
  const std::string id = UploadConcern(text, true);
  Browser it = SignIn("it");
  const std::vector<std::string> paths = {"/v1/staff/concerns", "/v1/staff/concerns/" + id,
                                          "/v1/staff/events",
                                          "/v1/staff/devices/" + device_ + "/events"};
  for (const std::string& path : paths) {
    HttpsResponse r = Send("GET", path, it.Get());
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body.find(text), std::string::npos) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("learner1"), std::string::npos) << path;
  }
  EXPECT_EQ(Send("GET", "/v1/staff/concerns/" + id + "/log", it.Get()).status, 403);
  EXPECT_EQ(Send("GET", "/v1/staff/concerns/urgent", it.Get()).status, 403);
  EXPECT_EQ(
      Send("POST", "/v1/staff/concerns/" + id + "/status", it.Change(), R"({"status": "closed"})")
          .status,
      403);
  Browser viewer = SignIn("viewer");
  EXPECT_EQ(Send("GET", "/v1/staff/concerns", viewer.Get()).status, 403);
  auto bundle = signer_->SignedPolicyBytes(2);
  ASSERT_TRUE(bundle.has_value());
  Headers push = viewer.Change();
  EXPECT_EQ(Send("POST", "/v1/staff/policy?group=learners-under-18", push, *bundle,
                 "application/x-protobuf")
                .status,
            403);
  HttpsResponse pushed = Send("POST", "/v1/staff/policy?group=learners-under-18", it.Change(),
                              *bundle, "application/x-protobuf");
  EXPECT_EQ(pushed.status, 200) << pushed.body;
}

TEST_F(ConsoleTest, TheDslKeepsATypedIncidentLog) {
  const std::string id = UploadConcern("please help", true);
  Browser b = SignIn("dsl");
  auto summary = Object(Send("GET", "/v1/staff/concerns/summary", b.Get()).body);
  EXPECT_EQ(summary->getValue<int>("unread"), 1);
  EXPECT_EQ(summary->getValue<int>("urgent_open"), 1);
  auto urgent = Array(Send("GET", "/v1/staff/concerns/urgent", b.Get()).body);
  ASSERT_EQ(urgent->size(), 1u);
  EXPECT_EQ(Send("GET", "/v1/staff/concerns/" + id, b.Get()).status, 200);
  summary = Object(Send("GET", "/v1/staff/concerns/summary", b.Get()).body);
  EXPECT_EQ(summary->getValue<int>("unread"), 0);  // opened
  EXPECT_EQ(summary->getValue<int>("new"), 1);

  const std::string actions = "/v1/staff/concerns/" + id + "/actions";
  EXPECT_EQ(
      Send("POST", actions, b.Change(), R"({"kind": "parent-contacted", "text": "mum, by phone"})")
          .status,
      200);
  EXPECT_EQ(Send("POST", actions, b.Change(), R"({"kind": "referred-external"})").status, 400);
  EXPECT_EQ(Send("POST", actions, b.Change(), R"({"kind": "note", "text": "x"})").status, 400);
  EXPECT_EQ(Send("POST", actions, b.Change(),
                 R"({"kind": "referred-external", "text": "children's services"})")
                .status,
            200);
  auto log = Array(Send("GET", "/v1/staff/concerns/" + id + "/log", b.Get()).body);
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ(log->getObject(0)->getValue<std::string>("kind"), "parent-contacted");
  EXPECT_EQ(log->getObject(0)->getValue<std::string>("text"),
            "Parent or guardian contacted: mum, by phone");
  EXPECT_EQ(log->getObject(1)->getValue<std::string>("kind"), "referred-external");
  EXPECT_EQ(log->getObject(2)->getValue<std::string>("kind"), "status");
  auto concern = Object(Send("GET", "/v1/staff/concerns/" + id, b.Get()).body);
  EXPECT_EQ(concern->getValue<std::string>("status"), "referred");
  EXPECT_EQ(concern->getArray("notes")->size(), 3u);  // wardctl sees the same log
  auto audit = Array(Send("GET", "/v1/staff/audit?limit=50", b.Get()).body);
  std::set<std::string> actions_seen;
  for (std::size_t i = 0; i < audit->size(); ++i) {
    actions_seen.insert(
        audit->getObject(static_cast<unsigned>(i))->getValue<std::string>("action"));
  }
  for (const char* a : {"concern.read", "concern.parent-contacted", "concern.referred-external",
                        "concern.status", "concern.log"}) {
    EXPECT_TRUE(actions_seen.contains(a)) << a;
  }
}

TEST_F(ConsoleTest, AnOpenInboxHearsOfANewConcernWithoutPolling) {
  CollectorOptions o;
  o.console = true;
  o.console_dir = dir_.path() / "www";
  Start(o, true);
  Browser b = SignIn("dsl");
  HttpsResponse first = Send("GET", "/v1/staff/concerns/wait", b.Get());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.headers["cache-control"], "no-store");
  const auto version = Object(first.body)->getValue<std::uint64_t>("version");
  auto waiting = std::async(std::launch::async, [&] {
    Headers h = b.Get();
    h.emplace_back("X-Ward-Background", "1");
    return Send("GET", "/v1/staff/concerns/wait?after=" + std::to_string(version), h);
  });
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  const auto sent = std::chrono::steady_clock::now();
  UploadConcern("they took my phone");
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  HttpsResponse woke = waiting.get();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(5));
  ASSERT_EQ(woke.status, 200) << woke.body;
  EXPECT_GT(Object(woke.body)->getValue<std::uint64_t>("version"), version);
  EXPECT_EQ(woke.body.find("phone"), std::string::npos);  // a version, never the concern
  EXPECT_EQ(woke.headers["cache-control"], "no-store");
  // A version this collector never gave out is answered at once.
  EXPECT_EQ(Send("GET", "/v1/staff/concerns/wait?after=1", b.Get()).status, 200);
}

TEST_F(ConsoleTest, FleetPagesAreBoundedPagesWithCursors) {
  for (int i = 0; i < 5; ++i) {
    ward::v1::EnrolRequest req;
    req.set_enrolment_secret(secret_);
    req.set_hostname("laptop-" + std::to_string(i));
    req.set_machine_hash(NewSecret());
    ASSERT_EQ(
        Send("POST", "/v1/enrol", {}, req.SerializeAsString(), "application/x-protobuf").status,
        200);
  }
  Browser b = SignIn("viewer");
  std::vector<std::string> names;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    HttpsResponse r = Send(
        "GET", "/v1/staff/devices?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), b.Get());
    ASSERT_EQ(r.status, 200) << r.body;
    auto items = Array(r.body);
    for (std::size_t i = 0; i < items->size(); ++i) {
      names.push_back(
          items->getObject(static_cast<unsigned>(i))->getValue<std::string>("hostname"));
    }
    cursor = r.headers["ward-next-cursor"];
    if (cursor.empty()) {
      break;
    }
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"laptop-0", "laptop-1", "laptop-2", "laptop-3", "laptop-4"}));
  EXPECT_EQ(Array(Send("GET", "/v1/staff/devices?degraded=1", b.Get()).body)->size(), 0u);
  EXPECT_EQ(Array(Send("GET", "/v1/staff/devices?not_seen_days=7", b.Get()).body)->size(), 0u);

  ASSERT_EQ(Bearer("POST", "/v1/staff/policy?group=learners-under-18", "it",
                   *signer_->SignedPolicyBytes(3), "application/x-protobuf")
                .status,
            200);
  auto group = Object(Send("GET", "/v1/staff/groups/learners-under-18", b.Get()).body);
  EXPECT_EQ(group->getValue<int>("policy_version"), 3);
  EXPECT_EQ(group->getValue<int>("devices"), 5);
  EXPECT_EQ(group->getValue<int>("devices_on_newest"), 0);
  auto policy = group->getObject("policy");
  ASSERT_FALSE(policy.isNull());
  EXPECT_EQ(policy->getValue<std::string>("pushed_by"), "staff-it");
  EXPECT_GT(policy->getArray("summary")->size(), 1u);  // the learner's plain words
  auto history = Array(Send("GET", "/v1/staff/groups/learners-under-18/policies", b.Get()).body);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->getObject(0)->getValue<int>("version"), 3);
  EXPECT_EQ(Send("GET", "/v1/staff/groups/learners-under-18/policy?version=3", b.Get()).status,
            200);
  EXPECT_EQ(Send("GET", "/v1/staff/groups/learners-under-18/policy?version=2", b.Get()).status,
            404);
  EXPECT_EQ(Send("GET", "/v1/staff/groups/nope", b.Get()).status, 404);
}

}  // namespace
}  // namespace ward::collector
