// SPDX-License-Identifier: Apache-2.0
// Kill -9 at random moments while a child process appends at full speed: after each kill the
// store reopens without quarantine, every append whose durability the child saw confirmed is
// stored exactly once, and integrity_check and cipher_integrity_check pass.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <gtest/gtest.h>

#include "internal/sqlite.h"
#include "store_test_util.h"
#include "ward/agent/store/event_store.h"
#include "ward/common/hex.h"
#include "ward/testing/paths.h"

namespace ward::agent::store {
namespace {

using testing::FixedKey;
using testing::TempDir;

constexpr int kStores = 5;
constexpr int kKillsPerStore = 12;

struct ChildRun {
  std::vector<std::string> confirmed;
  int status = 0;
};

// Starts the child, lets it run for `run_for`, SIGKILLs it, and collects what it confirmed.
ChildRun RunAndKill(const std::filesystem::path& dir, std::chrono::milliseconds run_for,
                    std::uint64_t seed) {
  ChildRun out;
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  std::string key = HexEncode(FixedKey());
  std::string seed_text = std::to_string(seed);
  const std::string child = ward::testing::BuiltFile(WARD_STORE_CRASH_CHILD).string();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::execl(child.c_str(), child.c_str(), dir.c_str(), key.c_str(), seed_text.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  EXPECT_GT(pid, 0);
  ::close(fds[1]);
  std::string buffer;
  auto read_some = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      return false;
    }
    char chunk[65536];
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) {
      return false;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + run_for;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    read_some(static_cast<int>(left.count()));
  }
  ::kill(pid, SIGKILL);
  while (read_some(5000)) {
  }
  ::close(fds[0]);
  ::waitpid(pid, &out.status, 0);
  // Only complete lines: a torn last line was never fully reported.
  std::size_t start = 0;
  std::size_t nl;
  while ((nl = buffer.find('\n', start)) != std::string::npos) {
    out.confirmed.push_back(buffer.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::unordered_map<std::string, int> StoredIds(const std::filesystem::path& db_path) {
  std::unordered_map<std::string, int> ids;
  auto db = internal::Database::Open(db_path, false);
  EXPECT_TRUE(db) << db.error().ToString();
  EXPECT_TRUE(db->Exec(testing::KeyPragma()));
  auto stmt = db->Prepare("SELECT id FROM events");
  EXPECT_TRUE(stmt);
  while (true) {
    auto row = stmt->Step();
    EXPECT_TRUE(row);
    if (!row || !*row) {
      break;
    }
    ++ids[std::string(stmt->ColumnText(0))];
  }
  return ids;
}

TEST(EventStoreCrashTest, KillNineNeverLosesAConfirmedAppend) {
  std::uint64_t seed = std::random_device{}();
  std::printf("crash test seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> run_ms(1, 250);
  int kills = 0;
  std::size_t total_confirmed = 0;
  for (int s = 0; s < kStores; ++s) {
    TempDir dir;
    std::unordered_set<std::string> confirmed;
    for (int k = 0; k < kKillsPerStore; ++k) {
      auto run = RunAndKill(dir.path(), std::chrono::milliseconds(run_ms(rng)), rng());
      ASSERT_TRUE(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL)
          << "the child exited by itself (status " << run.status << ")";
      ++kills;
      for (auto& id : run.confirmed) {
        EXPECT_TRUE(confirmed.insert(std::move(id)).second) << "id confirmed twice";
      }
      platform::FakeKeyProvider keys(FixedKey());
      OpenReport report;
      {
        auto store = EventStore::Open(testing::OptionsIn(dir.path()), keys, &report);
        ASSERT_TRUE(store) << store.error().ToString() << " after kill " << kills;
        ASSERT_FALSE(report.quarantined) << report.reason << " after kill " << kills;
        auto integrity = (*store)->CheckIntegrity();
        ASSERT_TRUE(integrity) << integrity.error().ToString() << " after kill " << kills;
      }
      auto stored = StoredIds(dir.path() / "events.db");
      std::size_t missing = 0;
      for (const auto& id : confirmed) {
        auto it = stored.find(id);
        if (it == stored.end()) {
          ++missing;
        } else {
          EXPECT_EQ(it->second, 1) << id;
        }
      }
      ASSERT_EQ(missing, 0u) << "of " << confirmed.size() << " confirmed appends, after kill "
                             << kills << " (seed " << seed << ")";
    }
    total_confirmed += confirmed.size();
  }
  std::printf("crash test: %d kills, %zu confirmed appends checked\n", kills, total_confirmed);
  EXPECT_GE(kills, 50);
  EXPECT_GT(total_confirmed, 1000u);
}

}  // namespace
}  // namespace ward::agent::store
