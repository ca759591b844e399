// SPDX-License-Identifier: Apache-2.0
#include "ward/common/uuid.h"

#include "ward/common/hex.h"

namespace ward {

Result<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return InvalidArgumentError("\"" + std::string(text.substr(0, 40)) +
                                "\" is not a UUID (want 8-4-4-4-12 hex digits)");
  }
  std::string digits;
  digits.reserve(32);
  for (char c : text) {
    if (c != '-') {
      digits.push_back(c);
    }
  }
  auto bytes = HexDecode(digits);
  if (!bytes || bytes->size() != 16) {
    return InvalidArgumentError("\"" + std::string(text) + "\" is not a UUID (non-hex digit)");
  }
  std::array<std::uint8_t, 16> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return Uuid(out);
}

std::string Uuid::ToString() const {
  std::string hex = HexEncode(bytes_);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::uint64_t Uuid::UnixMillis() const {
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) {
    ms = (ms << 8) | bytes_[static_cast<std::size_t>(i)];
  }
  return ms;
}

Uuid UuidV7Generator::Next() {
  auto now_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count());
  std::array<std::uint8_t, 16> b{};
  random_.Fill(b);
  std::uint64_t ms = 0;
  std::uint16_t counter = 0;
  {
    std::scoped_lock lock(mu_);
    if (now_ms > last_ms_) {
      last_ms_ = now_ms;
      // Start the counter in the lower half of its range so it has room to grow.
      counter_ = static_cast<std::uint16_t>(b[7] & 0x7f);
    } else if (++counter_ > 0x0fff) {
      // Counter overflow (or the clock went back): borrow the next millisecond.
      ++last_ms_;
      counter_ = 0;
    }
    ms = last_ms_;
    counter = counter_;
  }
  for (int i = 5; i >= 0; --i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms & 0xff);
    ms >>= 8;
  }
  b[6] = static_cast<std::uint8_t>(0x70 | ((counter >> 8) & 0x0f));
  b[7] = static_cast<std::uint8_t>(counter & 0xff);
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));  // RFC 9562 variant
  return Uuid(b);
}

}  // namespace ward
