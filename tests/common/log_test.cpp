// SPDX-License-Identifier: Apache-2.0
#include "ward/common/log.h"

#include <mutex>
#include <vector>

#include <gtest/gtest.h>

namespace ward::log {
namespace {

class CaptureSink final : public Sink {
 public:
  explicit CaptureSink(std::vector<std::string>* lines) : lines_(lines) {}
  void Write(Level, std::string_view line) override {
    std::scoped_lock lock(mu_);
    lines_->emplace_back(line);
  }

 private:
  std::mutex mu_;
  std::vector<std::string>* lines_;
};

TEST(LogTest, FormatsKeyValueFieldsOnOneLine) {
  std::string line = FormatRecord(Level::kInfo, "policy applied",
                                  {{"version", 3}, {"mode", "enforce"}, {"ok", true}});
  EXPECT_EQ(line, R"(level=info msg="policy applied" version=3 mode=enforce ok=true)");
}

TEST(LogTest, QuotesAndEscapesValuesSoARecordStaysOneLine) {
  std::string line =
      FormatRecord(Level::kError, "bad\nthing", {{"path", "/tmp/a b"}, {"q", "say \"hi\"=x"}});
  EXPECT_EQ(line, R"(level=error msg="bad\nthing" path="/tmp/a b" q="say \"hi\"=x")");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogTest, EmptyValueIsQuoted) {
  EXPECT_EQ(FormatRecord(Level::kDebug, "x", {{"user", ""}}), R"(level=debug msg=x user="")");
}

TEST(LogTest, ControlCharactersAreHexEscaped) {
  EXPECT_EQ(FormatRecord(Level::kWarning, "a\x01", {}), R"(level=warning msg="a\x01")");
}

TEST(LogTest, SinkReceivesRecordsAtOrAboveMinLevel) {
  std::vector<std::string> lines;
  SetSink(std::make_unique<CaptureSink>(&lines));
  SetMinLevel(Level::kWarning);
  Info("ignored");
  Warning("kept", {{"n", 1}});
  SetSink(nullptr);
  SetMinLevel(Level::kInfo);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "level=warning msg=kept n=1");
}

}  // namespace
}  // namespace ward::log
