// SPDX-License-Identifier: Apache-2.0
#include "internal/syntax.h"

#include <array>

#include "ward/common/hex.h"

namespace ward::policy::internal {
namespace {

// Parses exactly `digits` hex digits, or "*" as kAny.
std::optional<int> ParseHexOrStar(std::string_view text, std::size_t digits) {
  if (text == "*") {
    return kAny;
  }
  if (text.size() != digits) {
    return std::nullopt;
  }
  const auto bytes = HexDecode(text);
  if (!bytes) {
    return std::nullopt;
  }
  int value = 0;
  for (std::uint8_t b : *bytes) {
    value = value * 256 + b;
  }
  return value;
}

std::optional<int> ParseTwoDigits(std::string_view text, int max) {
  if (text.size() != 2 || text[0] < '0' || text[0] > '9' || text[1] < '0' || text[1] > '9') {
    return std::nullopt;
  }
  const int value = (text[0] - '0') * 10 + (text[1] - '0');
  if (value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<int> ParseClock(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') {
    return std::nullopt;
  }
  const auto hours = ParseTwoDigits(text.substr(0, 2), 23);
  const auto minutes = ParseTwoDigits(text.substr(3, 2), 59);
  if (!hours || !minutes) {
    return std::nullopt;
  }
  return *hours * 60 + *minutes;
}

bool IsSeparator(char c, bool windows) { return c == '/' || (windows && c == '\\'); }

}  // namespace

std::optional<DeviceIdPattern> ParseDeviceId(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  const auto vendor = ParseHexOrStar(text.substr(0, colon), 4);
  const auto product = ParseHexOrStar(text.substr(colon + 1), 4);
  if (!vendor || !product) {
    return std::nullopt;
  }
  return DeviceIdPattern{*vendor, *product};
}

std::optional<InterfacePattern> ParseInterfacePattern(std::string_view text) {
  std::array<int, 3> parts{};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto colon = text.find(':');
    const bool last = i + 1 == parts.size();
    if (last != (colon == std::string_view::npos)) {
      return std::nullopt;
    }
    const auto part = ParseHexOrStar(text.substr(0, colon), 2);
    if (!part) {
      return std::nullopt;
    }
    parts[i] = *part;
    text = last ? std::string_view{} : text.substr(colon + 1);
  }
  return InterfacePattern{parts[0], parts[1], parts[2]};
}

std::optional<DailyWindow> ParseDailyWindow(std::string_view text) {
  if (text.size() != 11 || text[5] != '-') {
    return std::nullopt;
  }
  const auto start = ParseClock(text.substr(0, 5));
  const auto end = ParseClock(text.substr(6, 5));
  if (!start || !end || *start == *end) {
    return std::nullopt;
  }
  return DailyWindow{*start, *end};
}

bool IsSha256Hex(std::string_view text) {
  if (text.size() != 64) {
    return false;
  }
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool IsAbsolutePath(std::string_view text) {
  if (text.empty() || HasControlCharacter(text)) {
    return false;
  }
  std::size_t root = 0;
  bool windows = false;
  if (text[0] == '/') {
    root = 1;
  } else if (text.size() >= 3 &&
             ((text[0] >= 'A' && text[0] <= 'Z') || (text[0] >= 'a' && text[0] <= 'z')) &&
             text[1] == ':' && (text[2] == '\\' || text[2] == '/')) {
    root = 3;
    windows = true;
  } else {
    return false;
  }
  // Every component between separators must be a real name.
  std::size_t start = root;
  while (start < text.size()) {
    std::size_t end = start;
    while (end < text.size() && !IsSeparator(text[end], windows)) {
      ++end;
    }
    const std::string_view component = text.substr(start, end - start);
    const bool trailing = end == text.size() - 1;
    if (component == "." || component == ".." || (component.empty() && !trailing)) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool IsHttpsUrl(std::string_view text) {
  constexpr std::string_view kScheme = "https://";
  if (!text.starts_with(kScheme) || HasControlCharacter(text)) {
    return false;
  }
  const std::string_view rest = text.substr(kScheme.size());
  const std::size_t host_end = rest.find_first_of("/?#");
  const std::string_view host = rest.substr(0, host_end);
  if (host.empty() || host.front() == ':' || host.find('@') != std::string_view::npos) {
    return false;
  }
  for (char c : text) {
    if (c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\') {
      return false;
    }
  }
  return true;
}

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return true;
    }
  }
  return false;
}

std::size_t CodePointCount(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++count;
    }
  }
  return count;
}

}  // namespace ward::policy::internal
