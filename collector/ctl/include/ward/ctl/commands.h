// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ward/ctl/cli.h"

namespace ward::ctl {

// The whole wardctl command table. To add a command group, write a `Command XxxCommands()` in
// its own file (keygen_command.cpp, policy_commands.cpp, ...) and list it in commands.cpp.
Command WardctlCommands();

// The command groups, one file each.
Command KeygenCommand();
Command PolicyCommands();

// Staff commands against a collector (staff_commands.cpp).
Command PolicyPushCommand();  // joins `wardctl policy`
Command DevicesCommand();
Command EventsCommands();
Command ConcernsCommands();

// Subject access (subject_commands.cpp).
Command SubjectCommands();

}  // namespace ward::ctl
