// SPDX-License-Identifier: Apache-2.0
// A small, strict XML reader for one rendered event: elements, attributes, text, the five
// predefined entities and character references; comments and the XML declaration skipped; no
// DTD, no external entities. Bounded in size and depth.
#include "ward/platform/applocker_events.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ward::platform {
namespace {

constexpr std::size_t kMaxEventBytes = 64 * 1024;
constexpr std::size_t kMaxDepth = 16;
constexpr std::string_view kProvider = "Microsoft-Windows-AppLocker";
constexpr std::string_view kNoRule = "00000000-0000-0000-0000-000000000000";

// The parts of the document we read: the text of each leaf element and the attributes of each
// element, keyed by their path ("Event/System/EventID", "Event/System/TimeCreated@SystemTime").
// The first occurrence of a path wins.
// "/root" holds the root element's name.
using Fields = std::map<std::string, std::string, std::less<>>;
constexpr std::string_view kRootKey = "/root";

Error Bad(std::string_view what) {
  return Error(ErrorCode::kInvalidArgument, "AppLocker event XML: " + std::string(what));
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Text or an attribute value with its entities decoded.
Result<std::string> Decode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '<') {
      return std::unexpected(Bad("'<' inside text or a value"));
    }
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    const std::size_t end = raw.find(';', i);
    if (end == std::string_view::npos || end - i > 12) {
      return std::unexpected(Bad("an unterminated entity"));
    }
    const std::string_view entity = raw.substr(i + 1, end - i - 1);
    static constexpr std::pair<std::string_view, char> kNamed[] = {
        {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    const auto* named =
        std::ranges::find(kNamed, entity, &std::pair<std::string_view, char>::first);
    if (named != std::end(kNamed)) {
      out.push_back(named->second);
    } else if (entity.size() >= 2 && entity[0] == '#') {
      const bool hex = entity[1] == 'x';
      const std::string_view digits = entity.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      const auto [ptr, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || cp == 0 ||
          cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return std::unexpected(Bad("a bad character reference"));
      }
      AppendUtf8(out, cp);
    } else {
      return std::unexpected(Bad("an unknown entity &" + std::string(entity) + ";"));
    }
    i = end;
  }
  return out;
}

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  Result<Fields> Read() {
    Fields fields;
    std::vector<std::string> open;  // element names, outermost first
    std::string path;
    bool root_seen = false;
    while (pos_ < text_.size()) {
      const std::size_t lt = text_.find('<', pos_);
      const std::string_view between =
          text_.substr(pos_, (lt == std::string_view::npos ? text_.size() : lt) - pos_);
      if (open.empty()) {
        if (between.find_first_not_of(" \t\r\n") != std::string_view::npos) {
          return std::unexpected(Bad("text outside the root element"));
        }
      } else if (!between.empty()) {
        WARD_ASSIGN_OR_RETURN(std::string text, Decode(between));
        fields.try_emplace(path, std::move(text));
      }
      if (lt == std::string_view::npos) {
        break;
      }
      pos_ = lt;
      if (Skip("<?", "?>") || Skip("<!--", "-->")) {
        continue;
      }
      if (text_.substr(pos_).starts_with("<!")) {
        return std::unexpected(Bad("a DTD or CDATA section (not allowed)"));
      }
      if (text_.substr(pos_).starts_with("</")) {
        pos_ += 2;
        const std::string name = Name();
        SkipSpace();
        if (open.empty() || name != open.back() || !Eat('>')) {
          return std::unexpected(Bad("a mismatched end tag </" + name + ">"));
        }
        open.pop_back();
        path.resize(open.empty() ? 0 : path.rfind('/'));
        continue;
      }
      ++pos_;
      const std::string name = StripPrefix(Name());
      if (name.empty()) {
        return std::unexpected(Bad("an element without a name"));
      }
      if (open.empty() && root_seen) {
        return std::unexpected(Bad("more than one root element"));
      }
      if (open.size() >= kMaxDepth) {
        return std::unexpected(Bad("nested too deeply"));
      }
      if (!root_seen) {
        fields.emplace(kRootKey, name);
      }
      root_seen = true;
      const std::string element = path.empty() ? name : path + "/" + name;
      while (true) {
        SkipSpace();
        if (Eat('>')) {
          open.push_back(name);
          path = element;
          break;
        }
        if (Eat('/')) {
          if (!Eat('>')) {
            return std::unexpected(Bad("'/' not followed by '>'"));
          }
          fields.try_emplace(element, "");
          break;
        }
        const std::string attribute = StripPrefix(Name());
        SkipSpace();
        if (attribute.empty() || !Eat('=')) {
          return std::unexpected(Bad("a malformed attribute in <" + name + ">"));
        }
        SkipSpace();
        if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) {
          return std::unexpected(Bad("an attribute value without quotes"));
        }
        const char quote = text_[pos_++];
        const std::size_t close = text_.find(quote, pos_);
        if (close == std::string_view::npos) {
          return std::unexpected(Bad("an unterminated attribute value"));
        }
        WARD_ASSIGN_OR_RETURN(std::string value, Decode(text_.substr(pos_, close - pos_)));
        pos_ = close + 1;
        fields.try_emplace(element + "@" + attribute, std::move(value));
      }
    }
    if (!open.empty()) {
      return std::unexpected(Bad("<" + open.back() + "> is not closed"));
    }
    if (!root_seen) {
      return std::unexpected(Bad("no element"));
    }
    return fields;
  }

 private:
  bool Skip(std::string_view start, std::string_view end) {
    if (!text_.substr(pos_).starts_with(start)) {
      return false;
    }
    const std::size_t at = text_.find(end, pos_ + start.size());
    pos_ = at == std::string_view::npos ? text_.size() : at + end.size();
    return true;
  }
  std::string Name() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && IsNameChar(text_[pos_])) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }
  // Namespace prefixes are not used by the event schema; "ns:Name" reads as "Name".
  static std::string StripPrefix(std::string name) {
    const std::size_t colon = name.rfind(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::string Field(const Fields& fields, std::string_view key) {
  const auto it = fields.find(key);
  return it == fields.end() ? std::string() : it->second;
}

// "-" is how AppLocker writes an empty field.
std::string Dash(std::string text) { return text == "-" ? std::string() : text; }

std::string Lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return text;
}

}  // namespace

Result<AppLockerEvent> ParseAppLockerEvent(std::string_view xml) {
  if (xml.size() > kMaxEventBytes) {
    return std::unexpected(Bad("larger than 64 KiB"));
  }
  WARD_ASSIGN_OR_RETURN(const Fields fields, Reader(xml).Read());
  if (Field(fields, kRootKey) != "Event") {
    return std::unexpected(Bad("the root element is not <Event>"));
  }
  const std::string provider = Field(fields, "Event/System/Provider@Name");
  const std::string id_text = Field(fields, "Event/System/EventID");
  AppLockerEvent out;
  const auto [ptr, ec] =
      std::from_chars(id_text.data(), id_text.data() + id_text.size(), out.event_id);
  if (id_text.empty() || ec != std::errc() || ptr != id_text.data() + id_text.size()) {
    return std::unexpected(Bad("EventID '" + id_text + "' is not a number"));
  }
  if (provider != kProvider) {
    return std::unexpected(
        Error(ErrorCode::kUnsupported, "not an AppLocker event (provider '" + provider + "')"));
  }
  switch (out.event_id) {
    case 8002:
      out.decision = v1::DECISION_ALLOW;
      break;
    case 8003:
      out.decision = v1::DECISION_WOULD_BLOCK;
      break;
    case 8004:
      out.decision = v1::DECISION_BLOCK;
      break;
    default:
      return std::unexpected(Error(ErrorCode::kUnsupported,
                                   "AppLocker event " + id_text + " is not a program decision"));
  }
  constexpr std::string_view kData = "Event/UserData/RuleAndFileData/";
  const auto data = [&](std::string_view name) {
    return Field(fields, std::string(kData) + std::string(name));
  };
  out.time_created = Field(fields, "Event/System/TimeCreated@SystemTime");
  out.file_path = Dash(data("FullFilePath"));
  if (out.file_path.empty()) {
    out.file_path = Dash(data("FilePath"));
  }
  if (out.file_path.empty()) {
    return std::unexpected(Bad("no FilePath"));
  }
  out.file_hash = Lower(Dash(data("FileHash")));
  out.fqbn = Dash(data("Fqbn"));
  out.publisher = out.fqbn.substr(0, out.fqbn.find('\\'));
  out.user_sid = Dash(data("TargetUser"));
  const std::string pid = data("TargetProcessId");
  if (!pid.empty()) {
    const auto [p, e] = std::from_chars(pid.data(), pid.data() + pid.size(), out.pid);
    if (e != std::errc() || p != pid.data() + pid.size()) {
      return std::unexpected(Bad("TargetProcessId '" + pid + "' is not a number"));
    }
  }
  std::string guid = Lower(Dash(data("RuleId")));
  if (guid.size() == 38 && guid.front() == '{' && guid.back() == '}') {
    guid = guid.substr(1, 36);
  }
  out.rule_guid = guid;
  out.rule_name = Dash(data("RuleName"));
  if (out.rule_name.starts_with("Ward ")) {
    out.rule_id = out.rule_name.substr(5);
  } else if (out.rule_name.starts_with("(Default Rule)")) {
    out.rule_id = "applocker-default";
  }
  return out;
}

v1::ExecEvent ToExecEvent(const AppLockerEvent& event) {
  v1::ExecEvent out;
  out.set_decision(event.decision);
  out.set_path(event.file_path);
  out.set_signer(event.publisher);
  out.set_pid(static_cast<std::int32_t>(event.pid));
  out.set_rule_id(event.rule_id);
  const bool no_rule = event.rule_guid.empty() || event.rule_guid == kNoRule;
  std::string reason = "AppLocker event " + std::to_string(event.event_id) + ": ";
  if (no_rule) {
    reason += "no rule allows it";
  } else if (event.rule_id.empty()) {
    reason += "rule '" + event.rule_name + "' {" + event.rule_guid + "}, not one of Ward's";
  } else {
    reason += "rule '" + event.rule_name + "'";
  }
  if (!event.file_hash.empty()) {
    reason += "; Authenticode SHA-256 " + event.file_hash;
  }
  out.set_reason(std::move(reason));
  return out;
}

}  // namespace ward::platform
