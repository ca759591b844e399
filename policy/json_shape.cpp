// SPDX-License-Identifier: Apache-2.0
#include "internal/json_shape.h"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "internal/format.h"
#include "internal/syntax.h"
#include "ward/common/hex.h"

namespace ward::policy::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

constexpr int kMaxDepth = 64;

std::string Join(std::string_view path, std::string_view name) {
  if (path.empty()) {
    return std::string(name);
  }
  return Format("{}.{}", path, name);
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const FieldDescriptor* FindField(const Descriptor& message, const std::string& key) {
  if (const FieldDescriptor* field = message.FindFieldByName(key)) {
    return field;
  }
  const FieldDescriptor* field = message.FindFieldByCamelcaseName(key);
  return field != nullptr && field->json_name() == key ? field : nullptr;
}

std::string Suggest(const Descriptor& message, std::string_view key) {
  const FieldDescriptor* best = nullptr;
  std::size_t best_distance = 3;  // suggest only close names
  for (int i = 0; i < message.field_count(); ++i) {
    const FieldDescriptor* field = message.field(i);
    const std::size_t d =
        std::min(EditDistance(key, field->name()), EditDistance(key, field->json_name()));
    if (d < best_distance) {
      best = field;
      best_distance = d;
    }
  }
  if (best == nullptr) {
    return "";
  }
  return Format(" (did you mean \"{}\"?)", best->name());
}

std::string EnumNames(const EnumDescriptor& e) {
  std::string names;
  for (int i = 0; i < e.value_count(); ++i) {
    if (e.value(i)->number() == 0) {
      continue;  // *_UNSPECIFIED is never a useful choice
    }
    if (!names.empty()) {
      names += ", ";
    }
    names += e.value(i)->name();
  }
  return names;
}

// One JSON token's kind, as far as shape checking cares.
enum class Kind { kObject, kArray, kString, kNumber, kBool, kNull };

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kObject:
      return "an object {...}";
    case Kind::kArray:
      return "a list [...]";
    case Kind::kString:
      return "a string";
    case Kind::kNumber:
      return "a number";
    case Kind::kBool:
      return "true or false";
    case Kind::kNull:
      return "null";
  }
  return "a value";
}

class ShapeChecker {
 public:
  explicit ShapeChecker(std::string_view text) : text_(text) {}

  std::vector<PolicyIssue> Run(const Descriptor& descriptor) {
    SkipSpace();
    if (AtEnd()) {
      issues_.push_back({"policy", "the text is empty: expected a JSON object {...}"});
      return std::move(issues_);
    }
    if (Peek() != '{') {
      issues_.push_back({"policy", Format("must be a JSON object {{...}}{}", Where())});
      return std::move(issues_);
    }
    if (ParseObject(&descriptor, "", 0)) {
      SkipSpace();
      if (!AtEnd()) {
        SyntaxError("unexpected text after the end of the policy object");
      }
    }
    return std::move(issues_);
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) {
      ++pos_;
    }
  }

  // " (line L, column C)" of the current position; columns count characters, from 1.
  std::string Where() const { return Where(pos_); }
  std::string Where(std::size_t offset) const {
    // Issues come in text order, so counting resumes from the last position asked for.
    if (offset < where_.offset) {
      where_ = {};
    }
    for (std::size_t i = where_.offset; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++where_.line;
        where_.column = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++where_.column;
      }
    }
    where_.offset = offset;
    return Format(" (line {}, column {})", where_.line, where_.column);
  }

  // Syntax errors end the check: nothing after them can be trusted.
  bool SyntaxError(std::string_view why) {
    std::string where = Where();
    // " (line L, column C)" -> "line L, column C"
    where = where.substr(2, where.size() - 3);
    issues_.push_back({where, Format("invalid JSON: {}", why)});
    return false;
  }

  void ShapeIssue(std::string_view path, std::string message, std::size_t offset) {
    issues_.push_back({std::string(path), message + Where(offset)});
  }

  std::string_view Describe() const {
    if (AtEnd()) {
      return "the end of the text";
    }
    return "this character";
  }

  bool Expect(char c, std::string_view what) {
    SkipSpace();
    if (AtEnd() || Peek() != c) {
      return SyntaxError(Format("expected {} but found {}", what, Describe()));
    }
    ++pos_;
    return true;
  }

  // Parses a JSON string at pos_ (which is '"'); stores its decoded value (for \u escapes only
  // the ASCII range is decoded, which is all keys and enum names need).
  bool ParseString(std::string* out) {
    ++pos_;
    out->clear();
    while (true) {
      if (AtEnd()) {
        return SyntaxError("a string is not closed (missing \")");
      }
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return SyntaxError("control character inside a string (write \\n, \\t ... instead)");
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        const std::size_t length = Utf8SequenceLength(text_.substr(pos_));
        if (length == 0) {
          return SyntaxError("a string is not valid UTF-8 (save the file as UTF-8)");
        }
        out->append(text_.substr(pos_, length));
        pos_ += length;
        continue;
      }
      if (c != '\\') {
        out->push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (AtEnd()) {
        return SyntaxError("a string is not closed (missing \")");
      }
      const char e = Peek();
      ++pos_;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          out->push_back(' ');
          break;
        case 'u': {
          const int value = ParseUnicodeEscape();
          if (value < 0) {
            return false;
          }
          if (value >= 0xDC00 && value <= 0xDFFF) {
            return SyntaxError("\\u escape of a lone low surrogate (\\uDC00-\\uDFFF)");
          }
          if (value >= 0xD800 && value <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") {
              return SyntaxError("\\u escape of a high surrogate must be followed by a low one");
            }
            pos_ += 2;
            const int low = ParseUnicodeEscape();
            if (low < 0) {
              return false;
            }
            if (low < 0xDC00 || low > 0xDFFF) {
              return SyntaxError("\\u escape of a high surrogate must be followed by a low one");
            }
          }
          // Keys and enum names are ASCII; anything else only needs to be well-formed.
          out->push_back(value < 0x80 ? static_cast<char>(value) : '?');
          break;
        }
        default:
          --pos_;
          return SyntaxError(
              "unknown escape in a string (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
              "or \\uXXXX)");
      }
    }
  }

  // Parses the 4 hex digits after "\\u"; -1 (with a syntax error) when they are not there.
  int ParseUnicodeEscape() {
    const auto digits = pos_ + 4 <= text_.size() ? HexDecode(text_.substr(pos_, 4))
                                                 : ward::Result<std::vector<std::uint8_t>>();
    if (pos_ + 4 > text_.size() || !digits) {
      SyntaxError("\\u must be followed by 4 hex digits");
      return -1;
    }
    pos_ += 4;
    return (*digits)[0] * 256 + (*digits)[1];
  }

  // Length of the well-formed UTF-8 sequence at the start of `text`, or 0 (RFC 3629: no
  // overlong forms, no surrogates, nothing above U+10FFFF).
  static std::size_t Utf8SequenceLength(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      low = lead == 0xE0 ? 0xA0 : 0x80;
      high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      low = lead == 0xF0 ? 0x90 : 0x80;
      high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
      return 0;
    }
    if (text.size() < length || byte(1) < low || byte(1) > high) {
      return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
      if (byte(i) < 0x80 || byte(i) > 0xBF) {
        return 0;
      }
    }
    return length;
  }

  bool ParseDigits() {
    if (AtEnd() || Peek() < '0' || Peek() > '9') {
      return SyntaxError("a number needs a digit here");
    }
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      ++pos_;
    }
    return true;
  }

  // Parses a JSON number; *integer tells whether it had no fraction or exponent, *negative
  // whether it had a minus sign.
  bool ParseNumber(bool* integer, bool* negative) {
    *integer = true;
    *negative = false;
    if (Peek() == '-') {
      *negative = true;
      ++pos_;
    }
    if (!AtEnd() && Peek() == '0') {
      ++pos_;
      if (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
        return SyntaxError("numbers may not start with 0");
      }
    } else if (!ParseDigits()) {
      return false;
    }
    if (!AtEnd() && Peek() == '.') {
      *integer = false;
      ++pos_;
      if (!ParseDigits()) {
        return false;
      }
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      *integer = false;
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) {
        ++pos_;
      }
      if (!ParseDigits()) {
        return false;
      }
    }
    return true;
  }

  bool ParseLiteral(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) {
      return SyntaxError("expected a value (an object, list, string, number, true, false or null)");
    }
    pos_ += word.size();
    return true;
  }

  // Parses any JSON value at pos_; `field` (may be null: no shape expectations) tells what
  // belongs there. `element` is true for the items of a repeated field.
  bool ParseValue(const FieldDescriptor* field, bool element, const std::string& path, int depth) {
    SkipSpace();
    if (AtEnd()) {
      return SyntaxError("expected a value but the text ended");
    }
    if (depth > kMaxDepth) {
      return SyntaxError("nested too deeply");
    }
    const std::size_t start = pos_;
    const char c = Peek();
    Kind kind;
    bool integer = false;
    bool negative = false;
    std::string string_value;
    if (c == '{') {
      kind = Kind::kObject;
      const Descriptor* message = nullptr;
      if (field != nullptr && (field->is_repeated() == element) &&
          field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsTimestamp(field)) {
        message = field->message_type();
      }
      // Shape of a mismatched object is reported below; its contents are only syntax-checked.
      if (!ParseObject(message, path, depth + 1)) {
        return false;
      }
    } else if (c == '[') {
      kind = Kind::kArray;
      const bool list_expected = field != nullptr && field->is_repeated() && !element;
      if (!ParseArray(list_expected ? field : nullptr, path, depth + 1)) {
        return false;
      }
    } else if (c == '"') {
      kind = Kind::kString;
      if (!ParseString(&string_value)) {
        return false;
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      kind = Kind::kNumber;
      if (!ParseNumber(&integer, &negative)) {
        return false;
      }
    } else if (c == 't') {
      kind = Kind::kBool;
      if (!ParseLiteral("true")) {
        return false;
      }
    } else if (c == 'f') {
      kind = Kind::kBool;
      if (!ParseLiteral("false")) {
        return false;
      }
    } else if (c == 'n') {
      kind = Kind::kNull;
      if (!ParseLiteral("null")) {
        return false;
      }
    } else {
      return SyntaxError("expected a value (an object, list, string, number, true, false or null)");
    }
    if (field != nullptr && kind != Kind::kNull) {
      CheckKind(*field, element, kind, integer, negative, string_value, path, start);
    }
    return true;
  }

  static bool IsTimestamp(const FieldDescriptor* field) {
    return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
           field->message_type()->full_name() == "google.protobuf.Timestamp";
  }

  static bool IsDecimalInteger(std::string_view text) {
    if (text.starts_with('-')) {
      text.remove_prefix(1);
    }
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  }

  void CheckKind(const FieldDescriptor& field, bool element, Kind kind, bool integer, bool negative,
                 const std::string& string_value, const std::string& path, std::size_t start) {
    if (field.is_repeated() && !element) {
      if (kind != Kind::kArray) {
        ShapeIssue(path, Format("must be a list [...], not {}", KindName(kind)), start);
      }
      return;
    }
    if (kind == Kind::kArray) {
      ShapeIssue(path, "takes a single value, not a list [...]", start);
      return;
    }
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (IsTimestamp(&field)) {
          if (kind != Kind::kString) {
            ShapeIssue(path,
                       Format("must be a time as a string such as \"2026-09-01T08:00:00Z\", "
                              "not {}",
                              KindName(kind)),
                       start);
          }
        } else if (kind != Kind::kObject) {
          ShapeIssue(path, Format("must be an object {{...}}, not {}", KindName(kind)), start);
        }
        return;
      case FieldDescriptor::CPPTYPE_STRING:
        if (kind != Kind::kString) {
          ShapeIssue(path, Format("must be a string, not {}", KindName(kind)), start);
        }
        return;
      case FieldDescriptor::CPPTYPE_BOOL:
        if (kind != Kind::kBool) {
          ShapeIssue(path, Format("must be true or false, not {}", KindName(kind)), start);
        }
        return;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        const bool is_unsigned = field.cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ||
                                 field.cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
        if (kind == Kind::kString && IsDecimalInteger(string_value)) {
          negative = string_value.starts_with('-');
          integer = true;
          kind = Kind::kNumber;  // protobuf's JSON mapping allows quoted integers
        }
        if (kind != Kind::kNumber || !integer) {
          ShapeIssue(path,
                     kind == Kind::kNumber
                         ? std::string("must be a whole number (no decimal point or exponent)")
                         : Format("must be a whole number, not {}", KindName(kind)),
                     start);
        } else if (is_unsigned && negative) {
          ShapeIssue(path, "must not be negative", start);
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const EnumDescriptor& e = *field.enum_type();
        if (kind == Kind::kString) {
          if (e.FindValueByName(string_value) == nullptr) {
            ShapeIssue(path, Format("\"{}\" is not one of {}", string_value, EnumNames(e)), start);
          }
        } else if (kind != Kind::kNumber || !integer) {
          ShapeIssue(path, Format("must be one of {}, not {}", EnumNames(e), KindName(kind)),
                     start);
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        if (kind != Kind::kNumber) {
          ShapeIssue(path, Format("must be a number, not {}", KindName(kind)), start);
        }
        return;
    }
  }

  bool ParseArray(const FieldDescriptor* field, const std::string& path, int depth) {
    ++pos_;  // '['
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return true;
    }
    for (std::size_t index = 0;; ++index) {
      const std::string item = Format("{}[{}]", path, index);
      SkipSpace();
      if (field != nullptr && text_.substr(pos_, 4) == "null") {
        // protobuf would drop the item silently, and a rule or value would vanish
        ShapeIssue(item, "a list item may not be null", pos_);
      }
      if (!ParseValue(field, true, item, depth)) {
        return false;
      }
      SkipSpace();
      if (!AtEnd() && Peek() == ',') {
        ++pos_;
        continue;
      }
      return Expect(']', "',' or ']' after a list item");
    }
  }

  // `message` null: the object is only syntax-checked (its field was unknown or mismatched).
  bool ParseObject(const Descriptor* message, const std::string& path, int depth) {
    ++pos_;  // '{'
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return true;
    }
    std::unordered_set<int> seen_fields;
    std::vector<const FieldDescriptor*> oneof_members;  // first member set, per oneof
    if (message != nullptr) {
      oneof_members.resize(static_cast<std::size_t>(message->oneof_decl_count()), nullptr);
    }
    std::string key;
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() != '"') {
        return SyntaxError(
            Format("expected a field name in double quotes but found {}", Describe()));
      }
      const std::size_t key_start = pos_;
      if (!ParseString(&key)) {
        return false;
      }
      if (!Expect(':', "':' after a field name")) {
        return false;
      }
      const FieldDescriptor* field = nullptr;
      std::string child;
      if (message != nullptr) {
        field = FindField(*message, key);
        if (field == nullptr) {
          child = Join(path, key);
          ShapeIssue(child, Format("unknown field{}", Suggest(*message, key)), key_start);
        } else {
          child = Join(path, field->name());
          if (!seen_fields.insert(field->number()).second) {
            ShapeIssue(child, "is given twice", key_start);
          }
          SkipSpace();
          const bool is_null = text_.substr(pos_, 4) == "null";  // null leaves a oneof unset
          if (const auto* oneof = field->containing_oneof(); oneof != nullptr && !is_null) {
            const FieldDescriptor*& first = oneof_members[static_cast<std::size_t>(oneof->index())];
            if (first != nullptr && first != field) {
              ShapeIssue(Join(path, field->name()),
                         Format("cannot be set together with {} (set only one of {})",
                                first->name(), OneofNames(*oneof)),
                         key_start);
            } else {
              first = field;
            }
          }
        }
      }
      if (!ParseValue(field, false, child, depth)) {
        return false;
      }
      SkipSpace();
      if (!AtEnd() && Peek() == ',') {
        ++pos_;
        continue;
      }
      return Expect('}', "',' or '}' after a field");
    }
  }

  static std::string OneofNames(const google::protobuf::OneofDescriptor& oneof) {
    std::string names;
    for (int i = 0; i < oneof.field_count(); ++i) {
      if (!names.empty()) {
        names += ", ";
      }
      names += oneof.field(i)->name();
    }
    return names;
  }

  struct Position {
    std::size_t offset = 0;
    std::size_t line = 1;
    std::size_t column = 1;
  };

  std::string_view text_;
  std::size_t pos_ = 0;
  mutable Position where_;
  std::vector<PolicyIssue> issues_;
};

}  // namespace

std::vector<PolicyIssue> CheckJsonShape(std::string_view json, const Descriptor& descriptor) {
  return ShapeChecker(json).Run(descriptor);
}

}  // namespace ward::policy::internal
