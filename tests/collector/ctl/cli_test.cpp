// SPDX-License-Identifier: Apache-2.0
#include "ward/ctl/cli.h"

#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ward::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A small table like wardctl's, with a handler that records what it was given.
struct Recorder {
  std::vector<std::string> positionals;
  std::optional<std::string> out;
  bool force = false;
  int calls = 0;
};

Command TestTable(Recorder& recorder) {
  Command copy{
      .name = "copy",
      .summary = "copy a thing",
      .description = "Copies a thing.",
      .positionals = {{.name = "FROM", .help = "source"}, {.name = "TO", .help = "target"}},
      .options = {{.name = "out", .value_name = "FILE", .help = "report", .required = true},
                  {.name = "force", .help = "overwrite"}},
      .run =
          [&recorder](const Args& args, Io& io) {
            ++recorder.calls;
            recorder.positionals = {args.positional(0), args.positional(1)};
            recorder.out = args.value("out");
            recorder.force = args.flag("force");
            io.out << "copied\n";
            return kExitOk;
          },
  };
  Command group{.name = "things",
                .summary = "work with things",
                .description = "Things.",
                .subcommands = {std::move(copy)}};
  return Command{.name = "tool",
                 .summary = "a tool",
                 .description = "A test tool.",
                 .subcommands = {std::move(group)}};
}

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

Outcome RunTable(Recorder& recorder, std::vector<std::string_view> args) {
  std::ostringstream out;
  std::ostringstream err;
  Io io{out, err};
  const int rc = RunCli(TestTable(recorder), args, io);
  return {rc, out.str(), err.str()};
}

TEST(CliTest, DispatchesToTheLeafWithParsedArguments) {
  Recorder recorder;
  const Outcome run = RunTable(recorder, {"things", "copy", "a", "--out", "r.txt", "b", "--force"});
  EXPECT_EQ(run.exit_code, kExitOk);
  EXPECT_EQ(run.out, "copied\n");
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(recorder.calls, 1);
  EXPECT_EQ(recorder.positionals, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(recorder.out, "r.txt");
  EXPECT_TRUE(recorder.force);
}

// `wardctl devices` lists, `wardctl devices readmit ID` readmits: a group that is a command too.
TEST(CliTest, AGroupWithItsOwnHandlerRunsWhenNoSubcommandIsNamed) {
  std::vector<std::string> ran;
  auto handler = [&ran](std::string name) {
    return [&ran, name](const Args& args, Io& /*io*/) {
      ran.push_back(name + (args.flag("json") ? " --json" : "") +
                    (name == "readmit" ? " " + args.positional(0) : ""));
      return kExitOk;
    };
  };
  const Command root{
      .name = "tool",
      .subcommands = {Command{
          .name = "devices",
          .options = {{.name = "json", .help = "as JSON"}},
          .run = handler("devices"),
          .subcommands = {Command{
              .name = "readmit", .positionals = {{.name = "ID"}}, .run = handler("readmit")}},
      }},
  };
  auto run = [&root](std::vector<std::string_view> args) {
    std::ostringstream out;
    std::ostringstream err;
    Io io{out, err};
    return RunCli(root, args, io);
  };
  EXPECT_EQ(run({"devices"}), kExitOk);
  EXPECT_EQ(run({"devices", "--json"}), kExitOk);
  EXPECT_EQ(run({"devices", "readmit", "d1"}), kExitOk);
  EXPECT_EQ(run({"devices", "bogus"}), kExitUsage);
  EXPECT_EQ(ran, (std::vector<std::string>{"devices", "devices --json", "readmit d1"}));
}

TEST(CliTest, AcceptsEqualsFormAndDoubleDash) {
  Recorder recorder;
  const Outcome run = RunTable(recorder, {"things", "copy", "--out=r.txt", "--", "--weird", "-x"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(recorder.positionals, (std::vector<std::string>{"--weird", "-x"}));
  EXPECT_FALSE(recorder.force);
}

TEST(CliTest, UsageErrorsAreOneLineAndExitTwo) {
  const struct {
    std::vector<std::string_view> args;
    const char* expected;
  } kCases[] = {
      {{}, "tool: missing command (see 'tool --help')\n"},
      {{"nope"}, "tool: unknown command 'nope' (see 'tool --help')\n"},
      {{"things"}, "tool things: missing command (see 'tool things --help')\n"},
      {{"things", "copy", "a", "b"},
       "tool things copy: missing --out FILE (see 'tool things copy --help')\n"},
      {{"things", "copy", "a", "--out", "r"},
       "tool things copy: missing TO (see 'tool things copy --help')\n"},
      {{"things", "copy", "a", "b", "c", "--out", "r"},
       "tool things copy: unexpected argument 'c' (see 'tool things copy --help')\n"},
      {{"things", "copy", "a", "b", "--out"},
       "tool things copy: --out needs a value FILE (see 'tool things copy --help')\n"},
      {{"things", "copy", "a", "b", "--out", "r", "--out", "s"},
       "tool things copy: --out is given twice (see 'tool things copy --help')\n"},
      {{"things", "copy", "a", "b", "--out", "r", "--colour"},
       "tool things copy: unknown option '--colour' (see 'tool things copy --help')\n"},
      {{"things", "copy", "a", "b", "--out", "r", "-v"},
       "tool things copy: unknown option '-v' (see 'tool things copy --help')\n"},
      {{"things", "copy", "a", "b", "--out", "r", "--force=yes"},
       "tool things copy: --force takes no value (see 'tool things copy --help')\n"},
      {{"things", "copy", "a", "b", "--out="},
       "tool things copy: --out needs a non-empty value (see 'tool things copy --help')\n"},
  };
  for (const auto& c : kCases) {
    Recorder recorder;
    const Outcome run = RunTable(recorder, c.args);
    EXPECT_EQ(run.exit_code, kExitUsage) << c.expected;
    EXPECT_EQ(run.err, c.expected);
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(recorder.calls, 0);
  }
}

TEST(CliTest, HelpWorksAtEveryLevelWithoutRunningAnything) {
  Recorder recorder;
  for (const auto& args : std::vector<std::vector<std::string_view>>{
           {"--help"}, {"-h"}, {"help"}, {"things", "--help"}, {"help", "things"}}) {
    const Outcome run = RunTable(recorder, args);
    EXPECT_EQ(run.exit_code, kExitOk);
    EXPECT_THAT(run.out, StartsWith("Usage: tool"));
    EXPECT_THAT(run.out, HasSubstr("Commands:\n"));
    EXPECT_EQ(run.err, "");
  }
  // On a leaf, --help wins over missing or wrong arguments.
  for (const auto& args :
       std::vector<std::vector<std::string_view>>{{"things", "copy", "--help"},
                                                  {"things", "copy", "x", "--bogus", "-h"},
                                                  {"help", "things", "copy"}}) {
    const Outcome run = RunTable(recorder, args);
    EXPECT_EQ(run.exit_code, kExitOk);
    EXPECT_THAT(run.out, StartsWith("Usage: tool things copy FROM TO --out FILE [--force]\n"));
    EXPECT_THAT(run.out, HasSubstr("  --out FILE            report\n"));
    EXPECT_THAT(run.out, HasSubstr("  -h, --help            show this help\n"));
  }
  EXPECT_EQ(recorder.calls, 0);
  EXPECT_EQ(RunTable(recorder, {"help", "nope"}).exit_code, kExitUsage);
}

TEST(CliTest, FailPrintsOneLine) {
  std::ostringstream out;
  std::ostringstream err;
  Io io{out, err};
  EXPECT_EQ(Fail(io, "first\nsecond\nthird"), kExitFailure);
  EXPECT_EQ(err.str(), "wardctl: first; second; third\n");
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace ward::ctl
