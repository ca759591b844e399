// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/uevent.h"

#include <charconv>
#include <string_view>

namespace ward::platform {
namespace {

bool IsKeyChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

bool IsSafeDevpath(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') {
    return false;
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return false;
    }
    for (const char c : part) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

}  // namespace

Result<Uevent> ParseKernelUevent(std::span<const char> bytes) {
  if (bytes.empty()) {
    return InvalidArgumentError("empty uevent");
  }
  if (bytes.size() > kMaxUeventBytes) {
    return InvalidArgumentError("uevent of " + std::to_string(bytes.size()) + " bytes is too big");
  }
  std::string_view all(bytes.data(), bytes.size());
  // The kernel terminates every field, the last one included, with NUL.
  if (all.back() != '\0') {
    return InvalidArgumentError("uevent not NUL-terminated");
  }
  all.remove_suffix(1);
  const std::size_t header_end = all.find('\0');
  const std::string_view header = all.substr(0, header_end);
  if (header == "libudev") {
    return InvalidArgumentError("udev re-broadcast, not a kernel uevent");
  }
  const std::size_t at = header.find('@');
  if (at == std::string_view::npos || at == 0) {
    return InvalidArgumentError("uevent header has no ACTION@DEVPATH");
  }
  Uevent event;
  const std::string_view header_action = header.substr(0, at);
  const std::string_view header_path = header.substr(at + 1);

  std::string_view rest =
      header_end == std::string_view::npos ? std::string_view() : all.substr(header_end + 1);
  while (!rest.empty()) {
    const std::size_t end = std::min(rest.find('\0'), rest.size());
    const std::string_view field = rest.substr(0, end);
    rest = end == rest.size() ? std::string_view() : rest.substr(end + 1);
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return InvalidArgumentError("uevent field without KEY=");
    }
    const std::string_view key = field.substr(0, eq);
    for (const char c : key) {
      if (!IsKeyChar(c)) {
        return InvalidArgumentError("uevent key with invalid character");
      }
    }
    auto [it, inserted] =
        event.properties.emplace(std::string(key), std::string(field.substr(eq + 1)));
    if (!inserted) {
      return InvalidArgumentError("uevent key " + it->first + " repeated");
    }
  }

  const auto find = [&](std::string_view key) -> const std::string* {
    const auto it = event.properties.find(key);
    return it == event.properties.end() ? nullptr : &it->second;
  };
  const std::string* action = find("ACTION");
  const std::string* devpath = find("DEVPATH");
  if (action == nullptr || *action != header_action) {
    return InvalidArgumentError("uevent ACTION missing or differs from its header");
  }
  if (devpath == nullptr || *devpath != header_path) {
    return InvalidArgumentError("uevent DEVPATH missing or differs from its header");
  }
  if (!IsSafeDevpath(*devpath)) {
    return InvalidArgumentError("uevent DEVPATH is not a clean absolute path");
  }
  event.action = *action;
  event.devpath = *devpath;
  if (const std::string* s = find("SUBSYSTEM")) {
    event.subsystem = *s;
  }
  if (const std::string* s = find("DEVTYPE")) {
    event.devtype = *s;
  }
  if (const std::string* s = find("SEQNUM")) {
    const char* first = s->data();
    const char* last = first + s->size();
    auto [ptr, ec] = std::from_chars(first, last, event.seqnum);
    if (s->empty() || ec != std::errc() || ptr != last) {
      return InvalidArgumentError("uevent SEQNUM is not a decimal number");
    }
  }
  return event;
}

}  // namespace ward::platform
