// SPDX-License-Identifier: Apache-2.0
// SystemRandom() on Windows: the system-preferred RNG of CNG (BCryptGenRandom).
#include <windows.h>

#include <bcrypt.h>

#include <algorithm>
#include <limits>

#include "ward/common/check.h"
#include "ward/common/random.h"

namespace ward {
namespace {

class OsRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      const auto n = static_cast<ULONG>(
          std::min<std::size_t>(out.size() - done, std::numeric_limits<ULONG>::max()));
      const NTSTATUS status =
          BCryptGenRandom(nullptr, out.data() + done, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
      // Documented never to fail with these arguments; going on without randomness would not
      // be safe.
      WARD_CHECK(BCRYPT_SUCCESS(status));
      done += n;
    }
  }
};

}  // namespace

Random& SystemRandom() {
  static OsRandom random;
  return random;
}

}  // namespace ward
