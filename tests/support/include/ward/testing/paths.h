// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string_view>

namespace ward::testing {

// Where this checkout and its build directory are (drive Z: under Wine). The absolute paths are
// compiled into one source generated at configure time (tests/support/paths.cpp.in), never into a
// compile definition: the command line of every other test object is then the same in every
// clone, so a fresh clone in another folder hits ccache for all of them.
std::filesystem::path SourceDir();
std::filesystem::path BinaryDir();
// tests/testdata in the checkout.
std::filesystem::path TestdataDir();

// A file the build produces, by its path relative to the build directory: a literal such as
// "agent/app/ward-agent", or a macro defined by ward_test_binary() (cmake/WardHelpers.cmake).
inline std::filesystem::path BuiltFile(std::string_view relative_to_binary_dir) {
  return BinaryDir() / relative_to_binary_dir;
}

}  // namespace ward::testing
