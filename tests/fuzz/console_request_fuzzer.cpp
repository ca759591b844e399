// SPDX-License-Identifier: Apache-2.0
// What the staff console reads from a request's untrusted bytes: the session cookie in a Cookie
// header, the Origin check, query strings (filters, limits, cursors) and the static-file route's
// {file:path}. Never crashes; a session id found is part of the header; a page limit stays in
// its bounds; a matched file path never climbs out of the console's directory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "internal/console_session.h"
#include "internal/query_params.h"
#include "internal/router.h"

using ward::collector::HttpRequest;
namespace internal = ward::collector::internal;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  HttpRequest request;
  request.method = "POST";
  request.headers["cookie"] = text;
  request.headers["origin"] = text;
  request.headers["host"] = text.substr(0, text.size() / 2);
  const std::string id = internal::SessionIdFrom(request);
  if (!id.empty() && text.find(id) == std::string::npos) {
    std::abort();
  }
  if (internal::CsrfTokenFor(id).size() != 64) {
    std::abort();
  }
  (void)internal::SameOrigin(request);

  const auto query = internal::ParseQuery(text);
  const std::size_t limit = internal::PageLimit(query, 50, 500);
  if (limit < 1 || limit > 500) {
    std::abort();
  }
  (void)internal::ToInt(text, 0);

  static const auto pattern = internal::RoutePattern::Parse("/console/{file:path}");
  internal::PathParams params;
  if (pattern->Match("/console/" + text, &params)) {
    const std::string& file = params.Get("file");
    const std::string wrapped = "/" + file + "/";
    if (wrapped.find("/../") != std::string::npos || wrapped.find("/./") != std::string::npos ||
        wrapped.find("//") != std::string::npos) {
      std::abort();
    }
  }
  return 0;
}
