// SPDX-License-Identifier: Apache-2.0
// AppLocker's own events (8002/8003/8004 of "Microsoft-Windows-AppLocker/EXE and DLL") read into
// Ward's ExecEvent. The samples in tests/testdata/applocker/events follow the event schema's
// field list (RuleAndFileData); they are also the fuzzer's seed corpus.
#include "ward/platform/applocker_events.h"

#include <gtest/gtest.h>

#include "registry_golden.h"
#include "ward/testing/paths.h"

namespace ward::platform {
namespace {

std::string Sample(const std::string& name) {
  return ReadText(ward::testing::TestdataDir() / "applocker" / "events" / name);
}

TEST(AppLockerEventTest, BlockedBecauseNoRuleAllowsIt) {
  auto event = ParseAppLockerEvent(Sample("8004-blocked-no-rule.xml"));
  ASSERT_TRUE(event.has_value()) << event.error().ToString();
  EXPECT_EQ(event->event_id, 8004);
  EXPECT_EQ(event->decision, v1::DECISION_BLOCK);
  EXPECT_EQ(event->file_path, "C:\\Users\\learner\\Downloads\\game-setup.exe");
  EXPECT_EQ(event->file_hash, "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
  EXPECT_EQ(event->publisher, "");
  EXPECT_EQ(event->user_sid, "S-1-5-21-3623811015-3361044348-30300820-1013");
  EXPECT_EQ(event->pid, 6120U);
  EXPECT_EQ(event->rule_guid, "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(event->rule_id, "");
  EXPECT_EQ(event->time_created, "2026-12-07T21:30:01.5187430Z");
  const v1::ExecEvent exec = ToExecEvent(*event);
  EXPECT_EQ(exec.decision(), v1::DECISION_BLOCK);
  EXPECT_EQ(exec.path(), "C:\\Users\\learner\\Downloads\\game-setup.exe");
  EXPECT_EQ(exec.pid(), 6120);
  EXPECT_EQ(exec.sha256(), "");
  EXPECT_EQ(exec.reason(),
            "AppLocker event 8004: no rule allows it; Authenticode SHA-256 "
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
}

TEST(AppLockerEventTest, AuditOnlyWouldBlockTracedToTheWardRule) {
  auto event = ParseAppLockerEvent(Sample("8003-audit-ward-rule.xml"));
  ASSERT_TRUE(event.has_value()) << event.error().ToString();
  EXPECT_EQ(event->decision, v1::DECISION_WOULD_BLOCK);
  // No FullFilePath in this older form: the path as AppLocker writes it, entity decoded.
  EXPECT_EQ(event->file_path, "%PROGRAMFILES%\\EXAMPLE TORRENT\\TORRENT & SHARE.EXE");
  EXPECT_EQ(event->publisher, "O=EXAMPLE TORRENT SOFTWARE LTD, L=LONDON, C=GB");
  EXPECT_EQ(event->rule_guid, "5a1f2b3c-4d5e-8f60-9172-83a4b5c6d7e8");
  EXPECT_EQ(event->rule_id, "block-torrent-client");
  const v1::ExecEvent exec = ToExecEvent(*event);
  EXPECT_EQ(exec.decision(), v1::DECISION_WOULD_BLOCK);
  EXPECT_EQ(exec.rule_id(), "block-torrent-client");
  EXPECT_EQ(exec.signer(), "O=EXAMPLE TORRENT SOFTWARE LTD, L=LONDON, C=GB");
}

TEST(AppLockerEventTest, AllowedByADefaultRule) {
  auto event = ParseAppLockerEvent(Sample("8002-allowed-default-rule.xml"));
  ASSERT_TRUE(event.has_value()) << event.error().ToString();
  EXPECT_EQ(event->decision, v1::DECISION_ALLOW);
  EXPECT_EQ(event->rule_id, "applocker-default");
  EXPECT_EQ(event->publisher, "O=MICROSOFT CORPORATION, L=REDMOND, S=WASHINGTON, C=US");
  EXPECT_EQ(event->file_path, "%SYSTEM32%\\NOTEPAD.EXE");
}

TEST(AppLockerEventTest, OtherEventsAreUnsupportedNotErrorsOfForm) {
  std::string other = Sample("8004-blocked-no-rule.xml");
  other.replace(other.find("<EventID>8004"), 13, "<EventID>8001");
  auto event = ParseAppLockerEvent(other);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().code(), ErrorCode::kUnsupported);
  std::string foreign = Sample("8004-blocked-no-rule.xml");
  foreign.replace(foreign.find("Microsoft-Windows-AppLocker\""), 28, "Someone-Else\"");
  event = ParseAppLockerEvent(foreign);
  ASSERT_FALSE(event.has_value());
  EXPECT_EQ(event.error().code(), ErrorCode::kUnsupported);
}

TEST(AppLockerEventTest, MalformedTextIsRefusedWithTheReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "no element"},
      {"<Event><System>", "not closed"},
      {"<Event></System>", "mismatched end tag"},
      {"<Event a=b/>", "without quotes"},
      {"<Event>&bogus;</Event>", "unknown entity"},
      {"<Event>&#0;</Event>", "bad character reference"},
      {"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><Event>&e;</Event>", "DTD"},
      {"<Event/><Event/>", "more than one root"},
      {std::string(70 * 1024, ' '), "64 KiB"},
      {"<Event><System><EventID>80x4</EventID></System></Event>", "not a number"},
  };
  for (const auto& [text, reason] : cases) {
    auto event = ParseAppLockerEvent(text);
    ASSERT_FALSE(event.has_value()) << text.substr(0, 60);
    EXPECT_EQ(event.error().code(), ErrorCode::kInvalidArgument) << text.substr(0, 60);
    EXPECT_NE(event.error().message().find(reason), std::string::npos) << event.error().message();
  }
  std::string deep;
  for (int i = 0; i < 20; ++i) {
    deep += "<a>";
  }
  EXPECT_FALSE(ParseAppLockerEvent(deep).has_value());
}

TEST(AppLockerEventTest, BadProcessIdIsRefused) {
  std::string text = Sample("8004-blocked-no-rule.xml");
  text.replace(text.find("<TargetProcessId>6120"), 21, "<TargetProcessId>-1");
  auto event = ParseAppLockerEvent(text);
  ASSERT_FALSE(event.has_value());
  EXPECT_NE(event.error().message().find("TargetProcessId"), std::string::npos);
}

}  // namespace
}  // namespace ward::platform
