// SPDX-License-Identifier: Apache-2.0
#include "ward/common/error.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "ward/common/result.h"

namespace ward {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) {
    return InvalidArgumentError("must be positive, got " + std::to_string(v));
  }
  return v;
}

Result<int> Doubled(int v) {
  WARD_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return x * 2;
}

Status CheckBoth(int a, int b) {
  WARD_RETURN_IF_ERROR(ParsePositive(a));
  WARD_RETURN_IF_ERROR(ParsePositive(b));
  return OkStatus();
}

TEST(ErrorTest, AssignOrReturnPassesValueThrough) {
  auto r = Doubled(21);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 42);
}

TEST(ErrorTest, AssignOrReturnPropagatesError) {
  auto r = Doubled(-1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "must be positive, got -1");
}

TEST(ErrorTest, ReturnIfErrorStopsAtFirstError) {
  EXPECT_TRUE(CheckBoth(1, 2).has_value());
  auto s = CheckBoth(1, 0);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().message(), "must be positive, got 0");
}

TEST(ErrorTest, WithContextPrefixesMessageAndKeepsCode) {
  Error e = Error(ErrorCode::kNotFound, "no such key", 2).WithContext("opening store");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_EQ(e.message(), "opening store: no such key");
  EXPECT_EQ(e.os_code(), 2);
  EXPECT_EQ(e.ToString(), "NOT_FOUND: opening store: no such key (os error 2)");
}

TEST(ErrorTest, ErrnoErrorMapsCanonicalCodes) {
  EXPECT_EQ(ErrnoError("open", ENOENT).code(), ErrorCode::kNotFound);
  EXPECT_EQ(ErrnoError("write", ENOSPC).code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(ErrnoError("open", EACCES).code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ErrnoError("read", EIO).code(), ErrorCode::kDataLoss);
  Error e = ErrnoError("open /x", ENOENT);
  EXPECT_EQ(e.os_code(), ENOENT);
  EXPECT_EQ(e.message(), "open /x: No such file or directory");
}

TEST(ErrorTest, CodeNamesAreStable) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kResourceExhausted), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kFailedPrecondition), "FAILED_PRECONDITION");
}

}  // namespace
}  // namespace ward
