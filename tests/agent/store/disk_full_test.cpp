// SPDX-License-Identifier: Apache-2.0
// Disk full, on a small tmpfs mounted in a private mount namespace (the test re-runs itself
// under `unshare -m --propagation private`, so nothing outside it sees the mount).
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "process_util.h"
#include "store_test_util.h"
#include "ward/agent/store/event_store.h"
#include "ward/testing/require.h"

namespace ward::agent::store {
namespace {

using testing::FixedKey;
using testing::MakeEvent;
using testing::RunShell;
using testing::ShellQuote;
using testing::TempDir;
namespace fs = std::filesystem;

constexpr const char* kInNamespace = "WARD_STORE_TEST_IN_MOUNT_NS";

// Fills the file system holding `path` until write() fails with ENOSPC.
void FillUp(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  std::string chunk(65536, 'f');
  for (std::size_t size = chunk.size(); size > 0; size /= 2) {
    while (::write(fd, chunk.data(), size) == static_cast<ssize_t>(size)) {
    }
  }
  int e = errno;
  ::close(fd);
  ASSERT_EQ(e, ENOSPC);
}

void RunDiskFullScenario() {
  TempDir dir;
  ASSERT_EQ(::mount("tmpfs", dir.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=2m"), 0)
      << "mount tmpfs: " << std::strerror(errno);
  {
    platform::FakeKeyProvider keys(FixedKey());
    StoreOptions options = testing::OptionsIn(dir.path());
    options.retry_interval = std::chrono::milliseconds(20);
    options.max_pending_critical = 1;
    auto opened = EventStore::Open(options, keys);
    ASSERT_TRUE(opened) << opened.error().ToString();
    auto& store = *opened;
    ASSERT_TRUE(store->Append(MakeEvent(v1::PRIORITY_CRITICAL)));
    FillUp(dir.path() / "filler");

    // Telemetry fails once the database cannot grow.
    Status failed;
    int appended = 0;
    for (; appended < 100000 && failed; ++appended) {
      failed = store->AppendWithReceipt(MakeEvent(v1::PRIORITY_LOW, 200)).get();
    }
    ASSERT_FALSE(failed) << "the store never noticed the full disk";
    EXPECT_EQ(failed.error().code(), ErrorCode::kResourceExhausted) << failed.error().ToString();
    auto telemetry = store->Append(MakeEvent(v1::PRIORITY_NORMAL));
    ASSERT_FALSE(telemetry);
    EXPECT_EQ(telemetry.error().code(), ErrorCode::kResourceExhausted);

    // A concern is not lost: it waits in memory.
    auto concern = MakeEvent(v1::PRIORITY_CRITICAL);
    concern.mutable_concern()->set_text("held while the disk is full");
    auto held = store->Append(concern);
    ASSERT_FALSE(held);
    EXPECT_EQ(held.error().code(), ErrorCode::kResourceExhausted);
    EXPECT_NE(held.error().message().find("held in memory"), std::string::npos)
        << held.error().message();
    EXPECT_EQ(store->PendingCritical(), 1u);
    // The memory queue is bounded (max_pending_critical = 1 here): a second concern is refused
    // with a message saying so, rather than growing memory without limit.
    auto refused = store->Append(MakeEvent(v1::PRIORITY_CRITICAL));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), ErrorCode::kResourceExhausted);
    EXPECT_NE(refused.error().message().find("not kept"), std::string::npos)
        << refused.error().message();
    EXPECT_EQ(store->PendingCritical(), 1u);
    // The agent keeps running: reads still work.
    EXPECT_TRUE(store->GetStatus());
    EXPECT_TRUE(store->Lease(10, 1 << 20));
    std::uint64_t dropped = store->DroppedEvents();
    EXPECT_GE(dropped, 2u);

    // Space returns: the held concern is written without anyone asking.
    fs::remove(dir.path() / "filler");
    for (int i = 0; i < 500 && store->PendingCritical() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(store->PendingCritical(), 0u);
    ASSERT_TRUE(store->AppendWithReceipt(MakeEvent(v1::PRIORITY_LOW)).get());
    EXPECT_TRUE(store->CheckIntegrity());
  }
  {
    platform::FakeKeyProvider keys(FixedKey());
    auto store = EventStore::Open(testing::OptionsIn(dir.path()), keys);
    ASSERT_TRUE(store) << store.error().ToString();
    auto lease = (*store)->Lease(100000, 1u << 30);
    ASSERT_TRUE(lease);
    bool found_concern = false;
    std::uint64_t reported_lost = 0;
    for (const auto& e : lease->events) {
      found_concern = found_concern || e.concern().text() == "held while the disk is full";
      if (e.has_agent() && e.agent().kind() == v1::AgentEvent::KIND_EVENTS_EVICTED) {
        EXPECT_NE(e.agent().detail().find("not stored"), std::string::npos) << e.agent().detail();
        reported_lost += e.agent().count();
      }
    }
    EXPECT_TRUE(found_concern);
    EXPECT_GE(reported_lost, 2u);
    EXPECT_EQ((*store)->GetStatus()->evicted_total(), reported_lost);
    EXPECT_TRUE((*store)->CheckIntegrity());
  }
  ASSERT_EQ(::umount(dir.path().c_str()), 0);
}

TEST(EventStoreDiskFullTest, TelemetryFailsCriticalWaitsInMemoryAndIsWrittenWhenSpaceReturns) {
  if (std::getenv(kInNamespace) != nullptr) {
    RunDiskFullScenario();
    return;
  }
  WARD_REQUIRE_ROOT();
  WARD_REQUIRE_OR_SKIP(RunShell("unshare -m --propagation private true").exit_code == 0,
                       "cannot create a private mount namespace");
  std::string self = fs::read_symlink("/proc/self/exe").string();
  auto r = RunShell(std::string(kInNamespace) + "=1 unshare -m --propagation private " +
                    ShellQuote(self) +
                    " --gtest_filter=EventStoreDiskFullTest.TelemetryFailsCriticalWaitsInMemory"
                    "AndIsWrittenWhenSpaceReturns");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[  PASSED  ] 1 test"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ward::agent::store
