// SPDX-License-Identifier: Apache-2.0
#include "ward/agent/ipc/frame.h"

#include <gtest/gtest.h>

#include <string>

namespace ward::agent::ipc {
namespace {

std::string Header(std::uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xFF),
          static_cast<char>((n >> 8) & 0xFF), static_cast<char>(n & 0xFF)};
}

TEST(FrameDecoderTest, ReassemblesFramesSplitAcrossReads) {
  v1::IpcRequest request;
  request.set_request_id(42);
  request.mutable_status();
  auto frame = EncodeFrame(request);
  ASSERT_TRUE(frame.has_value());
  const std::string two = *frame + *frame;

  FrameDecoder decoder;
  std::string payload;
  for (char byte : two) {
    ASSERT_TRUE(decoder.Feed(std::string_view(&byte, 1)).has_value());
  }
  ASSERT_TRUE(decoder.Next(payload));
  auto parsed = ParseRequest(payload);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->request_id(), 42u);
  EXPECT_TRUE(parsed->has_status());
  EXPECT_TRUE(decoder.Next(payload));
  EXPECT_FALSE(decoder.Next(payload));
  EXPECT_FALSE(decoder.HasPartialFrame());
}

TEST(FrameDecoderTest, ReportsPartialFrame) {
  FrameDecoder decoder;
  ASSERT_TRUE(decoder.Feed(Header(10) + "abc").has_value());
  std::string payload;
  EXPECT_FALSE(decoder.Next(payload));
  EXPECT_TRUE(decoder.HasPartialFrame());
}

TEST(FrameDecoderTest, RejectsHeaderOverTheLimitAndStaysFailed) {
  FrameDecoder decoder(1024);
  auto fed = decoder.Feed(Header(1025));
  ASSERT_FALSE(fed.has_value());
  EXPECT_EQ(fed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(fed.error().message(), "frame of 1025 bytes is over the limit of 1024");
  EXPECT_EQ(decoder.BufferedBytes(), 0u);
  EXPECT_FALSE(decoder.Feed(Header(1)).has_value());
}

TEST(FrameDecoderTest, AcceptsEmptyFrame) {
  FrameDecoder decoder;
  ASSERT_TRUE(decoder.Feed(Header(0)).has_value());
  std::string payload = "x";
  ASSERT_TRUE(decoder.Next(payload));
  EXPECT_TRUE(payload.empty());
}

TEST(ParseRequestTest, RejectsGarbage) {
  auto parsed = ParseRequest("\xff\xff\xff\xff garbage");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().message(), "the request is not a valid IpcRequest message");
}

TEST(ParseRequestTest, RejectsRequestWithNothingSet) {
  auto parsed = ParseRequest("");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find("asks for nothing"), std::string::npos);
}

TEST(ParseRequestTest, RejectsLargeRequestThatIsNotAConcern) {
  v1::IpcRequest request;
  request.mutable_status();
  std::string payload = request.SerializeAsString();
  // An unknown length-delimited field (number 99) padding the request to 100 KiB.
  const std::string padding(100 * 1024, 'x');
  payload += std::string("\x9a\x06", 2);  // tag: field 99, wire type 2
  std::uint32_t n = static_cast<std::uint32_t>(padding.size());
  while (n >= 0x80) {
    payload.push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  payload.push_back(static_cast<char>(n));
  payload += padding;
  auto parsed = ParseRequest(payload);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find("over the limit of 65536 for this kind"),
            std::string::npos);
}

TEST(ParseRequestTest, AllowsLargeConcern) {
  v1::IpcRequest request;
  request.mutable_submit_concern()->set_screenshot_png(std::string(1024 * 1024, 'p'));
  auto parsed = ParseRequest(request.SerializeAsString());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->submit_concern().screenshot_png().size(), 1024u * 1024u);
}

TEST(EncodeFrameTest, RefusesMessageOverTheLimit) {
  v1::IpcRequest request;
  request.mutable_submit_concern()->set_text(std::string(200, 't'));
  auto frame = EncodeFrame(request, 100);
  ASSERT_FALSE(frame.has_value());
  EXPECT_EQ(frame.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ward::agent::ipc
