// SPDX-License-Identifier: Apache-2.0
#include "ward/common/random.h"

#include <cstring>
#include <mutex>
#include <random>

#if defined(__linux__)
#include <sys/random.h>

#include <cerrno>
#endif

namespace ward {
namespace {

#if defined(__linux__)
// getrandom(2): one system call per Fill. std::random_device may pick RDSEED instead, which is
// slow on virtual machines (~30 µs per 32-bit word measured here).
class OsRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        FallbackFill(out.subspan(done));
        return;
      }
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  void FallbackFill(std::span<std::uint8_t> out) {
    std::scoped_lock lock(mu_);
    for (auto& b : out) {
      b = static_cast<std::uint8_t>(device_());
    }
  }

  std::mutex mu_;
  std::random_device device_;  // guarded by mu_
};
#else
// std::random_device reads the OS source (RtlGenRandom on Windows).
class OsRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    std::scoped_lock lock(mu_);
    std::size_t i = 0;
    while (i < out.size()) {
      auto word = device_();
      std::size_t n = std::min(sizeof word, out.size() - i);
      std::memcpy(out.data() + i, &word, n);
      i += n;
    }
  }

 private:
  std::mutex mu_;
  std::random_device device_;  // guarded by mu_
};
#endif

}  // namespace

std::uint64_t Random::NextU64() {
  std::uint64_t v = 0;
  std::uint8_t buf[sizeof v];
  Fill(buf);
  std::memcpy(&v, buf, sizeof v);
  return v;
}

Random& SystemRandom() {
  static OsRandom random;
  return random;
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
