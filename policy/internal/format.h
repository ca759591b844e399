// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <concepts>
#include <string>
#include <string_view>

// GCC 12 has no <format>. Format("{} is {}", a, b) replaces each "{}" with the next argument
// ("{{" and "}}" are literal braces); arguments are strings, characters or integers. Pure.
namespace ward::policy::internal {

inline std::string ToText(std::string_view text) { return std::string(text); }
inline std::string ToText(const char* text) { return std::string(text); }
inline std::string ToText(const std::string& text) { return text; }
inline std::string ToText(char c) { return std::string(1, c); }
template <std::integral T>
  requires(!std::same_as<T, char> && !std::same_as<T, bool>)
std::string ToText(T value) {
  return std::to_string(value);
}

std::string FormatParts(std::string_view pattern, const std::string* args, std::size_t count);

template <typename... Args>
std::string Format(std::string_view pattern, const Args&... args) {
  const std::array<std::string, sizeof...(Args)> parts{ToText(args)...};
  return FormatParts(pattern, parts.data(), parts.size());
}

}  // namespace ward::policy::internal
