// SPDX-License-Identifier: Apache-2.0
// The agent as the tray sees it: a real Agent (enforcers off) with its real IpcServer and
// encrypted EventStore on a temporary directory, driven through a real IpcClient.
#include "ward/app/agent_service.h"

#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <regex>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "ipc_server_fixture.h"
#include "signed_policy_util.h"
#include "ward/agent/ipc/ipc_client.h"
#include "ward/app/agent.h"
#include "ward/policy/data_inventory.h"
#include "ward/policy/summary.h"
#include "ward/testing/paths.h"

namespace ward::app {
namespace {

using namespace std::chrono_literals;
using testing::SignedPolicyDir;

using CollectingSink = agent::ipc::testing::CollectingSink;

std::string PngOf(std::size_t size) {
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string("\0\0\0\x0dIHDR", 8);
  png.resize(std::max(size, png.size()), 'x');
  return png;
}

class AgentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.WriteBundle(1);
    config_.policy_bundle = dir_.bundle();
    config_.policy_key = dir_.pubkey();
    config_.state_dir = dir_.dir() / "state";
    config_.status_file = dir_.dir() / "agent.status";
    config_.ipc_socket = dir_.dir() / "run/agent.sock";
    config_.usb = false;
    config_.exec = false;
    config_.settings = false;
    StartAgent();
  }
  void TearDown() override { StopAgent(); }

  void StartAgent() {
    auto deps = AgentDeps::Create(config_);
    ASSERT_TRUE(deps.has_value()) << deps.error().ToString();
    ASSERT_NE((*deps)->store, nullptr);
    agent_ = std::make_unique<Agent>(*std::move(deps));
    ASSERT_TRUE(agent_->Start().has_value());
    auto client = agent::ipc::IpcClient::Connect({.endpoint = config_.ipc_socket}, &sink_);
    ASSERT_TRUE(client.has_value()) << client.error().ToString();
    client_ = *std::move(client);
  }
  void StopAgent() {
    client_.reset();
    agent_.reset();
  }

  // Every stored event (telemetry flushed first). The lease is released again.
  std::vector<v1::Event> StoredEvents() {
    auto& store = *agent_->deps().store;
    EXPECT_TRUE(store.Flush().has_value());
    auto lease = store.Lease(10000, 64u << 20);
    EXPECT_TRUE(lease.has_value());
    store.Release(*lease);
    return lease->events;
  }
  std::uint64_t CriticalCount() {
    auto status = agent_->deps().store->GetStatus();
    EXPECT_TRUE(status.has_value());
    const auto it = status->events_by_priority().find("CRITICAL");
    return it == status->events_by_priority().end() ? 0 : it->second;
  }
  int AgentEvents(v1::AgentEvent::Kind kind) {
    int n = 0;
    for (const auto& e : StoredEvents()) {
      n += e.has_agent() && e.agent().kind() == kind ? 1 : 0;
    }
    return n;
  }
  static v1::SubmitConcernRequest Concern(std::string text) {
    v1::SubmitConcernRequest request;
    request.set_category(v1::CONCERN_CATEGORY_BULLYING);
    request.set_text(std::move(text));
    return request;
  }
  bool WaitForNotice(const std::function<bool(const v1::Notice&)>& match) {
    for (int i = 0; i < 50; ++i) {
      for (const auto& n : sink_.notices()) {
        if (match(n)) {
          return true;
        }
      }
      (void)client_->PumpNotices(100ms);
    }
    return false;
  }

  SignedPolicyDir dir_;
  AgentConfig config_;
  CollectingSink sink_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<agent::ipc::IpcClient> client_;
};

TEST_F(AgentServiceTest, ConcernIsCriticalInTheStoreWhenTheAnswerArrives) {
  const std::uint64_t before = CriticalCount();
  auto request = Concern("Someone in my class keeps sending me mean messages.");
  request.set_screenshot_png(PngOf(1000));
  auto sent = client_->SubmitConcern({}, request);
  ASSERT_TRUE(sent.has_value()) << sent.error().ToString();
  // Checked straight after the answer, with no flush: CRITICAL appends commit before returning.
  EXPECT_EQ(CriticalCount(), before + 1);
  EXPECT_TRUE(
      std::regex_match(sent->reference(), std::regex("[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")))
      << sent->reference();
  const passwd* me = ::getpwuid(::getuid());
  ASSERT_NE(me, nullptr);
  bool found = false;
  for (const auto& e : StoredEvents()) {
    if (e.id() == sent->event_id()) {
      found = true;
      EXPECT_EQ(e.priority(), v1::PRIORITY_CRITICAL);
      EXPECT_EQ(e.user(), me->pw_name);
      EXPECT_EQ(e.policy_version(), 1u);
      EXPECT_EQ(e.concern().reference(), sent->reference());
      EXPECT_EQ(e.concern().category(), v1::CONCERN_CATEGORY_BULLYING);
      EXPECT_EQ(e.concern().text(), request.text());
      EXPECT_EQ(e.concern().screenshot_png(), request.screenshot_png());
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(AgentServiceTest, AnonymousConcernNamesNobodyAndNoCategoryMeansSomethingElse) {
  auto request = Concern("I don't want to say who I am.");
  request.set_anonymous(true);
  request.set_category(v1::CONCERN_CATEGORY_UNSPECIFIED);
  auto sent = client_->SubmitConcern({}, request);
  ASSERT_TRUE(sent.has_value()) << sent.error().ToString();
  bool found = false;
  for (const auto& e : StoredEvents()) {
    if (e.id() == sent->event_id()) {
      found = true;
      EXPECT_EQ(e.user(), "");
      EXPECT_TRUE(e.concern().anonymous());
      EXPECT_EQ(e.concern().category(), v1::CONCERN_CATEGORY_OTHER);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(AgentServiceTest, BadConcernsAreRefusedKindlyAndSpecificallyAndNothingIsStored) {
  const std::uint64_t before = CriticalCount();
  const auto refused = [&](v1::SubmitConcernRequest request, const std::string& fragment) {
    auto sent = client_->SubmitConcern({}, request);
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(sent.error().message().find(fragment), std::string::npos) << sent.error().message();
  };
  auto jpeg = Concern("look");
  jpeg.set_screenshot_png(std::string("\xff\xd8\xff\xe0 JFIF and more bytes", 24));
  refused(jpeg, "isn't a PNG screenshot");
  auto big = Concern("look");
  big.set_screenshot_png(PngOf(kMaxScreenshotBytes + 1));
  refused(big, "too big to send");  // the IPC layer refuses it first; see ValidateConcernTest
  refused(Concern(std::string(4001, 'a')), "Your message is 4001 characters long");
  refused(Concern(""), "Please write a few words");
  EXPECT_EQ(CriticalCount(), before);
  // 4000 characters of two-byte UTF-8 (8000 bytes) is within the limit.
  std::string long_text;
  for (int i = 0; i < 4000; ++i) {
    long_text += "\xc3\xa9";
  }
  EXPECT_TRUE(client_->SubmitConcern({}, Concern(long_text)).has_value());
}

TEST_F(AgentServiceTest, AupIsRecordedOncePerVersionAndPendingFlips) {
  auto status = client_->Status();
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->aup_pending());
  v1::AcceptAupRequest old_version;
  old_version.set_aup_version(2);
  auto refused = client_->AcceptAup({}, old_version);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  v1::AcceptAupRequest accept;
  accept.set_aup_version(3);
  ASSERT_TRUE(client_->AcceptAup({}, accept).has_value());
  ASSERT_TRUE(client_->AcceptAup({}, accept).has_value());
  status = client_->Status();
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->aup_pending());
  int aup_events = 0;
  for (const auto& e : StoredEvents()) {
    if (e.has_aup()) {
      ++aup_events;
      EXPECT_EQ(e.aup().aup_version(), 3u);
      EXPECT_TRUE(e.aup().under_18_text());
      EXPECT_EQ(e.user(), ::getpwuid(::getuid())->pw_name);
    }
  }
  EXPECT_EQ(aup_events, 1);
  // Remembered in the store: a restarted agent does not ask again.
  StopAgent();
  StartAgent();
  status = client_->Status();
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->aup_pending());
}

// Keys written by agents from before Caller was OS-neutral (uid_t): "aup/<uid>/<version>" and
// "concern/<event id>" = "<uid> <reference>". After an upgrade they must still mean the same.
TEST_F(AgentServiceTest, AupAcceptedBeforeTheUpgradeStillCounts) {
  auto& store = *agent_->deps().store;
  ASSERT_TRUE(store.PutState("aup/" + std::to_string(::geteuid()) + "/3", "1").has_value());
  StopAgent();
  StartAgent();
  auto status = client_->Status();
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->aup_pending());
}

TEST_F(AgentServiceTest, ConcernPendingFromBeforeTheUpgradeTellsItsSender) {
  ASSERT_TRUE(client_->Subscribe().has_value());
  auto& store = *agent_->deps().store;
  ASSERT_TRUE(store.PutState("concern/old-event", std::to_string(::geteuid() + 1) + " NOT-MINE")
                  .has_value());
  ASSERT_TRUE(
      store.PutState("concern/my-event", std::to_string(::geteuid()) + " K7QF-2M9X").has_value());
  agent_->service()->OnConcernAcknowledged("old-event");
  agent_->service()->OnConcernAcknowledged("my-event");
  EXPECT_TRUE(WaitForNotice([](const v1::Notice& n) {
    return n.has_concern_received() && n.concern_received().reference() == "K7QF-2M9X";
  }));
  for (const auto& n : sink_.notices()) {
    EXPECT_NE(n.concern_received().reference(), "NOT-MINE");
  }
}

TEST_F(AgentServiceTest, StatusSaysOfflineUntilSyncReportsTheCollectorReachable) {
  auto status = client_->Status();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state(), v1::StatusResponse::STATE_OFFLINE);
  EXPECT_EQ(status->policy_version(), 1u);
  EXPECT_EQ(status->mode(), v1::MODE_ENFORCE);
  EXPECT_EQ(status->policy_name(), testing::SamplePolicy(1).name());
  EXPECT_TRUE(status->device().has_store());
  EXPECT_EQ(status->device().degraded_size(), 0);
  agent_->service()->SetCollectorReachable(true);
  status = client_->Status();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state(), v1::StatusResponse::STATE_PROTECTED);
}

TEST_F(AgentServiceTest, SummaryCarriesThePolicysWordsContactsAndDataInventory) {
  auto summary = client_->PolicySummary();
  ASSERT_TRUE(summary.has_value());
  const auto policy = testing::SamplePolicy(1);
  const auto lines = policy::SummarizeForLearner(policy);
  const auto kept = policy::DescribeKeptData(policy);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(std::vector<std::string>(summary->lines().begin(), summary->lines().end()), lines);
  ASSERT_EQ(summary->kept_size(), static_cast<int>(kept.size()));
  ASSERT_EQ(summary->data_inventory_size(), static_cast<int>(kept.size()));
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const int at = static_cast<int>(i);
    EXPECT_EQ(summary->kept(at).what(), kept[i].what);
    EXPECT_EQ(summary->kept(at).how_long(), kept[i].how_long);
    EXPECT_EQ(summary->kept(at).who_sees(), kept[i].who_sees);
    EXPECT_EQ(summary->data_inventory(at), kept[i].what);  // for a tray older than `kept`
  }
  EXPECT_EQ(summary->contacts().dsl_name(), "Sam Patel");
  EXPECT_EQ(summary->aup().version(), 3u);
  EXPECT_EQ(summary->audience(), v1::AUDIENCE_UNDER_18);
}

TEST_F(AgentServiceTest, NewSignedPolicyIsAppliedAndTraysAreTold) {
  ASSERT_TRUE(client_->Subscribe().has_value());
  ASSERT_TRUE(agent_->ApplySignedPolicy(dir_.Bundle(2)).has_value());
  EXPECT_EQ(agent_->policy()->policy.version(), 2u);
  EXPECT_TRUE(WaitForNotice([](const v1::Notice& n) {
    return n.has_policy_changed() && n.policy_changed().policy_version() == 2;
  }));
  auto status = client_->Status();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->policy_version(), 2u);
  EXPECT_EQ(AgentEvents(v1::AgentEvent::KIND_POLICY_APPLIED), 2);  // version 1 at start, then 2
}

TEST_F(AgentServiceTest, RollbackTamperedAndForeignBundlesAreRejectedAndTheOldPolicyStays) {
  ASSERT_TRUE(agent_->ApplySignedPolicy(dir_.Bundle(3)).has_value());
  const auto expect_rejected = [&](const std::string& bundle, ErrorCode code) {
    auto applied = agent_->ApplySignedPolicy(bundle);
    ASSERT_FALSE(applied.has_value());
    EXPECT_EQ(applied.error().code(), code) << applied.error().ToString();
    EXPECT_EQ(agent_->policy()->policy.version(), 3u);
  };
  expect_rejected(dir_.Bundle(2), ErrorCode::kFailedPrecondition);  // rollback
  expect_rejected(dir_.Bundle(3), ErrorCode::kFailedPrecondition);  // replay
  std::string tampered = dir_.Bundle(4);
  tampered[tampered.size() / 2] = static_cast<char>(tampered[tampered.size() / 2] ^ 0x01);
  expect_rejected(tampered, ErrorCode::kUnauthenticated);
  SignedPolicyDir other;  // another key
  expect_rejected(other.Bundle(5), ErrorCode::kUnauthenticated);
  expect_rejected("not a bundle", ErrorCode::kInvalidArgument);
  EXPECT_EQ(AgentEvents(v1::AgentEvent::KIND_POLICY_REJECTED), 5);
  auto status = client_->Status();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->policy_version(), 3u);
}

TEST_F(AgentServiceTest, RestartKeepsThePolicyInForceAndRefusesTheOlderBundle) {
  ASSERT_TRUE(agent_->ApplySignedPolicy(dir_.Bundle(4)).has_value());
  StopAgent();
  // The bundle file still says version 1: the kept version 4 stays, version 1 is a rollback.
  StartAgent();
  EXPECT_EQ(agent_->policy()->policy.version(), 4u);
  EXPECT_GE(AgentEvents(v1::AgentEvent::KIND_POLICY_REJECTED), 1);
  // SIGHUP with a newer bundle file applies it; the same file again changes nothing.
  dir_.WriteBundle(5);
  ASSERT_TRUE(agent_->Reload().has_value());
  EXPECT_EQ(agent_->policy()->policy.version(), 5u);
  ASSERT_TRUE(agent_->Reload().has_value());
  EXPECT_EQ(agent_->policy()->policy.version(), 5u);
}

TEST_F(AgentServiceTest, KeptPolicyThatWasChangedIsNotTrusted) {
  StopAgent();
  std::string kept = testing::ReadFile(PolicyInForcePath(config_));
  ASSERT_FALSE(kept.empty());
  kept[kept.size() - 3] = static_cast<char>(kept[kept.size() - 3] ^ 0x20);
  testing::WriteFile(PolicyInForcePath(config_), kept);
  // The signed bundle file still verifies, so the agent starts with it; the change is tamper.
  StartAgent();
  EXPECT_EQ(agent_->policy()->policy.version(), 1u);
  EXPECT_EQ(AgentEvents(v1::AgentEvent::KIND_TAMPER), 1);
}

TEST_F(AgentServiceTest, AcknowledgedConcernTellsOnlyItsSenderAndWakesTheUploader) {
  std::atomic<int> uploads{0};
  agent_->service()->SetUploadTrigger([&uploads] { ++uploads; });
  ASSERT_TRUE(client_->Subscribe().has_value());
  auto sent = client_->SubmitConcern({}, Concern("Please help."));
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(uploads.load(), 1);
  agent_->service()->OnConcernAcknowledged("not-an-event-id");
  agent_->service()->OnConcernAcknowledged(sent->event_id());
  EXPECT_TRUE(WaitForNotice([&](const v1::Notice& n) {
    return n.has_concern_received() && n.concern_received().reference() == sent->reference();
  }));
  // Told once: the pending entry is gone.
  EXPECT_FALSE(agent_->deps().store->GetState("concern/" + sent->event_id()).has_value());
}

TEST(ConcernReferenceTest, IsEightUnambiguousCharactersInTwoGroups) {
  SeededRandom random(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string ref = MakeConcernReference(random);
    ASSERT_EQ(ref.size(), 9u);
    EXPECT_EQ(ref[4], '-');
    EXPECT_EQ(ref.find_first_of("01OIL"), std::string::npos) << ref;
    seen.insert(ref);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ValidateConcernTest, ScreenshotMustBeAPngWithItsHeader) {
  v1::SubmitConcernRequest request;
  request.set_text("x");
  request.set_screenshot_png(std::string("\x89PNG\r\n\x1a\n", 8));  // signature, no IHDR
  EXPECT_FALSE(ValidateConcern(request).has_value());
  request.set_screenshot_png(PngOf(kMaxScreenshotBytes));
  EXPECT_TRUE(ValidateConcern(request).has_value());
  request.set_screenshot_png(PngOf(kMaxScreenshotBytes + 300 * 1024));
  auto big = ValidateConcern(request);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().message(),
            "The screenshot is too big to send (4.3 MB; the limit is 4 MB). Please remove it or "
            "attach a smaller one.");
  request.set_screenshot_png(PngOf(kMaxScreenshotBytes));
  request.clear_text();
  EXPECT_TRUE(ValidateConcern(request).has_value());  // a screenshot alone says something
}

}  // namespace
}  // namespace ward::app

namespace ward::app {
namespace {

AgentConfig QuietConfig(const std::filesystem::path& dir) {
  AgentConfig config;
  config.state_dir = dir / "state";
  config.status_file = dir / "agent.status";
  config.ipc_socket = dir / "run/agent.sock";
  config.usb = false;
  config.exec = false;
  config.settings = false;
  return config;
}

TEST(AgentDevPolicyTest, UnsignedPolicyNeedsAttentionAndRefusesSignedBundles) {
  SignedPolicyDir dir;
  AgentConfig config = QuietConfig(dir.dir());
  config.dev_policy_json = ward::testing::TestdataDir().string() + "/policy/sample-under18.json";
  auto deps = AgentDeps::Create(config);
  ASSERT_TRUE(deps.has_value());
  Agent agent(*std::move(deps));
  ASSERT_TRUE(agent.Start().has_value());
  auto status = agent.service()->Status(
      {.user_id = std::to_string(::getuid()), .user_name = "", .process_id = ::getpid()});
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state(), v1::StatusResponse::STATE_NEEDS_ATTENTION);
  auto applied = agent.ApplySignedPolicy(dir.Bundle(2));
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(agent.policy()->policy.version(), 1u);
}

TEST(AgentIpcDegradedTest, UnsafeSocketDirectoryDegradesIpcButTheAgentRuns) {
  SignedPolicyDir dir;
  dir.WriteBundle(1);
  AgentConfig config = QuietConfig(dir.dir());
  config.policy_bundle = dir.bundle();
  config.policy_key = dir.pubkey();
  std::filesystem::create_directories(dir.dir() / "run");
  ::chmod((dir.dir() / "run").c_str(), 0777);  // anyone could swap the socket
  auto deps = AgentDeps::Create(config);
  ASSERT_TRUE(deps.has_value());
  Agent agent(*std::move(deps));
  ASSERT_TRUE(agent.Start().has_value());
  EXPECT_NE(agent.Summary().find("ipc degraded"), std::string::npos) << agent.Summary();
  auto status = agent.service()->Status(
      {.user_id = std::to_string(::getuid()), .user_name = "", .process_id = ::getpid()});
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state(), v1::StatusResponse::STATE_NEEDS_ATTENTION);
  ASSERT_EQ(status->device().degraded_size(), 1);
  EXPECT_EQ(status->device().degraded(0).subsystem(), "ipc");
}

TEST(AgentStartTest, NoVerifiablePolicyMeansNoStart) {
  SignedPolicyDir dir;
  AgentConfig config = QuietConfig(dir.dir());
  config.policy_bundle = dir.bundle();
  config.policy_key = dir.pubkey();
  SignedPolicyDir other;  // signed with a key this agent does not trust
  testing::WriteFile(dir.bundle(), other.Bundle(1));
  auto deps = AgentDeps::Create(config);
  ASSERT_TRUE(deps.has_value());
  Agent agent(*std::move(deps));
  auto started = agent.Start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_FALSE(CheckPolicy(config).has_value());
  testing::WriteFile(dir.bundle(), dir.Bundle(1));
  auto checked = CheckPolicy(config);
  ASSERT_TRUE(checked.has_value());
  EXPECT_EQ(checked->version(), 1u);
}

}  // namespace
}  // namespace ward::app
