// SPDX-License-Identifier: Apache-2.0
#include "ward/ctl/cli.h"

#include <algorithm>
#include <utility>

#include "ward/ctl/terminal_text.h"

namespace ward::ctl {

std::optional<std::string> Args::value(std::string_view option) const {
  const auto it = values_.find(option);
  if (it == values_.end()) {
    return std::nullopt;
  }
  return it->second;
}

// Fills Args from the words after the command's name, checking them against its table entry.
class ArgsBuilder {
 public:
  // Returns the parsed arguments, or the reason the call is wrong (one line, no prefix).
  static std::expected<Args, std::string> Parse(const Command& command,
                                                std::span<const std::string_view> words) {
    Args args;
    bool options_done = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string_view word = words[i];
      if (!options_done && word == "--") {
        options_done = true;
        continue;
      }
      if (options_done || !word.starts_with("--")) {
        if (word.starts_with("-") && word.size() > 1 && !options_done) {
          return std::unexpected("unknown option '" + std::string(word) + "'");
        }
        if (args.positionals_.size() == command.positionals.size()) {
          return std::unexpected("unexpected argument '" + std::string(word) + "'");
        }
        args.positionals_.emplace_back(word);
        continue;
      }
      std::string_view name = word.substr(2);
      std::optional<std::string_view> inline_value;
      if (const std::size_t eq = name.find('='); eq != std::string_view::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const auto spec = std::find_if(command.options.begin(), command.options.end(),
                                     [&](const Option& o) { return o.name == name; });
      if (spec == command.options.end()) {
        return std::unexpected("unknown option '--" + std::string(name) + "'");
      }
      if (args.values_.contains(name)) {
        return std::unexpected("--" + std::string(name) + " is given twice");
      }
      std::string value;
      if (spec->value_name.empty()) {
        if (inline_value) {
          return std::unexpected("--" + std::string(name) + " takes no value");
        }
      } else if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < words.size()) {
        value = words[++i];
      } else {
        return std::unexpected("--" + std::string(name) + " needs a value " +
                               std::string(spec->value_name));
      }
      if (!spec->value_name.empty() && value.empty()) {
        return std::unexpected("--" + std::string(name) + " needs a non-empty value");
      }
      args.values_.emplace(std::string(name), std::move(value));
    }
    if (args.positionals_.size() < command.positionals.size()) {
      return std::unexpected("missing " +
                             std::string(command.positionals[args.positionals_.size()].name));
    }
    for (const Option& option : command.options) {
      if (option.required && !args.values_.contains(option.name)) {
        return std::unexpected("missing --" + std::string(option.name) + " " +
                               std::string(option.value_name));
      }
    }
    return args;
  }
};

namespace {

bool IsHelp(std::string_view word) { return word == "--help" || word == "-h"; }

std::string UsageLine(const Command& command, const std::string& path) {
  std::string line = "Usage: " + path;
  if (!command.subcommands.empty()) {
    return line + (command.run ? " [COMMAND] [ARGUMENTS]" : " COMMAND [ARGUMENTS]");
  }
  for (const Positional& p : command.positionals) {
    line += " " + std::string(p.name);
  }
  for (const Option& o : command.options) {
    std::string text = "--" + std::string(o.name);
    if (!o.value_name.empty()) {
      text += " " + std::string(o.value_name);
    }
    line += o.required ? " " + text : " [" + text + "]";
  }
  return line;
}

void PrintRow(std::ostream& out, std::string_view left, std::string_view right) {
  constexpr std::size_t kWidth = 24;
  out << "  " << left;
  if (left.size() + 2 < kWidth) {
    out << std::string(kWidth - left.size() - 2, ' ');
  } else {
    out << "\n" << std::string(kWidth, ' ');
  }
  out << right << "\n";
}

void PrintHelp(std::ostream& out, const Command& command, const std::string& path) {
  out << UsageLine(command, path) << "\n\n" << command.description << "\n";
  if (!command.subcommands.empty()) {
    out << "\nCommands:\n";
    for (const Command& sub : command.subcommands) {
      PrintRow(out, sub.name, sub.summary);
    }
    out << "\nRun '" << path << " COMMAND --help' for the details of a command.\n";
    if (!command.run) {
      return;
    }
  }
  if (!command.positionals.empty()) {
    out << "\nArguments:\n";
    for (const Positional& p : command.positionals) {
      PrintRow(out, p.name, p.help);
    }
  }
  out << "\nOptions:\n";
  for (const Option& o : command.options) {
    std::string left = "--" + std::string(o.name);
    if (!o.value_name.empty()) {
      left += " " + std::string(o.value_name);
    }
    PrintRow(out, left, o.help);
  }
  PrintRow(out, "-h, --help", "show this help");
}

int UsageError(Io& io, const std::string& path, std::string_view why) {
  io.err << path << ": " << why << " (see '" << path << " --help')\n";
  return kExitUsage;
}

const Command* FindSubcommand(const Command& group, std::string_view name) {
  for (const Command& sub : group.subcommands) {
    if (sub.name == name) {
      return &sub;
    }
  }
  return nullptr;
}

// `wardctl help policy sign` is `wardctl policy sign --help`.
int RunHelp(const Command& root, std::span<const std::string_view> names, Io& io) {
  const Command* command = &root;
  std::string path(root.name);
  for (std::string_view name : names) {
    const Command* sub = FindSubcommand(*command, name);
    if (sub == nullptr) {
      return UsageError(io, path, "unknown command '" + std::string(name) + "'");
    }
    command = sub;
    path += " " + std::string(name);
  }
  PrintHelp(io.out, *command, path);
  return kExitOk;
}

}  // namespace

int RunCli(const Command& root, std::span<const std::string_view> args, Io& io) {
  const Command* command = &root;
  std::string path(root.name);
  std::size_t i = 0;
  while (!command->subcommands.empty()) {
    if (i == args.size()) {
      if (command->run) {
        break;  // a group that is also a command: `wardctl devices`
      }
      return UsageError(io, path, "missing command");
    }
    const std::string_view word = args[i];
    if (IsHelp(word)) {
      PrintHelp(io.out, *command, path);
      return kExitOk;
    }
    if (command == &root && word == "help") {
      return RunHelp(root, args.subspan(i + 1), io);
    }
    const Command* sub = FindSubcommand(*command, word);
    if (sub == nullptr && command->run && word.starts_with("-")) {
      break;  // the group's own options: `wardctl devices --json`
    }
    if (sub == nullptr) {
      return UsageError(io, path, "unknown command '" + std::string(word) + "'");
    }
    command = sub;
    path += " " + std::string(word);
    ++i;
  }
  const auto rest = args.subspan(i);
  for (std::string_view word : rest) {
    if (word == "--") {
      break;
    }
    if (IsHelp(word)) {
      PrintHelp(io.out, *command, path);
      return kExitOk;
    }
  }
  auto parsed = ArgsBuilder::Parse(*command, rest);
  if (!parsed) {
    return UsageError(io, path, parsed.error());
  }
  return command->run(*parsed, io);
}

int Fail(Io& io, std::string_view message) {
  std::string line(message);
  for (std::size_t pos = line.find('\n'); pos != std::string::npos; pos = line.find('\n', pos)) {
    line.replace(pos, 1, "; ");
  }
  // Messages can quote what a collector or a file said: make its control characters visible.
  io.err << "wardctl: " << ForTerminal(line) << "\n";
  return kExitFailure;
}

int Fail(Io& io, const Error& error) { return Fail(io, error.message()); }

}  // namespace ward::ctl
