// SPDX-License-Identifier: Apache-2.0
// The OS-neutral part of ward/common/random.h; SystemRandom() is in random_<os>.cpp.
#include "ward/common/random.h"

#include <cstring>
#include <mutex>

namespace ward {

std::uint64_t Random::NextU64() {
  std::uint64_t v = 0;
  std::uint8_t buf[sizeof v];
  Fill(buf);
  std::memcpy(&v, buf, sizeof v);
  return v;
}

void SeededRandom::Fill(std::span<std::uint8_t> out) {
  std::scoped_lock lock(mu_);
  for (auto& b : out) {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    b = static_cast<std::uint8_t>(z ^ (z >> 31));
  }
}

}  // namespace ward
