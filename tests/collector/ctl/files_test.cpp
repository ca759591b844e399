// SPDX-License-Identifier: Apache-2.0
#include "ward/ctl/files.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ward::ctl {
namespace {

using ::testing::HasSubstr;

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ward-ctl-files-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path dir_;
};

TEST_F(FilesTest, ReadsAWholeFileUpToTheLimit) {
  std::ofstream(dir_ / "a.txt", std::ios::binary) << std::string("12345\0six", 9);
  auto content = ReadWholeFile(dir_ / "a.txt", 9);
  ASSERT_TRUE(content.has_value()) << content.error().ToString();
  EXPECT_EQ(*content, std::string("12345\0six", 9));

  auto too_big = ReadWholeFile(dir_ / "a.txt", 8);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(too_big.error().message(), HasSubstr("is 9 bytes; at most 8 are accepted here"));
}

TEST_F(FilesTest, ReportsMissingFilesAndDirectories) {
  auto missing = ReadWholeFile(dir_ / "nope.json", 100);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("nope.json"));

  auto directory = ReadWholeFile(dir_, 100);
  ASSERT_FALSE(directory.has_value());
  EXPECT_THAT(directory.error().message(), HasSubstr("is not a regular file"));
}

TEST_F(FilesTest, WritesNewFilesAndNeverOverwrites) {
  const fs::path path = dir_ / "out.bundle";
  ASSERT_TRUE(WriteNewFile(path, "first").has_value());
  const Status again = WriteNewFile(path, "second");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*ReadWholeFile(path, 100), "first");

  const Status no_dir = WriteNewFile(dir_ / "missing-dir" / "x", "data");
  ASSERT_FALSE(no_dir.has_value());
  EXPECT_EQ(no_dir.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ward::ctl
