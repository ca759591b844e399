// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/result.h"

namespace ward {

// A 128-bit UUID. Value type.
class Uuid {
 public:
  Uuid() = default;
  explicit Uuid(const std::array<std::uint8_t, 16>& bytes) : bytes_(bytes) {}

  // Parses the canonical 8-4-4-4-12 hex form (either case).
  static Result<Uuid> Parse(std::string_view text);

  // Lower-case canonical form, e.g. "0190b6e4-7c1a-7b3e-9f00-1c2d3e4f5a6b".
  std::string ToString() const;
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  int version() const { return bytes_[6] >> 4; }
  // Milliseconds since the Unix epoch, for a version 7 UUID.
  std::uint64_t UnixMillis() const;

  friend auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

// Makes RFC 9562 version 7 UUIDs: 48-bit Unix milliseconds, then a 12-bit counter that keeps ids
// from one generator strictly increasing within a millisecond (method 1), then random bits.
// Thread-safe.
class UuidV7Generator {
 public:
  UuidV7Generator(const Clock& clock, Random& random) : clock_(clock), random_(random) {}
  Uuid Next();

 private:
  const Clock& clock_;
  Random& random_;
  std::mutex mu_;
  std::uint64_t last_ms_ = 0;  // guarded by mu_
  std::uint16_t counter_ = 0;  // guarded by mu_
};

}  // namespace ward
