// SPDX-License-Identifier: Apache-2.0
#include "usb_names_linux.h"

namespace ward::platform::internal {
namespace {

// Consumes a run of 1..3 decimal digits from the front of `s`.
bool TakeNumber(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9') {
    ++n;
  }
  if (n == 0 || n > 3) {
    return false;
  }
  s.remove_prefix(n);
  return true;
}

bool TakeChar(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) {
    return false;
  }
  s.remove_prefix(1);
  return true;
}

// "B-P(.P)*" and, when `allow_zero_port`, the root hub's own "B-0".
bool TakeDevicePart(std::string_view& s) {
  if (!TakeNumber(s) || !TakeChar(s, '-') || !TakeNumber(s)) {
    return false;
  }
  while (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    if (!TakeNumber(s)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsRootHubName(std::string_view name) {
  if (name.substr(0, 3) != "usb") {
    return false;
  }
  name.remove_prefix(3);
  return TakeNumber(name) && name.empty();
}

bool IsUsbDeviceName(std::string_view name) {
  if (IsRootHubName(name)) {
    return true;
  }
  return TakeDevicePart(name) && name.empty();
}

bool IsUsbInterfaceName(std::string_view name) {
  return TakeDevicePart(name) && TakeChar(name, ':') && TakeNumber(name) && TakeChar(name, '.') &&
         TakeNumber(name) && name.empty();
}

}  // namespace ward::platform::internal
