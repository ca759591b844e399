// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/elf.h"

#include <string>

namespace ward::platform {
namespace {

constexpr std::uint32_t kPtInterp = 3;

std::uint64_t Read(std::span<const std::uint8_t> b, std::size_t at, std::size_t width,
                   bool little) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const std::size_t index = little ? at + width - 1 - i : at + i;
    v = (v << 8) | b[index];
  }
  return v;
}

}  // namespace

Result<bool> ElfHasInterpreter(std::span<const std::uint8_t> head) {
  if (head.size() < 16 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
    return false;
  }
  const bool is64 = head[4] == 2;
  if ((head[4] != 1 && head[4] != 2) || (head[5] != 1 && head[5] != 2)) {
    return InvalidArgumentError("ELF class or data encoding invalid");
  }
  const bool little = head[5] == 1;
  const std::size_t header_size = is64 ? 64 : 52;
  if (head.size() < header_size) {
    return InvalidArgumentError("ELF header truncated");
  }
  const std::uint64_t phoff = is64 ? Read(head, 32, 8, little) : Read(head, 28, 4, little);
  const std::size_t phentsize = Read(head, is64 ? 54 : 42, 2, little);
  const std::size_t phnum = Read(head, is64 ? 56 : 44, 2, little);
  const std::size_t min_entry = is64 ? 56 : 32;
  if (phnum == 0) {
    return false;
  }
  if (phentsize < min_entry) {
    return InvalidArgumentError("ELF program header entries too small");
  }
  if (phoff > head.size() || phnum > (head.size() - phoff) / phentsize) {
    return InvalidArgumentError("ELF program headers outside the first " +
                                std::to_string(head.size()) + " bytes");
  }
  for (std::size_t i = 0; i < phnum; ++i) {
    const std::size_t at = static_cast<std::size_t>(phoff) + i * phentsize;
    if (Read(head, at, 4, little) == kPtInterp) {
      return true;
    }
  }
  return false;
}

}  // namespace ward::platform
