// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/store/event_store.h"

#include <array>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "store_test_util.h"

namespace ward::agent::store {
namespace {

using testing::FixedKey;
using testing::MakeEvent;
using testing::OptionsIn;
using testing::TempDir;

std::unique_ptr<EventStore> OpenOrDie(const StoreOptions& options, platform::KeyProvider& keys,
                                      OpenReport* report = nullptr) {
  auto store = EventStore::Open(options, keys, report);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return store ? std::move(*store) : nullptr;
}

std::vector<std::string> Ids(const LeaseBatch& lease) {
  std::vector<std::string> ids;
  for (const auto& e : lease.events) {
    ids.push_back(e.id());
  }
  return ids;
}

TEST(CipherVersionTest, AcceptsSqlCipher4) { EXPECT_TRUE(CheckCipherVersion("4.6.1 community")); }

TEST(CipherVersionTest, RefusesPlainSqliteAndOtherMajors) {
  auto plain = CheckCipherVersion("");
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code(), ErrorCode::kUnsupported);
  auto old = CheckCipherVersion("3.4.1");
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), ErrorCode::kUnsupported);
}

TEST(EventStoreTest, CriticalAppendIsStoredWhenItReturns) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  auto event = MakeEvent(v1::PRIORITY_CRITICAL);
  ASSERT_TRUE(store->Append(event));
  // No Flush(): CRITICAL is committed before Append returns.
  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->events_by_priority().at("CRITICAL"), 1u);
  store.reset();
  auto reopened = OpenOrDie(OptionsIn(dir.path()), keys);
  auto lease = reopened->Lease(10, 1 << 20);
  ASSERT_TRUE(lease);
  ASSERT_EQ(lease->events.size(), 1u);
  EXPECT_EQ(lease->events[0].id(), event.id());
  EXPECT_EQ(lease->events[0].concern().text(), event.concern().text());
}

TEST(EventStoreTest, ReceiptResolvesAfterCommitAndFlushWaitsForQueued) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  auto receipt = store->AppendWithReceipt(MakeEvent(v1::PRIORITY_LOW));
  ASSERT_TRUE(receipt.get());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_NORMAL)));
  }
  ASSERT_TRUE(store->Flush());
  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->events_by_priority().at("LOW"), 1u);
  EXPECT_EQ(status->events_by_priority().at("NORMAL"), 100u);
}

TEST(EventStoreTest, RejectsEventsWithoutIdOrPriority) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  v1::Event no_id = MakeEvent(v1::PRIORITY_LOW);
  no_id.clear_id();
  auto s = store->Append(no_id);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  v1::Event no_priority = MakeEvent(v1::PRIORITY_LOW);
  no_priority.set_priority(v1::PRIORITY_UNSPECIFIED);
  auto r = store->AppendWithReceipt(no_priority).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(EventStoreTest, SameIdIsStoredOnce) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  auto event = MakeEvent(v1::PRIORITY_HIGH);
  ASSERT_TRUE(store->Append(event));
  ASSERT_TRUE(store->Append(event));
  ASSERT_TRUE(store->Flush());
  auto lease = store->Lease(10, 1 << 20);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->events.size(), 1u);
  EXPECT_EQ(store->GetStatus()->events_by_priority().at("HIGH"), 1u);
}

TEST(EventStoreTest, FullQueueRefusesTelemetryAndReportsTheLoss) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  StoreOptions options = OptionsIn(dir.path());
  options.max_queued_events = 5;
  options.batch_interval = std::chrono::hours(1);  // nothing commits until Flush()
  options.batch_max_events = 100;
  auto store = OpenOrDie(options, keys);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_LOW)));
  }
  auto refused = store->Append(MakeEvent(v1::PRIORITY_LOW));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(store->DroppedEvents(), 1u);
  // CRITICAL is never refused for a full telemetry queue.
  ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_CRITICAL)));
  ASSERT_TRUE(store->Flush());
  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->events_by_priority().at("LOW"), 5u);
  EXPECT_EQ(status->evicted_total(), 1u);
  auto lease = store->Lease(100, 1 << 20);
  ASSERT_TRUE(lease);
  int notices = 0;
  for (const auto& e : lease->events) {
    if (e.has_agent() && e.agent().kind() == v1::AgentEvent::KIND_EVENTS_EVICTED) {
      ++notices;
      EXPECT_EQ(e.agent().count(), 1u);
      EXPECT_NE(e.agent().detail().find("queue full"), std::string::npos) << e.agent().detail();
    }
  }
  EXPECT_EQ(notices, 1);
}

TEST(EventStoreLeaseTest, LeasesByPriorityThenAge) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  auto low1 = MakeEvent(v1::PRIORITY_LOW);
  auto high1 = MakeEvent(v1::PRIORITY_HIGH);
  auto low2 = MakeEvent(v1::PRIORITY_LOW);
  auto crit = MakeEvent(v1::PRIORITY_CRITICAL);
  auto high2 = MakeEvent(v1::PRIORITY_HIGH);
  for (const auto* e : {&low1, &high1, &low2, &crit, &high2}) {
    ASSERT_TRUE(store->Append(*e));
  }
  ASSERT_TRUE(store->Flush());
  auto lease = store->Lease(10, 1 << 20);
  ASSERT_TRUE(lease);
  EXPECT_EQ(Ids(*lease),
            (std::vector<std::string>{crit.id(), high1.id(), high2.id(), low1.id(), low2.id()}));
}

TEST(EventStoreLeaseTest, BoundsByCountAndBytesButAlwaysGivesOne) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_NORMAL, 1000)));
  }
  ASSERT_TRUE(store->Flush());
  auto by_count = store->Lease(3, 1 << 20);
  ASSERT_TRUE(by_count);
  EXPECT_EQ(by_count->events.size(), 3u);
  auto by_bytes = store->Lease(100, 2500);
  ASSERT_TRUE(by_bytes);
  EXPECT_EQ(by_bytes->events.size(), 2u);
  EXPECT_LE(by_bytes->bytes, 2500u);
  auto tiny = store->Lease(100, 1);
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->events.size(), 1u);
}

TEST(EventStoreLeaseTest, LeasedEventsAreNotLeasedTwiceAndAckDeletes) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_LOW)));
  }
  ASSERT_TRUE(store->Flush());
  auto first = store->Lease(4, 1 << 20);
  auto second = store->Lease(4, 1 << 20);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->events.size(), 4u);
  ASSERT_EQ(second->events.size(), 2u);
  std::set<std::string> all;
  for (const auto& id : Ids(*first)) {
    all.insert(id);
  }
  for (const auto& id : Ids(*second)) {
    all.insert(id);
  }
  EXPECT_EQ(all.size(), 6u);
  ASSERT_TRUE(store->Ack(*first));
  store->Release(*second);
  auto rest = store->Lease(10, 1 << 20);
  ASSERT_TRUE(rest);
  EXPECT_EQ(Ids(*rest), Ids(*second));
  EXPECT_EQ(store->GetStatus()->events_by_priority().at("LOW"), 2u);
}

TEST(EventStoreLeaseTest, AckIdsDeletesOnlyThoseIds) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_HIGH)));
  }
  ASSERT_TRUE(store->Flush());
  auto lease = store->Lease(10, 1 << 20);
  ASSERT_TRUE(lease);
  ASSERT_EQ(lease->events.size(), 3u);
  std::vector<std::string> acked = {lease->events[1].id()};
  ASSERT_TRUE(store->AckIds(*lease, acked));
  store->Release(*lease);
  auto again = store->Lease(10, 1 << 20);
  ASSERT_TRUE(again);
  EXPECT_EQ(Ids(*again), (std::vector<std::string>{lease->events[0].id(), lease->events[2].id()}));
}

TEST(EventStoreLeaseTest, ExpiredLeaseIsLeasedAgain) {
  TempDir dir;
  ManualClock clock;
  platform::FakeKeyProvider keys(FixedKey());
  StoreOptions options = OptionsIn(dir.path(), &clock);
  options.lease_duration = std::chrono::seconds(60);
  auto store = OpenOrDie(options, keys);
  auto event = MakeEvent(v1::PRIORITY_NORMAL);
  ASSERT_TRUE(store->Append(event));
  ASSERT_TRUE(store->Flush());
  auto lease = store->Lease(10, 1 << 20);
  ASSERT_TRUE(lease);
  ASSERT_EQ(lease->events.size(), 1u);
  clock.Advance(std::chrono::seconds(59));
  EXPECT_TRUE(store->Lease(10, 1 << 20)->events.empty());
  clock.Advance(std::chrono::seconds(2));
  auto again = store->Lease(10, 1 << 20);
  ASSERT_TRUE(again);
  EXPECT_EQ(Ids(*again), std::vector<std::string>{event.id()});
  // The old lease's Ack still deletes: the collector has the event.
  ASSERT_TRUE(store->Ack(*lease));
  store->Release(*again);
  EXPECT_TRUE(store->Lease(10, 1 << 20)->events.empty());
}

TEST(EventStoreLeaseTest, LeasesDoNotSurviveReopen) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_CRITICAL)));
  ASSERT_EQ(store->Lease(10, 1 << 20)->events.size(), 1u);
  store.reset();  // the uploader "crashed" mid-upload
  auto reopened = OpenOrDie(OptionsIn(dir.path()), keys);
  EXPECT_EQ(reopened->Lease(10, 1 << 20)->events.size(), 1u);
}

TEST(EventStoreLeaseTest, ConcurrentAppendersAndUploaderSeeEveryEventOnce) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  StoreOptions options = OptionsIn(dir.path());
  options.batch_interval = std::chrono::milliseconds(2);
  auto store = OpenOrDie(options, keys);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1500;
  std::mutex mu;
  std::set<std::string> appended;
  std::vector<std::thread> appenders;
  for (int t = 0; t < kThreads; ++t) {
    appenders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto event = MakeEvent(
            i % 100 == 0 ? v1::PRIORITY_CRITICAL : static_cast<v1::Priority>(1 + (i + t) % 3), 50);
        ASSERT_TRUE(store->Append(event));
        std::scoped_lock lock(mu);
        appended.insert(event.id());
      }
    });
  }
  std::multiset<std::string> uploaded;
  std::atomic<bool> done{false};
  std::thread uploader([&] {
    while (true) {
      bool finished = done.load();
      auto lease = store->Lease(300, 1 << 20);
      ASSERT_TRUE(lease);
      for (const auto& e : lease->events) {
        uploaded.insert(e.id());
      }
      if (!lease->events.empty()) {
        ASSERT_TRUE(store->Ack(*lease));
      } else if (finished) {
        return;
      }
    }
  });
  for (auto& t : appenders) {
    t.join();
  }
  ASSERT_TRUE(store->Flush());
  done = true;
  uploader.join();
  EXPECT_EQ(appended.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(uploaded.size(), appended.size());
  EXPECT_EQ(std::set<std::string>(uploaded.begin(), uploaded.end()), appended);
  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  for (const auto& [priority, count] : status->events_by_priority()) {
    EXPECT_EQ(count, 0u) << priority;
  }
  EXPECT_EQ(status->bytes_used(), 0u);
}

std::vector<v1::Event> EvictionNotices(EventStore& store) {
  auto lease = store.Lease(100000, 1u << 30);
  EXPECT_TRUE(lease);
  std::vector<v1::Event> notices;
  for (const auto& e : lease->events) {
    if (e.has_agent() && e.agent().kind() == v1::AgentEvent::KIND_EVENTS_EVICTED) {
      notices.push_back(e);
    }
  }
  store.Release(*lease);
  return notices;
}

TEST(EventStoreEvictionTest, EvictsOldestLowestPriorityFirstNeverCritical) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  StoreOptions options = OptionsIn(dir.path());
  auto store = OpenOrDie(options, keys);
  std::vector<v1::Event> low, normal, high, critical;
  for (int i = 0; i < 20; ++i) {
    low.push_back(MakeEvent(v1::PRIORITY_LOW, 400));
    normal.push_back(MakeEvent(v1::PRIORITY_NORMAL, 400));
    high.push_back(MakeEvent(v1::PRIORITY_HIGH, 400));
    critical.push_back(MakeEvent(v1::PRIORITY_CRITICAL, 400));
  }
  for (std::size_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(store->Append(low[i]));
    ASSERT_TRUE(store->Append(normal[i]));
    ASSERT_TRUE(store->Append(high[i]));
    ASSERT_TRUE(store->Append(critical[i]));
  }
  auto before = store->GetStatus();
  ASSERT_TRUE(before);
  // A cap that fits about 55 of the 80 events (eviction goes down to 90%): all LOW and most
  // NORMAL must go, HIGH and CRITICAL stay.
  v1::StoreLimits limits;
  limits.set_max_bytes(before->bytes_used() * 55 / 80);
  store->SetLimits(limits);
  auto trigger = MakeEvent(v1::PRIORITY_HIGH, 10);
  ASSERT_TRUE(store->Append(trigger));
  ASSERT_TRUE(store->Flush());

  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  EXPECT_LE(status->bytes_used(), limits.max_bytes());
  EXPECT_EQ(status->events_by_priority().at("LOW"), 0u);
  EXPECT_EQ(status->events_by_priority().at("HIGH"), 21u);
  // 20 concerns plus the eviction notice.
  EXPECT_EQ(status->events_by_priority().at("CRITICAL"), 21u);
  std::uint64_t normal_left = status->events_by_priority().at("NORMAL");
  EXPECT_LT(normal_left, 20u);
  EXPECT_EQ(status->evicted_total(), 20u + (20u - normal_left));

  // The NORMAL events that stayed are the newest ones.
  auto lease = store->Lease(1000, 1u << 30);
  ASSERT_TRUE(lease);
  std::vector<std::string> normal_ids;
  for (const auto& e : lease->events) {
    if (e.priority() == v1::PRIORITY_NORMAL) {
      normal_ids.push_back(e.id());
    }
  }
  ASSERT_EQ(normal_ids.size(), normal_left);
  for (std::size_t i = 0; i < normal_left; ++i) {
    EXPECT_EQ(normal_ids[i], normal[20 - normal_left + i].id());
  }
  store->Release(*lease);

  auto notices = EvictionNotices(*store);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].priority(), v1::PRIORITY_CRITICAL);
  EXPECT_EQ(notices[0].agent().count(), status->evicted_total());
  EXPECT_EQ(notices[0].agent().priority(), v1::PRIORITY_NORMAL);
}

TEST(EventStoreEvictionTest, EvictionCountSurvivesReopen) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  StoreOptions options = OptionsIn(dir.path());
  options.limits.set_max_bytes(20 * (400 + kRowOverheadBytes));
  {
    auto store = OpenOrDie(options, keys);
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_LOW, 400)));
    }
    ASSERT_TRUE(store->Flush());
    EXPECT_GT(store->GetStatus()->evicted_total(), 0u);
  }
  auto store = OpenOrDie(options, keys);
  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  EXPECT_GE(status->evicted_total(), 30u);
  EXPECT_LE(status->bytes_used(), options.limits.max_bytes());
}

TEST(EventStoreEvictionTest, OldEventsExpireByPriorityButCriticalStays) {
  TempDir dir;
  ManualClock clock;
  platform::FakeKeyProvider keys(FixedKey());
  StoreOptions options = OptionsIn(dir.path(), &clock);
  options.limits.set_max_age_days_low(1);
  options.limits.set_max_age_days_normal(3);
  auto store = OpenOrDie(options, keys);
  ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_LOW)));
  ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_NORMAL)));
  ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_CRITICAL)));
  clock.Advance(std::chrono::hours(36));
  ASSERT_TRUE(store->SweepExpiredForTesting());
  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->events_by_priority().at("LOW"), 0u);
  EXPECT_EQ(status->events_by_priority().at("NORMAL"), 1u);
  EXPECT_EQ(status->evicted_total(), 1u);
  EXPECT_EQ(status->oldest_event_age_seconds(), 36u * 3600u);
  clock.Advance(std::chrono::hours(24 * 400));
  ASSERT_TRUE(store->SweepExpiredForTesting());
  status = store->GetStatus();
  EXPECT_EQ(status->events_by_priority().at("NORMAL"), 0u);
  // The concern plus the two notices.
  EXPECT_EQ(status->events_by_priority().at("CRITICAL"), 3u);
  auto notices = EvictionNotices(*store);
  ASSERT_EQ(notices.size(), 2u);
  EXPECT_EQ(notices[0].agent().count(), 1u);
  EXPECT_EQ(notices[0].agent().priority(), v1::PRIORITY_LOW);
}

TEST(EventStoreStateTest, PutGetDeleteAndSurvivesReopen) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  {
    auto store = OpenOrDie(OptionsIn(dir.path()), keys);
    auto missing = store->GetState("device.credential");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
    std::string binary("\x00\x01secret\xff", 9);
    ASSERT_TRUE(store->PutState("device.credential", binary));
    ASSERT_TRUE(store->PutState("policy.version", "3"));
    ASSERT_TRUE(store->PutState("policy.version", "4"));
  }
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  EXPECT_EQ(*store->GetState("device.credential"), std::string("\x00\x01secret\xff", 9));
  EXPECT_EQ(*store->GetState("policy.version"), "4");
  ASSERT_TRUE(store->DeleteState("policy.version"));
  EXPECT_FALSE(store->GetState("policy.version"));
}

TEST(EventStoreStatusTest, ReportsCountsBytesAndAge) {
  TempDir dir;
  ManualClock clock;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path(), &clock), keys);
  auto empty = store->GetStatus();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->bytes_used(), 0u);
  EXPECT_EQ(empty->oldest_event_age_seconds(), 0u);
  auto event = MakeEvent(v1::PRIORITY_HIGH, 300);
  ASSERT_TRUE(store->Append(event));
  ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_LOW, 300)));
  ASSERT_TRUE(store->Flush());
  clock.Advance(std::chrono::seconds(90));
  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->events_by_priority().at("HIGH"), 1u);
  EXPECT_EQ(status->events_by_priority().at("LOW"), 1u);
  EXPECT_EQ(status->events_by_priority().at("NORMAL"), 0u);
  EXPECT_EQ(status->events_by_priority().at("CRITICAL"), 0u);
  EXPECT_EQ(status->bytes_used(), 2 * kRowOverheadBytes + event.ByteSizeLong() +
                                      MakeEvent(v1::PRIORITY_LOW, 300).ByteSizeLong());
  EXPECT_EQ(status->oldest_event_age_seconds(), 90u);
  EXPECT_EQ(status->evicted_total(), 0u);
  EXPECT_TRUE(store->CheckIntegrity());
}

// HMAC-SHA256(salt, name): what the collector's erase instruction carries.
std::string AccountMac(const std::string& salt, const std::string& name) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
       reinterpret_cast<const unsigned char*>(name.data()), name.size(), out.data(), &size);
  return {reinterpret_cast<const char*>(out.data()), size};
}

// Only the events of the named account go (not its concerns, not other accounts', not events
// without one), leased ones included, and each instruction is carried out once.
TEST(EventStoreErasureTest, DeletesOnlyTheAccountsEventsOnce) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  auto of = [](const std::string& user, v1::Priority priority = v1::PRIORITY_NORMAL) {
    v1::Event e = MakeEvent(priority);
    e.set_user(user);
    return e;
  };
  const v1::Event mine1 = of("learner1");
  const v1::Event mine2 = of("learner1", v1::PRIORITY_HIGH);
  const v1::Event concern = of("learner1", v1::PRIORITY_CRITICAL);
  const v1::Event other = of("learner10");
  const v1::Event nobody = of("");
  for (const v1::Event* e : {&mine1, &concern, &other, &nobody}) {
    ASSERT_TRUE(store->Append(*e));
  }
  ASSERT_TRUE(store->Flush());
  auto lease = store->Lease(10, 1 << 20);  // an upload in flight
  ASSERT_TRUE(lease);
  ASSERT_TRUE(store->Append(mine2));  // queued, not yet committed

  const std::string salt(32, '\x5a');
  auto applied = store->ApplyErasure("er-1", salt, AccountMac(salt, "learner1"));
  ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ(**applied, 2u);
  std::set<std::string> left;
  store->Release(*lease);
  auto rest = store->Lease(10, 1 << 20);
  ASSERT_TRUE(rest);
  for (const v1::Event& e : rest->events) {
    left.insert(e.id());
  }
  EXPECT_EQ(left, (std::set<std::string>{concern.id(), other.id(), nobody.id()}));
  auto status = store->GetStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->events_by_priority().at("NORMAL"), 2u);
  EXPECT_EQ(status->events_by_priority().at("HIGH"), 0u);

  // Once: a new event of the account survives the same instruction sent again.
  store->Release(*rest);
  const v1::Event later = of("learner1");
  ASSERT_TRUE(store->Append(later));
  auto again = store->ApplyErasure("er-1", salt, AccountMac(salt, "learner1"));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value());
  auto state = store->ListState(kErasureStatePrefix);
  ASSERT_TRUE(state);
  ASSERT_EQ(state->size(), 1u);
  EXPECT_EQ((*state)[0].first, "erase/er-1");
  EXPECT_EQ((*state)[0].second, kErasureApplied);
  // The record survives a restart.
  store.reset();
  auto reopened = OpenOrDie(OptionsIn(dir.path()), keys);
  auto after = reopened->ApplyErasure("er-1", salt, AccountMac(salt, "learner1"));
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->has_value());
  EXPECT_EQ(reopened->GetStatus()->events_by_priority().at("NORMAL"), 3u);
  EXPECT_EQ(reopened->ApplyErasure("", salt, "x").error().code(), ErrorCode::kInvalidArgument);
}

// An instruction whose fields are out of bounds is refused with a specific error, deletes
// nothing and is not recorded as done.
TEST(EventStoreErasureTest, RefusesAnInstructionOutOfBounds) {
  TempDir dir;
  platform::FakeKeyProvider keys(FixedKey());
  auto store = OpenOrDie(OptionsIn(dir.path()), keys);
  v1::Event mine = MakeEvent(v1::PRIORITY_NORMAL);
  mine.set_user("learner1");
  ASSERT_TRUE(store->Append(mine));
  ASSERT_TRUE(store->Flush());
  const std::string salt(32, '\x5a');
  const std::string mac = AccountMac(salt, "learner1");
  struct Case {
    std::string id, salt, mac, says;
  };
  const std::vector<Case> cases = {
      {"", salt, mac, "id"},
      {std::string(65, 'a'), salt, mac, "id"},
      {"er-1/../x", salt, mac, "id"},
      {std::string("er-\0", 4), salt, mac, "id"},
      {"er-1", std::string(15, 's'), mac, "salt"},
      {"er-1", std::string(65, 's'), mac, "salt"},
      {"er-1", salt, mac.substr(0, 31), "mac"},
      {"er-1", salt, mac + "x", "mac"},
  };
  for (const Case& c : cases) {
    auto applied = store->ApplyErasure(c.id, c.salt, c.mac);
    ASSERT_FALSE(applied.has_value()) << c.says;
    EXPECT_EQ(applied.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(applied.error().ToString().find(c.says), std::string::npos)
        << applied.error().ToString();
  }
  EXPECT_EQ(store->GetStatus()->events_by_priority().at("NORMAL"), 1u);
  auto state = store->ListState(kErasureStatePrefix);
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->empty());
  // At the bounds it is carried out.
  const std::string long_salt(64, 's');
  auto applied =
      store->ApplyErasure(std::string(64, 'a'), long_salt, AccountMac(long_salt, "learner1"));
  ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ(**applied, 1u);
}

}  // namespace
}  // namespace ward::agent::store
