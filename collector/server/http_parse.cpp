// SPDX-License-Identifier: Apache-2.0
#include "ward/collector/server/http_parse.h"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <cctype>
#include <limits>

namespace ward::collector {
namespace {

namespace http = boost::beast::http;

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

HttpParse Error(int status, std::string message) {
  HttpParse p;
  p.outcome = HttpParse::Outcome::kError;
  p.error_status = status;
  p.error_message = std::move(message);
  p.keep_alive = false;
  return p;
}

// RFC 9112 framing that Beast's parser is lenient about: every CR is followed by LF and every
// LF preceded by CR (section 2.2: no bare CR, and we refuse bare LF rather than guess), and no
// line of the head starts with SP or HTAB (section 5.2: obsolete line folding). Looks only at
// `head`, which is the head so far. Returns false with a reason on a violation; a CR at the end
// of `head` waits for its LF.
bool StrictLines(std::string_view head, std::string& why) {
  for (std::size_t i = 0; i < head.size(); ++i) {
    const char c = head[i];
    if (c == '\r') {
      if (i + 1 < head.size() && head[i + 1] != '\n') {
        why = "a CR in the request head is not followed by LF";
        return false;
      }
    } else if (c == '\n') {
      if (i == 0 || head[i - 1] != '\r') {
        why = "a bare LF in the request head (lines end with CRLF)";
        return false;
      }
      if (i + 1 < head.size() && (head[i + 1] == ' ' || head[i + 1] == '\t')) {
        why = "obsolete line folding in the request head";
        return false;
      }
    }
  }
  return true;
}

// Headers whose repetition changes what the request means: refused rather than guessed.
bool MustBeUnique(std::string_view lower_name) {
  return lower_name == "content-length" || lower_name == "host" || lower_name == "authorization" ||
         lower_name == "content-type" || lower_name == "transfer-encoding";
}

}  // namespace

const std::string& HttpRequest::Header(const std::string& name) const {
  static const std::string kEmpty;
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

HttpParse ParseHttpRequest(std::string_view in, std::size_t max_header_bytes,
                           std::size_t max_body_bytes) {
  // The head ends at the first CRLFCRLF; only the first max_header_bytes can hold it.
  const std::string_view window = in.substr(0, max_header_bytes);
  const std::size_t end = window.find("\r\n\r\n");
  const std::string_view head = end == std::string_view::npos ? window : window.substr(0, end + 4);
  std::string why;
  if (!StrictLines(head, why)) {
    return Error(400, why);
  }
  if (end == std::string_view::npos) {
    if (in.size() >= max_header_bytes) {
      return Error(431,
                   "request head is larger than " + std::to_string(max_header_bytes) + " bytes");
    }
    return {};
  }

  http::request_parser<http::empty_body> parser;
  parser.eager(false);  // stop after the head: the body is taken from the buffer below
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // 413 is decided below
  boost::beast::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec == http::error::header_limit) {
    return Error(431, "request head is larger than " + std::to_string(max_header_bytes) + " bytes");
  }
  if (ec == http::error::bad_content_length) {
    return Error(400, "Content-Length is not a single number");
  }
  if (ec == http::error::bad_transfer_encoding) {
    return Error(411, "send the body with Content-Length, not chunked");
  }
  if (ec || !parser.is_header_done() || used != head.size()) {
    return Error(400, "malformed request head (" + ec.message() + ")");
  }
  const auto& msg = parser.get();
  if (msg.version() != 11 && msg.version() != 10) {
    return Error(400, "only HTTP/1.0 and HTTP/1.1 are spoken here");
  }

  HttpParse p;
  HttpRequest& req = p.request;
  for (const auto& field : msg) {
    std::string name = ToLower(field.name_string());
    const std::string_view value = field.value();
    if (name == "content-length" &&
        (value.empty() ||
         !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))) {
      return Error(400, "Content-Length is not a single number");
    }
    auto [it, inserted] = req.headers.try_emplace(name, value);
    if (!inserted) {
      if (MustBeUnique(name)) {
        return Error(400, "the header '" + name + "' appears more than once");
      }
      it->second += ", ";
      it->second += value;
    }
  }
  if (!req.Header("transfer-encoding").empty()) {
    return Error(411, "send the body with Content-Length, not chunked");
  }
  std::size_t length = 0;
  if (const auto cl = parser.content_length(); cl.has_value()) {
    if (*cl > max_body_bytes) {
      return Error(413, "request body is larger than " + std::to_string(max_body_bytes) + " bytes");
    }
    length = static_cast<std::size_t>(*cl);
  }
  req.method = std::string(msg.method_string());
  const std::string_view target = msg.target();
  const std::size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    req.query = std::string(target.substr(q + 1));
  }
  p.keep_alive = msg.keep_alive();
  p.head_complete = true;
  p.head_bytes = head.size();
  p.content_length = length;
  if (in.size() - head.size() < length) {
    p.request = HttpRequest{};
    return p;  // kIncomplete: wait for the rest of the body
  }
  req.body = std::string(in.substr(head.size(), length));
  p.consumed = head.size() + length;
  p.outcome = HttpParse::Outcome::kComplete;
  return p;
}

}  // namespace ward::collector
