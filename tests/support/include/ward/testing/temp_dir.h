// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace ward::testing {

// A fresh directory under the system's temporary directory ($TMPDIR or /tmp on Linux, %TEMP% on
// Windows), private to its owner, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    EXPECT_FALSE(ec) << "no temporary directory: " << ec.message();
    std::random_device device;
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string name = "ward-test-";
      for (int i = 0; i < 10; ++i) {
        name.push_back(kDigits[device() % (sizeof kDigits - 1)]);
      }
      // create_directory is false (without an error) when the name exists already: try again.
      if (std::filesystem::create_directory(base / name, ec)) {
        path_ = base / name;
        std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
        EXPECT_FALSE(ec) << "making " << path_ << " private: " << ec.message();
        return;
      }
      if (ec) {
        break;
      }
    }
    ADD_FAILURE() << "could not create a directory under " << base << ": " << ec.message();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) {
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ward::testing
