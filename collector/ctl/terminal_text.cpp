// SPDX-License-Identifier: Apache-2.0
#include "ward/ctl/terminal_text.h"

#include <array>
#include <cstdint>
#include <cstdio>

namespace ward::ctl {
namespace {

void AppendByteEscape(std::string& out, unsigned char byte) {
  std::array<char, 5> buf{};
  std::snprintf(buf.data(), buf.size(), "\\x%02x", byte);
  out += buf.data();
}

void AppendCodePointEscape(std::string& out, char32_t cp) {
  std::array<char, 12> buf{};  // only C1 and bidi controls come here: 4 hex digits
  std::snprintf(buf.data(), buf.size(), "\\u%04x", static_cast<unsigned>(cp));
  out += buf.data();
}

// Characters a terminal (or a bidi-aware one) acts on rather than shows.
bool IsInvisibleControl(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f)          // C1 controls (0x9b is CSI, 0x9d OSC)
         || cp == 0x061c                     // Arabic letter mark
         || cp == 0x200e || cp == 0x200f     // LRM, RLM
         || cp == 0x2028 || cp == 0x2029     // line and paragraph separators
         || (cp >= 0x202a && cp <= 0x202e)   // LRE, RLE, PDF, LRO, RLO
         || (cp >= 0x2066 && cp <= 0x2069);  // LRI, RLI, FSI, PDI
}

// Decodes one UTF-8 sequence at `s[i]`; returns its length, or 0 if it is not valid UTF-8
// (overlong forms, surrogates and values above U+10FFFF are invalid).
std::size_t DecodeUtf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    cp = b0 & 0x1fu;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    cp = b0 & 0x0fu;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    cp = b0 & 0x07u;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0u) != 0x80u) {
      return 0;
    }
    cp = (cp << 6) | (b & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return len;
}

std::string Escape(std::string_view in, const std::string_view* line_indent) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    const auto byte = static_cast<unsigned char>(in[i]);
    if (byte < 0x80) {
      if (byte == '\n' && line_indent != nullptr) {
        out += '\n';
        out += *line_indent;
      } else if (byte == '\t' || (byte >= 0x20 && byte < 0x7f)) {
        out += static_cast<char>(byte);
      } else if (byte == '\r') {
        out += "\\r";
      } else if (byte == '\n') {
        out += "\\n";
      } else {
        AppendByteEscape(out, byte);
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = DecodeUtf8(in, i, cp);
    if (len == 0) {
      AppendByteEscape(out, byte);
      ++i;
    } else if (IsInvisibleControl(cp)) {
      AppendCodePointEscape(out, cp);
      i += len;
    } else {
      out.append(in.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace

std::string ForTerminal(std::string_view untrusted) { return Escape(untrusted, nullptr); }

std::string ForTerminalLines(std::string_view untrusted, std::string_view indent) {
  return Escape(untrusted, &indent);
}

}  // namespace ward::ctl
