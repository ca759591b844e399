// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ward::collector {

// A fresh secret: 256 bits from OpenSSL's CSPRNG, hex encoded, with an optional prefix so staff
// can tell kinds apart ("wst_" for staff tokens, "wes_" for enrolment secrets).
std::string NewSecret(std::string_view prefix = "");
// Lower-case hex SHA-256 of the text: how every secret is stored.
std::string HashSecret(std::string_view secret);
// Lower-case hex HMAC-SHA256 of `text` under `key`.
std::string HmacSha256Hex(std::string_view key, std::string_view text);
// Compares two strings in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace ward::collector
