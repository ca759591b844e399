// SPDX-License-Identifier: Apache-2.0
#include "internal/format.h"

namespace ward::policy::internal {

std::string FormatParts(std::string_view pattern, const std::string* args, std::size_t count) {
  std::string out;
  out.reserve(pattern.size() + 16 * count);
  std::size_t next = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool doubled = i + 1 < pattern.size() && pattern[i + 1] == c;
    if ((c == '{' || c == '}') && doubled) {
      out.push_back(c);
      ++i;
    } else if (c == '{' && i + 1 < pattern.size() && pattern[i + 1] == '}') {
      if (next < count) {
        out += args[next++];
      }
      ++i;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace ward::policy::internal
