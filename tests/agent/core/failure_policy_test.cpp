// SPDX-License-Identifier: Apache-2.0
#include "ward/core/failure_policy.h"

#include <gtest/gtest.h>

#include "recording_sinks.h"

namespace ward::core {
namespace {

TEST(FailurePolicyTest, EveryUsbFailureFailsClosed) {
  for (const auto reason : {FailureReason::kUsbPlatformUnavailable,
                            FailureReason::kUsbDefaultsNotSet, FailureReason::kUsbDeviceUnreadable,
                            FailureReason::kUsbApplyFailed, FailureReason::kUsbEventsLost}) {
    EXPECT_EQ(ActionFor(reason), FailureAction::kFailClosed)
        << FailureTable()[static_cast<std::size_t>(reason)].name;
  }
}

TEST(FailurePolicyTest, TableNamesEveryReasonOnceWithAnExplanation) {
  std::set<std::string_view> names;
  for (const auto& rule : FailureTable()) {
    EXPECT_FALSE(rule.why.empty()) << rule.name;
    EXPECT_TRUE(names.insert(rule.name).second) << rule.name;
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(FailureReason::kCount));
}

TEST(FailurePolicyTest, CountsEveryOccurrenceAndReportsFirstThenEveryNth) {
  ManualClock clock;
  Random& random = SystemRandom();
  EventFactory factory(clock, random);
  ward::testing::RecordingSinks sinks;
  FailurePolicy failures(sinks, factory, /*report_every=*/10);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(failures.Handle(FailureReason::kExecDecisionTimeout, "slow"),
              FailureAction::kFailOpen);
  }
  EXPECT_EQ(failures.Count(FailureReason::kExecDecisionTimeout), 25u);
  EXPECT_EQ(failures.Count(FailureReason::kUsbApplyFailed), 0u);
  const auto events = sinks.events();
  ASSERT_EQ(events.size(), 3u);  // at 1, 10 and 20
  EXPECT_EQ(events[0].agent().kind(), v1::AgentEvent::KIND_FAILURE);
  EXPECT_EQ(events[0].agent().count(), 1u);
  EXPECT_EQ(events[2].agent().count(), 20u);
  EXPECT_NE(events[0].agent().detail().find("exec-decision-timeout (fail-open)"),
            std::string::npos);
  // A batch is counted as a whole.
  failures.Handle(FailureReason::kExecDecisionTimeout, "batch", 7);
  EXPECT_EQ(failures.Count(FailureReason::kExecDecisionTimeout), 32u);
  EXPECT_EQ(sinks.events().size(), 4u);
}

}  // namespace
}  // namespace ward::core
