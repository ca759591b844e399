// SPDX-License-Identifier: Apache-2.0
#include "ward/ctl/commands.h"

namespace ward::ctl {

Command WardctlCommands() {
  Command policy = PolicyCommands();
  policy.subcommands.push_back(PolicyPushCommand());
  return Command{
      .name = "wardctl",
      .summary = "Ward's command line for IT and safeguarding staff",
      .description =
          "Ward's command line for IT and safeguarding staff: signing keys, policies, and a\n"
          "collector's devices, events and concerns.\n"
          "Exit status: 0 done, 1 the command failed, 2 the command was called wrongly.",
      .subcommands = {KeygenCommand(), std::move(policy), DevicesCommand(), EventsCommands(),
                      ConcernsCommands(), SubjectCommands()},
  };
}

}  // namespace ward::ctl
