// SPDX-License-Identifier: Apache-2.0
// What a binary links: the NEEDED entries of its dynamic section and ldd's full list, for tests
// that guard which libraries a binary may load.
#pragma once

#include <stdio.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>
#include <vector>

namespace ward::testing {

struct ToolOutput {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `tool` on `binary` (quoted for /bin/sh), stdin from /dev/null.
inline ToolOutput RunToolOn(const std::string& tool, const std::filesystem::path& binary) {
  std::string quoted = "'";
  for (char c : binary.string()) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  quoted += "'";
  ToolOutput result;
  FILE* pipe = ::popen((tool + " " + quoted + " </dev/null 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buf[4096];
  for (std::size_t n = 0; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) {
    result.output.append(buf, n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// The NEEDED entries (`readelf -d`), empty when readelf fails.
inline std::vector<std::string> ElfNeeded(const std::filesystem::path& binary) {
  const ToolOutput r = RunToolOn("readelf -d", binary);
  std::vector<std::string> needed;
  if (r.exit_code != 0) {
    return needed;
  }
  for (std::size_t pos = 0; (pos = r.output.find("(NEEDED)", pos)) != std::string::npos;) {
    const std::size_t open = r.output.find('[', pos);
    const std::size_t close = r.output.find(']', open);
    if (open == std::string::npos || close == std::string::npos) {
      break;
    }
    needed.push_back(r.output.substr(open + 1, close - open - 1));
    pos = close;
  }
  return needed;
}

}  // namespace ward::testing
