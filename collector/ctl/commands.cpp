// SPDX-License-Identifier: Apache-2.0
#include "ward/ctl/commands.h"

namespace ward::ctl {

Command WardctlCommands() {
  Command policy = PolicyCommands();
  policy.subcommands.push_back(PolicyPushCommand());
  Command subject = SubjectCommands();
  for (Command& erasure : SubjectErasureCommands()) {
    subject.subcommands.push_back(std::move(erasure));
  }
  return Command{
      .name = "wardctl",
      .summary = "Ward's command line for IT and safeguarding staff",
      .description =
          "Ward's command line for IT and safeguarding staff: signing keys, policies, and a\n"
          "collector's devices, events, concerns, safeguarding holds and erasure.\n"
          "Exit status: 0 done, 1 the command failed, 2 the command was called wrongly.",
      .subcommands = {KeygenCommand(), std::move(policy), DevicesCommand(), EventsCommands(),
                      ConcernsCommands(), HoldCommands(), std::move(subject)},
  };
}

}  // namespace ward::ctl
