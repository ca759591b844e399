// SPDX-License-Identifier: Apache-2.0
// Running command-line tools from tests.
#pragma once

#include <stdio.h>
#include <sys/wait.h>

#include <string>

namespace ward::agent::store::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` with /bin/sh, stdin from /dev/null, capturing stdout and stderr.
inline CommandResult RunShell(const std::string& command) {
  CommandResult result;
  std::string full = "(" + command + ") </dev/null 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    result.output.append(buf, n);
  }
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// Quotes `s` for /bin/sh.
inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace ward::agent::store::testing
