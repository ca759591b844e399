// SPDX-License-Identifier: Apache-2.0
#include "ward/common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>

namespace ward::log {
namespace {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

// syslog priorities, which journald reads from a "<N>" line prefix.
int SyslogPriority(Level level) {
  switch (level) {
    case Level::kDebug:
      return 7;
    case Level::kInfo:
      return 6;
    case Level::kWarning:
      return 4;
    case Level::kError:
      return 3;
  }
  return 6;
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '=' || c == '\\' || u == 0x7f) {
      return true;
    }
  }
  return false;
}

void AppendValue(std::string& out, std::string_view v) {
  if (!NeedsQuoting(v)) {
    out.append(v);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out.append("\\x");
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendKey(std::string& out, std::string_view k) {
  // Keys are chosen by our code; still, never let one break the line format.
  for (char c : k) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u <= 0x20 || c == '=' || c == '"' || u == 0x7f ? '_' : c);
  }
}

class StderrSink final : public Sink {
 public:
  StderrSink() : journald_(std::getenv("JOURNAL_STREAM") != nullptr) {}

  void Write(Level level, std::string_view line) override {
    std::string out;
    out.reserve(line.size() + 40);
    if (journald_) {
      out.push_back('<');
      out.append(std::to_string(SyslogPriority(level)));
      out.push_back('>');
    } else {
      // UTC from the calendar types of <chrono>: no gmtime_r, which not every OS has.
      const auto now =
          std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
      const auto day = std::chrono::floor<std::chrono::days>(now);
      const std::chrono::year_month_day date{day};
      const std::chrono::hh_mm_ss time{now - day};
      char buf[64];
      std::snprintf(
          buf, sizeof buf, "ts=%04d-%02u-%02uT%02d:%02d:%02d.%03dZ ", static_cast<int>(date.year()),
          static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
          static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
          static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
      out.append(buf);
    }
    out.append(line);
    out.push_back('\n');
    std::scoped_lock lock(mu_);
    std::fwrite(out.data(), 1, out.size(), stderr);
    std::fflush(stderr);
  }

 private:
  const bool journald_;
  std::mutex mu_;
};

struct State {
  std::shared_mutex mu;
  std::unique_ptr<Sink> sink = std::make_unique<StderrSink>();  // guarded by mu
  std::atomic<Level> min_level{Level::kInfo};
};

State& GetState() {
  static State* state = new State();  // never destroyed: logging works during static teardown
  return *state;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

std::string FormatRecord(Level level, std::string_view message,
                         std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(32 + message.size() + fields.size() * 24);
  out.append("level=").append(LevelName(level)).append(" msg=");
  AppendValue(out, message);
  for (const Field& f : fields) {
    out.push_back(' ');
    AppendKey(out, f.key);
    out.push_back('=');
    AppendValue(out, f.value);
  }
  return out;
}

void SetSink(std::unique_ptr<Sink> sink) {
  State& s = GetState();
  std::unique_lock lock(s.mu);
  s.sink = sink ? std::move(sink) : std::make_unique<StderrSink>();
}

void SetMinLevel(Level level) { GetState().min_level.store(level, std::memory_order_relaxed); }

void Write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  State& s = GetState();
  if (level < s.min_level.load(std::memory_order_relaxed)) {
    return;
  }
  std::string line = FormatRecord(level, message, fields);
  std::shared_lock lock(s.mu);
  s.sink->Write(level, line);
}

}  // namespace ward::log
