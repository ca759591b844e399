// SPDX-License-Identifier: Apache-2.0
// A real ward Agent (enforcers off, real IpcServer and encrypted store) with sync on, against
// the real collector in its own process over real TLS on loopback.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sync_test_support.h"
#include "ward/agent/ipc/ipc_client.h"
#include "ward/app/agent.h"
#include "ward/app/package_cli.h"
#include "ward/common/uuid.h"

namespace ward::agent::sync {
namespace {

using namespace std::chrono_literals;
using testing::CollectorProcess;
using testing::WaitUntil;

class Notices final : public ipc::NoticeSink {
 public:
  void Notify(v1::Notice notice) override {
    std::scoped_lock lock(mu_);
    notices_.push_back(std::move(notice));
  }
  bool HasConcernReceived(const std::string& reference) const {
    std::scoped_lock lock(mu_);
    for (const auto& n : notices_) {
      if (n.has_concern_received() && n.concern_received().reference() == reference) {
        return true;
      }
    }
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<v1::Notice> notices_;
};

void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class AgentSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = policy::SigningKey::Generate();
    ASSERT_TRUE(key.has_value());
    signing_key_ = std::make_unique<policy::SigningKey>(std::move(*key));
    collector_ = std::make_unique<CollectorProcess>(dir_.path() / "collector",
                                                    testing::PublicKeyHex(*signing_key_));
    ASSERT_NO_FATAL_FAILURE(collector_->Start());
    ::chmod(dir_.path().c_str(), 0755);
    ASSERT_TRUE(signing_key_->public_key().WriteFile(dir_.path() / "policy.pub").has_value());
    WriteBytes(dir_.path() / "policy.bundle",
               testing::SignedPolicyOf(*signing_key_, 1).SerializeAsString());
    WriteBytes(dir_.path() / "enrolment.secret", collector_->secret() + "\n");
    ::chmod((dir_.path() / "enrolment.secret").c_str(), 0600);
    config_.policy_bundle = dir_.path() / "policy.bundle";
    config_.policy_key = dir_.path() / "policy.pub";
    config_.state_dir = dir_.path() / "state";
    config_.status_file = dir_.path() / "agent.status";
    config_.ipc_socket = dir_.path() / "run/agent.sock";
    config_.usb = false;
    config_.exec = false;
    config_.settings = false;
    config_.collector_url = collector_->url();
    config_.collector_ca = collector_->ca_file();
    config_.enrolment_secret_file = dir_.path() / "enrolment.secret";
  }
  void TearDown() override {
    client_.reset();
    agent_.reset();
  }

  void StartAgent() {
    ASSERT_TRUE(app::CheckSync(config_).has_value());
    auto deps = app::AgentDeps::Create(config_);
    ASSERT_TRUE(deps.has_value()) << deps.error().ToString();
    ASSERT_TRUE((*deps)->degraded.empty()) << (*deps)->degraded.front();
    agent_ = std::make_unique<app::Agent>(*std::move(deps));
    ASSERT_TRUE(agent_->Start().has_value());
    ASSERT_NE(agent_->sync(), nullptr);
    auto client = ipc::IpcClient::Connect({.endpoint = config_.ipc_socket}, &notices_);
    ASSERT_TRUE(client.has_value()) << client.error().ToString();
    client_ = *std::move(client);
  }

  std::size_t AtCollector(const std::string& id, const std::string& kind = "") {
    std::size_t n = 0;
    for (const auto& [event_id, event_kind] : collector_->Events()) {
      n += (id.empty() || event_id == id) && (kind.empty() || event_kind == kind) ? 1u : 0u;
    }
    return n;
  }

  testing::ScratchDir dir_;
  std::unique_ptr<policy::SigningKey> signing_key_;
  std::unique_ptr<CollectorProcess> collector_;
  app::AgentConfig config_;
  Notices notices_;
  std::unique_ptr<app::Agent> agent_;
  std::unique_ptr<ipc::IpcClient> client_;
};

TEST_F(AgentSyncTest, ConcernReachesTheCollectorAndTheSenderHearsItArrived) {
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(WaitUntil([&] { return agent_->sync()->Snapshot().enrolled; }, 30s))
      << agent_->sync()->Snapshot().last_error;
  EXPECT_EQ(collector_->DeviceCount(), 1u);
  ASSERT_TRUE(client_->Subscribe().has_value());
  v1::SubmitConcernRequest request;
  request.set_category(v1::CONCERN_CATEGORY_BULLYING);
  request.set_text("Someone keeps sending me mean messages.");
  auto sent = client_->SubmitConcern({}, request);
  ASSERT_TRUE(sent.has_value()) << sent.error().ToString();
  // Uploaded at once (CRITICAL), not at the next telemetry round.
  ASSERT_TRUE(WaitUntil([&] { return AtCollector(sent->event_id()) == 1; }, 30s,
                        std::chrono::milliseconds(250)));
  bool told = false;
  for (int i = 0; i < 300 && !told; ++i) {
    (void)client_->PumpNotices(100ms);
    told = notices_.HasConcernReceived(sent->reference());
  }
  EXPECT_TRUE(told) << "no ConcernReceivedNotice for " << sent->reference();
  EXPECT_FALSE(agent_->deps().store->GetState("concern/" + sent->event_id()).has_value());
}

// Finding 4 of issue 14: before, the agent read an enrolment secret any local user could read
// (and so enrol a laptop of their own into the group).
TEST_F(AgentSyncTest, Regression_Issue14_RefusesASecretFileOthersCanReadOrRootDoesNotOwn) {
  const std::string path = config_.enrolment_secret_file.string();
  const std::string fix =
      "; make it root's and private with: chown root:root " + path + " && chmod 600 " + path;
  for (const ::mode_t mode : {0640u, 0604u, 0644u, 0660u}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto checked = app::CheckSync(config_);
    ASSERT_FALSE(checked.has_value()) << std::oct << mode;
    EXPECT_EQ(checked.error().code(), ErrorCode::kPermissionDenied);
    char shown[8];
    std::snprintf(shown, sizeof(shown), "%04o", static_cast<unsigned>(mode));
    EXPECT_EQ(checked.error().message(),
              "other users of this laptop can read the enrolment secret file " + path + " (mode " +
                  shown + ")" + fix);
  }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_TRUE(app::CheckSync(config_).has_value());
  if (::geteuid() == 0) {  // CI runs as root: a file another user owns is refused too
    ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
    auto checked = app::CheckSync(config_);
    ASSERT_FALSE(checked.has_value());
    EXPECT_EQ(checked.error().message(),
              "the enrolment secret file " + path + " belongs to uid 65534, not root" + fix);
    ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
    EXPECT_TRUE(app::CheckSync(config_).has_value());
  }
  // The running agent does not sync with such a file, and says why (degraded).
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto deps = app::AgentDeps::Create(config_);
  ASSERT_TRUE(deps.has_value()) << deps.error().ToString();
  EXPECT_EQ((*deps)->collector, nullptr);
  ASSERT_FALSE((*deps)->degraded.empty());
  EXPECT_NE((*deps)->degraded.back().find("chmod 600 " + path), std::string::npos);
}

// Finding 4 of issue 14: a laptop purged and installed again has no credential left; its
// `ward-agent enrol` no longer takes the device back by itself, stops at once saying what IT
// runs, and enrols as the same device once IT has.
TEST_F(AgentSyncTest, Regression_Issue14_EnrolCommandAfterAPurgeWaitsForItToReadmit) {
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 2)), 200);
  const std::filesystem::path etc = dir_.path() / "etc";
  const std::filesystem::path from = dir_.path() / "enrol.d";
  WriteBytes(dir_.path() / "machine-id", "0123456789abcdef0123456789abcdef\n");
  auto prepare = [&] {
    std::filesystem::remove_all(dir_.path() / "state");  // what a purge deletes
    std::filesystem::create_directories(etc);
    std::filesystem::create_directories(from);
    WriteBytes(etc / "agent.conf",
               "state_dir = " + (dir_.path() / "state").string() +
                   "\nstatus_file = " + (dir_.path() / "agent.status").string() +
                   "\npolicy_key = " + (etc / "policy.pub").string() +
                   "\nmachine_id_file = " + (dir_.path() / "machine-id").string() + "\n");
    std::filesystem::remove(etc / "policy.pub");
    WriteBytes(from / "collector.url", collector_->url() + "\n");
    std::filesystem::copy_file(collector_->ca_file(), from / "ca.pem",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(dir_.path() / "policy.pub", from / "policy.pub",
                               std::filesystem::copy_options::overwrite_existing);
    WriteBytes(from / "secret", collector_->secret() + "\n");
    ::chmod((from / "secret").c_str(), 0600);
  };
  auto enrol = [&] {
    std::vector<std::string> args = {"--from", from.string(), "--within", "60"};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    return app::RunEnrolCommand(static_cast<int>(argv.size()), argv.data(),
                                (etc / "agent.conf").string());
  };
  prepare();
  ASSERT_EQ(enrol(), 0);
  auto devices = collector_->Devices();
  ASSERT_EQ(devices->size(), 1u);
  const std::string id = devices->getObject(0)->getValue<std::string>("id");

  prepare();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(enrol(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s) << "it waited for --within";
  EXPECT_TRUE(std::filesystem::exists(from / "secret")) << "IT's files are kept for the retry";
  EXPECT_EQ(collector_->DeviceCount(), 1u);

  ASSERT_EQ(collector_->Staff("POST", "/v1/staff/devices/" + id + "/readmit").status, 200);
  prepare();
  ASSERT_EQ(enrol(), 0);
  devices = collector_->Devices();
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ(devices->getObject(0)->getValue<std::string>("id"), id);
}

TEST_F(AgentSyncTest, HeartbeatTellsITTheVersionModeAndWhatIsNotWorking) {
  // A file where the socket's directory should be: the IPC server cannot start (degraded).
  WriteBytes(dir_.path() / "not-a-dir", "");
  config_.ipc_socket = dir_.path() / "not-a-dir" / "agent.sock";
  ASSERT_TRUE(app::CheckSync(config_).has_value());
  auto deps = app::AgentDeps::Create(config_);
  ASSERT_TRUE(deps.has_value()) << deps.error().ToString();
  agent_ = std::make_unique<app::Agent>(*std::move(deps));
  ASSERT_TRUE(agent_->Start().has_value());
  Poco::JSON::Object::Ptr device;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto devices = collector_->Devices();
        device = devices->size() == 1 ? devices->getObject(0) : nullptr;
        return device != nullptr && !device->getValue<std::string>("mode").empty();
      },
      30s, std::chrono::milliseconds(250)))
      << "no heartbeat with a mode reached the collector";
  EXPECT_EQ(device->getValue<std::string>("mode"),
            agent_->policy()->enforce() ? "enforce" : "monitor");
  EXPECT_TRUE(device->getValue<std::string>("agent_version").starts_with("ward-agent "))
      << device->getValue<std::string>("agent_version");
  auto degraded = device->getArray("degraded");
  ASSERT_NE(degraded, nullptr);
  ASSERT_EQ(degraded->size(), 1u);
  EXPECT_TRUE(degraded->getElement<std::string>(0).starts_with("ipc: "))
      << degraded->getElement<std::string>(0);
}

TEST_F(AgentSyncTest, PushedPolicyReachesTheAgentAndIsKept) {
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(WaitUntil([&] { return agent_->sync()->Snapshot().enrolled; }, 30s))
      << agent_->sync()->Snapshot().last_error;
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 2)), 200);
  ASSERT_TRUE(WaitUntil([&] { return agent_->policy()->policy.version() == 2; }, 60s));
  // Kept, so a restart runs it.
  EXPECT_TRUE(std::filesystem::exists(app::PolicyInForcePath(config_)));

  EXPECT_EQ(agent_->sync()->Snapshot().policies_rejected, 0u);
}

// Issue 17: the DSL erases a learner's records while the laptop is off. When it next connects
// it deletes its local events for that account before uploading them, and the collector shows
// it confirmed. The collector's own copies went at the request; the other learner's stay.
TEST_F(AgentSyncTest, ErasureReachesALaptopThatWasOfflineWhenItWasAsked) {
  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(WaitUntil([&] { return agent_->sync()->Snapshot().enrolled; }, 30s))
      << agent_->sync()->Snapshot().last_error;
  UuidV7Generator ids(SystemClock(), SystemRandom());
  auto event_of = [&](const std::string& user) {
    v1::Event e;
    e.set_id(ids.Next().ToString());
    e.set_priority(v1::PRIORITY_NORMAL);
    e.mutable_device_time()->set_seconds(1'800'000'000);
    e.mutable_exec()->set_path("/usr/bin/game");
    e.set_user(user);
    return e;
  };
  const v1::Event sent1 = event_of("learner1");
  const v1::Event sent2 = event_of("learner2");
  ASSERT_TRUE(agent_->deps().store->Append(sent1).has_value());
  ASSERT_TRUE(agent_->deps().store->Append(sent2).has_value());
  ASSERT_TRUE(WaitUntil([&] { return AtCollector(sent1.id()) + AtCollector(sent2.id()) == 2; }, 60s,
                        std::chrono::milliseconds(500)));

  // The laptop keeps two more events while the collector is away, then is switched off.
  collector_->Kill();
  const v1::Event kept1 = event_of("learner1");
  const v1::Event kept2 = event_of("learner2");
  ASSERT_TRUE(agent_->deps().store->Append(kept1).has_value());
  ASSERT_TRUE(agent_->deps().store->Append(kept2).has_value());
  ASSERT_TRUE(agent_->deps().store->Flush().has_value());
  client_.reset();
  agent_.reset();

  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  const std::string request =
      R"({"account": "learner1", "reason": "the learner's parent asked", "dry_run": true})";
  // IT may not erase, nor see erasures.
  EXPECT_EQ(collector_->Staff("POST", "/v1/staff/erasures", request).status, 403);
  EXPECT_EQ(collector_->Staff("GET", "/v1/staff/erasures").status, 403);
  auto dry = collector_->Staff("POST", "/v1/staff/erasures", request, "application/json",
                               /*as_dsl=*/true);
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(AtCollector(sent1.id()), 1u);  // a dry run changes nothing
  std::string real = request;
  real.replace(real.find("true"), 4, "false");
  auto erased =
      collector_->Staff("POST", "/v1/staff/erasures", real, "application/json", /*as_dsl=*/true);
  ASSERT_EQ(erased.status, 200) << erased.body;
  auto report = Poco::JSON::Parser().parse(erased.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(report->getObject("events_by_kind")->getValue<int>("exec"), 1);
  EXPECT_EQ(report->getArray("devices")->size(), 1u);
  EXPECT_EQ(AtCollector(sent1.id()), 0u);
  EXPECT_EQ(AtCollector(sent2.id()), 1u);
  auto confirmed_ms = [&] {
    auto r = collector_->Staff("GET", "/v1/staff/erasures", "", "application/json", true);
    EXPECT_EQ(r.status, 200) << r.body;
    auto list = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Array::Ptr>();
    if (list->size() != 1) {
      ADD_FAILURE() << r.body;
      return std::int64_t{-1};
    }
    return list->getObject(0)->getArray("targets")->getObject(0)->getValue<std::int64_t>(
        "confirmed_ms");
  };
  EXPECT_EQ(confirmed_ms(), 0);  // the laptop is off

  ASSERT_NO_FATAL_FAILURE(StartAgent());
  ASSERT_TRUE(WaitUntil([&] { return confirmed_ms() > 0; }, 60s, std::chrono::milliseconds(500)))
      << agent_->sync()->Snapshot().last_error;
  ASSERT_TRUE(
      WaitUntil([&] { return AtCollector(kept2.id()) == 1; }, 60s, std::chrono::milliseconds(500)));
  const SyncSnapshot snapshot = agent_->sync()->Snapshot();
  EXPECT_EQ(snapshot.erasures_applied, 1u);
  EXPECT_EQ(snapshot.events_erased, 1u);  // kept1, which the collector never received
  EXPECT_EQ(snapshot.erasures_confirmed, 1u);
  EXPECT_EQ(AtCollector(kept1.id()), 0u);
  EXPECT_EQ(AtCollector(sent1.id()), 0u);
  auto done = agent_->deps().store->ListState(store::kErasureStatePrefix);
  ASSERT_TRUE(done.has_value());
  ASSERT_EQ(done->size(), 1u);
  EXPECT_EQ(done->front().second, store::kErasureConfirmed);
}

}  // namespace
}  // namespace ward::agent::sync
