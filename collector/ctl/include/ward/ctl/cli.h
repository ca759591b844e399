// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/error.h"

namespace ward::ctl {

// wardctl's exit codes: 0 done, 1 the command failed, 2 it was called wrongly.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Where a command writes: results to `out`, errors and notes to `err`.
struct Io {
  std::ostream& out;
  std::ostream& err;
};

// An option of a command: `--name VALUE` (or `--name=VALUE`) when value_name is set, else a
// flag `--name`.
struct Option {
  std::string_view name;          // without the dashes: "key"
  std::string_view value_name{};  // "KEY"; empty for a flag
  std::string_view help{};
  bool required = false;
};

// A positional argument; all are required.
struct Positional {
  std::string_view name;  // "FILE"
  std::string_view help{};
};

// The parsed arguments a command's handler receives.
class Args {
 public:
  const std::string& positional(std::size_t index) const { return positionals_.at(index); }
  // The option's value, if given.
  std::optional<std::string> value(std::string_view option) const;
  bool flag(std::string_view option) const { return values_.contains(std::string(option)); }

 private:
  friend class ArgsBuilder;
  std::vector<std::string> positionals_;
  std::map<std::string, std::string, std::less<>> values_;  // flags map to ""
};

using Handler = std::function<int(const Args& args, Io& io)>;

// One command of the table: a leaf with a handler, or a group of subcommands. Groups nest
// ("wardctl policy sign"). Plain data; build it once and pass it to RunCli.
struct Command {
  std::string_view name;
  std::string_view summary{};      // one line, shown in the parent's list
  std::string_view description{};  // shown by --help; may be several lines
  std::vector<Positional> positionals{};
  std::vector<Option> options{};
  // A leaf sets `run`; a group sets `subcommands`. A group may set `run` too: it runs when no
  // subcommand is named (nothing, or an option, follows the group's name).
  Handler run{};
  std::vector<Command> subcommands{};
};

// Runs the command named by `args` (argv without the program name) in the table under `root`.
// `--help`/`-h` (or `help ...` first) prints help for the command reached and returns 0; a
// wrong call prints one line on `io.err` and returns kExitUsage; otherwise returns what the
// handler returns.
int RunCli(const Command& root, std::span<const std::string_view> args, Io& io);

// Prints "wardctl: <message>" on one line (newlines in the message become "; ") and returns
// kExitFailure. For handlers.
int Fail(Io& io, std::string_view message);
int Fail(Io& io, const Error& error);

}  // namespace ward::ctl
