// SPDX-License-Identifier: Apache-2.0
#include "ward/app/concern.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace ward::app {
namespace {

constexpr std::array<std::uint8_t, 8> kPngSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
// Digits and capitals without the look-alikes 0/O and 1/I/L: 31 symbols, 8 of them ~39.6 bits.
constexpr std::string_view kReferenceAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

std::size_t CodePoints(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

std::string Megabytes(std::size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

Status ValidateConcern(const v1::SubmitConcernRequest& request) {
  if (request.text().empty() && request.screenshot_png().empty() && !request.in_danger()) {
    return InvalidArgumentError(
        "Please write a few words about what happened, or attach a screenshot.");
  }
  if (const std::size_t n = CodePoints(request.text()); n > kMaxConcernTextChars) {
    return InvalidArgumentError("Your message is " + std::to_string(n) +
                                " characters long. Please shorten it to " +
                                std::to_string(kMaxConcernTextChars) + " or fewer and send again.");
  }
  const std::string& png = request.screenshot_png();
  if (!png.empty()) {
    if (png.size() > kMaxScreenshotBytes) {
      return InvalidArgumentError(
          "The screenshot is too big to send (" + Megabytes(png.size()) +
          "; the limit is 4 MB). Please remove it or attach a smaller one.");
    }
    const bool is_png =
        png.size() >= kPngSignature.size() + 8 &&
        std::equal(kPngSignature.begin(), kPngSignature.end(), png.begin(),
                   [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); }) &&
        png.compare(12, 4, "IHDR") == 0;
    if (!is_png) {
      return InvalidArgumentError(
          "The attached picture isn't a PNG screenshot, so it can't be sent. Please remove it "
          "or take the screenshot again.");
    }
  }
  return OkStatus();
}

std::string MakeConcernReference(Random& random) {
  // Rejection sampling keeps every symbol equally likely (248 = 8 * 31).
  constexpr std::uint8_t kLimit = 8 * kReferenceAlphabet.size();
  std::string out;
  std::size_t symbols = 0;
  while (symbols < 8) {
    std::array<std::uint8_t, 16> bytes{};
    random.Fill(bytes);
    for (const std::uint8_t b : bytes) {
      if (b >= kLimit || symbols == 8) {
        continue;
      }
      if (symbols == 4) {
        out += '-';
      }
      out += kReferenceAlphabet[b % kReferenceAlphabet.size()];
      ++symbols;
    }
  }
  return out;
}

}  // namespace ward::app
