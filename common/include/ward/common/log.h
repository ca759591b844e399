// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <concepts>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace ward::log {

enum class Level : std::uint8_t { kDebug, kInfo, kWarning, kError };

// One key=value field of a record. Values are formatted when the field is built.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v == nullptr ? "" : v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <std::integral T>
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);

  std::string_view key;
  std::string value;
};

// Where formatted records go. Implementations must be thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;
  // `line` is one complete record without a trailing newline.
  virtual void Write(Level level, std::string_view line) = 0;
};

// Formats one record as a single line: `level=info msg="policy applied" version=3`.
// Values with spaces, quotes, '=' or control characters are quoted and escaped, so a record is
// always exactly one line and machine-parsable. Exposed for tests and other sinks.
std::string FormatRecord(Level level, std::string_view message,
                         std::initializer_list<Field> fields);

// Process-wide logging facade. The default sink writes to stderr; under systemd (JOURNAL_STREAM
// set) it prefixes each line with the syslog priority (`<3>`), so journald keeps the level, and
// leaves the timestamp to journald. Thread-safe.
void SetSink(std::unique_ptr<Sink> sink);
void SetMinLevel(Level level);
void Write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, m, f);
}
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, m, f);
}
inline void Warning(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kWarning, m, f);
}
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kError, m, f);
}

}  // namespace ward::log
