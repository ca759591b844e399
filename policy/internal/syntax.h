// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

// Parsers for the small value syntaxes used inside a policy (device ids, interface classes, time
// windows, digests, paths, URLs). Shared by validation and the evaluators so both read a value
// the same way. Pure functions; thread-safe.
namespace ward::policy::internal {

inline constexpr int kAny = -1;

// "vvvv:pppp", each half 4 hex digits or "*". kAny marks a wildcard half.
struct DeviceIdPattern {
  int vendor = kAny;
  int product = kAny;
  bool Matches(std::uint16_t v, std::uint16_t p) const {
    return (vendor == kAny || vendor == v) && (product == kAny || product == p);
  }
  bool IsExact() const { return vendor != kAny && product != kAny; }
};
std::optional<DeviceIdPattern> ParseDeviceId(std::string_view text);

// "cc:ss:pp", each part 2 hex digits or "*".
struct InterfacePattern {
  int cls = kAny;
  int subclass = kAny;
  int protocol = kAny;
  bool Matches(std::uint8_t c, std::uint8_t s, std::uint8_t p) const {
    return (cls == kAny || cls == c) && (subclass == kAny || subclass == s) &&
           (protocol == kAny || protocol == p);
  }
};
std::optional<InterfacePattern> ParseInterfacePattern(std::string_view text);

// "HH:MM-HH:MM" in local time; the end is exclusive; a window whose end is before its start
// wraps midnight ("22:00-06:00"). Start and end may not be equal.
struct DailyWindow {
  int start_minute = 0;  // minutes after midnight, 0..1439
  int end_minute = 0;
  bool Contains(int minute_of_day) const {
    if (start_minute < end_minute) {
      return minute_of_day >= start_minute && minute_of_day < end_minute;
    }
    return minute_of_day >= start_minute || minute_of_day < end_minute;
  }
};
std::optional<DailyWindow> ParseDailyWindow(std::string_view text);

// 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);
// An absolute POSIX path ("/usr/bin/x") or Windows path ("C:\Program Files\x"), without "." or
// ".." components, empty components or control characters. A trailing separator is allowed.
bool IsAbsolutePath(std::string_view text);
// "https://host[:port][/...]" with no spaces or control characters.
bool IsHttpsUrl(std::string_view text);
// True when the text has a character below U+0020 or DEL.
bool HasControlCharacter(std::string_view text);
// Number of Unicode code points in UTF-8 text (continuation bytes are not counted).
std::size_t CodePointCount(std::string_view text);

}  // namespace ward::policy::internal
