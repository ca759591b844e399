// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include <gtest/gtest.h>

namespace ward::testing {

// True when CI asked that root-only tests never skip (WARD_REQUIRE_ROOT_TESTS=1).
inline bool RootTestsRequired() {
  const char* v = std::getenv("WARD_REQUIRE_ROOT_TESTS");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace ward::testing

// Skips the current test unless `cond` holds; when WARD_REQUIRE_ROOT_TESTS=1 the skip is a
// failure instead, so CI (root) cannot silently lose a test. Use in tests labelled
// requires_root, for conditions CI guarantees (root, fanotify, mount namespaces).
#define WARD_REQUIRE_OR_SKIP(cond, reason)                  \
  do {                                                      \
    if (!(cond)) {                                          \
      if (::ward::testing::RootTestsRequired()) {           \
        FAIL() << "required test cannot run: " << (reason); \
      }                                                     \
      GTEST_SKIP() << (reason);                             \
    }                                                       \
  } while (false)

#define WARD_REQUIRE_ROOT() WARD_REQUIRE_OR_SKIP(::geteuid() == 0, "needs root")
