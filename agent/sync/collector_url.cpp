// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/sync/collector_url.h"

#include <algorithm>
#include <charconv>

#include "internal/socket.h"

namespace ward::agent::sync {
namespace {

bool IsHostNameChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.';
}

// RFC 3986 pchar and '/': unreserved, sub-delims, ':', '@', and %XX escapes kept as they are.
bool IsPathChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("-._~!$&'()*+,;=:@/%").find(c) != std::string_view::npos;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

Result<CollectorUrl> ParseCollectorUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the collector URL must look like https://host:port, not \"" +
                         std::string(url) + "\" (" + std::string(why) + ")");
  };
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), url.begin(), [](char a, char b) {
        return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
      })) {
    return bad("it must start with https://");
  }
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);

  CollectorUrl out;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("an IPv6 address needs a closing ]");
    }
    out.host = std::string(authority.substr(1, close - 1));
    if (!internal::IsIpLiteral(out.host, true)) {
      return bad("the part in [] is not an IPv6 address");
    }
    out.host_is_ip = true;
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') {
      return bad("only :port may follow the ]");
    }
    port_text = authority.empty() ? std::string_view() : authority.substr(1);
    if (authority.size() == 1) {
      return bad("the port is empty");
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (out.host.empty()) {
      return bad("the host is missing");
    }
    if (!std::all_of(out.host.begin(), out.host.end(), IsHostNameChar)) {
      return bad("the host may hold only letters, digits, '-' and '.'");
    }
    out.host_is_ip = internal::IsIpLiteral(out.host, false);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        return bad("the port is empty");
      }
    }
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535 || port_text.size() > 5) {
      return bad("the port must be a number from 1 to 65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (!IsPathChar(path[i])) {
      return bad("the path may not hold a query, a fragment, spaces or other characters");
    }
    if (path[i] == '%' && (i + 2 >= path.size() || !IsHex(path[i + 1]) || !IsHex(path[i + 2]))) {
      return bad("a % in the path must start a %XX escape");
    }
  }
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  out.base_path = std::string(path);
  return out;
}

}  // namespace ward::agent::sync
