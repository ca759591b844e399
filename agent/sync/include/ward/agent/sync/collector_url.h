// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ward/common/result.h"

namespace ward::agent::sync {

// The parts of a collector URL. Value type.
struct CollectorUrl {
  std::string host;  // a DNS name, an IPv4 address or an IPv6 address (no brackets)
  bool host_is_ip = false;
  std::uint16_t port = 443;
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};

// Parses `https://host[:port][/base]`, with `[v6-address]` for IPv6 hosts. Strict: no user
// info, query, fragment, zone id, spaces or other schemes. kInvalidArgument otherwise, with a
// text that shows the expected form.
Result<CollectorUrl> ParseCollectorUrl(std::string_view url);

}  // namespace ward::agent::sync
