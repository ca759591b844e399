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

}  // namespace ward
