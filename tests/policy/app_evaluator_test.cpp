// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/app_evaluator.h"

#include <gtest/gtest.h>

#include "policy_test_util.h"

namespace ward::policy {
namespace {

using testing::MinimalPolicyJson;
using testing::MustLoad;

const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');

std::unique_ptr<AppEvaluator> EvaluatorFor(const std::string& section,
                                           const std::string& mode = "MODE_ENFORCE") {
  return testing::MustCreate<AppEvaluator>(MinimalPolicyJson(", \"apps\": " + section, mode));
}

// An exec request whose sha256 callback counts its calls.
struct Exec {
  std::string path;
  std::string package = "";
  std::string signer = "";
  std::string digest = std::string(64, '0');
  int hash_calls = 0;

  ExecRequest Request() {
    ExecRequest r;
    r.path = path;
    r.package = package;
    r.signer = signer;
    r.size = 1234;
    r.sha256 = [this]() -> ward::Result<std::string> {
      ++hash_calls;
      return digest;
    };
    return r;
  }
};

AppDecision Decide(const AppEvaluator& e, Exec& exec) {
  auto d = e.Evaluate(exec.Request());
  EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message());
  return d ? *d : AppDecision{};
}

// Every rung of the ladder, each naming the same program.
std::string Ladder() {
  return R"({"default_action": "APP_ACTION_ALLOW", "rules": [
      {"id": "dir", "action": "APP_ACTION_BLOCK", "directory": "/opt/tool"},
      {"id": "pkg", "action": "APP_ACTION_ALLOW", "package": "tool"},
      {"id": "signer", "action": "APP_ACTION_BLOCK", "signer": "Tool Ltd"},
      {"id": "path", "action": "APP_ACTION_ALLOW", "path": "/opt/tool/bin/tool"},
      {"id": "hash", "action": "APP_ACTION_BLOCK", "sha256": ")" +
         kHashA + R"(", "message": "Not this one.", "url": "https://help.example.org/apps"}]})";
}

TEST(AppEvaluatorTest, PrecedenceLadderShaPathSignerPackageDirectory) {
  auto e = EvaluatorFor(Ladder());
  Exec exec{"/opt/tool/bin/tool", "tool", "Tool Ltd", kHashA};
  auto d = Decide(*e, exec);
  EXPECT_EQ(d.matched_by, AppMatch::kSha256);
  EXPECT_EQ(d.verdict, AppVerdict::kBlock);
  EXPECT_EQ(d.rule_id, "hash");
  EXPECT_EQ(d.message, "Not this one.");
  EXPECT_EQ(d.url, "https://help.example.org/apps");

  exec.digest = kHashB;  // no sha256 rule: the path rule decides
  d = Decide(*e, exec);
  EXPECT_EQ(d.matched_by, AppMatch::kPath);
  EXPECT_EQ(d.verdict, AppVerdict::kAllow);
  EXPECT_EQ(d.message, "");

  exec.path = "/opt/tool/bin/other";  // signer next
  d = Decide(*e, exec);
  EXPECT_EQ(d.matched_by, AppMatch::kSigner);
  EXPECT_EQ(d.verdict, AppVerdict::kBlock);

  exec.signer = "";  // then package
  d = Decide(*e, exec);
  EXPECT_EQ(d.matched_by, AppMatch::kPackage);
  EXPECT_EQ(d.verdict, AppVerdict::kAllow);

  exec.package = "";  // then directory
  d = Decide(*e, exec);
  EXPECT_EQ(d.matched_by, AppMatch::kDirectory);
  EXPECT_EQ(d.rule_id, "dir");
  EXPECT_EQ(d.matched_value, "/opt/tool");
  EXPECT_EQ(d.StaffReason(), "blocked by directory rule \"dir\" (/opt/tool)");

  exec.path = "/usr/bin/ls";  // and the default
  d = Decide(*e, exec);
  EXPECT_EQ(d.matched_by, AppMatch::kDefault);
  EXPECT_EQ(d.verdict, AppVerdict::kAllow);
  EXPECT_EQ(d.StaffReason(), "allowed by the default action (no rule matched)");
}

TEST(AppEvaluatorTest, PackageRuleNamesAreTheNamedPackagesSorted) {
  auto e = EvaluatorFor(R"({"default_action": "APP_ACTION_BLOCK", "rules": [
      {"id": "office", "action": "APP_ACTION_ALLOW", "package": "libreoffice-core"},
      {"id": "path", "action": "APP_ACTION_ALLOW", "path": "/opt/tool/bin/tool"},
      {"id": "browser", "action": "APP_ACTION_ALLOW", "package": "firefox-esr"}]})");
  EXPECT_TRUE(e->HasPackageRules());
  EXPECT_EQ(e->PackageRuleNames(), (std::vector<std::string>{"firefox-esr", "libreoffice-core"}));
  auto none = EvaluatorFor(R"({"default_action": "APP_ACTION_ALLOW"})");
  EXPECT_FALSE(none->HasPackageRules());
  EXPECT_TRUE(none->PackageRuleNames().empty());
}

TEST(AppEvaluatorTest, DirectoryIsLongestPrefixOnComponentBoundaries) {
  auto e = EvaluatorFor(R"({"default_action": "APP_ACTION_BLOCK", "rules": [
      {"id": "usr", "action": "APP_ACTION_ALLOW", "directory": "/usr"},
      {"id": "games", "action": "APP_ACTION_BLOCK", "directory": "/usr/games/"},
      {"id": "root", "action": "APP_ACTION_ALLOW", "directory": "/"},
      {"id": "win", "action": "APP_ACTION_ALLOW", "directory": "C:\\Program Files"}]})");
  Exec exec{"/usr/games/sl"};
  EXPECT_EQ(Decide(*e, exec).rule_id, "games");
  exec.path = "/usr/bin/ls";
  EXPECT_EQ(Decide(*e, exec).rule_id, "usr");
  exec.path = "/usr/gamesx/sl";  // "/usr/games" is not a component prefix of this
  EXPECT_EQ(Decide(*e, exec).rule_id, "usr");
  exec.path = "/usrx/bin/ls";
  EXPECT_EQ(Decide(*e, exec).rule_id, "root");
  exec.path = "C:\\Program Files\\Editor\\editor.exe";
  EXPECT_EQ(Decide(*e, exec).rule_id, "win");
  exec.path = "C:\\Program Files Extra\\x.exe";
  EXPECT_EQ(Decide(*e, exec).matched_by, AppMatch::kDefault);
}

TEST(AppEvaluatorTest, Sha256IsNotComputedWhenItCannotChangeTheVerdict) {
  // Only an ALLOW sha256 rule: a program the ladder already allows is not hashed.
  auto allow_only = EvaluatorFor(R"({"default_action": "APP_ACTION_BLOCK", "rules": [
      {"id": "usr", "action": "APP_ACTION_ALLOW", "directory": "/usr"},
      {"id": "tool", "action": "APP_ACTION_ALLOW", "sha256": ")" +
                                 kHashA + R"("}]})");
  Exec allowed{"/usr/bin/ls"};
  EXPECT_EQ(Decide(*allow_only, allowed).verdict, AppVerdict::kAllow);
  EXPECT_EQ(allowed.hash_calls, 0);
  // A program the ladder blocks could be rescued by its digest: hashed once.
  Exec blocked{"/home/learner/tool", "", "", kHashA};
  const auto d = Decide(*allow_only, blocked);
  EXPECT_EQ(d.verdict, AppVerdict::kAllow);
  EXPECT_EQ(d.matched_by, AppMatch::kSha256);
  EXPECT_TRUE(d.sha256_computed);
  EXPECT_EQ(blocked.hash_calls, 1);

  // No sha256 rules at all: never hashed, and no callback needed.
  auto no_hashes = EvaluatorFor(R"({"default_action": "APP_ACTION_BLOCK"})");
  Exec other{"/home/learner/game"};
  EXPECT_EQ(Decide(*no_hashes, other).verdict, AppVerdict::kBlock);
  EXPECT_EQ(other.hash_calls, 0);
  ExecRequest without_callback;
  without_callback.path = "/usr/bin/ls";
  EXPECT_TRUE(no_hashes->Evaluate(without_callback).has_value());

  // Both ALLOW and BLOCK digests: always hashed, exactly once.
  auto both = EvaluatorFor(R"({"rules": [
      {"id": "a", "action": "APP_ACTION_ALLOW", "sha256": ")" +
                           kHashA + R"("},
      {"id": "b", "action": "APP_ACTION_BLOCK", "sha256": ")" +
                           kHashB + R"("}]})");
  Exec plain{"/usr/bin/ls"};
  EXPECT_EQ(Decide(*both, plain).matched_by, AppMatch::kDefault);
  EXPECT_EQ(plain.hash_calls, 1);
}

TEST(AppEvaluatorTest, AcceptsUpperCaseDigestsFromTheCallback) {
  auto e = EvaluatorFor(R"({"rules": [{"id": "a", "action": "APP_ACTION_BLOCK", "sha256": ")" +
                        kHashA + R"("}]})");
  Exec exec{"/usr/bin/x", "", "", std::string(64, 'A')};
  EXPECT_EQ(Decide(*e, exec).rule_id, "a");
}

TEST(AppEvaluatorTest, HashFailuresAreErrorsForTheCaller) {
  auto e = EvaluatorFor(R"({"rules": [{"id": "a", "action": "APP_ACTION_BLOCK", "sha256": ")" +
                        kHashA + R"("}]})");
  ExecRequest failing;
  failing.path = "/usr/bin/x";
  failing.sha256 = []() -> ward::Result<std::string> {
    return ward::UnavailableError("file vanished");
  };
  const auto d = e->Evaluate(failing);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(d.error().message(), "hashing /usr/bin/x: file vanished");
  Exec garbage{"/usr/bin/x", "", "", "xyz"};
  const auto bad = e->Evaluate(garbage.Request());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "the sha256 of /usr/bin/x is not 64 hex digits: \"xyz\"");
}

TEST(AppEvaluatorTest, MonitorModeTurnsBlocksIntoWouldBlock) {
  auto monitor = EvaluatorFor(Ladder(), "MODE_MONITOR");
  Exec exec{"/opt/tool/bin/tool", "", "", kHashA};
  const auto d = Decide(*monitor, exec);
  EXPECT_EQ(d.verdict, AppVerdict::kWouldBlock);
  EXPECT_EQ(d.rule_id, "hash");
  EXPECT_EQ(d.StaffReason(),
            "would be blocked (monitor mode) by sha256 rule \"hash\" (" + kHashA + ")");
  exec.digest = kHashB;
  EXPECT_EQ(Decide(*monitor, exec).verdict, AppVerdict::kAllow);
}

TEST(AppEvaluatorTest, RestrictedInterpretersAreBlockedUnlessNamedByHashOrPath) {
  auto e = EvaluatorFor(R"({"default_action": "APP_ACTION_ALLOW",
      "default_message": "Ask IT about this program.",
      "rules": [
        {"id": "usr", "action": "APP_ACTION_ALLOW", "directory": "/usr/bin"},
        {"id": "py-pkg", "action": "APP_ACTION_ALLOW", "package": "python3.11-minimal"},
        {"id": "lab-perl", "action": "APP_ACTION_ALLOW", "path": "/opt/lab/perl"}],
      "restricted_interpreters": ["python3", "perl", "/usr/local/bin/node"]})");
  Exec python{"/usr/bin/python3.11", "python3.11-minimal"};
  auto d = Decide(*e, python);
  EXPECT_EQ(d.verdict, AppVerdict::kBlock);
  EXPECT_EQ(d.matched_by, AppMatch::kRestrictedInterpreter);
  EXPECT_EQ(d.matched_value, "python3");
  EXPECT_EQ(d.message, "Ask IT about this program.");
  EXPECT_EQ(d.StaffReason(), "blocked: python3 is a restricted interpreter");
  Exec node{"/usr/local/bin/node"};
  EXPECT_EQ(Decide(*e, node).matched_by, AppMatch::kRestrictedInterpreter);
  Exec lab_perl{"/opt/lab/perl"};
  EXPECT_EQ(Decide(*e, lab_perl).rule_id, "lab-perl");
  Exec pythonista{"/usr/bin/python3-config-tool"};  // not a versioned python3
  EXPECT_EQ(Decide(*e, pythonista).rule_id, "usr");
}

TEST(AppEvaluatorTest, CreateRejectsInvalidAppRules) {
  ward::v1::Policy policy;
  auto* rule = policy.mutable_apps()->add_rules();
  rule->set_id("r");
  rule->set_action(ward::v1::APP_ACTION_BLOCK);
  rule->set_sha256("abc");
  const auto evaluator = AppEvaluator::Create(policy);
  ASSERT_FALSE(evaluator.has_value());
  EXPECT_EQ(evaluator.error().message(),
            "policy is not valid: apps.rules[0].sha256: \"abc\" is not 64 lower-case hex digits");
}

TEST(AppEvaluatorTest, SamplePolicyDecisions) {
  auto e = AppEvaluator::Create(MustLoad(testing::ReadTestdata("policy/sample-under18.json")));
  ASSERT_TRUE(e.has_value());
  Exec firefox{"/usr/lib/firefox-esr/firefox-esr", "firefox-esr"};
  EXPECT_EQ(Decide(**e, firefox).rule_id, "allow-firefox");
  EXPECT_EQ(firefox.hash_calls, 1);  // allowed by package, but a BLOCK digest could overturn it
  Exec download{"/home/sam/Downloads/game"};
  const auto d = Decide(**e, download);
  EXPECT_EQ(d.verdict, AppVerdict::kBlock);
  EXPECT_EQ(d.rule_id, "block-home-programs");
  Exec usb_tool{"/media/sam/STICK/tool"};
  EXPECT_EQ(Decide(**e, usb_tool).matched_by, AppMatch::kDefault);
  EXPECT_EQ(Decide(**e, usb_tool).verdict, AppVerdict::kBlock);
  EXPECT_EQ(usb_tool.hash_calls, 0);  // only BLOCK digests: a blocked program is not hashed
}

}  // namespace
}  // namespace ward::policy
