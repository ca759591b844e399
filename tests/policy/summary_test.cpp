// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_test_util.h"

namespace ward::policy {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::MinimalPolicyJson;
using testing::MustLoad;
using ::testing::Not;

TEST(SummaryTest, SampleUnder18Policy) {
  const auto policy = MustLoad(testing::ReadTestdata("policy/sample-under18.json"));
  EXPECT_THAT(
      SummarizeForLearner(policy),
      ElementsAre("USB memory sticks are blocked, except ones the college has approved.",
                  "Keyboards and mice always work.", "Only approved programs can run.",
                  "Some programming tools (python3, perl) can't be started.",
                  "You can't change the wallpaper.",
                  "You can't install new programs. Ask IT if you need one.",
                  "The screen saver comes on when you leave the laptop.",
                  "The screen locks itself when you are away.",
                  "You can't change the network settings.", "You can't change the date or time.",
                  "If something online worries you, use \"Report a concern\". It goes to the "
                  "safeguarding team.",
                  "You can also talk to Sam Patel, who looks after safeguarding at "
                  "safeguarding@example-college.ac.uk."));
}

TEST(SummaryTest, MonitorModeSaysWardIsOnlyWatching) {
  const auto policy = MustLoad(MinimalPolicyJson("", "MODE_MONITOR"));
  const auto lines = SummarizeForLearner(policy);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "Right now Ward is only watching, not blocking.");
}

TEST(SummaryTest, DescribesPermissivePolicies) {
  const auto policy = MustLoad(MinimalPolicyJson(R"(,
      "usb": {"default_action": "USB_ACTION_ALLOW"},
      "apps": {"rules": [{"id": "b", "action": "APP_ACTION_BLOCK", "path": "/usr/bin/nc"}]},
      "settings": {"settings": [{"name": "software.install", "bool_value": true, "locked": true},
                                {"name": "desktop.wallpaper", "string_value": "/w.png"}]})"));
  const auto lines = SummarizeForLearner(policy);
  EXPECT_THAT(lines, Contains("USB memory sticks work."));
  EXPECT_THAT(lines, Contains("Some programs are blocked."));
  EXPECT_THAT(lines, Not(Contains("Only approved programs can run.")));
  // Installing is allowed, and the wallpaper is only a default: nothing to say about either.
  EXPECT_THAT(lines, Not(Contains("You can't install new programs. Ask IT if you need one.")));
  EXPECT_THAT(lines, Not(Contains("You can't change the wallpaper.")));
  EXPECT_THAT(lines, Not(Contains("Right now Ward is only watching, not blocking.")));
}

TEST(SummaryTest, TimeLimitedStorage) {
  const auto policy = MustLoad(MinimalPolicyJson(R"(, "usb": {"rules": [
      {"id": "lessons", "action": "USB_ACTION_ALLOW", "when": {"local_time": "09:00-15:00"},
       "with_interface": {"op": "SET_OPERATOR_ONE_OF", "values": ["08:*:*"]}}]})"));
  EXPECT_THAT(SummarizeForLearner(policy),
              Contains("USB memory sticks only work at certain times of day."));
}

TEST(SummaryTest, LearnerSentencesAreShort) {
  const auto policy = MustLoad(testing::ReadTestdata("policy/sample-under18.json"));
  for (const std::string& line : SummarizeForLearner(policy)) {
    EXPECT_LE(line.size(), 120u) << line;
    EXPECT_TRUE(line.ends_with('.')) << line;
  }
}

}  // namespace
}  // namespace ward::policy
