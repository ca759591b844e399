// SPDX-License-Identifier: Apache-2.0
// The AppLocker event subscription. Wine 8's wevtapi is a stub (EvtSubscribe fails): there the
// test checks that the failure is a clear kUnavailable and skips, saying so. On Windows it
// subscribes, times out with no decision to report and wakes on Interrupt(); a real block is the
// manual check in docs/enforcement-windows.md.
#include <chrono>

#include <gtest/gtest.h>

#include "ward/platform/applocker_events.h"

namespace ward::platform {
namespace {

TEST(AppLockerEventSourceTest, SubscribesOrSaysClearlyWhyNot) {
  auto source = CreateAppLockerEventSource();
  if (!source.has_value()) {
    EXPECT_EQ(source.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(source.error().message().find("subscribing to the AppLocker event channel"),
              std::string::npos);
    GTEST_SKIP() << "no event log subscription here (Wine): " << source.error().ToString();
  }
  auto batch = (*source)->WaitForEvents(std::chrono::milliseconds(100));
  ASSERT_TRUE(batch.has_value()) << batch.error().ToString();
  (*source)->Interrupt();
  const auto start = std::chrono::steady_clock::now();
  batch = (*source)->WaitForEvents(std::chrono::seconds(10));
  ASSERT_TRUE(batch.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace ward::platform
