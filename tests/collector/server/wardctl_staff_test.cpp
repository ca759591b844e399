// SPDX-License-Identifier: Apache-2.0
// wardctl's staff commands (in process, through its command table) against a real collector.
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
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
    for (auto [name, role] : {std::pair{"it", StaffRole::kIt}, std::pair{"dsl", StaffRole::kDsl},
                              std::pair{"viewer", StaffRole::kViewer}}) {
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

// Finding 4 of issue 14: IT sees a refused enrolment and readmits the device (audited).
TEST_F(WardctlStaffTest, Regression_Issue14_ItSeesARefusedEnrolmentAndReadmitsTheDevice) {
  const std::string id = "0190b6e4-7c1a-7b3e-9f00-00000000beef";
  DeviceRecord d;
  d.id = id;
  d.group = "learners-under-18";
  d.hostname = "laptop-8";
  d.credential_hash = HashSecret("y");
  d.revoked = true;
  d.enrol_refused_ms = 1'700'000'000'000;
  ASSERT_TRUE(store_->PutDevice(d));
  EXPECT_EQ(Run({"devices"}, "it"), 0) << err_.str();
  EXPECT_NE(out_.str().find("let it in with: wardctl devices readmit " + id), std::string::npos)
      << out_.str();
  EXPECT_EQ(Run({"devices", "readmit", id}, "viewer"), 1);
  EXPECT_EQ(store_->GetDevice(id)->readmitted_ms, 0);
  EXPECT_EQ(Run({"devices", "readmit", id}, "it"), 0) << err_.str();
  EXPECT_NE(out_.str().find("readmitted"), std::string::npos);
  EXPECT_GT(store_->GetDevice(id)->readmitted_ms, 0);
  EXPECT_EQ(store_->GetDevice(id)->enrol_refused_ms, 0);
  auto audit = store_->ListAudit(10);
  ASSERT_TRUE(audit.has_value());
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ(audit->front().staff_name, "it");
  EXPECT_EQ(audit->front().action, "device.readmit");
  EXPECT_EQ(audit->front().concern_id, id);
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

// A learner's words, a laptop's host name and a note reach the DSL's terminal with every control
// sequence made visible; --json keeps them exact.
TEST_F(WardctlStaffTest, HostileTextCannotDriveTheStaffTerminal) {
  const std::string hostile =
      "\x1b[2J\x1b[H\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"
      "All fine, closed by DSL\r\xC2\x9B"
      "1A\xE2\x80\xAE"
      "desrever";
  DeviceRecord d;
  d.id = "dev-2";
  d.group = "learners-under-18";
  d.hostname = "laptop\x1b[31m-red";
  d.credential_hash = HashSecret("y");
  ASSERT_TRUE(store_->PutDevice(d));
  EventRow concern;
  concern.id = "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a7c";
  concern.kind = "concern";
  concern.priority = 4;
  concern.concern = ConcernRow{"Q2WE-4R5T", 1, hostile, false, false, "", ""};
  ward::v1::Event e;
  e.set_id(concern.id);
  e.mutable_concern()->set_text(hostile);
  concern.body = e.SerializeAsString();
  ASSERT_TRUE(store_->IngestEvents("dev-2", std::vector<EventRow>{concern}, 6));
  ASSERT_EQ(Run({"concerns", "note", concern.id, "noted\x1b[1A\x1b[2K"}, "dsl"), 0) << err_.str();

  auto no_controls = [](const std::string& text) {
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\n') || c == 0x7f) {
        return false;
      }
    }
    return text.find("\xC2\x9B") == std::string::npos &&
           text.find("\xE2\x80\xAE") == std::string::npos;
  };
  ASSERT_EQ(Run({"events", "tail"}, "dsl"), 0) << err_.str();
  EXPECT_TRUE(no_controls(out_.str())) << out_.str();
  for (const auto& command : std::vector<std::vector<std::string>>{{"concerns", "show", concern.id},
                                                                   {"concerns", "list"}}) {
    ASSERT_EQ(Run(command, "dsl"), 0) << err_.str();
    EXPECT_TRUE(no_controls(out_.str())) << command[1] << ": " << out_.str();
    EXPECT_NE(out_.str().find("\\x1b[2J\\x1b[H\\x1b]52;c;"), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find("\\x07All fine, closed by DSL\\r\\u009b1A\\u202edesrever"),
              std::string::npos)
        << out_.str();
  }
  ASSERT_EQ(Run({"concerns", "show", concern.id}, "dsl"), 0);
  EXPECT_NE(out_.str().find("noted\\x1b[1A\\x1b[2K"), std::string::npos) << out_.str();
  ASSERT_EQ(Run({"devices"}, "it"), 0);
  EXPECT_TRUE(no_controls(out_.str())) << out_.str();
  EXPECT_NE(out_.str().find("laptop\\x1b[31m-red"), std::string::npos) << out_.str();

  ASSERT_EQ(Run({"concerns", "show", concern.id, "--json"}, "dsl"), 0);
  auto parsed = Poco::JSON::Parser().parse(out_.str()).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(parsed->getValue<std::string>("text"), hostile);
}

// Issue 14, finding 5: concern events reached IT and viewers (device, time, reference).
TEST_F(WardctlStaffTest, Regression_Issue14_EventsTailListsConcernsToTheDslOnly) {
  for (const std::string role : {"it", "viewer"}) {
    EXPECT_EQ(Run({"events", "tail", "--json"}, role), 0) << err_.str();
    EXPECT_EQ(out_.str().find("\"kind\":\"concern\""), std::string::npos)
        << role << ": " << out_.str();
    EXPECT_EQ(out_.str().find("bullying"), std::string::npos) << role;
  }
  EXPECT_EQ(Run({"events", "tail", "--json"}, "dsl"), 0) << err_.str();
  EXPECT_NE(out_.str().find("\"kind\":\"concern\""), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("screenshot_png"), std::string::npos) << out_.str();
}

TEST_F(WardctlStaffTest, RefusesACollectorItDoesNotTrust) {
  testing::TempDir other;
  auto other_pki = testing::CreateTestPki(other.path());
  ASSERT_TRUE(other_pki.has_value());
  EXPECT_EQ(Run({"devices"}, "it", other_pki->ca_cert.string()), 1);
  EXPECT_NE(err_.str().find("cannot reach"), std::string::npos) << err_.str();
}

constexpr char kId[] = "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b";

TEST_F(WardctlStaffTest, IncidentLogStatusAndNotesRoundTripForTheDslOnly) {
  EXPECT_EQ(Run({"concerns", "status", kId, "in-progress"}, "dsl"), 0) << err_.str();
  EXPECT_EQ(Run({"concerns", "note", kId, "spoke to the learner with their tutor"}, "dsl"), 0);
  EXPECT_EQ(Run({"concerns", "status", kId, "referred"}, "dsl"), 0);

  // Filters: by status and by time received (the concern was stored at t = 5 ms, in 1970).
  EXPECT_EQ(Run({"concerns", "list", "--status", "referred"}, "dsl"), 0) << err_.str();
  EXPECT_NE(out_.str().find(kId), std::string::npos);
  EXPECT_NE(out_.str().find("1 concern\n"), std::string::npos) << out_.str();
  EXPECT_EQ(Run({"concerns", "list", "--status", "new"}, "dsl"), 0);
  EXPECT_NE(out_.str().find("0 concerns"), std::string::npos) << out_.str();
  EXPECT_EQ(Run({"concerns", "list", "--since", "1970-01-01"}, "dsl"), 0);
  EXPECT_NE(out_.str().find("1 concern\n"), std::string::npos) << out_.str();
  EXPECT_EQ(Run({"concerns", "list", "--since", "7d"}, "dsl"), 0);
  EXPECT_NE(out_.str().find("0 concerns"), std::string::npos) << out_.str();
  EXPECT_EQ(Run({"concerns", "list", "--since", "last tuesday"}, "dsl"), 1);
  EXPECT_NE(err_.str().find("--since takes"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"concerns", "list", "--status", "pending"}, "dsl"), 1);
  EXPECT_NE(err_.str().find("new, in-progress, referred, closed"), std::string::npos) << err_.str();

  // Shown in full, with the incident log in order: who did what, and when.
  EXPECT_EQ(Run({"concerns", "show", kId}, "dsl"), 0);
  const std::string shown = out_.str();
  EXPECT_NE(shown.find("referred"), std::string::npos);
  EXPECT_NE(shown.find("someone is bullying me"), std::string::npos);
  EXPECT_NE(shown.find("bullying or harassment"), std::string::npos);
  const auto first = shown.find("dsl: status set to in-progress");
  const auto second = shown.find("dsl: spoke to the learner with their tutor");
  const auto third = shown.find("dsl: status set to referred");
  ASSERT_NE(first, std::string::npos) << shown;
  ASSERT_NE(second, std::string::npos) << shown;
  ASSERT_NE(third, std::string::npos) << shown;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);

  // IT sees a redacted view and cannot change the log; viewers see nothing.
  EXPECT_EQ(Run({"concerns", "show", kId}, "it"), 0);
  EXPECT_EQ(out_.str().find("bullying"), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("tutor"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("referred"), std::string::npos) << "IT may see where it stands";
  EXPECT_EQ(Run({"concerns", "note", kId, "it was here"}, "it"), 1);
  EXPECT_EQ(Run({"concerns", "status", kId, "closed"}, "it"), 1);
  EXPECT_EQ(Run({"concerns", "list"}, "viewer"), 1);
  EXPECT_NE(err_.str().find("403"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"concerns", "show", kId}, "viewer"), 1);

  auto notes = store_->ListConcernNotes(kId);
  ASSERT_TRUE(notes.has_value());
  ASSERT_EQ(notes->size(), 3u);
  for (const ConcernNote& n : *notes) {
    EXPECT_EQ(n.author, "dsl");
    EXPECT_GT(n.at_ms, 0);
  }
  auto audit = store_->ListAudit(100);
  ASSERT_TRUE(audit.has_value());
  std::multiset<std::string> actions;
  for (const AuditEntry& a : *audit) {
    actions.insert(a.staff_name + " " + a.action);
  }
  EXPECT_EQ(actions.count("dsl concern.status"), 2u);
  EXPECT_EQ(actions.count("dsl concern.note"), 1u);
  EXPECT_GE(actions.count("dsl concern.list"), 2u);
  EXPECT_GE(actions.count("dsl concern.read"), 1u);
  EXPECT_EQ(actions.count("it concern.read.redacted"), 1u);
  EXPECT_EQ(actions.count("viewer concern.list"), 0u);
}

TEST_F(WardctlStaffTest, ShowSavesTheScreenshotForTheDslOnly) {
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR-evidence", 25);
  EventRow concern;
  concern.id = "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6c";
  concern.kind = "concern";
  concern.priority = 4;
  concern.body = "x";
  concern.concern = ConcernRow{"Q2W3-E4R5", 3, "look at this", false, false, "", png};
  ASSERT_TRUE(store_->IngestEvents("dev-1", std::vector<EventRow>{concern}, 6));
  const auto file = dir_.path() / "evidence.png";

  EXPECT_EQ(Run({"concerns", "show", concern.id, "--save-screenshot", file.string()}, "it"), 1);
  EXPECT_NE(err_.str().find("DSL only"), std::string::npos) << err_.str();
  EXPECT_FALSE(std::filesystem::exists(file));

  EXPECT_EQ(Run({"concerns", "show", concern.id, "--save-screenshot", file.string()}, "dsl"), 0)
      << err_.str();
  std::ifstream in(file, std::ios::binary);
  const std::string saved((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(saved, png);
  struct stat st{};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(out_.str().find("screenshot: yes"), std::string::npos) << out_.str();

  // Evidence is never overwritten; a concern without a screenshot says so.
  EXPECT_EQ(Run({"concerns", "show", concern.id, "--save-screenshot", file.string()}, "dsl"), 1);
  EXPECT_NE(err_.str().find("not overwriting"), std::string::npos) << err_.str();
  const auto none = dir_.path() / "none.png";
  EXPECT_EQ(Run({"concerns", "show", kId, "--save-screenshot", none.string()}, "dsl"), 1);
  EXPECT_NE(err_.str().find("no screenshot"), std::string::npos) << err_.str();
  EXPECT_FALSE(std::filesystem::exists(none));
}

// Issue 17: holds and erasure from wardctl, for the DSL only; a hold keeps a closed concern
// until it is lifted, and the laptop is listed as waiting until it confirms.
TEST_F(WardctlStaffTest, HoldsAndErasureForTheDslOnly) {
  EventRow usb;
  usb.id = "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a70";
  usb.kind = "usb";
  usb.priority = 2;
  usb.body = "usb";
  usb.account = "learner1";
  EventRow concern;
  concern.id = "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a71";
  concern.kind = "concern";
  concern.priority = 4;
  concern.concern = ConcernRow{"K7QF-2M9Y", 1, "it happened again", false, false, "learner1", ""};
  concern.account = "learner1";
  ASSERT_TRUE(store_->IngestEvents("dev-1", std::vector<EventRow>{usb, concern}, 6));
  ASSERT_TRUE(store_->ApplyConcernChange({.concern_id = concern.id,
                                          .author = "Ms Patel",
                                          .at_ms = 7,
                                          .status = ConcernStatus::kClosed}));

  EXPECT_EQ(Run({"hold", "set", "--account", "learner1", "--reason", "police enquiry"}, "it"), 1);
  EXPECT_NE(err_.str().find("403"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"hold", "list"}, "viewer"), 1);
  EXPECT_EQ(Run({"hold", "set", "--reason", "x"}, "dsl"), 1);  // neither --concern nor --account
  ASSERT_EQ(Run({"hold", "set", "--account", "learner1", "--reason", "police enquiry"}, "dsl"), 0)
      << err_.str();
  EXPECT_NE(out_.str().find("Hold set"), std::string::npos) << out_.str();

  ASSERT_EQ(
      Run({"subject", "erase", "--account", "learner1", "--reason", "parent asked", "--dry-run"},
          "dsl"),
      0)
      << err_.str();
  EXPECT_NE(out_.str().find("Dry run"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find(concern.id + ": hold on the account: police enquiry"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(Run({"subject", "erase", "--account", "learner1", "--reason", "parent asked"}, "it"),
            1);
  const std::string hash = *store_->AccountHash("learner1");
  EXPECT_EQ(store_->CountAccountRecords(hash)->events, 2u);

  ASSERT_EQ(Run({"hold", "list"}, "dsl"), 0) << err_.str();
  EXPECT_NE(out_.str().find("1 hold"), std::string::npos) << out_.str();
  auto holds = store_->ListHolds("", false);
  ASSERT_EQ(holds->size(), 1u);
  ASSERT_EQ(
      Run({"hold", "lift", std::to_string(holds->front().id), "--reason", "enquiry closed"}, "dsl"),
      0)
      << err_.str();
  ASSERT_EQ(Run({"subject", "erase", "--account", "learner1", "--reason", "parent asked"}, "dsl"),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("Erased (erasure er-"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("events: concern 1 usb 1"), std::string::npos) << out_.str();
  EXPECT_EQ(store_->CountAccountRecords(hash)->events, 0u);
  EXPECT_EQ(store_->CountAccountRecords(hash)->concerns, 0u);

  ASSERT_EQ(Run({"subject", "erasures"}, "dsl"), 0) << err_.str();
  EXPECT_NE(out_.str().find("laptop-7 (dev-1): waiting"), std::string::npos) << out_.str();
  EXPECT_EQ(Run({"subject", "erasures"}, "it"), 1);
}

}  // namespace
}  // namespace ward::collector
