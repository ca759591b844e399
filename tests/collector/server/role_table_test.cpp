// SPDX-License-Identifier: Apache-2.0
// docs/collector.md is the contract for who may call what. These tests parse its tables (every
// table with a "roles" column) and check (1) that the collector's role table says exactly the
// same, and (2) that a real collector on loopback lets in exactly those roles, route by route.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "internal/access.h"
#include "ward/collector/server/collector.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/testing/paths.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector::internal {
namespace {

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    return {};
  }
  return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
}

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {  // skip the leading '|'
    if (line[i] == '|') {
      out.push_back(Trim(cell));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

// "/v1/staff/concerns/<id>/status" and "/v1/staff/concerns/{id:uuid}/status" both become
// "/v1/staff/concerns/{}/status".
std::string Shape(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '<' || path[i] == '{') {
      const char close = path[i] == '<' ? '>' : '}';
      i = path.find(close, i) + 1;
      out += "{}";
      continue;
    }
    out += path[i++];
  }
  return out;
}

struct DocRoute {
  std::string method;
  std::string path;  // as the doc writes it, without the query
  RoleSet roles;
};

// Every row of every table in docs/collector.md that has a "roles" column.
std::vector<DocRoute> DocumentedRoutes() {
  std::ifstream in(ward::testing::SourceDir() / "docs/collector.md");
  EXPECT_TRUE(in.good()) << "cannot read docs/collector.md";
  std::vector<DocRoute> out;
  std::string line;
  bool in_table = false;
  int roles_column = -1;
  while (std::getline(in, line)) {
    if (!line.starts_with("|")) {
      in_table = false;
      continue;
    }
    const auto cells = Cells(line);
    if (!in_table) {  // the header row
      in_table = true;
      roles_column = -1;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == "roles") {
          roles_column = static_cast<int>(i);
        }
      }
      continue;
    }
    if (roles_column < 0 || cells.empty() || cells[0].starts_with("---")) {
      continue;
    }
    const std::string& call = cells[0];
    EXPECT_TRUE(call.starts_with('`') && call.ends_with('`')) << line;
    const std::string text = call.substr(1, call.size() - 2);
    const auto space = text.find(' ');
    DocRoute r;
    r.method = text.substr(0, space);
    r.path = text.substr(space + 1, text.find('?') - space - 1);
    std::stringstream roles(cells[static_cast<std::size_t>(roles_column)]);
    std::string name;
    while (std::getline(roles, name, ',')) {
      auto role = ParseRole(Trim(name));
      EXPECT_TRUE(role.has_value()) << "unknown role '" << name << "' in: " << line;
      if (role.has_value()) {
        r.roles.Add(*role);
      }
    }
    out.push_back(r);
  }
  return out;
}

TEST(RoleTableTest, TheDocAndTheRoleTableNameTheSameRoutesAndRoles) {
  const auto doc = DocumentedRoutes();
  ASSERT_GE(doc.size(), 10u) << "the tables of docs/collector.md were not found";
  std::map<std::string, RoleSet> documented;
  for (const DocRoute& r : doc) {
    EXPECT_TRUE(documented.emplace(r.method + " " + Shape(r.path), r.roles).second)
        << "documented twice: " << r.method << " " << r.path;
  }
  std::map<std::string, RoleSet> served;
  for (const AccessRule& a : AccessTable()) {
    served.emplace(std::string(a.method) + " " + Shape(a.pattern), a.roles);
  }
  for (const auto& [route, roles] : served) {
    auto it = documented.find(route);
    if (it == documented.end()) {
      ADD_FAILURE() << route << " is served but not in docs/collector.md";
      continue;
    }
    EXPECT_EQ(it->second.ToString(), roles.ToString()) << route;
  }
  for (const auto& [route, roles] : documented) {
    EXPECT_TRUE(served.contains(route)) << route << " is in docs/collector.md but not served";
  }
}

// Who is calling in the end-to-end check.
struct Caller {
  std::string name;
  std::optional<Role> role;  // nullopt: no credential at all
  std::string authorization;
  // A console session instead: its cookie and CSRF token.
  std::string cookie = {};
  std::string csrf = {};
};

class RoleTableOverHttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::CreateTestPki(dir_.path());
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    auto store = OpenSqliteStorage((dir_.path() / "c.db").string());
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->CreateGroup({"g", std::string(64, 'a')}).has_value());
    const std::string secret = NewSecret("wes_");
    ASSERT_TRUE(store_->AddEnrolmentSecret(HashSecret(secret), "g", 1).has_value());
    callers_.push_back({"nobody", std::nullopt, ""});
    for (auto [name, role, staff] : {std::tuple{"it", Role::kIt, StaffRole::kIt},
                                     std::tuple{"dsl", Role::kDsl, StaffRole::kDsl},
                                     std::tuple{"viewer", Role::kViewer, StaffRole::kViewer},
                                     std::tuple{"metrics", Role::kMetrics, StaffRole::kMetrics}}) {
      const std::string token = NewSecret("wst_");
      ASSERT_TRUE(store_->CreateStaffToken(name, staff, HashSecret(token), 1).has_value());
      callers_.push_back({name, role, "Bearer " + token});
    }
    CollectorOptions o;
    o.port = 0;
    o.tls_cert = pki->server_cert;
    o.tls_key = pki->server_key;
    o.console = true;
    o.console_dir = dir_.path() / "console";
    std::filesystem::create_directories(o.console_dir);
    std::ofstream(o.console_dir / "index.html") << "<!doctype html><title>console</title>\n";
    auto c = Collector::Start(o, *store_, alerter_, SystemClock());
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    collector_ = std::move(*c);
    auto tls = testing::TlsClientContext::Create(pki->ca_cert);
    ASSERT_TRUE(tls.has_value());
    tls_ = *tls;

    ward::v1::EnrolRequest enrol;
    enrol.set_enrolment_secret(secret);
    auto r = Send("POST", "/v1/enrol", enrol.SerializeAsString(), Caller{});
    ASSERT_EQ(r.status, 200);
    ward::v1::EnrolResponse device;
    ASSERT_TRUE(device.ParseFromString(r.body));
    callers_.push_back(
        {"device", Role::kDevice, "Bearer " + device.device_id() + "." + device.credential()});

    // The same staff, signed in to the console: a session is a credential like a token.
    const std::size_t staff = callers_.size();
    for (std::size_t i = 0; i < staff; ++i) {
      const Caller staff_caller = callers_[i];  // a copy: push_back below may move the vector
      if (!staff_caller.role.has_value() || *staff_caller.role == Role::kDevice) {
        continue;
      }
      auto conn = testing::HttpsConnection::Connect(tls_, collector_->port());
      ASSERT_TRUE(conn.has_value());
      auto signed_in = (*conn)->Request(
          "POST", "/v1/staff/session",
          "{\"token\": \"" + staff_caller.authorization.substr(7) + "\"}", {}, "application/json");
      ASSERT_TRUE(signed_in.has_value());
      if (*staff_caller.role == Role::kMetrics) {
        // A monitoring system's token opens no console session.
        EXPECT_EQ(signed_in->status, 403) << signed_in->body;
        EXPECT_TRUE(signed_in->headers["set-cookie"].empty());
        continue;
      }
      ASSERT_EQ(signed_in->status, 200) << signed_in->body;
      const std::string cookie = signed_in->headers["set-cookie"];
      auto body = Poco::JSON::Parser().parse(signed_in->body).extract<Poco::JSON::Object::Ptr>();
      callers_.push_back({staff_caller.name + " (console session)", staff_caller.role, "",
                          cookie.substr(0, cookie.find(';')),
                          body->getValue<std::string>("csrf_token")});
    }
  }

  testing::HttpsResponse Send(const std::string& method, const std::string& path,
                              const std::string& body, const Caller& caller) {
    auto conn = testing::HttpsConnection::Connect(tls_, collector_->port());
    EXPECT_TRUE(conn.has_value());
    if (!conn.has_value()) {
      return {};
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (!caller.authorization.empty()) {
      headers.emplace_back("Authorization", caller.authorization);
    }
    if (!caller.cookie.empty()) {
      headers.emplace_back("Cookie", caller.cookie);
      headers.emplace_back("X-Ward-CSRF", caller.csrf);
    }
    auto r = (*conn)->Request(method, path, body, headers);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(testing::HttpsResponse{});
  }

  testing::TempDir dir_;
  std::unique_ptr<Storage> store_;
  LogConcernAlerter alerter_;
  std::unique_ptr<Collector> collector_;
  std::shared_ptr<testing::TlsClientContext> tls_;
  std::vector<Caller> callers_;
};

TEST_F(RoleTableOverHttpsTest, EachDocumentedRouteLetsInExactlyItsRoles) {
  const auto doc = DocumentedRoutes();
  ASSERT_GE(doc.size(), 10u);
  UuidV7Generator ids(SystemClock(), SystemRandom());
  for (const DocRoute& route : doc) {
    // Parameters get a well-formed id that names nothing: the handler may say 404 or 400, but
    // only the router says 401 or 403.
    std::string path = route.path;
    for (std::size_t at; (at = path.find('<')) != std::string::npos;) {
      path.replace(at, path.find('>', at) - at + 1, ids.Next().ToString());
    }
    for (const Caller& caller : callers_) {
      const bool allowed = route.roles.Has(Role::kPublic) ||
                           (caller.role.has_value() && route.roles.Has(*caller.role));
      // Sign-out is left to the end: it would end the caller's session.
      if (path == "/v1/staff/session/end" && !caller.cookie.empty()) {
        continue;
      }
      const auto r = Send(route.method, path, "", caller);
      const std::string what = route.method + " " + path + " as " + caller.name;
      EXPECT_EQ(r.body.find("no endpoint"), std::string::npos) << what << " is not served";
      EXPECT_NE(r.status, 405) << what;
      if (allowed) {
        EXPECT_NE(r.status, 401) << what << ": " << r.body;
        EXPECT_NE(r.status, 403) << what << ": " << r.body;
        EXPECT_NE(r.status, 0) << what;
      } else {
        // No credential, or one of the wrong kind, is 401; a staff role not in the row is 403.
        const bool staff_route = route.roles.HasStaff();
        const bool staff_caller = caller.role.has_value() && *caller.role != Role::kDevice;
        EXPECT_EQ(r.status, staff_route && staff_caller ? 403 : 401) << what << ": " << r.body;
      }
    }
  }
  for (const Caller& caller : callers_) {
    if (!caller.cookie.empty()) {
      EXPECT_EQ(Send("POST", "/v1/staff/session/end", "", caller).status, 200) << caller.name;
      EXPECT_EQ(Send("GET", "/v1/staff/session", "", caller).status, 401) << caller.name;
    }
  }
}

}  // namespace
}  // namespace ward::collector::internal
