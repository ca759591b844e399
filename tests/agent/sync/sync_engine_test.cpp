// SPDX-License-Identifier: Apache-2.0
// agent/sync against the real collector (child process, SQLite) over real TLS on loopback.
#include "ward/agent/sync/sync_engine.h"

#include <algorithm>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sync_test_agent.h"
#include "sync_test_support.h"
#include "ward/agent/store/event_store.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/platform/fake_key_provider.h"
#include "ward/testing/paths.h"

namespace ward::agent::sync {
namespace {

using namespace std::chrono_literals;
using testing::CollectorProcess;
using testing::WaitUntil;

constexpr std::array<std::uint8_t, 32> kStoreKey = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                    23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

// A transport that changes the collector's policy answers on the way in, as a man in the
// middle or a broken collector would. Everything else passes through untouched.
class PolicyTamperingTransport final : public CollectorTransport {
 public:
  explicit PolicyTamperingTransport(CollectorTransport& inner) : inner_(inner) {}
  enum class Mode : std::uint8_t { kPass, kFlipByte, kReplayFirst };
  void set_mode(Mode mode) {
    std::scoped_lock lock(mu_);
    mode_ = mode;
  }
  Result<CollectorReply> Post(std::string_view path, std::string_view body, std::string_view bearer,
                              std::chrono::seconds timeout) override {
    auto reply = inner_.Post(path, body, bearer, timeout);
    if (path != "/v1/policy" || !reply.has_value() || reply->status != 200) {
      return reply;
    }
    v1::PolicyFetchResponse response;
    if (!response.ParseFromString(reply->body) || !response.has_policy()) {
      return reply;
    }
    // The mode is read when the answer arrives, so a long-poll already waiting is changed too.
    std::scoped_lock lock(mu_);
    if (first_policy_.body.empty()) {
      first_policy_ = *reply;
    }
    if (mode_ == Mode::kReplayFirst) {
      mode_ = Mode::kPass;  // one replay
      return first_policy_;
    }
    if (mode_ == Mode::kFlipByte) {
      std::string bytes = response.policy().policy();
      bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
      response.mutable_policy()->set_policy(bytes);
      reply->body = response.SerializeAsString();
    }
    return reply;
  }
  void Cancel() override { inner_.Cancel(); }

 private:
  CollectorTransport& inner_;
  std::mutex mu_;
  Mode mode_ = Mode::kPass;      // guarded by mu_
  CollectorReply first_policy_;  // guarded by mu_
};

class SyncEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = policy::SigningKey::Generate();
    ASSERT_TRUE(key.has_value());
    signing_key_ = std::make_unique<policy::SigningKey>(std::move(*key));
    collector_ = std::make_unique<CollectorProcess>(dir_.path() / "collector",
                                                    testing::PublicKeyHex(*signing_key_));
  }
  void TearDown() override {
    StopAgent();
    store_.reset();
  }

  void OpenStore() {
    store::StoreOptions options;
    options.path = dir_.path() / "events.db";
    auto store = store::EventStore::Open(options, keys_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }

  void StartAgent(SyncOptions options, const std::filesystem::path& ca = {},
                  const policy::PublicKey* key = nullptr) {
    if (!store_) {
      OpenStore();
    }
    HttpsTransportOptions transport_options;
    transport_options.url = collector_->url();
    transport_options.ca_file = ca.empty() ? collector_->ca_file() : ca;
    auto transport = CreateHttpsTransport(transport_options);
    ASSERT_TRUE(transport.has_value()) << transport.error().ToString();
    https_ = std::move(*transport);
    tamper_ = std::make_unique<PolicyTamperingTransport>(*https_);
    engine_ = std::make_unique<SyncEngine>(std::move(options),
                                           key != nullptr ? *key : signing_key_->public_key(),
                                           *tamper_, *store_, sink_);
    engine_->Start();
  }
  void StartAgent(std::size_t batch = 50) {
    StartAgent(testing::TestSyncOptions(collector_->secret(), batch));
  }
  void StopAgent() {
    if (engine_) {
      engine_->Stop();
    }
    engine_.reset();
    tamper_.reset();
    https_.reset();
  }

  // Appends `n` events of every priority; returns their ids.
  std::set<std::string> AppendEvents(std::size_t n) {
    std::set<std::string> ids;
    for (std::size_t i = 0; i < n; ++i) {
      v1::Event e;
      e.set_id(uuids_.Next().ToString());
      // Mostly telemetry, one CRITICAL in 50 (each of those is its own fsync'd transaction).
      e.set_priority(i % 50 == 0 ? v1::PRIORITY_CRITICAL : static_cast<v1::Priority>(1 + i % 3));
      e.mutable_device_time()->set_seconds(1'700'000'000 + static_cast<std::int64_t>(i));
      e.mutable_usb()->mutable_device()->set_device_id("1234:5678");
      e.mutable_usb()->mutable_device()->set_serial("serial-" + std::to_string(i));
      EXPECT_TRUE(store_->Append(e).has_value());
      ids.insert(e.id());
    }
    EXPECT_TRUE(store_->Flush().has_value());
    return ids;
  }

  std::uint64_t EventsInStore() {
    auto status = store_->GetStatus();
    EXPECT_TRUE(status.has_value());
    if (!status.has_value()) {
      return 0;
    }
    std::uint64_t n = 0;
    for (const auto& [priority, count] : status->events_by_priority()) {
      n += count;
    }
    return n;
  }

  // Waits until the agent has uploaded everything (its store is empty, or without a store here:
  // until the collector lists every id), then checks each id is at the collector exactly once.
  void ExpectExactlyOnce(const std::set<std::string>& ids, std::chrono::seconds limit = 90s) {
    std::vector<std::pair<std::string, std::string>> events;
    auto has_all = [&] {
      events = collector_->Events();
      std::set<std::string> seen;
      for (const auto& [id, kind] : events) {
        seen.insert(id);
      }
      return std::includes(seen.begin(), seen.end(), ids.begin(), ids.end());
    };
    if (store_) {
      ASSERT_TRUE(WaitUntil([&] { return EventsInStore() == 0; }, limit))
          << EventsInStore() << " events not uploaded";
    }
    // Listing every event is heavy for the collector: ask a few times a second only.
    ASSERT_TRUE(WaitUntil(has_all, store_ ? 10s : limit, std::chrono::milliseconds(250)))
        << "only " << events.size() << " events arrived";
    std::map<std::string, int> count;
    for (const auto& [id, kind] : events) {
      ++count[id];
    }
    for (const auto& id : ids) {
      EXPECT_EQ(count[id], 1) << id;
    }
  }

  testing::ScratchDir dir_;
  platform::FakeKeyProvider keys_{kStoreKey};
  SeededRandom random_{7};
  UuidV7Generator uuids_{SystemClock(), random_};
  std::unique_ptr<policy::SigningKey> signing_key_;
  std::unique_ptr<CollectorProcess> collector_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<CollectorTransport> https_;
  std::unique_ptr<PolicyTamperingTransport> tamper_;
  testing::MemoryPolicySink sink_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_F(SyncEngineTest, WrongCaIsRefusedWithAClearErrorAndNothingIsSent) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  CollectorProcess other(dir_.path() / "other", testing::PublicKeyHex(*signing_key_));
  ASSERT_NO_FATAL_FAILURE(other.Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  AppendEvents(10);
  StartAgent(testing::TestSyncOptions(collector_->secret()), other.ca_file());
  ASSERT_TRUE(WaitUntil([&] { return !engine_->Snapshot().last_error.empty(); }));
  SyncSnapshot s = engine_->Snapshot();
  EXPECT_EQ(s.last_error_code, ErrorCode::kUnauthenticated) << s.last_error;
  EXPECT_NE(s.last_error.find("pinned CA"), std::string::npos) << s.last_error;
  EXPECT_NE(s.last_error.find(other.ca_file().string()), std::string::npos) << s.last_error;
  EXPECT_FALSE(s.enrolled);
  StopAgent();
  EXPECT_EQ(collector_->DeviceCount(), 0u);
  EXPECT_TRUE(collector_->Events().empty());
  auto left = store_->GetStatus();
  ASSERT_TRUE(left.has_value());
  std::uint64_t stored = 0;
  for (const auto& [priority, n] : left->events_by_priority()) {
    stored += n;
  }
  EXPECT_EQ(stored, 10u) << "events must stay in the store";
}

TEST_F(SyncEngineTest, EnrolsOnceThenEveryEventArrivesExactlyOnce) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  const auto ids = AppendEvents(1000);
  StartAgent();
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce(ids));
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().statuses_sent >= 1; }));
  SyncSnapshot s = engine_->Snapshot();
  EXPECT_TRUE(s.enrolled);
  EXPECT_EQ(s.enrolments, 1u);
  EXPECT_EQ(s.group, "learners-under-18");
  EXPECT_GE(s.events_acked, 1000u);
  // The credential lives in the encrypted store; a restarted agent does not enrol again.
  auto saved = store_->GetState(kCredentialStateKey);
  ASSERT_TRUE(saved.has_value());
  v1::EnrolResponse credential;
  ASSERT_TRUE(credential.ParseFromString(*saved));
  EXPECT_EQ(credential.device_id(), s.device_id);
  StopAgent();
  StartAgent();
  const auto more = AppendEvents(20);
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce(more));
  EXPECT_EQ(engine_->Snapshot().enrolments, 0u);
  EXPECT_EQ(engine_->Snapshot().device_id, s.device_id);
  EXPECT_EQ(collector_->DeviceCount(), 1u);
}

TEST_F(SyncEngineTest, UploadingTheSameEventsAgainStoresThemOnce) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  std::vector<v1::Event> events;
  for (int i = 0; i < 30; ++i) {
    v1::Event e;
    e.set_id(uuids_.Next().ToString());
    e.set_priority(v1::PRIORITY_HIGH);
    e.mutable_agent()->set_kind(v1::AgentEvent::KIND_STARTED);
    events.push_back(e);
  }
  std::set<std::string> ids;
  for (const auto& e : events) {
    ASSERT_TRUE(store_->Append(e).has_value());
    ids.insert(e.id());
  }
  StartAgent();
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce(ids));
  // A lost ack means the agent sends them again: the collector keeps one copy.
  const auto acked = engine_->Snapshot().events_acked;
  for (const auto& e : events) {
    ASSERT_TRUE(store_->Append(e).has_value());
  }
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().events_acked >= acked + 30; }));
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce(ids));
  EXPECT_EQ(collector_->Events().size(), 30u);
}

TEST_F(SyncEngineTest, CollectorKilledAndRestartedDuringUploadLosesAndDoublesNothing) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  // 60 batches: more than the collector's per-device burst, so the upload is still going when
  // the collector is killed.
  const auto ids = AppendEvents(6000);
  StartAgent(/*batch=*/100);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().events_acked > 0; }));
  collector_->Kill();  // mid-upload: the batch in flight is neither acked nor lost
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().upload_failures > 0; }));
  ASSERT_NO_FATAL_FAILURE(collector_->Restart());
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce(ids, 120s));
  EXPECT_EQ(engine_->Snapshot().enrolments, 1u) << "the collector kept the device";
}

TEST_F(SyncEngineTest, AgentKilledDuringUploadResendsUnackedEventsAfterRestart) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  const auto ids = AppendEvents(6000);
  store_.reset();  // the child owns the store now
  const std::vector<std::string> args = {ward::testing::BuiltFile(WARD_SYNC_AGENT_CHILD).string(),
                                         (dir_.path() / "events.db").string(),
                                         HexEncode(kStoreKey),
                                         collector_->url(),
                                         collector_->ca_file().string(),
                                         collector_->secret(),
                                         testing::PublicKeyHex(*signing_key_),
                                         "20"};
  pid_t child = testing::Spawn(args);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(
      WaitUntil([&] { return collector_->DeviceCount() > 0 && !collector_->Events().empty(); },
                std::chrono::seconds(60), std::chrono::milliseconds(5)));
  const int status = testing::Reap(child, SIGKILL);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  const std::size_t before = collector_->Events().size();
  EXPECT_LT(before, ids.size()) << "the child finished before it was killed";
  // A new agent process: the leases of the killed one died with it, so it sends them again.
  child = testing::Spawn(args);
  ASSERT_GT(child, 0);
  int second = 0;
  ASSERT_TRUE(WaitUntil([&] { return ::waitpid(child, &second, WNOHANG) == child; }, 120s))
      << "the second agent did not empty its store";
  EXPECT_TRUE(WIFEXITED(second) && WEXITSTATUS(second) == 0) << "status " << second;
  ExpectExactlyOnce(ids, 10s);
}

// Finding 4 of issue 14: a laptop whose credential is refused cannot take its device back by
// enrolling again without IT; the agent asks once, says why once, and waits (before: it
// re-enrolled at once and took the device).
TEST_F(SyncEngineTest, Regression_Issue14_RefusedCredentialWaitsForItThenReEnrols) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StartAgent();
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().enrolled; }));
  const std::string device_id = engine_->Snapshot().device_id;
  StopAgent();
  // The saved credential no longer matches (e.g. the laptop was restored from an old image).
  v1::EnrolResponse stale;
  ASSERT_TRUE(stale.ParseFromString(*store_->GetState(kCredentialStateKey)));
  stale.set_credential("not-the-credential");
  ASSERT_TRUE(store_->PutState(kCredentialStateKey, stale.SerializeAsString()).has_value());
  const auto ids = AppendEvents(40);
  SyncOptions options = testing::TestSyncOptions(collector_->secret());
  options.enrol_refused_retry = 3s;
  StartAgent(options);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().enrol_attempts > 0; }));
  std::this_thread::sleep_for(1500ms);  // many backoff rounds (50-500 ms), no new request
  SyncSnapshot s = engine_->Snapshot();
  EXPECT_EQ(s.enrol_attempts, 1u);
  EXPECT_EQ(s.enrolments, 0u);
  EXPECT_EQ(s.last_error_code, ErrorCode::kPermissionDenied);
  EXPECT_NE(s.last_error.find("wardctl devices readmit " + device_id), std::string::npos)
      << s.last_error;
  EXPECT_EQ(collector_->DeviceCount(), 1u);
  // IT approves; the next attempt (after enrol_refused_retry) takes the device back.
  ASSERT_EQ(collector_->Staff("POST", "/v1/staff/devices/" + device_id + "/readmit").status, 200);
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce(ids));
  s = engine_->Snapshot();
  EXPECT_EQ(s.enrolments, 1u);
  EXPECT_EQ(s.device_id, device_id) << "same machine, same device record";
  v1::EnrolResponse fresh;
  ASSERT_TRUE(fresh.ParseFromString(*store_->GetState(kCredentialStateKey)));
  EXPECT_NE(fresh.credential(), "not-the-credential");
  EXPECT_EQ(collector_->DeviceCount(), 1u);
}

// Finding 4 of issue 14: a 429 on enrolment is waited out as the collector asks.
TEST_F(SyncEngineTest, Regression_Issue14_RateLimitedEnrolmentWaitsForRetryAfter) {
  // One enrolment at once from this address, then one a minute.
  ASSERT_NO_FATAL_FAILURE(collector_->Start({"--enrol-per-minute", "1", "--enrol-burst", "1"}));
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StartAgent();
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().enrolled; }));
  StopAgent();
  ASSERT_TRUE(store_->DeleteState(kCredentialStateKey).has_value());
  SyncOptions options = testing::TestSyncOptions(collector_->secret());
  options.machine_hash = "another-laptop";
  StartAgent(options);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().enrol_attempts > 0; }));
  std::this_thread::sleep_for(1500ms);
  const SyncSnapshot s = engine_->Snapshot();
  EXPECT_EQ(s.enrol_attempts, 1u);
  EXPECT_FALSE(s.enrolled);
  EXPECT_EQ(s.last_error_code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(collector_->DeviceCount(), 1u);
}

TEST_F(SyncEngineTest, HonoursRetryAfterWhenRateLimited) {
  // One request every 5 s per device, burst 3: the upload is soon told to wait.
  ASSERT_NO_FATAL_FAILURE(collector_->Start({"--rate", "0.2", "--burst", "3"}));
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  AppendEvents(200);
  StartAgent(/*batch=*/10);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().rate_limited > 0; }));
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().last_upload_delay.count() > 0; }));
  SyncSnapshot s = engine_->Snapshot();
  EXPECT_GE(s.last_retry_after, 1s);
  // The wait chosen is at least what the collector asked for.
  EXPECT_GE(s.last_upload_delay, s.last_retry_after);
}

TEST_F(SyncEngineTest, CriticalEventIsUploadedAtOnceWithoutPolling) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  SyncOptions options = testing::TestSyncOptions(collector_->secret());
  options.upload_interval = std::chrono::hours(1);  // telemetry would wait an hour
  StartAgent(options);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().enrolled; }));
  v1::Event concern;
  concern.set_id(uuids_.Next().ToString());
  concern.set_priority(v1::PRIORITY_CRITICAL);
  concern.mutable_concern()->set_text("someone is being unkind to me");
  ASSERT_TRUE(store_->Append(concern).has_value());
  engine_->NotifyAppended(v1::PRIORITY_CRITICAL);
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce({concern.id()}, 30s));
}

TEST_F(SyncEngineTest, IdleEngineSleepsWithoutATimerAndWakesForTheNextEvent) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  SyncOptions options = testing::TestSyncOptions(collector_->secret());
  options.upload_interval = 50ms;  // the old loop looked into the store this often
  StartAgent(options);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().statuses_sent >= 1; }));
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().store_leases >= 1; }));
  std::this_thread::sleep_for(200ms);  // let a first empty round settle
  const std::uint64_t leases = engine_->Snapshot().store_leases;
  std::this_thread::sleep_for(1s);  // twenty upload intervals of an empty store
  EXPECT_EQ(engine_->Snapshot().store_leases, leases) << "an empty store is not polled";
  // Telemetry wakes it (no NotifyAppended from the test: the store tells the engine).
  v1::Event event;
  event.set_id(uuids_.Next().ToString());
  event.set_priority(v1::PRIORITY_LOW);
  event.mutable_agent()->set_kind(v1::AgentEvent::KIND_STARTED);
  ASSERT_TRUE(store_->Append(event).has_value());
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce({event.id()}, 30s));
}

TEST_F(SyncEngineTest, ConcernWaitingDuringAnOutageIsRetriedSoonWhateverTheBackoff) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  SyncOptions options = testing::TestSyncOptions(collector_->secret());
  // Telemetry alone would back off for up to ten minutes after the first failure.
  options.backoff_base = std::chrono::minutes(10);
  options.backoff_cap = std::chrono::minutes(10);
  options.critical_retry_cap = 300ms;
  options.random = &random_;
  StartAgent(options);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().enrolled; }));
  collector_->Kill();
  v1::Event concern;
  concern.set_id(uuids_.Next().ToString());
  concern.set_priority(v1::PRIORITY_CRITICAL);
  concern.mutable_concern()->set_text("someone online keeps asking where I live");
  ASSERT_TRUE(store_->Append(concern).has_value());
  engine_->NotifyAppended(v1::PRIORITY_CRITICAL);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().upload_failures >= 3; }, 30s))
      << "the concern was not retried while the collector was down";
  EXPECT_LE(engine_->Snapshot().last_upload_delay, options.critical_retry_cap);
  ASSERT_NO_FATAL_FAILURE(collector_->Restart());
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce({concern.id()}, 30s));
}

TEST_F(SyncEngineTest, TellsTheAgentWhichEventsTheCollectorStoredAndThatItIsReachable) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  std::mutex mu;
  std::set<std::string> acked;
  std::vector<bool> reachability;
  SyncOptions options = testing::TestSyncOptions(collector_->secret());
  options.on_acked = [&](const std::vector<std::string>& ids) {
    std::scoped_lock lock(mu);
    acked.insert(ids.begin(), ids.end());
  };
  options.on_reachable = [&](bool reachable) {
    std::scoped_lock lock(mu);
    reachability.push_back(reachable);
  };
  const auto ids = AppendEvents(5);
  StartAgent(options);
  ASSERT_NO_FATAL_FAILURE(ExpectExactlyOnce(ids));
  ASSERT_TRUE(WaitUntil([&] {
    std::scoped_lock lock(mu);
    return std::includes(acked.begin(), acked.end(), ids.begin(), ids.end());
  }));
  StopAgent();
  std::scoped_lock lock(mu);
  // Reported on changes only: the collector never failed, so once.
  EXPECT_EQ(reachability, (std::vector<bool>{true}));
}

TEST_F(SyncEngineTest, StopReturnsPromptlyDuringALongPoll) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  StartAgent();
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().statuses_sent >= 1; }));
  // The policy thread is now held by the collector for up to 30 s.
  auto stopped = std::async(std::launch::async, [&] { engine_->Stop(); });
  EXPECT_EQ(stopped.wait_for(10s), std::future_status::ready) << "Stop() waited for the long-poll";
}

TEST_F(SyncEngineTest, PushedPolicyReachesTheAgentByLongPoll) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  StartAgent();
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().enrolled; }));
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 1)), 200);
  ASSERT_TRUE(WaitUntil([&] { return sink_.CurrentPolicyVersion() == 1; }));
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 2)), 200);
  ASSERT_TRUE(WaitUntil([&] { return sink_.CurrentPolicyVersion() == 2; }));
  EXPECT_EQ(sink_.applied(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(engine_->Snapshot().policies_rejected, 0u);
}

// The KIND_POLICY_REJECTED events that reached the collector.
std::size_t RejectionsAt(CollectorProcess& collector) {
  std::size_t n = 0;
  for (const auto& [id, kind] : collector.Events()) {
    n += kind == "KIND_POLICY_REJECTED" ? 1u : 0u;
  }
  return n;
}

TEST_F(SyncEngineTest, TamperedPolicyIsRejectedReportedAndTheOldOneStays) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  StartAgent();
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 1)), 200);
  ASSERT_TRUE(WaitUntil([&] { return sink_.CurrentPolicyVersion() == 1; }));
  tamper_->set_mode(PolicyTamperingTransport::Mode::kFlipByte);
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 2)), 200);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().policies_rejected == 1; }));
  EXPECT_EQ(sink_.CurrentPolicyVersion(), 1u) << "the old policy stays in force";
  EXPECT_EQ(engine_->Snapshot().rejected_policy_version, 2u);
  ASSERT_TRUE(WaitUntil([&] { return RejectionsAt(*collector_) == 1; }));
  // The next genuine policy is taken.
  tamper_->set_mode(PolicyTamperingTransport::Mode::kPass);
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 3)), 200);
  ASSERT_TRUE(WaitUntil([&] { return sink_.CurrentPolicyVersion() == 3; }));
  EXPECT_EQ(sink_.applied(), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(engine_->Snapshot().policies_rejected, 1u) << "the refused version is not retried";
}

TEST_F(SyncEngineTest, ReplayedOlderPolicyIsRejectedAsRollback) {
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  StartAgent();
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 1)), 200);
  ASSERT_TRUE(WaitUntil([&] { return sink_.CurrentPolicyVersion() == 1; }));
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 2)), 200);
  ASSERT_TRUE(WaitUntil([&] { return sink_.CurrentPolicyVersion() == 2; }));
  // Version 3 wakes the long-poll; on the way in its answer is swapped for version 1's.
  tamper_->set_mode(PolicyTamperingTransport::Mode::kReplayFirst);
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 3)), 200);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().policies_rejected == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return RejectionsAt(*collector_) == 1; }));
  // The genuine version 3 is fetched next.
  ASSERT_TRUE(WaitUntil([&] { return sink_.CurrentPolicyVersion() == 3; }));
  EXPECT_EQ(sink_.applied(), (std::vector<std::uint64_t>{1, 2, 3})) << "version 1 never again";
}

TEST_F(SyncEngineTest, PolicySignedByAnotherKeyIsRejected) {
  // The collector's group key is not the one this agent pins (a misconfigured or hostile
  // collector): the collector accepts the push, the agent refuses it.
  auto other = policy::SigningKey::Generate();
  ASSERT_TRUE(other.has_value());
  ASSERT_NO_FATAL_FAILURE(collector_->Start());
  StartAgent(testing::TestSyncOptions(collector_->secret()), {}, &other->public_key());
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().enrolled; }));
  ASSERT_EQ(collector_->PushPolicy(testing::SignedPolicyOf(*signing_key_, 1)), 200);
  ASSERT_TRUE(WaitUntil([&] { return engine_->Snapshot().policies_rejected == 1; }));
  EXPECT_EQ(sink_.CurrentPolicyVersion(), 0u);
  ASSERT_TRUE(WaitUntil([&] { return RejectionsAt(*collector_) == 1; }));
}

}  // namespace
}  // namespace ward::agent::sync
