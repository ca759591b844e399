// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "internal/http_server.h"

namespace ward::collector::internal {

// The decoded parameters of a query string ("a=1&b=x%20y"). A malformed query string reads as
// empty; the handler then reports what is missing.
std::map<std::string, std::string> ParseQuery(const std::string& query);

// `s` as a decimal integer, or `fallback` when it is not one.
std::int64_t ToInt(const std::string& s, std::int64_t fallback);

// ?limit= clamped to [1, max]; `fallback` when absent or not a number.
std::size_t PageLimit(const std::map<std::string, std::string>& query, std::size_t fallback,
                      std::size_t max);

// A paged list answers one page and, when there may be more, the cursor of the next in this
// header; the caller passes it back as ?cursor=. Absent on the last page.
inline constexpr std::string_view kNextCursorHeader = "Ward-Next-Cursor";
void SetNextCursor(HttpResponse& response, const std::string& cursor);

}  // namespace ward::collector::internal
