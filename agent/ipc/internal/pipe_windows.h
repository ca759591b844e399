// SPDX-License-Identifier: Apache-2.0
// Windows only: what the named-pipe server and client share.
#pragma once

#include <filesystem>
#include <string>

#include "ward/common/result.h"

namespace ward::agent::ipc::internal {

// The pipe's name as Win32 wants it: kInvalidArgument unless it is "\\.\pipe\<name>" (a local
// pipe; a name without a backslash, at most 256 characters in all).
Result<std::wstring> LocalPipeName(const std::filesystem::path& endpoint);

// The access the tray asks for, and the most the pipe's DACL gives interactive users: read, and
// write data. Not GENERIC_WRITE: on a pipe FILE_APPEND_DATA is FILE_CREATE_PIPE_INSTANCE, which
// would let a learner create instances of the agent's pipe and answer other learners' trays.
inline constexpr unsigned long kClientPipeAccess = 0x0012008BUL;  // FILE_GENERIC_READ |
                                                                  // FILE_WRITE_DATA

}  // namespace ward::agent::ipc::internal
