// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/usbguard_import.h"

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "ward/common/hex.h"

// The grammar, after usbguard-rules.conf(5) and USBGuard's own parser:
//
//   file      := { line '\n' } line
//   line      := [ rule ] [ comment ]
//   rule      := target [ device-id ] { attribute }
//   target    := "allow" | "block" | "reject"
//   attribute := name value | name [ operator ] '{' value { value } '}' | "if" condition
//   condition := "localtime" '(' HH:MM[:00] '-' HH:MM[:00] ')'
//
// The lexer turns one line at a time into tokens (words, quoted strings, braces, '!', a
// parenthesised condition argument, end of line); the parser is a plain recursive descent over
// them. Nothing nests, so work and memory are linear in the input, and the limits bound both.

namespace ward::policy {
namespace {

enum class TokenKind : std::uint8_t {
  kWord,         // bare text: keywords, device ids, interface types, operators
  kString,       // a quoted string; `text` is the unescaped value
  kOpenBrace,    // {
  kCloseBrace,   // }
  kBang,         // !
  kParenthesis,  // (...) right after a condition name; `text` is what is inside
  kEndOfLine,
  kEndOfInput,
};

struct Token {
  TokenKind kind = TokenKind::kEndOfInput;
  std::string text;
  std::size_t line = 1;
  std::size_t column = 1;
  bool space_before = false;  // whitespace separates it from the token before it
};

std::unexpected<Error> ErrorAt(std::size_t line, std::size_t column, std::string_view message,
                               ErrorCode code = ErrorCode::kInvalidArgument) {
  std::string text = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
  text.append(message);
  return MakeError(code, std::move(text));
}

std::unexpected<Error> ErrorAt(const Token& token, std::string_view message,
                               ErrorCode code = ErrorCode::kInvalidArgument) {
  return ErrorAt(token.line, token.column, message, code);
}

constexpr std::string_view kOnlyLocaltime = "Ward imports only 'if localtime(HH:MM-HH:MM)'";

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsWordChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) {
    return false;
  }
  switch (c) {
    case '{':
    case '}':
    case '"':
    case '#':
    case '(':
    case ')':
    case '!':
      return false;
    default:
      return true;
  }
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = ToLower(c);
  }
  return out;
}

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if ((b & 0xe0) == 0xc0) {
      extra = 1;
      cp = b & 0x1fu;
    } else if ((b & 0xf0) == 0xe0) {
      extra = 2;
      cp = b & 0x0fu;
    } else if ((b & 0xf8) == 0xf0) {
      extra = 3;
      cp = b & 0x07u;
    } else {
      return false;
    }
    if (i + extra >= s.size()) {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (c & 0x3fu);
    }
    static constexpr std::array<std::uint32_t, 4> kMin = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// Produces the tokens of the rules text, tracking line and column (in characters: UTF-8
// continuation bytes do not count). Confined to one thread.
class Lexer {
 public:
  Lexer(std::string_view text, const UsbGuardImportLimits& limits) : text_(text), limits_(limits) {}

  Result<Token> Next() {
    if (at_line_start_) {
      WARD_RETURN_IF_ERROR(CheckLineLength());
      at_line_start_ = false;
    }
    const std::size_t before = pos_;
    SkipBlanksAndComment();
    Token token;
    token.line = line_;
    token.column = column_;
    token.space_before = pos_ != before;
    if (pos_ >= text_.size()) {
      token.kind = TokenKind::kEndOfInput;
      return token;
    }
    const char c = text_[pos_];
    switch (c) {
      case '\n':
        token.kind = TokenKind::kEndOfLine;
        Advance();
        ++line_;
        column_ = 1;
        at_line_start_ = true;
        return token;
      case '{':
        token.kind = TokenKind::kOpenBrace;
        Advance();
        return token;
      case '}':
        token.kind = TokenKind::kCloseBrace;
        Advance();
        return token;
      case '!':
        token.kind = TokenKind::kBang;
        Advance();
        return token;
      case '"': {
        token.kind = TokenKind::kString;
        WARD_ASSIGN_OR_RETURN(token.text, ReadString());
        return token;
      }
      case '(': {
        token.kind = TokenKind::kParenthesis;
        WARD_ASSIGN_OR_RETURN(token.text, ReadParenthesis());
        return token;
      }
      case ')':
        return ErrorAt(line_, column_, "unexpected ')' without a matching '('");
      default:
        break;
    }
    if (IsWordChar(c)) {
      token.kind = TokenKind::kWord;
      const std::size_t start = pos_;
      while (pos_ < text_.size() && IsWordChar(text_[pos_])) {
        Advance();
      }
      token.text.assign(text_.substr(start, pos_ - start));
      return token;
    }
    return ErrorAt(line_, column_, DescribeStrayByte(c));
  }

 private:
  void Advance() {
    if ((static_cast<unsigned char>(text_[pos_]) & 0xc0) != 0x80) {
      ++column_;
    }
    ++pos_;
  }

  Status CheckLineLength() const {
    const std::size_t end = text_.find('\n', pos_);
    const std::size_t length = (end == std::string_view::npos ? text_.size() : end) - pos_;
    if (length > limits_.max_line_bytes) {
      return ErrorAt(line_, 1,
                     "this line is longer than " + std::to_string(limits_.max_line_bytes) +
                         " bytes; one rule per line is expected");
    }
    return OkStatus();
  }

  void SkipBlanksAndComment() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      // A carriage return just before the line break is a Windows line ending; accept it.
      const bool crlf = c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n';
      if (IsBlank(c) || crlf || (c == '\r' && pos_ + 1 == text_.size())) {
        Advance();
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') {
          Advance();
        }
      } else {
        return;
      }
    }
  }

  static std::string DescribeStrayByte(char c) {
    const auto u = static_cast<unsigned char>(c);
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string hex = "0x";
    hex.push_back(kDigits[u >> 4]);
    hex.push_back(kDigits[u & 0xf]);
    if (u >= 0x80) {
      return "unexpected byte " + hex + "; text other than ASCII belongs inside quotes";
    }
    return "unexpected control character " + hex;
  }

  // Reads a "..." string at pos_ and returns its unescaped value. USBGuard knows three escapes:
  // \" \\ and \xHH; anything else after a backslash is an error, as it is in USBGuard.
  Result<std::string> ReadString() {
    const std::size_t open_line = line_;
    const std::size_t open_column = column_;
    Advance();  // the opening quote
    std::string value;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        return ErrorAt(open_line, open_column,
                       "this string is not closed: the closing '\"' is missing on this line");
      }
      const char c = text_[pos_];
      if (c == '"') {
        Advance();
        break;
      }
      if (c == '\\') {
        const std::size_t escape_column = column_;
        Advance();
        const char e = pos_ < text_.size() ? text_[pos_] : '\0';
        if (e == '"' || e == '\\') {
          value.push_back(e);
          Advance();
        } else if (e == 'x') {
          Advance();
          auto byte = HexDecode(text_.substr(pos_, 2));
          if (!byte || byte->size() != 1) {
            return ErrorAt(line_, escape_column, "'\\x' must be followed by two hex digits");
          }
          value.push_back(static_cast<char>((*byte)[0]));
          Advance();
          Advance();
        } else {
          std::string shown = "\\";
          if (IsWordChar(e) || e == '(' || e == ')' || e == '{' || e == '}' || e == '#' ||
              e == '!') {
            shown.push_back(e);
          }
          return ErrorAt(line_, escape_column,
                         "unknown escape sequence '" + shown +
                             "' (USBGuard strings know \\\", \\\\ and \\xHH)");
        }
      } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return ErrorAt(line_, column_,
                       "control character inside a string; write it as \\xHH instead");
      } else {
        value.push_back(c);
        Advance();
      }
      if (value.size() > limits_.max_string_bytes) {
        return ErrorAt(
            open_line, open_column,
            "this string is longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
      }
    }
    if (!IsValidUtf8(value)) {
      return ErrorAt(open_line, open_column,
                     "this string is not valid UTF-8 once unescaped; Ward keeps text as UTF-8");
    }
    return value;
  }

  // Reads a "(...)" condition argument at pos_ and returns what is inside, verbatim.
  Result<std::string> ReadParenthesis() {
    const std::size_t open_line = line_;
    const std::size_t open_column = column_;
    Advance();  // (
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ')' && text_[pos_] != '\n') {
      Advance();
    }
    if (pos_ >= text_.size() || text_[pos_] != ')') {
      return ErrorAt(open_line, open_column, "the ')' closing this '(' is missing on this line");
    }
    std::string inside(text_.substr(start, pos_ - start));
    Advance();  // )
    return inside;
  }

  std::string_view text_;
  const UsbGuardImportLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t column_ = 1;
  bool at_line_start_ = true;
};

enum class ValueKind : std::uint8_t { kString, kDeviceId, kInterfaceType };

// One device attribute of the rule language and where it lands in UsbRule.
struct AttributeSpec {
  std::string_view name;
  ValueKind kind;
  v1::StringSet* (*field)(v1::UsbRule&);
};

constexpr std::array<AttributeSpec, 9> kAttributes = {{
    {"id", ValueKind::kDeviceId, [](v1::UsbRule& r) { return r.mutable_device_id(); }},
    {"serial", ValueKind::kString, [](v1::UsbRule& r) { return r.mutable_serial(); }},
    {"name", ValueKind::kString, [](v1::UsbRule& r) { return r.mutable_name(); }},
    {"hash", ValueKind::kString, [](v1::UsbRule& r) { return r.mutable_hash(); }},
    {"parent-hash", ValueKind::kString, [](v1::UsbRule& r) { return r.mutable_parent_hash(); }},
    {"via-port", ValueKind::kString, [](v1::UsbRule& r) { return r.mutable_via_port(); }},
    {"with-interface", ValueKind::kInterfaceType,
     [](v1::UsbRule& r) { return r.mutable_with_interface(); }},
    {"with-connect-type", ValueKind::kString,
     [](v1::UsbRule& r) { return r.mutable_with_connect_type(); }},
    {"label", ValueKind::kString, [](v1::UsbRule& r) { return r.mutable_label(); }},
}};
constexpr std::size_t kIdAttribute = 0;

std::optional<v1::SetOperator> SetOperatorFromName(std::string_view name) {
  if (name == "all-of") {
    return v1::SET_OPERATOR_ALL_OF;
  }
  if (name == "one-of") {
    return v1::SET_OPERATOR_ONE_OF;
  }
  if (name == "none-of") {
    return v1::SET_OPERATOR_NONE_OF;
  }
  if (name == "equals") {
    return v1::SET_OPERATOR_EQUALS;
  }
  if (name == "equals-ordered") {
    return v1::SET_OPERATOR_EQUALS_ORDERED;
  }
  if (name == "match-all") {
    return v1::SET_OPERATOR_MATCH_ALL;
  }
  return std::nullopt;
}

bool IsHexRun(std::string_view s, std::size_t n) {
  if (s.size() != n) {
    return false;
  }
  for (char c : s) {
    if (!IsHexDigit(c)) {
      return false;
    }
  }
  return true;
}

// "vvvv:pppp", each half four hex digits or "*"; "*:pppp" is refused (a product number means
// nothing without its vendor). Returns the lower-cased id, or nullopt.
std::optional<std::string> ParseDeviceId(std::string_view word) {
  const std::size_t colon = word.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view vendor = word.substr(0, colon);
  const std::string_view product = word.substr(colon + 1);
  const bool vendor_ok = vendor == "*" || IsHexRun(vendor, 4);
  const bool product_ok = product == "*" || IsHexRun(product, 4);
  if (!vendor_ok || !product_ok || (vendor == "*" && product != "*")) {
    return std::nullopt;
  }
  return Lowered(word);
}

// "cc:ss:pp" in hex; subclass and protocol may be "*", and a "*" subclass needs a "*" protocol
// (usbguard-rules.conf(5)). Returns the lower-cased type, or nullopt.
std::optional<std::string> ParseInterfaceType(std::string_view word) {
  if (word.size() < 6) {
    return std::nullopt;
  }
  const std::size_t first = word.find(':');
  const std::size_t second = first == std::string_view::npos ? first : word.find(':', first + 1);
  if (second == std::string_view::npos || word.find(':', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view cls = word.substr(0, first);
  const std::string_view sub = word.substr(first + 1, second - first - 1);
  const std::string_view proto = word.substr(second + 1);
  const auto part_ok = [](std::string_view p) { return p == "*" || IsHexRun(p, 2); };
  if (!IsHexRun(cls, 2) || !part_ok(sub) || !part_ok(proto) || (sub == "*" && proto != "*")) {
    return std::nullopt;
  }
  return Lowered(word);
}

// Parses "HH:MM[:SS]" (seconds must be 00: Ward's windows are to the minute) into minutes.
Result<int> ParseClock(std::string_view s, const Token& at) {
  const auto two_digits = [](std::string_view p, int max) -> int {
    if (p.size() != 2 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
      return -1;
    }
    const int v = (p[0] - '0') * 10 + (p[1] - '0');
    return v <= max ? v : -1;
  };
  const std::string shown = "'" + std::string(s) + "'";
  if (s.size() != 5 && s.size() != 8) {
    return ErrorAt(at, shown + " is not a time of day HH:MM");
  }
  const int hours = s[2] == ':' ? two_digits(s.substr(0, 2), 23) : -1;
  const int minutes = two_digits(s.substr(3, 2), 59);
  if (hours < 0 || minutes < 0 || (s.size() == 8 && s[5] != ':')) {
    return ErrorAt(at, shown + " is not a time of day HH:MM");
  }
  if (s.size() == 8) {
    const int seconds = two_digits(s.substr(6, 2), 59);
    if (seconds < 0) {
      return ErrorAt(at, shown + " is not a time of day HH:MM:SS");
    }
    if (seconds != 0) {
      return ErrorAt(at,
                     "seconds in localtime() are not supported; Ward's time windows are to "
                     "the minute",
                     ErrorCode::kUnsupported);
    }
  }
  return hours * 60 + minutes;
}

std::string FormatClock(int minutes) {
  std::string out;
  out.push_back(static_cast<char>('0' + minutes / 60 / 10));
  out.push_back(static_cast<char>('0' + minutes / 60 % 10));
  out.push_back(':');
  out.push_back(static_cast<char>('0' + minutes % 60 / 10));
  out.push_back(static_cast<char>('0' + minutes % 60 % 10));
  return out;
}

// Label text as an id: lower-case letters and digits, runs of anything else as one '-'.
std::string Slug(std::string_view label) {
  // Ward ids are at most 64 characters; leave room for a "-line-N" suffix.
  static constexpr std::size_t kMaxIdLength = 40;
  std::string out;
  for (char c : label) {
    const char l = ToLower(c);
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) {
      if (out.size() == kMaxIdLength) {
        break;
      }
      out.push_back(l);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && out.back() == '-') {
    out.pop_back();
  }
  return out;
}

std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kWord: {
      // Keep messages one short line even for a hostile 60 KB word.
      static constexpr std::size_t kMaxShown = 40;
      if (token.text.size() > kMaxShown) {
        return "'" + token.text.substr(0, kMaxShown) + "...'";
      }
      return "'" + token.text + "'";
    }
    case TokenKind::kString:
      return "a quoted string";
    case TokenKind::kOpenBrace:
      return "'{'";
    case TokenKind::kCloseBrace:
      return "'}'";
    case TokenKind::kBang:
      return "'!'";
    case TokenKind::kParenthesis:
      return "'('";
    case TokenKind::kEndOfLine:
      return "the end of the line";
    case TokenKind::kEndOfInput:
      return "the end of the file";
  }
  return "something unexpected";
}

bool EndsRule(const Token& token) {
  return token.kind == TokenKind::kEndOfLine || token.kind == TokenKind::kEndOfInput;
}

// Recursive descent over the lexer's tokens. Confined to one thread.
class Parser {
 public:
  Parser(std::string_view text, const UsbGuardImportLimits& limits)
      : lexer_(text, limits), limits_(limits) {}

  Result<std::vector<v1::UsbRule>> ParseFile() {
    std::vector<v1::UsbRule> rules;
    std::vector<std::size_t> lines;
    WARD_RETURN_IF_ERROR(Advance());
    while (token_.kind != TokenKind::kEndOfInput) {
      if (token_.kind == TokenKind::kEndOfLine) {
        WARD_RETURN_IF_ERROR(Advance());
        continue;
      }
      if (rules.size() == limits_.max_rules) {
        return ErrorAt(token_,
                       "more than " + std::to_string(limits_.max_rules) + " rules; split the file");
      }
      lines.push_back(token_.line);
      WARD_ASSIGN_OR_RETURN(v1::UsbRule rule, ParseRule());
      rules.push_back(std::move(rule));
    }
    AssignIds(rules, lines);
    return rules;
  }

 private:
  Status Advance() {
    if (peeked_) {
      token_ = std::move(*peeked_);
      peeked_.reset();
      return OkStatus();
    }
    WARD_ASSIGN_OR_RETURN(token_, lexer_.Next());
    return OkStatus();
  }

  // The token after token_, without consuming it.
  Result<const Token*> Peek() {
    if (!peeked_) {
      WARD_ASSIGN_OR_RETURN(peeked_, lexer_.Next());
    }
    return &*peeked_;
  }

  Result<v1::UsbRule> ParseRule() {
    v1::UsbRule rule;
    rule.set_scope(v1::USB_RULE_SCOPE_DEVICE);
    WARD_RETURN_IF_ERROR(ParseTarget(rule));
    std::array<bool, kAttributes.size()> seen{};
    bool seen_condition = false;

    // USBGuard allows the device id straight after the target ("allow 1050:0011 ...").
    if (token_.kind == TokenKind::kWord && token_.text.find(':') != std::string::npos) {
      WARD_RETURN_IF_ERROR(
          ParseValueInto(kAttributes[kIdAttribute], "after the target", *rule.mutable_device_id()));
      rule.mutable_device_id()->set_op(v1::SET_OPERATOR_EQUALS);
      seen[kIdAttribute] = true;
      WARD_RETURN_IF_ERROR(Advance());
    }

    while (!EndsRule(token_)) {
      if (token_.kind != TokenKind::kWord) {
        return ErrorAt(token_,
                       "expected an attribute name (id, serial, name, hash, parent-hash, "
                       "via-port, with-interface, with-connect-type, label or if), found " +
                           Describe(token_));
      }
      if (token_.text == "if") {
        if (seen_condition) {
          return ErrorAt(token_, "a rule can have only one 'if'");
        }
        seen_condition = true;
        WARD_RETURN_IF_ERROR(ParseCondition(rule));
        continue;
      }
      std::size_t index = 0;
      while (index < kAttributes.size() && kAttributes[index].name != token_.text) {
        ++index;
      }
      if (index == kAttributes.size()) {
        if (ParseDeviceId(token_.text)) {
          return ErrorAt(token_, "a bare device id may only follow the target; write 'id " +
                                     token_.text + "'");
        }
        return ErrorAt(token_, "unknown attribute " + Describe(token_));
      }
      if (seen[index]) {
        return ErrorAt(token_, Describe(token_) + " is given twice in one rule");
      }
      seen[index] = true;
      WARD_RETURN_IF_ERROR(ParseAttribute(kAttributes[index], rule));
    }
    // generate-policy writes `with-connect-type ""` for devices whose port reports no connect
    // type (root hubs). Ward names only real connect types; the rule stays pinned by its other
    // attributes (hash, id, serial), so the empty constraint is dropped.
    if (rule.with_connect_type().values_size() == 1 && rule.with_connect_type().values(0).empty()) {
      rule.clear_with_connect_type();
    }
    return rule;
  }

  Status ParseTarget(v1::UsbRule& rule) {
    if (token_.kind == TokenKind::kWord) {
      if (token_.text == "allow") {
        rule.set_action(v1::USB_ACTION_ALLOW);
        return Advance();
      }
      if (token_.text == "block") {
        rule.set_action(v1::USB_ACTION_BLOCK);
        return Advance();
      }
      if (token_.text == "reject") {
        rule.set_action(v1::USB_ACTION_REJECT);
        return Advance();
      }
      if (token_.text == "match" || token_.text == "device") {
        return ErrorAt(token_,
                       "the target " + Describe(token_) +
                           " is not supported; a policy rule starts with allow, block or reject",
                       ErrorCode::kUnsupported);
      }
    }
    return ErrorAt(token_, "a rule starts with allow, block or reject, found " + Describe(token_));
  }

  // `name value` or `name [operator] { value ... }`; token_ is the attribute name.
  Status ParseAttribute(const AttributeSpec& spec, v1::UsbRule& rule) {
    const std::string after = "after '" + std::string(spec.name) + "'";
    v1::StringSet& set = *spec.field(rule);
    WARD_RETURN_IF_ERROR(Advance());
    std::optional<v1::SetOperator> op;
    if (token_.kind == TokenKind::kWord) {
      op = SetOperatorFromName(token_.text);
      if (op) {
        WARD_RETURN_IF_ERROR(Advance());
        if (token_.kind != TokenKind::kOpenBrace) {
          return ErrorAt(token_, "expected '{' after the set operator, found " + Describe(token_));
        }
      } else {
        WARD_ASSIGN_OR_RETURN(const Token* next, Peek());
        if (next->kind == TokenKind::kOpenBrace) {
          return ErrorAt(token_, "unknown set operator " + Describe(token_) +
                                     " (use all-of, one-of, none-of, equals, equals-ordered or "
                                     "match-all)");
        }
      }
    }
    set.set_op(op.value_or(v1::SET_OPERATOR_EQUALS));
    if (token_.kind != TokenKind::kOpenBrace) {
      WARD_RETURN_IF_ERROR(ParseValueInto(spec, after, set));
      return Advance();
    }
    const Token open = token_;
    WARD_RETURN_IF_ERROR(Advance());
    while (token_.kind != TokenKind::kCloseBrace) {
      if (EndsRule(token_)) {
        return ErrorAt(open, "this set is not closed: '}' is missing before " + Describe(token_));
      }
      if (static_cast<std::size_t>(set.values_size()) == limits_.max_set_values) {
        return ErrorAt(
            token_, "more than " + std::to_string(limits_.max_set_values) + " values in one set");
      }
      WARD_RETURN_IF_ERROR(ParseValueInto(spec, "in the set " + after, set));
      WARD_RETURN_IF_ERROR(Advance());
    }
    if (set.values_size() == 0) {
      return ErrorAt(open, "an empty set { } " + after + "; give at least one value");
    }
    return Advance();
  }

  static std::string ValueName(ValueKind kind) {
    switch (kind) {
      case ValueKind::kString:
        return "a quoted string";
      case ValueKind::kDeviceId:
        return "a device id vvvv:pppp (hex, or * for any)";
      case ValueKind::kInterfaceType:
        return "an interface type cc:ss:pp (hex; ss and pp may be *)";
    }
    return "a value";
  }

  // Appends the value in token_ to `set`, checking it has the attribute's form. `where` says
  // where the value stands, for the message ("after 'serial'").
  Status ParseValueInto(const AttributeSpec& spec, std::string_view where, v1::StringSet& set) {
    const std::string expected = "expected " + ValueName(spec.kind) + " " + std::string(where) +
                                 ", found " + Describe(token_);
    switch (spec.kind) {
      case ValueKind::kString:
        if (token_.kind != TokenKind::kString) {
          return ErrorAt(token_, expected);
        }
        set.add_values(std::move(token_.text));
        return OkStatus();
      case ValueKind::kDeviceId: {
        auto id = token_.kind == TokenKind::kWord ? ParseDeviceId(token_.text) : std::nullopt;
        if (!id) {
          return ErrorAt(token_, expected);
        }
        set.add_values(std::move(*id));
        return OkStatus();
      }
      case ValueKind::kInterfaceType: {
        auto type =
            token_.kind == TokenKind::kWord ? ParseInterfaceType(token_.text) : std::nullopt;
        if (!type) {
          return ErrorAt(token_, expected);
        }
        set.add_values(std::move(*type));
        return OkStatus();
      }
    }
    return ErrorAt(token_, expected);
  }

  // token_ is `if`. Only `localtime(HH:MM-HH:MM)` has a Ward equivalent (UsbRule.when).
  Status ParseCondition(v1::UsbRule& rule) {
    WARD_RETURN_IF_ERROR(Advance());
    if (token_.kind == TokenKind::kBang) {
      return ErrorAt(token_,
                     "negated conditions ('!') are not supported; " + std::string(kOnlyLocaltime),
                     ErrorCode::kUnsupported);
    }
    if (token_.kind == TokenKind::kOpenBrace ||
        (token_.kind == TokenKind::kWord && SetOperatorFromName(token_.text))) {
      return ErrorAt(token_, "condition sets are not supported; " + std::string(kOnlyLocaltime),
                     ErrorCode::kUnsupported);
    }
    if (token_.kind != TokenKind::kWord) {
      return ErrorAt(token_, "expected a condition after 'if', found " + Describe(token_));
    }
    static constexpr std::array<std::string_view, 6> kUnsupported = {
        "allowed-matches", "rule-applied", "rule-evaluated", "random", "true", "false"};
    for (std::string_view name : kUnsupported) {
      if (token_.text == name) {
        return ErrorAt(token_,
                       "the condition " + Describe(token_) + " is not supported; " +
                           std::string(kOnlyLocaltime),
                       ErrorCode::kUnsupported);
      }
    }
    if (token_.text != "localtime") {
      return ErrorAt(token_, "unknown condition " + Describe(token_));
    }
    WARD_RETURN_IF_ERROR(Advance());
    if (token_.kind != TokenKind::kParenthesis || token_.space_before) {
      return ErrorAt(token_,
                     "expected a time range right after 'localtime', as in "
                     "localtime(08:30-16:00)");
    }
    Token range = token_;
    ++range.column;  // report positions inside the parentheses
    const std::size_t dash = range.text.find('-');
    if (dash == std::string::npos) {
      return ErrorAt(range,
                     "localtime() with a single time is not supported; give a range "
                     "HH:MM-HH:MM",
                     ErrorCode::kUnsupported);
    }
    WARD_ASSIGN_OR_RETURN(const int begin, ParseClock(range.text.substr(0, dash), range));
    WARD_ASSIGN_OR_RETURN(const int end, ParseClock(range.text.substr(dash + 1), range));
    if (begin == end) {
      return ErrorAt(range, "the time range '" + range.text +
                                "' is empty: it starts and ends at "
                                "the same minute");
    }
    rule.mutable_when()->set_local_time(FormatClock(begin) + "-" + FormatClock(end));
    return Advance();
  }

  // usbguard-line-N, or an id from the rule's first label; unique within the import.
  static void AssignIds(std::vector<v1::UsbRule>& rules, const std::vector<std::size_t>& lines) {
    std::set<std::string> used;
    const auto line_id = [&](std::size_t i) { return "usbguard-line-" + std::to_string(lines[i]); };
    for (std::size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].label().values_size() == 0) {
        rules[i].set_id(line_id(i));
        used.insert(rules[i].id());
      }
    }
    for (std::size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].label().values_size() == 0) {
        continue;
      }
      const std::string slug = Slug(rules[i].label().values(0));
      std::string id = slug.empty() ? line_id(i) : slug;
      if (used.contains(id)) {
        id = slug.empty() ? line_id(i) : slug + "-line-" + std::to_string(lines[i]);
      }
      const std::string base = id;
      for (int n = 2; used.contains(id); ++n) {
        id = base + "-" + std::to_string(n);
      }
      used.insert(id);
      rules[i].set_id(std::move(id));
    }
  }

  Lexer lexer_;
  const UsbGuardImportLimits& limits_;
  Token token_;
  std::optional<Token> peeked_;
};

}  // namespace

Result<std::vector<v1::UsbRule>> ImportUsbGuardRules(std::string_view text,
                                                     const UsbGuardImportLimits& limits) {
  if (text.size() > limits.max_input_bytes) {
    return InvalidArgumentError("the rules file is " + std::to_string(text.size()) +
                                " bytes; at most " + std::to_string(limits.max_input_bytes) +
                                " are accepted");
  }
  if (text.find('\0') != std::string_view::npos) {
    const std::string_view head = text.substr(0, text.find('\0'));
    std::size_t line = 1;
    std::size_t column = 1;
    for (char c : head) {
      if (c == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {
        ++column;
      }
    }
    return ErrorAt(line, column, "NUL byte in the rules text; this is not a text file");
  }
  Parser parser(text, limits);
  return parser.ParseFile();
}

}  // namespace ward::policy
