// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/result.h"

namespace ward {

// Lower-case hex of the bytes.
std::string HexEncode(std::span<const std::uint8_t> bytes);
// Accepts upper or lower case; rejects odd lengths and non-hex characters.
Result<std::vector<std::uint8_t>> HexDecode(std::string_view hex);
// Decodes exactly out.size() bytes (hex.size() must be twice that) without allocating; false,
// with `out` unspecified, on a wrong length or a non-hex character.
bool HexDecodeInto(std::string_view hex, std::span<std::uint8_t> out);

}  // namespace ward
