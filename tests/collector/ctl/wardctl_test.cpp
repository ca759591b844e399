// SPDX-License-Identifier: Apache-2.0
// Runs the real wardctl binary, as staff would.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "ward/policy/loader.h"
#include "ward/policy/summary.h"
#include "ward/policy/usbguard_import.h"
#include "ward/testing/paths.h"

extern char** environ;

namespace ward::ctl {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

namespace fs = std::filesystem;

const std::string kTestdata = ward::testing::TestdataDir().string();
const std::string kSamplePolicy = kTestdata + "/policy/sample-under18.json";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const fs::path& path, std::string_view content) {
  std::ofstream(path, std::ios::binary) << content;
}

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A temporary working directory; wardctl runs inside it.
class WardctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ward-ctl-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Runs wardctl with `args`, stdout and stderr captured separately.
  Outcome Wardctl(const std::vector<std::string>& args) {
    const fs::path out_path = dir_ / ".stdout";
    const fs::path err_path = dir_ / ".stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
    const std::string wardctl = ward::testing::BuiltFile(WARDCTL_PATH).string();
    std::vector<std::string> storage = {wardctl};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : storage) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    Outcome run;
    const int rc = ::posix_spawn(&pid, wardctl.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "could not start " << wardctl;
    if (rc != 0) {
      return run;
    }
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << "wardctl did not exit normally";
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadFile(out_path);
    run.err = ReadFile(err_path);
    return run;
  }

  // Keys in dir_/keys/NAME.{key,pub}.
  void MakeKeys(const std::string& name = "ward-policy") {
    const Outcome run = Wardctl({"keygen", "--out-dir", "keys", "--name", name});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }

  fs::path dir_;
};

// One line on stderr, starting "wardctl", and nothing on stdout.
void ExpectOneErrorLine(const Outcome& run) {
  EXPECT_THAT(run.err, StartsWith("wardctl"));
  EXPECT_THAT(run.err, EndsWith("\n"));
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
}

TEST_F(WardctlTest, HelpOnEveryCommandAndSubcommand) {
  const struct {
    std::vector<std::string> command;
    const char* lists;  // groups list their commands, leaves their options
  } kCommands[] = {
      {{}, "Commands:"},
      {{"keygen"}, "Options:"},
      {{"policy"}, "Commands:"},
      {{"policy", "lint"}, "Options:"},
      {{"policy", "import-usbguard"}, "Options:"},
      {{"policy", "sign"}, "Options:"},
      {{"policy", "show"}, "Options:"},
  };
  for (const auto& c : kCommands) {
    std::string path = "wardctl";
    for (const auto& word : c.command) {
      path += " " + word;
    }
    for (const char* flag : {"--help", "-h"}) {
      std::vector<std::string> args = c.command;
      args.push_back(flag);
      const Outcome run = Wardctl(args);
      EXPECT_EQ(run.exit_code, 0) << path;
      EXPECT_THAT(run.out, StartsWith("Usage: " + path + " ")) << path;
      EXPECT_THAT(run.out, HasSubstr(c.lists)) << path;
      EXPECT_EQ(run.err, "") << path;
    }
  }
  const Outcome help = Wardctl({"help", "policy", "sign"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, StartsWith("Usage: wardctl policy sign FILE --key KEY --out BUNDLE\n"));
}

TEST_F(WardctlTest, WrongCallsExitTwoWithOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"policy"},
           {"policy", "sign", "policy.json"},
           {"policy", "sign", "policy.json", "--key", "k", "--out"},
           {"policy", "show", "b", "--pubkey", "p", "--in-force", "seven"},
           {"policy", "lint"},
           {"policy", "lint", "a.json", "b.json"},
           {"keygen"},
           {"keygen", "--out-dir", "keys", "--name", "../escape"},
       }) {
    const Outcome run = Wardctl(args);
    EXPECT_EQ(run.exit_code, 2) << ::testing::PrintToString(args);
    ExpectOneErrorLine(run);
    EXPECT_THAT(run.err, HasSubstr("--help')")) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

TEST_F(WardctlTest, LintForWindowsSaysWhichRulesFallBackAndWhy) {
  const Outcome lint = Wardctl({"policy", "lint", kSamplePolicy, "--target", "windows"});
  EXPECT_EQ(lint.exit_code, 0) << lint.err;
  EXPECT_THAT(lint.out, HasSubstr(": ok (version 1, "));
  EXPECT_THAT(lint.out, HasSubstr("Windows: 2 USB rule(s) fall back to the agent's own decision"));
  EXPECT_THAT(lint.out, HasSubstr("  usb (default): blocking every device no rule allows"));
  EXPECT_THAT(lint.out,
              HasSubstr("  usb allow-printers-in-lessons: it allows only at 08:30-16:30, and "
                        "Windows' device installation policy has no time of day"));
  EXPECT_THAT(lint.out, HasSubstr("  usb (enrolled) 04f2:b6d9: via_port '1-6' does not match on "
                                  "Windows (Windows has no Linux port names)"));
  EXPECT_THAT(lint.out, HasSubstr("  usb (enrolled) 8087:0a2b: via_port '1-10' does not match"));
  EXPECT_THAT(lint.out, HasSubstr("Windows: 3 setting(s) not enforced:\n  setting "
                                  "datetime.change: not available on Windows: "));
  // Without --target, only the check.
  const Outcome plain = Wardctl({"policy", "lint", kSamplePolicy});
  EXPECT_THAT(plain.out, Not(HasSubstr("Windows:")));

  const Outcome unknown = Wardctl({"policy", "lint", kSamplePolicy, "--target", "macos"});
  EXPECT_NE(unknown.exit_code, 0);
  ExpectOneErrorLine(unknown);
  EXPECT_THAT(unknown.err, HasSubstr("--target takes 'windows' or 'linux', not 'macos'"));
}

TEST_F(WardctlTest, KeygenSignShowRoundTrip) {
  const Outcome keygen = Wardctl({"keygen", "--out-dir", "keys"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  EXPECT_EQ(keygen.err, "");
  const fs::path private_key = dir_ / "keys" / "ward-policy.key";
  const fs::path public_key = dir_ / "keys" / "ward-policy.pub";
  ASSERT_TRUE(fs::exists(private_key));
  EXPECT_EQ(fs::status(private_key).permissions() & fs::perms::mask,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_THAT(ReadFile(private_key), StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_THAT(ReadFile(public_key), StartsWith("-----BEGIN PUBLIC KEY-----\n"));
  // The key id wardctl prints is 16 hex digits.
  EXPECT_THAT(keygen.out, MatchesRegex("Made policy signing key [0-9a-f]{16}\\.\n(.|\n)*"));
  const std::string key_id = keygen.out.substr(24, 16);

  const Outcome lint = Wardctl({"policy", "lint", kSamplePolicy});
  EXPECT_EQ(lint.exit_code, 0) << lint.err;
  EXPECT_THAT(lint.out, HasSubstr(": ok (version 1, "));

  const Outcome sign = Wardctl(
      {"policy", "sign", kSamplePolicy, "--key", "keys/ward-policy.key", "--out", "p.bundle"});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  EXPECT_THAT(sign.out, HasSubstr("with key " + key_id));
  EXPECT_GT(fs::file_size(dir_ / "p.bundle"), 1000u);

  const Outcome show = Wardctl({"policy", "show", "p.bundle", "--pubkey", "keys/ward-policy.pub"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.err, "");
  EXPECT_THAT(show.out, StartsWith("Verified: p.bundle is signed by trusted key " + key_id));
  EXPECT_THAT(show.out, HasSubstr("name:     Learners under 18 - 2026/27\n"));
  EXPECT_THAT(show.out, HasSubstr("version:  1, issued 2026-09-01T08:00:00Z\n"));
  EXPECT_THAT(show.out, HasSubstr("audience: learners under 18\n"));
  // Then the learner summary, one indented sentence per line, exactly as the library words it.
  const std::size_t summary_at = show.out.find("What learners are told");
  ASSERT_NE(summary_at, std::string::npos) << show.out;
  v1::Policy policy;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ReadFile(kSamplePolicy), &policy).ok());
  const auto sentences = policy::SummarizeForLearner(policy);
  ASSERT_FALSE(sentences.empty());
  std::string expected;
  for (const auto& sentence : sentences) {
    expected += "  " + sentence + "\n";
  }
  EXPECT_THAT(show.out.substr(summary_at), EndsWith(expected));
}

TEST_F(WardctlTest, TamperedBundleIsRejected) {
  MakeKeys();
  ASSERT_EQ(Wardctl({"policy", "sign", kSamplePolicy, "--key", "keys/ward-policy.key", "--out",
                     "p.bundle"})
                .exit_code,
            0);
  std::string bundle = ReadFile(dir_ / "p.bundle");
  // A byte inside the policy name, well away from the envelope's framing.
  const std::size_t at = bundle.find("Learners under 18");
  ASSERT_NE(at, std::string::npos);
  bundle[at] = 'l';
  WriteFile(dir_ / "tampered.bundle", bundle);
  const Outcome show =
      Wardctl({"policy", "show", "tampered.bundle", "--pubkey", "keys/ward-policy.pub"});
  EXPECT_EQ(show.exit_code, 1);
  ExpectOneErrorLine(show);
  EXPECT_EQ(show.err,
            "wardctl: tampered.bundle was NOT accepted: the signature does not match the policy: "
            "it was changed after signing, or signed with another key\n");
  EXPECT_EQ(show.out, "");

  WriteFile(dir_ / "junk.bundle", "not a bundle at all \xff\xff");
  const Outcome junk =
      Wardctl({"policy", "show", "junk.bundle", "--pubkey", "keys/ward-policy.pub"});
  EXPECT_EQ(junk.exit_code, 1);
  ExpectOneErrorLine(junk);
}

TEST_F(WardctlTest, ShowRejectsAnotherKeyAndRollback) {
  MakeKeys("college");
  MakeKeys("other");
  ASSERT_EQ(
      Wardctl({"policy", "sign", kSamplePolicy, "--key", "keys/college.key", "--out", "p.bundle"})
          .exit_code,
      0);
  const Outcome wrong_key = Wardctl({"policy", "show", "p.bundle", "--pubkey", "keys/other.pub"});
  EXPECT_EQ(wrong_key.exit_code, 1);
  ExpectOneErrorLine(wrong_key);
  EXPECT_THAT(wrong_key.err, HasSubstr("NOT accepted: the policy was signed with key '"));

  const Outcome rollback =
      Wardctl({"policy", "show", "p.bundle", "--pubkey", "keys/college.pub", "--in-force", "1"});
  EXPECT_EQ(rollback.exit_code, 1);
  ExpectOneErrorLine(rollback);
  EXPECT_THAT(rollback.err,
              HasSubstr("rollback: policy version 1 is not newer than version 1 in force"));
  EXPECT_EQ(Wardctl({"policy", "show", "p.bundle", "--pubkey", "keys/college.pub", "--in-force=0"})
                .exit_code,
            0);
}

TEST_F(WardctlTest, KeygenNeverOverwrites) {
  MakeKeys();
  const std::string before = ReadFile(dir_ / "keys" / "ward-policy.key");
  const Outcome again = Wardctl({"keygen", "--out-dir", "keys"});
  EXPECT_EQ(again.exit_code, 1);
  ExpectOneErrorLine(again);
  EXPECT_THAT(again.err, HasSubstr("exists already; not overwriting it"));
  EXPECT_EQ(ReadFile(dir_ / "keys" / "ward-policy.key"), before);
}

TEST_F(WardctlTest, LintListsEveryIssueAndExitsOne) {
  WriteFile(dir_ / "bad.json", R"({
  "version": 2,
  "mode": "MODE_ENFORCE",
  "audience": "AUDIENCE_ADULT",
  "usb": {"rules": [{"id": "sticks", "action": "USB_ACTION_ALLOW",
                     "device_id": {"values": ["12G4:0001"]}}]},
  "apps": {"rules": [{"id": "sticks", "action": "APP_ACTION_BLOCK", "package": "steam"}]}
})");
  const Outcome lint = Wardctl({"policy", "lint", "bad.json"});
  EXPECT_EQ(lint.exit_code, 1);
  EXPECT_THAT(lint.out, HasSubstr("usb.rules[0].device_id: \"12G4:0001\" is not vvvv:pppp"));
  EXPECT_THAT(lint.out, HasSubstr("apps.rules[0].id: \"sticks\" is already used by usb.rules[0]"));
  // Every line of stdout is one "path: why".
  std::istringstream lines(lint.out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_THAT(line, MatchesRegex("[][a-z_.0-9]+: .+")) << line;
  }
  ExpectOneErrorLine(lint);
  EXPECT_THAT(lint.err, MatchesRegex("wardctl: bad.json has [0-9]+ problems\n"));

  const Outcome missing = Wardctl({"policy", "lint", "missing.json"});
  EXPECT_EQ(missing.exit_code, 1);
  ExpectOneErrorLine(missing);
  EXPECT_THAT(missing.err, HasSubstr("missing.json"));
}

TEST_F(WardctlTest, SignRefusesAnInvalidPolicyAndExistingBundles) {
  MakeKeys();
  WriteFile(dir_ / "bad.json", R"({"version": 0})");
  const Outcome bad =
      Wardctl({"policy", "sign", "bad.json", "--key", "keys/ward-policy.key", "--out", "b"});
  EXPECT_EQ(bad.exit_code, 1);
  ExpectOneErrorLine(bad);
  EXPECT_THAT(bad.err, HasSubstr("run 'wardctl policy lint bad.json' to see them"));
  EXPECT_FALSE(fs::exists(dir_ / "b"));

  WriteFile(dir_ / "b", "precious");
  const Outcome exists =
      Wardctl({"policy", "sign", kSamplePolicy, "--key", "keys/ward-policy.key", "--out", "b"});
  EXPECT_EQ(exists.exit_code, 1);
  ExpectOneErrorLine(exists);
  EXPECT_EQ(ReadFile(dir_ / "b"), "precious");

  fs::permissions(dir_ / "keys" / "ward-policy.key", fs::perms::others_read, fs::perm_options::add);
  const Outcome readable =
      Wardctl({"policy", "sign", kSamplePolicy, "--key", "keys/ward-policy.key", "--out", "c"});
  EXPECT_EQ(readable.exit_code, 1);
  ExpectOneErrorLine(readable);
  EXPECT_THAT(readable.err, HasSubstr("run: chmod 600"));
}

TEST_F(WardctlTest, ImportUsbGuardWritesTheSameRulesAsTheLibrary) {
  const std::string rules_file = kTestdata + "/usbguard/generate-policy.conf";
  const Outcome run = Wardctl({"policy", "import-usbguard", rules_file, "--out", "imported.json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_THAT(run.err, HasSubstr("wardctl: imported 9 USB rules from "));
  // The only thing left to decide is who the policy is for.
  EXPECT_THAT(run.err, HasSubstr("wardctl: to do: audience: missing"));

  v1::Policy policy;
  const std::string json = ReadFile(dir_ / "imported.json");
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &policy).ok()) << json;
  EXPECT_EQ(policy.version(), 1u);
  EXPECT_EQ(policy.mode(), v1::MODE_MONITOR);
  EXPECT_EQ(policy.usb().default_action(), v1::USB_ACTION_BLOCK);
  auto expected = policy::ImportUsbGuardRules(ReadFile(rules_file));
  ASSERT_TRUE(expected.has_value());
  ASSERT_EQ(policy.usb().rules_size(), static_cast<int>(expected->size()));
  for (int i = 0; i < policy.usb().rules_size(); ++i) {
    EXPECT_EQ(policy.usb().rules(i).SerializeAsString(),
              (*expected)[static_cast<std::size_t>(i)].SerializeAsString());
  }
  // What IT still has to write: who the policy is for, and the agreement they see.
  policy.set_audience(v1::AUDIENCE_ADULT);
  policy.mutable_aup()->set_version(1);
  policy.mutable_aup()->set_text_adult("Use this laptop for your course.");
  EXPECT_EQ(policy::FormatIssues(policy::ValidatePolicy(policy)), "");

  // The same through wardctl's own lint.
  std::string with_audience = json;
  with_audience.insert(
      1,
      "\"audience\": \"AUDIENCE_ADULT\", \"aup\": {\"version\": 1, \"text_adult\": \"Use "
      "this laptop for your course.\"},");
  WriteFile(dir_ / "with-audience.json", with_audience);
  const Outcome lint = Wardctl({"policy", "lint", "with-audience.json"});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;

  const Outcome usb_only = Wardctl({"policy", "import-usbguard", rules_file, "--usb-only"});
  ASSERT_EQ(usb_only.exit_code, 0);
  v1::UsbPolicy usb;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(usb_only.out, &usb).ok());
  EXPECT_EQ(usb.rules_size(), 9);
  EXPECT_EQ(usb_only.err.find("to do"), std::string::npos);
}

TEST_F(WardctlTest, ImportUsbGuardNamesTheLineAndColumnOfAnError) {
  WriteFile(dir_ / "rules.conf", "allow id 1234:5678\n\nallow with-interface 03:00:01 if random\n");
  const Outcome run = Wardctl({"policy", "import-usbguard", "rules.conf"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            "wardctl: rules.conf, line 3, column 34: the condition 'random' is not supported; "
            "Ward imports only 'if localtime(HH:MM-HH:MM)'\n");
}

}  // namespace
}  // namespace ward::ctl
