// SPDX-License-Identifier: Apache-2.0
// SystemRandom() on Linux: getrandom(2).
#include <sys/random.h>

#include <cerrno>
#include <mutex>
#include <random>

#include "ward/common/random.h"

namespace ward {
namespace {

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

}  // namespace

Random& SystemRandom() {
  static OsRandom random;
  return random;
}

}  // namespace ward
