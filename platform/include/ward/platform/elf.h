// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

#include "ward/common/result.h"

namespace ward::platform {

// Whether the bytes of a file's beginning are an ELF executable that names a program
// interpreter (PT_INTERP: a dynamically linked program, run through the dynamic loader).
// `head` is the first bytes of the file (4 KiB covers the program headers of every toolchain's
// output). The bytes are untrusted. false for a non-ELF file (a script) or a static program;
// kInvalidArgument for an ELF whose headers are malformed or lie outside `head`.
Result<bool> ElfHasInterpreter(std::span<const std::uint8_t> head);

}  // namespace ward::platform
