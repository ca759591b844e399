// SPDX-License-Identifier: Apache-2.0
#include "internal/query_params.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>
#include <charconv>

namespace ward::collector::internal {

std::map<std::string, std::string> ParseQuery(const std::string& query) {
  std::map<std::string, std::string> out;
  try {
    Poco::URI uri("/?" + query);
    for (const auto& [k, v] : uri.getQueryParameters()) {
      out[k] = v;
    }
  } catch (const Poco::Exception&) {
    out.clear();
  }
  return out;
}

std::int64_t ToInt(const std::string& s, std::int64_t fallback) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : fallback;
}

std::size_t PageLimit(const std::map<std::string, std::string>& query, std::size_t fallback,
                      std::size_t max) {
  auto it = query.find("limit");
  const std::int64_t asked = it == query.end()
                                 ? static_cast<std::int64_t>(fallback)
                                 : ToInt(it->second, static_cast<std::int64_t>(fallback));
  return static_cast<std::size_t>(
      std::clamp<std::int64_t>(asked, 1, static_cast<std::int64_t>(max)));
}

void SetNextCursor(HttpResponse& response, const std::string& cursor) {
  if (!cursor.empty()) {
    response.headers.emplace_back(std::string(kNextCursorHeader), cursor);
  }
}

}  // namespace ward::collector::internal
