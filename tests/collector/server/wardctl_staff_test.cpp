// SPDX-License-Identifier: Apache-2.0
// wardctl's staff commands (in process, through its command table) against a real collector.
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Path.h>
#include <Poco/Zip/Decompress.h>
#include <gtest/gtest.h>

#include "ward/collector/server/collector.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/clock.h"
#include "ward/ctl/cli.h"
#include "ward/ctl/commands.h"
#include "ward/policy/data_inventory.h"
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

// wardctl subject export against a real collector over TLS (docs/adr/0015).
class WardctlSubjectTest : public WardctlStaffTest {
 protected:
  static constexpr const char* kConcernId = "0190b6e4-7c1a-7b3e-9f00-00000000c0de";
  static constexpr std::string_view kPng = "\x89PNG\r\n\x1a\n-learner1's-screenshot";

  void SetUp() override {
    WardctlStaffTest::SetUp();
    DeviceRecord d2;
    d2.id = "dev-2";
    d2.group = "learners-under-18";
    d2.hostname = "laptop-8";
    d2.credential_hash = HashSecret("y");
    ASSERT_TRUE(store_->PutDevice(d2));
    auto event = [](const std::string& id, bool aup) {
      EventRow e;
      e.id = id;
      e.kind = aup ? "aup" : "usb";
      e.priority = 2;
      e.account = "learner1";
      ward::v1::Event body;
      body.set_id(id);
      body.set_user("learner1");
      if (aup) {
        body.mutable_aup()->set_aup_version(3);
      } else {
        body.mutable_usb()->mutable_device()->set_device_id("0781:5567");
      }
      e.body = body.SerializeAsString();
      return e;
    };
    EventRow concern;
    concern.id = kConcernId;
    concern.kind = "concern";
    concern.priority = 4;
    concern.account = "learner1";
    concern.concern =
        ConcernRow{"P9LK-3J2H",      1, "Sam and Alex keep messaging me", false, true, "learner1",
                   std::string(kPng)};
    ASSERT_TRUE(store_->IngestEvents(
        "dev-1", std::vector<EventRow>{event("u-1", false), event("a-1", true), concern}, 10));
    ASSERT_TRUE(store_->IngestEvents("dev-2", std::vector<EventRow>{event("u-2", false)}, 20));
    ASSERT_TRUE(store_->ApplyConcernChange({.concern_id = kConcernId,
                                            .author = "dsl",
                                            .at_ms = 30,
                                            .kind = IncidentKind::kNote,
                                            .text = "called home",
                                            .action = "concern.note"}));
  }

  static std::string Read(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // Checks an export unpacked at `dir`.
  void ExpectExport(const std::filesystem::path& dir) {
    const std::string readme = Read(dir / "README.txt");
    EXPECT_NE(readme.find("Account name: learner1"), std::string::npos) << readme;
    EXPECT_NE(readme.find("2 events, 1 agreement (AUP) acceptances, 1 concerns"), std::string::npos)
        << readme;
    EXPECT_NE(readme.find("\"review_before_release\": true"), std::string::npos);
    EXPECT_NE(readme.find("redact other people's details"), std::string::npos);
    EXPECT_NE(readme.find("seen on 2 laptops. Please check these records are about one person"),
              std::string::npos);
    EXPECT_NE(readme.find("Anonymous concerns are not here"), std::string::npos);
    // What, why, how long and who sees come from the data inventory.
    for (const char* column : {"events.body", "concerns.text", "concern_notes.text"}) {
      for (const policy::InventoryEntry& e : policy::DataInventory()) {
        if (e.holder == policy::DataHolder::kCollector &&
            std::find(e.columns.begin(), e.columns.end(), column) != e.columns.end()) {
          EXPECT_NE(readme.find(e.purpose), std::string::npos) << column;
          EXPECT_NE(readme.find(e.retention), std::string::npos) << column;
          EXPECT_NE(readme.find(e.who_sees), std::string::npos) << column;
        }
      }
    }
    auto events = Poco::JSON::Parser()
                      .parse(Read(dir / "records/events.json"))
                      .extract<Poco::JSON::Array::Ptr>();
    ASSERT_EQ(events->size(), 2u);
    std::set<std::string> ids = {events->getObject(0)->getValue<std::string>("id"),
                                 events->getObject(1)->getValue<std::string>("id")};
    EXPECT_EQ(ids, (std::set<std::string>{"u-1", "u-2"}));
    EXPECT_EQ(events->getObject(0)->getObject("event")->getValue<std::string>("user"), "learner1");
    auto aup = Poco::JSON::Parser()
                   .parse(Read(dir / "records/aup_acceptances.json"))
                   .extract<Poco::JSON::Array::Ptr>();
    ASSERT_EQ(aup->size(), 1u);
    EXPECT_EQ(aup->getObject(0)->getValue<std::string>("id"), "a-1");
    auto concerns = Poco::JSON::Parser()
                        .parse(Read(dir / "records/concerns.json"))
                        .extract<Poco::JSON::Array::Ptr>();
    ASSERT_EQ(concerns->size(), 1u);  // not the unnamed concern of the fixture
    auto c = concerns->getObject(0);
    EXPECT_EQ(c->getValue<std::string>("text"), "Sam and Alex keep messaging me");
    EXPECT_TRUE(c->getValue<bool>("review_before_release"));
    EXPECT_EQ(c->getValue<std::string>("screenshot_file"),
              std::string("screenshots/") + kConcernId + ".png");
    ASSERT_EQ(c->getArray("incident_log")->size(), 1u);
    EXPECT_EQ(c->getArray("incident_log")->getObject(0)->getValue<std::string>("text"),
              "called home");
    EXPECT_EQ(Read(dir / "screenshots" / (std::string(kConcernId) + ".png")), kPng);
    auto devices = Poco::JSON::Parser()
                       .parse(Read(dir / "records/devices.json"))
                       .extract<Poco::JSON::Array::Ptr>();
    ASSERT_EQ(devices->size(), 2u);
    EXPECT_EQ(devices->getObject(1)->getValue<std::string>("hostname"), "laptop-8");
  }
};

TEST_F(WardctlSubjectTest, ExportsADirectoryWithReadmeRecordsAndScreenshots) {
  const auto out = dir_.path() / "export-learner1";
  auto before = store_->ListAudit(1000);
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(Run({"subject", "export", "--account", "learner1", "--out", out.string()}, "dsl"), 0)
      << err_.str();
  EXPECT_NE(out_.str().find("2 events, 1 AUP acceptances, 1 concerns"), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("check it is one person"), std::string::npos);
  ExpectExport(out);
  // Only the staff member who made it can read it.
  const auto mode = [](const std::filesystem::path& p) {
    struct stat st{};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  };
  EXPECT_EQ(mode(out), 0700u);
  EXPECT_EQ(mode(out / "records"), 0700u);
  EXPECT_EQ(mode(out / "README.txt"), 0600u);
  EXPECT_EQ(mode(out / "records/concerns.json"), 0600u);
  EXPECT_EQ(mode(out / "screenshots" / (std::string(kConcernId) + ".png")), 0600u);
  // Every page was audited: events, aup, concerns, screenshot, devices.
  auto after = store_->ListAudit(1000);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size() - before->size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*after)[i].action, "subject.export");
    EXPECT_EQ((*after)[i].staff_name, "dsl");
  }
  // No staging directory is left beside it.
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".wardctl-export-"), std::string::npos) << e.path();
  }
}

TEST_F(WardctlSubjectTest, ExportsAZipWhenOutEndsInZip) {
  const auto zip = dir_.path() / "learner1.zip";
  ASSERT_EQ(Run({"subject", "export", "--account", "learner1", "--out", zip.string()}, "dsl"), 0)
      << err_.str();
  ASSERT_TRUE(std::filesystem::is_regular_file(zip));
  EXPECT_EQ(std::filesystem::status(zip).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto unpacked = dir_.path() / "unpacked";
  std::ifstream in(zip, std::ios::binary);
  Poco::Zip::Decompress(in, Poco::Path::forDirectory(unpacked.string())).decompressAllFiles();
  ExpectExport(unpacked / "learner1");
}

TEST_F(WardctlSubjectTest, NarrowsByDeviceAndDate) {
  const auto out = dir_.path() / "one-laptop";
  ASSERT_EQ(Run({"subject", "export", "--account", "learner1", "--device", "dev-2", "--out",
                 out.string()},
                "dsl"),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("1 events, 0 AUP acceptances, 0 concerns"), std::string::npos)
      << out_.str();
  EXPECT_NE(Read(out / "README.txt").find("Laptop: dev-2"), std::string::npos);
  // For scripts: the counts as JSON.
  ASSERT_EQ(Run({"subject", "export", "--account", "learner1", "--device", "dev-1", "--json",
                 "--out", (dir_.path() / "json").string()},
                "dsl"),
            0)
      << err_.str();
  auto counts = Poco::JSON::Parser().parse(out_.str()).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(counts->getValue<int>("events"), 1);
  EXPECT_EQ(counts->getValue<int>("aup_acceptances"), 1);
  EXPECT_EQ(counts->getValue<int>("concerns"), 1);
  EXPECT_EQ(counts->getValue<int>("screenshots"), 1);
  EXPECT_EQ(counts->getValue<int>("devices"), 1);
  // Records are received at 10 and 20 ms after 1970-01-01: a range in 2026 holds none.
  const auto later = dir_.path() / "later";
  ASSERT_EQ(Run({"subject", "export", "--account", "learner1", "--from", "2026-01-01", "--to",
                 "2026-12-31", "--out", later.string()},
                "dsl"),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("0 events, 0 AUP acceptances, 0 concerns"), std::string::npos);
  EXPECT_NE(Read(later / "README.txt").find("from 2026-01-01 to 2026-12-31 (inclusive)"),
            std::string::npos);
}

TEST_F(WardctlSubjectTest, RefusesToOverwriteBadDatesAndOtherRoles) {
  const auto existing = dir_.path() / "existing.zip";
  std::ofstream(existing) << "keep me";
  EXPECT_EQ(Run({"subject", "export", "--account", "learner1", "--out", existing.string()}, "dsl"),
            1);
  EXPECT_NE(err_.str().find("never overwrites an export"), std::string::npos) << err_.str();
  EXPECT_EQ(Read(existing), "keep me");
  const auto out = dir_.path() / "x";
  for (const char* bad : {"2026-13-01", "01/09/2026", "2026-02-30", "yesterday"}) {
    EXPECT_EQ(
        Run({"subject", "export", "--account", "learner1", "--from", bad, "--out", out.string()},
            "dsl"),
        1);
    EXPECT_NE(
        err_.str().find(std::string("--from '") + bad + "' is not a date: write it as YYYY-MM-DD"),
        std::string::npos)
        << err_.str();
  }
  EXPECT_EQ(Run({"subject", "export", "--account", "learner1", "--from", "2026-10-01", "--to",
                 "2026-09-01", "--out", out.string()},
                "dsl"),
            1);
  EXPECT_NE(err_.str().find("--to 2026-09-01 is before --from 2026-10-01"), std::string::npos)
      << err_.str();
  EXPECT_EQ(Run({"subject", "export", "--account", "learner1", "--out", out.string()}, "it"), 1);
  EXPECT_NE(err_.str().find("403"), std::string::npos) << err_.str();
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(Run({"subject", "export", "--out", out.string()}, "dsl"), 2);
}

}  // namespace
}  // namespace ward::collector
