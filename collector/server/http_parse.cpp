// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/server/http_parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ward::collector {
namespace {

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

HttpParse Error(int status, std::string message) {
  HttpParse p;
  p.outcome = HttpParse::Outcome::kError;
  p.error_status = status;
  p.error_message = std::move(message);
  p.keep_alive = false;
  return p;
}

}  // namespace

const std::string& HttpRequest::Header(const std::string& name) const {
  static const std::string kEmpty;
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

HttpParse ParseHttpRequest(std::string_view in, std::size_t max_header_bytes,
                           std::size_t max_body_bytes) {
  const std::size_t header_end = in.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    if (in.size() > max_header_bytes) {
      return Error(431, "request headers are too large");
    }
    return {};
  }
  if (header_end > max_header_bytes) {
    return Error(431, "request headers are too large");
  }
  HttpParse p;
  HttpRequest& req = p.request;
  std::string_view head = in.substr(0, header_end);
  const std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  const std::size_t s1 = line.find(' ');
  const std::size_t s2 = line.rfind(' ');
  if (s1 == std::string_view::npos || s2 == s1 || !line.substr(s2 + 1).starts_with("HTTP/1.")) {
    return Error(400, "malformed request line");
  }
  req.method = std::string(line.substr(0, s1));
  std::string_view target = line.substr(s1 + 1, s2 - s1 - 1);
  const std::size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    req.query = std::string(target.substr(q + 1));
  }
  const bool http10 = line.substr(s2 + 1) == "HTTP/1.0";
  std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) {
      end = head.size();
    }
    std::string_view h = head.substr(pos, end - pos);
    const std::size_t colon = h.find(':');
    if (colon == std::string_view::npos) {
      return Error(400, "malformed header line");
    }
    req.headers[ToLower(Trim(h.substr(0, colon)))] = std::string(Trim(h.substr(colon + 1)));
    pos = end + 2;
  }
  const std::string connection = ToLower(req.Header("connection"));
  p.keep_alive = http10 ? connection == "keep-alive" : connection != "close";
  if (!req.Header("transfer-encoding").empty()) {
    return Error(411, "send the body with Content-Length, not chunked");
  }
  std::size_t length = 0;
  if (const std::string& cl = req.Header("content-length"); !cl.empty()) {
    auto [ptr, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), length);
    if (ec != std::errc() || ptr != cl.data() + cl.size()) {
      return Error(400, "Content-Length is not a number");
    }
  }
  if (length > max_body_bytes) {
    return Error(413, "request body is larger than " + std::to_string(max_body_bytes) + " bytes");
  }
  if (in.size() - (header_end + 4) < length) {
    return {};  // wait for the rest of the body
  }
  req.body = std::string(in.substr(header_end + 4, length));
  p.consumed = header_end + 4 + length;
  p.outcome = HttpParse::Outcome::kComplete;
  return p;
}

}  // namespace ward::collector
