// SPDX-License-Identifier: Apache-2.0
#include "ward/common/error_windows.h"

#include <windows.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ward {
namespace {

using ::testing::Not;
using ::testing::StartsWith;

TEST(ErrorWindowsTest, MapsWin32CodesAndKeepsTheSystemText) {
  const Error missing = WindowsError("opening C:\\nope", ERROR_FILE_NOT_FOUND);
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.os_code(), ERROR_FILE_NOT_FOUND);
  EXPECT_THAT(missing.message(), StartsWith("opening C:\\nope: "));
  EXPECT_GT(missing.message().size(), std::string("opening C:\\nope: ").size());
  EXPECT_THAT(missing.message(), Not(::testing::EndsWith("\n")));

  EXPECT_EQ(WindowsError("x", ERROR_ACCESS_DENIED).code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(WindowsError("x", ERROR_FILE_EXISTS).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(WindowsError("x", ERROR_DISK_FULL).code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(WindowsError("x", ERROR_INVALID_PARAMETER).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(WindowsError("x", ERROR_NOT_SUPPORTED).code(), ErrorCode::kUnsupported);
  EXPECT_EQ(WindowsError("x", 0xdead).code(), ErrorCode::kInternal);
}

TEST(ErrorWindowsTest, PathsAreShownAsUtf8) {
  const std::filesystem::path path(L"C:\\Users\\Zo\u00eb\\ward.key");
  EXPECT_EQ(PathUtf8(path), "C:\\Users\\Zo\xc3\xab\\ward.key");
}

}  // namespace
}  // namespace ward
