// SPDX-License-Identifier: Apache-2.0
// The router on its own: typed path parameters, 404/405, authentication by pluggable
// authenticators, the role check against a role table, per-route body limits.
#include "internal/router.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <stdexcept>

#include <gtest/gtest.h>

#include "ward/v1/sync.pb.h"

namespace ward::collector::internal {
namespace {

constexpr char kUuid[] = "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b";

HttpRequest Request(std::string method, std::string path, std::string body = "",
                    std::map<std::string, std::string> headers = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

const HttpResponse& ResponseOf(const HandlerResult& result) {
  const auto* r = std::get_if<HttpResponse>(&result);
  EXPECT_NE(r, nullptr) << "expected an answer, not a parked request";
  static const HttpResponse kNone;
  return r != nullptr ? *r : kNone;
}

std::string JsonMessage(const HttpResponse& r) {
  auto o = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  return o->getValue<std::string>("message");
}

HttpResponse Text(std::string body) {
  HttpResponse r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// Staff who send "X-Test-Staff: <role> <name>". A stand-in for any second way of signing in.
class HeaderStaffAuthenticator final : public StaffAuthenticator {
 public:
  Result<std::optional<StaffPrincipal>> Authenticate(const HttpRequest& request) override {
    const std::string& h = request.Header("x-test-staff");
    if (h.empty()) {
      return std::optional<StaffPrincipal>();
    }
    const auto space = h.find(' ');
    WARD_ASSIGN_OR_RETURN(StaffRole role, ParseStaffRole(h.substr(0, space)));
    return std::optional<StaffPrincipal>(StaffPrincipal{role, h.substr(space + 1)});
  }
};

// What a console session will do: a cookie names the session; a state-changing request must
// repeat the session's CSRF token in a header.
class FakeSessionAuthenticator final : public StaffAuthenticator {
 public:
  Result<std::optional<StaffPrincipal>> Authenticate(const HttpRequest& request) override {
    const std::string& cookie = request.Header("cookie");
    if (cookie.empty()) {
      return std::optional<StaffPrincipal>();
    }
    if (cookie != "ward_session=s1") {
      return UnauthenticatedError("your session has ended; sign in again");
    }
    if (request.method != "GET" && request.Header("x-csrf-token") != "csrf-1") {
      return PermissionDeniedError("the page is out of date; reload it and try again");
    }
    return std::optional<StaffPrincipal>(StaffPrincipal{StaffRole::kDsl, "Ms Patel (console)"});
  }
};

class FakeDeviceAuthenticator final : public DeviceAuthenticator {
 public:
  Result<DevicePrincipal> Authenticate(const HttpRequest& request) override {
    if (request.Header("authorization") != "Bearer dev-1.secret") {
      return UnauthenticatedError("unknown device; enrol again");
    }
    DevicePrincipal d;
    d.device.id = "dev-1";
    return d;
  }
};

constexpr AccessRule kTable[] = {
    {"GET", "/healthz", {Role::kPublic}},
    {"POST", "/v1/events", {Role::kDevice}},
    {"GET", "/v1/staff/things", {Role::kIt, Role::kDsl, Role::kViewer}},
    {"POST", "/v1/staff/things/{id:uuid}/close", {Role::kDsl}},
    {"GET", "/v1/staff/pages/{n:int}", {Role::kIt}},
    {"GET", "/console/{file:path}", {Role::kPublic}},
};

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.AddStaffAuthenticator(std::make_unique<HeaderStaffAuthenticator>());
    router_.SetErrorStyle("/v1/", ErrorStyle::kProtobuf);
    router_.SetErrorStyle("/v1/staff/", ErrorStyle::kJson);
    ASSERT_TRUE(router_.Add(Route{"GET", "/healthz", 0, ErrorStyle::kText,
                                  PublicHandler([](const Call&) { return Text("ok"); })}));
    ASSERT_TRUE(router_.Add(Route{"POST", "/v1/events", 16, ErrorStyle::kProtobuf,
                                  DeviceHandler([](const Call&, const DevicePrincipal& d) {
                                    return Text("events from " + d.device.id);
                                  })}));
    ASSERT_TRUE(router_.Add(Route{"GET", "/v1/staff/things", 0, ErrorStyle::kJson,
                                  StaffHandler([](const Call&, const StaffPrincipal& who) {
                                    return Text("things for " + who.name);
                                  })}));
    // The handler of a state-changing staff route: it knows nothing of how its caller signed in.
    ASSERT_TRUE(router_.Add(Route{"POST", "/v1/staff/things/{id:uuid}/close", 64, ErrorStyle::kJson,
                                  StaffHandler([](const Call& c, const StaffPrincipal& who) {
                                    return Text(who.name + " closed " + c.params.Get("id"));
                                  })}));
    ASSERT_TRUE(router_.Add(Route{"GET", "/v1/staff/pages/{n:int}", 0, ErrorStyle::kJson,
                                  StaffHandler([](const Call& c, const StaffPrincipal&) {
                                    return Text("page " + std::to_string(c.params.Int("n") + 1));
                                  })}));
    ASSERT_TRUE(router_.Add(
        Route{"GET", "/console/{file:path}", 0, ErrorStyle::kText, PublicHandler([](const Call& c) {
                if (c.params.Get("file") == "boom.js") {
                  throw std::runtime_error("surprise");
                }
                return Text("file " + c.params.Get("file"));
              })}));
    ASSERT_TRUE(router_.CheckComplete());
    router_.SetObserver([this](std::string_view endpoint, int status) {
      seen_.emplace_back(std::string(endpoint), status);
    });
  }

  FakeDeviceAuthenticator device_;
  Router router_{kTable, &device_};
  std::vector<std::pair<std::string, int>> seen_;
};

TEST_F(RouterTest, TypedParametersMatchOnlyTheirType) {
  auto ok = ResponseOf(
      router_.Dispatch(Request("POST", std::string("/v1/staff/things/") + kUuid + "/close", "",
                               {{"x-test-staff", "dsl Ms Patel"}})));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, std::string("Ms Patel closed ") + kUuid);
  for (const std::string bad : {"not-a-uuid", "", "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6bX",
                                "0190b6e47c1a7b3e9f001c2d3e4f5a6b"}) {
    auto r = ResponseOf(router_.Dispatch(Request("POST", "/v1/staff/things/" + bad + "/close", "",
                                                 {{"x-test-staff", "dsl Ms Patel"}})));
    EXPECT_EQ(r.status, 404) << bad;
  }
  EXPECT_EQ(ResponseOf(router_.Dispatch(
                           Request("GET", "/v1/staff/pages/41", "", {{"x-test-staff", "it A"}})))
                .body,
            "page 42");
  EXPECT_EQ(ResponseOf(router_.Dispatch(
                           Request("GET", "/v1/staff/pages/4x", "", {{"x-test-staff", "it A"}})))
                .status,
            404);
}

TEST_F(RouterTest, PathParametersTakeTheRestButNeverDotSegments) {
  EXPECT_EQ(ResponseOf(router_.Dispatch(Request("GET", "/console/vendor/preact.mjs"))).body,
            "file vendor/preact.mjs");
  for (const std::string bad :
       {"/console/", "/console/../collector.db", "/console/a//b", "/console/./a", "/console"}) {
    EXPECT_EQ(ResponseOf(router_.Dispatch(Request("GET", bad))).status, 404) << bad;
  }
}

TEST_F(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  auto missing = ResponseOf(router_.Dispatch(Request("GET", "/v1/staff/nothing")));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.content_type, "application/json");
  EXPECT_EQ(JsonMessage(missing), "no endpoint GET /v1/staff/nothing");
  auto device_missing = ResponseOf(router_.Dispatch(Request("POST", "/v1/nothing")));
  EXPECT_EQ(device_missing.status, 404);
  ward::v1::ErrorBody body;
  ASSERT_TRUE(body.ParseFromString(device_missing.body));
  EXPECT_EQ(body.code(), "NOT_FOUND");

  auto wrong = ResponseOf(router_.Dispatch(Request("GET", "/v1/events")));
  EXPECT_EQ(wrong.status, 405);
  ASSERT_EQ(wrong.headers.size(), 1u);
  EXPECT_EQ(wrong.headers[0], (std::pair<std::string, std::string>{"Allow", "POST"}));
  EXPECT_EQ(seen_.back(), (std::pair<std::string, int>{"other", 405}));
}

TEST_F(RouterTest, StaffRoutesNeedACredentialAndARoleFromTheTable) {
  auto none = ResponseOf(router_.Dispatch(Request("GET", "/v1/staff/things")));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(JsonMessage(none), "send Authorization: Bearer <staff token>");
  for (const char* role : {"it", "dsl", "viewer"}) {
    auto r = ResponseOf(router_.Dispatch(
        Request("GET", "/v1/staff/things", "", {{"x-test-staff", std::string(role) + " A"}})));
    EXPECT_EQ(r.status, 200) << role;
  }
  auto it = ResponseOf(
      router_.Dispatch(Request("POST", std::string("/v1/staff/things/") + kUuid + "/close", "",
                               {{"x-test-staff", "it Sam"}})));
  EXPECT_EQ(it.status, 403);
  EXPECT_EQ(JsonMessage(it),
            "your role (it) cannot use POST /v1/staff/things/{id:uuid}/close; it is for: dsl");
  EXPECT_EQ(seen_.back(), (std::pair<std::string, int>{"/v1/staff/things/{id:uuid}/close", 403}));
}

TEST_F(RouterTest, DeviceRoutesAskTheDeviceAuthenticatorAndLimitTheBody) {
  auto no = ResponseOf(router_.Dispatch(Request("POST", "/v1/events", "x")));
  EXPECT_EQ(no.status, 401);
  ward::v1::ErrorBody body;
  ASSERT_TRUE(body.ParseFromString(no.body));
  EXPECT_EQ(body.message(), "unknown device; enrol again");
  // A staff credential is not a device credential.
  EXPECT_EQ(
      ResponseOf(router_.Dispatch(Request("POST", "/v1/events", "x", {{"x-test-staff", "it A"}})))
          .status,
      401);
  auto yes = ResponseOf(router_.Dispatch(
      Request("POST", "/v1/events", "x", {{"authorization", "Bearer dev-1.secret"}})));
  EXPECT_EQ(yes.status, 200);
  EXPECT_EQ(yes.body, "events from dev-1");
  auto big = ResponseOf(router_.Dispatch(Request("POST", "/v1/events", std::string(17, 'x'),
                                                 {{"authorization", "Bearer dev-1.secret"}})));
  EXPECT_EQ(big.status, 413);
  // The limit is checked after authentication: strangers learn nothing from the size answer.
  EXPECT_EQ(
      ResponseOf(router_.Dispatch(Request("POST", "/v1/events", std::string(17, 'x')))).status,
      401);
}

TEST_F(RouterTest, ASecondStaffAuthenticatorNeedsNoHandlerChange) {
  router_.AddStaffAuthenticator(std::make_unique<FakeSessionAuthenticator>());
  const std::string close = std::string("/v1/staff/things/") + kUuid + "/close";
  auto read = ResponseOf(
      router_.Dispatch(Request("GET", "/v1/staff/things", "", {{"cookie", "ward_session=s1"}})));
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, "things for Ms Patel (console)");
  auto no_csrf =
      ResponseOf(router_.Dispatch(Request("POST", close, "", {{"cookie", "ward_session=s1"}})));
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(JsonMessage(no_csrf), "the page is out of date; reload it and try again");
  auto with_csrf = ResponseOf(router_.Dispatch(
      Request("POST", close, "", {{"cookie", "ward_session=s1"}, {"x-csrf-token", "csrf-1"}})));
  EXPECT_EQ(with_csrf.status, 200);
  EXPECT_EQ(with_csrf.body, std::string("Ms Patel (console) closed ") + kUuid);
  auto ended =
      ResponseOf(router_.Dispatch(Request("GET", "/v1/staff/things", "", {{"cookie", "old"}})));
  EXPECT_EQ(ended.status, 401);
  // The first authenticator that recognises a credential decides.
  auto both = ResponseOf(router_.Dispatch(
      Request("GET", "/v1/staff/things", "", {{"x-test-staff", "viewer V"}, {"cookie", "old"}})));
  EXPECT_EQ(both.body, "things for V");
}

TEST_F(RouterTest, AHandlerThatThrowsIsA500InItsStyleAndTheRouterCarriesOn) {
  auto r = ResponseOf(router_.Dispatch(Request("GET", "/console/boom.js")));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(ResponseOf(router_.Dispatch(Request("GET", "/healthz"))).status, 200);
  EXPECT_EQ(seen_.back(), (std::pair<std::string, int>{"/healthz", 200}));
}

TEST(RouterSetupTest, RefusesRoutesOutsideTheTableMismatchedHandlersAndUnservedRows) {
  FakeDeviceAuthenticator device;
  Router router(kTable, &device);
  auto text = [](const Call&) { return HandlerResult(Text("x")); };
  auto not_listed = router.Add(Route{
      "GET", "/v1/staff/secret", 0, ErrorStyle::kJson,
      StaffHandler([](const Call&, const StaffPrincipal&) { return HandlerResult(Text("x")); })});
  ASSERT_FALSE(not_listed.has_value());
  EXPECT_NE(not_listed.error().message().find("not in the role table"), std::string::npos);
  // A staff route cannot be given a handler that runs without a principal.
  auto public_handler =
      router.Add(Route{"GET", "/v1/staff/things", 0, ErrorStyle::kJson, PublicHandler(text)});
  ASSERT_FALSE(public_handler.has_value());
  EXPECT_NE(public_handler.error().message().find("does not fit its roles"), std::string::npos);
  ASSERT_TRUE(router.Add(Route{"GET", "/healthz", 0, ErrorStyle::kText, PublicHandler(text)}));
  EXPECT_FALSE(
      router.Add(Route{"GET", "/healthz", 0, ErrorStyle::kText, PublicHandler(text)}).has_value());
  auto complete = router.CheckComplete();
  ASSERT_FALSE(complete.has_value());
  EXPECT_NE(complete.error().message().find("POST /v1/events"), std::string::npos);

  for (const char* bad : {"healthz", "/a/{id}", "/a/{id:float}", "/a/{p:path}/b", "/a/x{id:int}",
                          "/a/{id:int}/{id:uuid}"}) {
    EXPECT_FALSE(RoutePattern::Parse(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace ward::collector::internal
