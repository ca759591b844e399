// SPDX-License-Identifier: Apache-2.0
// wardctl: the staff command line. Everything is in ward_ctl; this is the boundary that turns
// a stray exception into a non-zero exit.
#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "ward/ctl/cli.h"
#include "ward/ctl/commands.h"

int main(int argc, char** argv) {
  try {
    // Protobuf would log its own lines for malformed input; wardctl reports errors itself.
    google::protobuf::SetLogHandler(nullptr);
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    ward::ctl::Io io{std::cout, std::cerr};
    const int rc = ward::ctl::RunCli(ward::ctl::WardctlCommands(), args, io);
    std::cout.flush();
    return std::cout.good() ? rc : ward::ctl::kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "wardctl: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "wardctl: internal error\n";
  }
  return ward::ctl::kExitFailure;
}
