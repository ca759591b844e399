// SPDX-License-Identifier: Apache-2.0
// wardctl's staff commands (in process, through its command table) against a real collector.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "ward/collector/server/collector.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/clock.h"
#include "ward/ctl/cli.h"
#include "ward/ctl/commands.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/v1/sync.pb.h"

namespace ward::collector {
namespace {

class QuietAlerter final : public ConcernAlerter {
 public:
  void OnNewConcern(const ConcernAlert&) override {}
};

class WardctlStaffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::CreateTestPki(dir_.path());
    ASSERT_TRUE(pki.has_value());
    pki_ = *pki;
    auto store = OpenSqliteStorage((dir_.path() / "c.db").string());
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
    auto signer = testing::PolicySigner::Generate();
    ASSERT_TRUE(signer.has_value());
    signer_ = std::move(*signer);
    ASSERT_TRUE(store_->CreateGroup({"learners-under-18", signer_->public_key_hex()}));
    for (auto [name, role] : {std::pair{"it", StaffRole::kIt}, std::pair{"dsl", StaffRole::kDsl}}) {
      tokens_[name] = NewSecret("wst_");
      ASSERT_TRUE(store_->CreateStaffToken(name, role, HashSecret(tokens_[name]), 1));
    }
    DeviceRecord d;
    d.id = "dev-1";
    d.group = "learners-under-18";
    d.hostname = "laptop-7";
    d.credential_hash = HashSecret("x");
    ASSERT_TRUE(store_->PutDevice(d));
    EventRow concern;
    concern.id = "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b";
    concern.kind = "concern";
    concern.priority = 4;
    concern.concern = ConcernRow{"K7QF-2M9X", 1, "someone is bullying me", false, false, "", ""};
    ward::v1::Event e;
    e.set_id(concern.id);
    e.mutable_concern()->set_text("someone is bullying me");
    concern.body = e.SerializeAsString();
    ASSERT_TRUE(store_->IngestEvents("dev-1", std::vector<EventRow>{concern}, 5));
    CollectorOptions o;
    o.port = 0;
    o.tls_cert = pki_.server_cert;
    o.tls_key = pki_.server_key;
    auto c = Collector::Start(o, *store_, alerter_, SystemClock());
    ASSERT_TRUE(c.has_value());
    collector_ = std::move(*c);
  }

  int Run(std::vector<std::string> args, const std::string& role, const std::string& ca = "") {
    args.insert(args.end(),
                {"--collector", "https://127.0.0.1:" + std::to_string(collector_->port()), "--ca",
                 ca.empty() ? pki_.ca_cert.string() : ca, "--token", tokens_[role]});
    std::vector<std::string_view> views(args.begin(), args.end());
    out_.str("");
    err_.str("");
    ctl::Io io{out_, err_};
    return ctl::RunCli(ctl::WardctlCommands(), views, io);
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  std::unique_ptr<Storage> store_;
  std::unique_ptr<testing::PolicySigner> signer_;
  std::map<std::string, std::string> tokens_;
  QuietAlerter alerter_;
  std::unique_ptr<Collector> collector_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(WardctlStaffTest, PolicyPushSendsTheBundle) {
  auto bundle = signer_->SignedPolicyBytes(4);
  ASSERT_TRUE(bundle.has_value());
  const auto file = dir_.path() / "p.bundle";
  std::ofstream(file, std::ios::binary) << *bundle;
  EXPECT_EQ(Run({"policy", "push", file.string(), "--group", "learners-under-18"}, "it"), 0)
      << err_.str();
  EXPECT_NE(out_.str().find("pushed policy version 4 to learners-under-18"), std::string::npos);
  auto latest = store_->LatestPolicy("learners-under-18");
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ((*latest)->version, 4u);
  EXPECT_EQ(Run({"policy", "push", file.string(), "--group", "learners-under-18"}, "it"), 1);
  EXPECT_NE(err_.str().find("409"), std::string::npos) << err_.str();
}

TEST_F(WardctlStaffTest, DevicesForPeopleAndJsonForScripts) {
  EXPECT_EQ(Run({"devices"}, "it"), 0) << err_.str();
  EXPECT_NE(out_.str().find("laptop-7"), std::string::npos);
  EXPECT_NE(out_.str().find("1 device"), std::string::npos);
  EXPECT_EQ(Run({"devices", "--json"}, "it"), 0);
  EXPECT_NE(out_.str().find("\"hostname\": \"laptop-7\""), std::string::npos) << out_.str();
}

TEST_F(WardctlStaffTest, ConcernsAreRedactedForItAndFullForTheDsl) {
  EXPECT_EQ(Run({"concerns", "list"}, "it"), 0) << err_.str();
  EXPECT_EQ(out_.str().find("bullying"), std::string::npos);
  EXPECT_NE(out_.str().find("DSL only"), std::string::npos);
  EXPECT_EQ(Run({"concerns", "show", "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b"}, "dsl"), 0);
  EXPECT_NE(out_.str().find("someone is bullying me"), std::string::npos);
  EXPECT_EQ(
      Run({"concerns", "note", "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b", "spoke to tutor"}, "dsl"),
      0);
  EXPECT_EQ(Run({"concerns", "status", "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b", "closed"}, "it"), 1);
  EXPECT_EQ(Run({"concerns", "show", "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b"}, "dsl"), 0);
  EXPECT_NE(out_.str().find("spoke to tutor"), std::string::npos);
}

TEST_F(WardctlStaffTest, EventsTailRedactsConcernTextForIt) {
  EXPECT_EQ(Run({"events", "tail", "--json"}, "it"), 0) << err_.str();
  EXPECT_NE(out_.str().find("\"kind\":\"concern\""), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("bullying"), std::string::npos);
}

TEST_F(WardctlStaffTest, RefusesACollectorItDoesNotTrust) {
  testing::TempDir other;
  auto other_pki = testing::CreateTestPki(other.path());
  ASSERT_TRUE(other_pki.has_value());
  EXPECT_EQ(Run({"devices"}, "it", other_pki->ca_cert.string()), 1);
  EXPECT_NE(err_.str().find("cannot reach"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace ward::collector
