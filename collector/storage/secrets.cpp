// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/storage/secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>

#include "ward/common/check.h"
#include "ward/common/hex.h"

namespace ward::collector {

std::string NewSecret(std::string_view prefix) {
  std::array<std::uint8_t, 32> bytes{};
  // RAND_bytes only fails when the OS has no entropy source at all; there is no safe fallback.
  WARD_CHECK(RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) == 1);
  std::string out(prefix);
  out += HexEncode(bytes);
  return out;
}

std::string HashSecret(std::string_view secret) {
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  WARD_CHECK(EVP_Digest(secret.data(), secret.size(), digest.data(), &len, EVP_sha256(), nullptr) ==
             1);
  return HexEncode(std::span<const std::uint8_t>(digest.data(), len));
}

std::string HmacSha256Hex(std::string_view key, std::string_view text) {
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  WARD_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac.data(),
                  &len) != nullptr);
  return HexEncode(std::span<const std::uint8_t>(mac.data(), len));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ward::collector
