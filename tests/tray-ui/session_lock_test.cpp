// SPDX-License-Identifier: Apache-2.0
// The one-tray-per-session lock, for real: an flock() in a private XDG_RUNTIME_DIR on Linux, a
// "Local\" named mutex on Windows (under Wine).
#include "ward/tray/session_lock.h"

#include <atomic>
#include <string>

#include <gtest/gtest.h>

#include "session_lock_env.h"

namespace ward::tray {
namespace {

std::string UniqueName() {
  static std::atomic<int> counter{0};
  return "Ward.Tray.Test-" + testing::ProcessId() + "-" + std::to_string(++counter);
}

class SessionLockTest : public ::testing::Test {
 protected:
  testing::SessionEnvironment session_;
};

TEST_F(SessionLockTest, FirstTrayTakesTheLockASecondFindsItTaken) {
  const std::string name = UniqueName();
  auto first = SessionLock::TryTake(name);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  ASSERT_NE(*first, nullptr);
  auto second = SessionLock::TryTake(name);
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(*second, nullptr);
}

TEST_F(SessionLockTest, IsFreeAgainWhenTheFirstTrayEnds) {
  const std::string name = UniqueName();
  {
    auto first = SessionLock::TryTake(name);
    ASSERT_TRUE(first.has_value() && *first != nullptr);
  }
  auto again = SessionLock::TryTake(name);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_NE(*again, nullptr);
}

TEST_F(SessionLockTest, DifferentNamesDoNotBlockEachOther) {
  auto a = SessionLock::TryTake(UniqueName());
  auto b = SessionLock::TryTake(UniqueName());
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(*a, nullptr);
  EXPECT_NE(*b, nullptr);
}

}  // namespace
}  // namespace ward::tray
