// SPDX-License-Identifier: Apache-2.0
// Test harness for agent/sync: the real collector in a child process, staff calls to it, and a
// store of events to upload.
#pragma once

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ward/common/hex.h"
#include "ward/policy/loader.h"
#include "ward/policy/signing.h"
#include "ward/testing/child_process.h"
#include "ward/testing/https_client.h"
#include "ward/testing/paths.h"
#include "ward/v1/event.pb.h"

namespace ward::agent::sync::testing {

namespace fs = std::filesystem;

inline std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using ward::testing::Reap;
using ward::testing::Spawn;
using ward::testing::WaitUntil;

// A temporary directory removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "ward-sync-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
    }
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The real ward-collector server (SQLite) in a child process. Thread-compatible.
class CollectorProcess {
 public:
  CollectorProcess(fs::path dir, std::string pubkey_hex)
      : dir_(std::move(dir)), pubkey_(std::move(pubkey_hex)) {
    fs::create_directories(dir_);
  }
  ~CollectorProcess() { Kill(); }

  // Starts (or restarts, on the same port and database) and waits until it serves.
  void Start(std::vector<std::string> extra = {}) {
    ASSERT_LT(pid_, 0) << "already running";
    std::error_code ec;
    fs::remove(dir_ / "port", ec);
    std::vector<std::string> args = {ward::testing::BuiltFile(WARD_SYNC_TEST_COLLECTOR).string(),
                                     "--dir",
                                     dir_.string(),
                                     "--pubkey",
                                     pubkey_,
                                     "--port",
                                     std::to_string(port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    extra_ = extra;
    pid_ = Spawn(args);
    ASSERT_GT(pid_, 0);
    ASSERT_TRUE(WaitUntil([&] { return fs::exists(dir_ / "port"); }, std::chrono::seconds(30)))
        << "the collector did not start";
    port_ = static_cast<std::uint16_t>(std::stoi(ReadText(dir_ / "port")));
    secret_ = ReadText(dir_ / "secret");
    token_ = ReadText(dir_ / "token");
    dsl_token_ = ReadText(dir_ / "dsl_token");
    auto tls = ward::testing::TlsClientContext::Create(ca_file());
    ASSERT_TRUE(tls.has_value()) << tls.error().ToString();
    tls_ = *tls;
  }
  void Kill() {
    if (pid_ > 0) {
      Reap(pid_, SIGKILL);
      pid_ = -1;
    }
  }
  void Restart() {
    Kill();
    Start(extra_);
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  fs::path ca_file() const { return dir_ / "ca.pem"; }
  const std::string& secret() const { return secret_; }

  // A staff call as IT (devices, policy pushes); `as_dsl` for the event lists with concerns.
  ward::testing::HttpsResponse Staff(const std::string& method, const std::string& path,
                                     const std::string& body = "",
                                     const std::string& type = "application/json",
                                     bool as_dsl = false) {
    auto conn = ward::testing::HttpsConnection::Connect(tls_, port_);
    EXPECT_TRUE(conn.has_value()) << conn.error().ToString();
    if (!conn.has_value()) {
      return {};
    }
    const std::string& token = as_dsl ? dsl_token_ : token_;
    auto r = (*conn)->Request(method, path, body, {{"Authorization", "Bearer " + token}}, type);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(ward::testing::HttpsResponse{});
  }

  int PushPolicy(const v1::SignedPolicy& signed_policy) {
    return Staff("POST", "/v1/staff/policy?group=learners-under-18",
                 signed_policy.SerializeAsString(), "application/x-protobuf")
        .status;
  }

  // Every event the collector stored, as (id -> kind of agent event or "") in arrival order.
  std::vector<std::pair<std::string, std::string>> Events() {
    std::vector<std::pair<std::string, std::string>> out;
    std::int64_t after = 0;
    for (;;) {
      auto r = Staff("GET", "/v1/staff/events?after=" + std::to_string(after) + "&limit=1000", "",
                     "application/json", /*as_dsl=*/true);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) {
        return out;
      }
      auto array = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Array::Ptr>();
      if (array->size() == 0) {
        return out;
      }
      for (std::size_t i = 0; i < array->size(); ++i) {
        auto o = array->getObject(static_cast<unsigned>(i));
        after = o->getValue<std::int64_t>("seq");
        std::string kind;
        auto event = o->getObject("event");
        if (event && event->has("agent")) {
          kind = event->getObject("agent")->optValue<std::string>("kind", "");
        }
        out.emplace_back(o->getValue<std::string>("id"), kind);
      }
    }
  }

  // GET /v1/staff/devices (an empty array when the call fails, with the failure reported).
  Poco::JSON::Array::Ptr Devices() {
    auto r = Staff("GET", "/v1/staff/devices");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) {
      return new Poco::JSON::Array;
    }
    return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Array::Ptr>();
  }

  std::size_t DeviceCount() {
    auto r = Staff("GET", "/v1/staff/devices");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) {
      return 0;
    }
    return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Array::Ptr>()->size();
  }

 private:
  fs::path dir_;
  std::string pubkey_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string secret_;
  std::string token_;
  std::string dsl_token_;
  std::shared_ptr<ward::testing::TlsClientContext> tls_;
};

inline std::string PublicKeyHex(const policy::SigningKey& key) {
  return HexEncode(key.public_key().raw());
}

// The sample under-18 policy (tests/testdata/policy) as `version`, signed with `key`.
inline v1::SignedPolicy SignedPolicyOf(const policy::SigningKey& key, std::uint64_t version) {
  auto p =
      policy::LoadPolicyJson(ReadText(ward::testing::TestdataDir() / "policy/sample-under18.json"));
  EXPECT_TRUE(p.has_value()) << p.error().ToString();
  p->set_version(version);
  auto signed_policy = policy::SignPolicy(*p, key);
  EXPECT_TRUE(signed_policy.has_value()) << signed_policy.error().ToString();
  return signed_policy.value_or(v1::SignedPolicy{});
}

}  // namespace ward::agent::sync::testing
