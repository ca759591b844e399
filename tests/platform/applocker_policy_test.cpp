// SPDX-License-Identifier: Apache-2.0
// The application allowlist as AppLocker rules and their SrpV2 registry form, compared with
// golden files of the expected registry state (tests/testdata/applocker/<policy>.reg). Portable:
// runs on Linux and under Wine. WARD_UPDATE_GOLDENS=1 rewrites the golden files; review the diff.
#include "ward/platform/applocker_policy.h"

#include <cstdlib>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "applocker_golden.h"

namespace ward::platform {
namespace {

class AppLockerGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(AppLockerGoldenTest, SamplePolicyCompilesToTheGoldenRegistryState) {
  auto policy = AppLockerSamplePolicy(GetParam());
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  const std::string actual = FormatRegistryPolicy(
      RenderAppLockerRegistry(CompileAppLockerPolicy(policy->apps(), policy->mode())));
  const auto golden = AppLockerGoldenPath(GetParam());
  if (std::getenv("WARD_UPDATE_GOLDENS") != nullptr) {
    std::ofstream(golden, std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, ReadText(golden)) << "golden: " << golden.string();
}

INSTANTIATE_TEST_SUITE_P(Samples, AppLockerGoldenTest,
                         ::testing::Values("windows-lab", "sample-under18", "example-adult"));

v1::AppRule Rule(const std::string& id, v1::AppAction action) {
  v1::AppRule rule;
  rule.set_id(id);
  rule.set_action(action);
  return rule;
}

const AppLockerRule* FindRule(const AppLockerPolicy& policy, const std::string& rule_id) {
  for (const AppLockerRule& rule : policy.rules) {
    if (rule.rule_id == rule_id) {
      return &rule;
    }
  }
  return nullptr;
}

TEST(AppLockerPolicyTest, PathDirectoryAndPublisherRulesUseMicrosoftsElements) {
  v1::AppPolicy apps;
  apps.set_default_action(v1::APP_ACTION_BLOCK);
  *apps.add_rules() = Rule("p", v1::APP_ACTION_ALLOW);
  apps.mutable_rules(0)->set_path("C:/Tools/a&b.exe");
  *apps.add_rules() = Rule("d", v1::APP_ACTION_ALLOW);
  apps.mutable_rules(1)->set_directory("D:\\Course\\");
  *apps.add_rules() = Rule("s", v1::APP_ACTION_ALLOW);
  apps.mutable_rules(2)->set_signer("O=MOZILLA CORPORATION, L=SAN FRANCISCO, S=CALIFORNIA, C=US");
  apps.mutable_rules(2)->set_message("Firefox \"ok\"");
  const AppLockerPolicy out = CompileAppLockerPolicy(apps, v1::MODE_ENFORCE);
  EXPECT_TRUE(out.enforce);
  EXPECT_TRUE(out.not_enforced.empty());
  const AppLockerRule* p = FindRule(out, "p");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->xml, "<FilePathRule Id=\"" + p->guid +
                        "\" Name=\"Ward p\" Description=\"\" UserOrGroupSid=\"S-1-1-0\" "
                        "Action=\"Allow\"><Conditions><FilePathCondition "
                        "Path=\"C:\\Tools\\a&amp;b.exe\" /></Conditions></FilePathRule>");
  const AppLockerRule* d = FindRule(out, "d");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->xml.find("<FilePathCondition Path=\"D:\\Course\\*\" />"), std::string::npos);
  const AppLockerRule* s = FindRule(out, "s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->xml,
            "<FilePublisherRule Id=\"" + s->guid +
                "\" Name=\"Ward s\" Description=\"Firefox &quot;ok&quot;\" "
                "UserOrGroupSid=\"S-1-1-0\" Action=\"Allow\"><Conditions><FilePublisherCondition "
                "PublisherName=\"O=MOZILLA CORPORATION, L=SAN FRANCISCO, S=CALIFORNIA, C=US\" "
                "ProductName=\"*\" BinaryName=\"*\"><BinaryVersionRange LowSection=\"*\" "
                "HighSection=\"*\" /></FilePublisherCondition></Conditions></FilePublisherRule>");
}

TEST(AppLockerPolicyTest, GuidsComeFromTheContentSoApplyingAgainIsIdempotent) {
  v1::AppPolicy apps;
  *apps.add_rules() = Rule("a", v1::APP_ACTION_BLOCK);
  apps.mutable_rules(0)->set_path("C:\\x.exe");
  const AppLockerPolicy first = CompileAppLockerPolicy(apps, v1::MODE_MONITOR);
  EXPECT_EQ(CompileAppLockerPolicy(apps, v1::MODE_MONITOR).rules, first.rules);
  // Enforcement is the collection's, not the rule's: the rules stay the same.
  EXPECT_EQ(CompileAppLockerPolicy(apps, v1::MODE_ENFORCE).rules, first.rules);
  const std::string guid = FindRule(first, "a")->guid;
  EXPECT_EQ(guid.size(), 36U);
  EXPECT_EQ(guid[14], '8');  // UUID version 8
  apps.mutable_rules(0)->set_path("C:\\y.exe");
  EXPECT_NE(FindRule(CompileAppLockerPolicy(apps, v1::MODE_MONITOR), "a")->guid, guid);
}

TEST(AppLockerPolicyTest, MonitorIsAuditOnlyAndEnforceIsEnabled) {
  const v1::AppPolicy apps;
  const auto mode = [&](v1::Mode m) {
    std::set<std::uint32_t> seen;
    for (const RegistryPolicyValue& v :
         RenderAppLockerRegistry(CompileAppLockerPolicy(apps, m)).values) {
      if (v.name == "EnforcementMode") {
        seen.insert(v.dword);
      }
    }
    return seen;
  };
  EXPECT_EQ(mode(v1::MODE_MONITOR), std::set<std::uint32_t>{0});
  EXPECT_EQ(mode(v1::MODE_ENFORCE), std::set<std::uint32_t>{1});
  EXPECT_NE(FormatAppLockerXml(CompileAppLockerPolicy(apps, v1::MODE_MONITOR))
                .find("<RuleCollection Type=\"Exe\" EnforcementMode=\"AuditOnly\">"),
            std::string::npos);
}

TEST(AppLockerPolicyTest, AllowlistGetsAppLockersDefaultRulesAndAllowDefaultAllowsAll) {
  v1::AppPolicy apps;
  apps.set_default_action(v1::APP_ACTION_BLOCK);
  const AppLockerPolicy allowlist = CompileAppLockerPolicy(apps, v1::MODE_ENFORCE);
  std::set<std::string> guids;
  for (const AppLockerRule& r : allowlist.rules) {
    guids.insert(r.guid);
  }
  EXPECT_EQ(guids,
            (std::set<std::string>{
                "921cc481-6e17-4653-8f75-050b80acca20", "a61c8b2c-a319-4cd0-9690-d2177cad7b51",
                "fd686d83-a829-4351-8ff4-27c7de5755d2", "a9e18c21-ff8f-43cf-b9fc-db40eed693ba"}));
  apps.set_default_action(v1::APP_ACTION_ALLOW);
  const AppLockerPolicy allow_all = CompileAppLockerPolicy(apps, v1::MODE_ENFORCE);
  const AppLockerRule* all = FindRule(allow_all, "default-allow");
  ASSERT_NE(all, nullptr);
  EXPECT_NE(all->xml.find("Action=\"Allow\"><Conditions><FilePathCondition Path=\"*\" />"),
            std::string::npos);
}

TEST(AppLockerPolicyTest, StrongerAllowRulesBecomeExceptionsOfWeakerDenyRules) {
  v1::AppPolicy apps;
  apps.set_default_action(v1::APP_ACTION_ALLOW);
  *apps.add_rules() = Rule("block-dir", v1::APP_ACTION_BLOCK);
  apps.mutable_rules(0)->set_directory("C:\\Users\\Public");
  *apps.add_rules() = Rule("allow-one", v1::APP_ACTION_ALLOW);
  apps.mutable_rules(1)->set_path("C:\\Users\\Public\\ok.exe");
  *apps.add_rules() = Rule("block-one", v1::APP_ACTION_BLOCK);
  apps.mutable_rules(2)->set_path("C:\\Users\\Public\\bad.exe");
  const AppLockerPolicy out = CompileAppLockerPolicy(apps, v1::MODE_ENFORCE);
  EXPECT_NE(FindRule(out, "block-dir")
                ->xml.find("<Exceptions><FilePathCondition Path=\"C:\\Users\\Public\\ok.exe\" "
                           "/></Exceptions>"),
            std::string::npos);
  // An allow rule that can never match the same program is left out (another file), and a
  // weaker allow is never an exception.
  EXPECT_EQ(FindRule(out, "block-one")->xml.find("<Exceptions>"), std::string::npos);
  *apps.add_rules() = Rule("allow-dir", v1::APP_ACTION_ALLOW);
  apps.mutable_rules(3)->set_directory("C:\\Users\\Public\\Course");
  *apps.add_rules() = Rule("allow-bad-by-path", v1::APP_ACTION_ALLOW);
  apps.mutable_rules(4)->set_path("c:/users/public/BAD.exe");
  const AppLockerPolicy more = CompileAppLockerPolicy(apps, v1::MODE_ENFORCE);
  const std::string& one = FindRule(more, "block-one")->xml;
  EXPECT_EQ(one.find("Course"), std::string::npos);
  // The same file (AppLocker compares paths case-insensitively), listed later: Ward's first
  // listed rule wins, so no exception.
  EXPECT_EQ(one.find("<Exceptions>"), std::string::npos);
  EXPECT_NE(FindRule(more, "block-dir")->xml.find("Course\\*"), std::string::npos);
}

TEST(AppLockerPolicyTest, WhatAppLockerCannotExpressIsReportedWithTheReason) {
  v1::AppPolicy apps;
  *apps.add_rules() = Rule("hash", v1::APP_ACTION_BLOCK);
  apps.mutable_rules(0)->set_sha256(std::string(64, 'a'));
  *apps.add_rules() = Rule("pkg", v1::APP_ACTION_ALLOW);
  apps.mutable_rules(1)->set_package("firefox-esr");
  *apps.add_rules() = Rule("linux", v1::APP_ACTION_ALLOW);
  apps.mutable_rules(2)->set_path("/usr/bin/firefox");
  *apps.add_rules() = Rule("bare", v1::APP_ACTION_BLOCK);
  apps.mutable_rules(3)->set_signer("Example Ltd");
  const AppLockerPolicy out = CompileAppLockerPolicy(apps, v1::MODE_ENFORCE);
  ASSERT_EQ(out.not_enforced.size(), 4U);
  EXPECT_EQ(out.not_enforced[0].setting, "hash");
  EXPECT_NE(out.not_enforced[0].reason.find("Authenticode"), std::string::npos);
  EXPECT_EQ(out.not_enforced[1].setting, "pkg");
  EXPECT_NE(out.not_enforced[2].reason.find("not a Windows path"), std::string::npos);
  EXPECT_NE(out.not_enforced[3].reason.find("whole certificate subject"), std::string::npos);
  for (const std::string id : {"hash", "pkg", "linux", "bare"}) {
    EXPECT_EQ(FindRule(out, id), nullptr) << id;
  }
}

TEST(AppLockerPolicyTest, RegistryFormIsSrpV2WithTheServiceAutomatic) {
  v1::AppPolicy apps;
  *apps.add_rules() = Rule("a", v1::APP_ACTION_BLOCK);
  apps.mutable_rules(0)->set_path("C:\\x.exe");
  const AppLockerPolicy policy = CompileAppLockerPolicy(apps, v1::MODE_ENFORCE);
  const RegistryPolicy reg = RenderAppLockerRegistry(policy);
  const std::string guid = FindRule(policy, "a")->guid;
  bool rule = false;
  bool service = false;
  for (const RegistryPolicyValue& v : reg.values) {
    EXPECT_EQ(v.root, RegistryRoot::kMachine);
    if (v.key == "SOFTWARE\\Policies\\Microsoft\\Windows\\SrpV2\\Exe\\" + guid) {
      rule =
          v.name == "Value" && v.type == RegistryType::kSz && v.text == FindRule(policy, "a")->xml;
    }
    if (v.key == "SYSTEM\\CurrentControlSet\\Services\\AppIDSvc") {
      service = v.name == "Start" && v.type == RegistryType::kDword && v.dword == 2;
    }
  }
  EXPECT_TRUE(rule);
  EXPECT_TRUE(service);
}

TEST(AppLockerEditionTest, EnterpriseAndEducationEnforceProAndHomeDoNot) {
  for (const char* edition : {"Enterprise", "EnterpriseS", "Education", "EducationN",
                              "ServerStandard", "IoTEnterprise"}) {
    EXPECT_TRUE(AppLockerSupportFor(edition).enforced) << edition;
  }
  for (const char* edition : {"Professional", "ProfessionalEducation", "Core", ""}) {
    const auto support = AppLockerSupportFor(edition);
    EXPECT_FALSE(support.enforced) << edition;
    EXPECT_NE(support.note.find("not known to enforce"), std::string::npos);
  }
}

}  // namespace
}  // namespace ward::platform
