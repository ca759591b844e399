// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <source_location>
#include <string_view>

// Invariants (Envoy's table):
//   WARD_CHECK(cond)   always on; logs and aborts. Only for conditions our own code controls.
//   WARD_DCHECK(cond)  debug builds only.
//   WARD_BUG(message)  logs and counts in release builds; aborts in debug builds.
// Never CHECK what the environment controls (missing /sys, full disk, denied permission).

namespace ward::internal {
[[noreturn]] void CheckFailed(std::string_view condition, std::source_location where);
void BugReported(std::string_view message, std::source_location where);
}  // namespace ward::internal

namespace ward {
// How many WARD_BUG()s this process has hit (reported in status and metrics).
std::uint64_t BugCount();
}  // namespace ward

#define WARD_CHECK(cond)                                                     \
  do {                                                                       \
    if (!(cond)) [[unlikely]] {                                              \
      ::ward::internal::CheckFailed(#cond, std::source_location::current()); \
    }                                                                        \
  } while (false)

#ifdef NDEBUG
#define WARD_DCHECK(cond) \
  do {                    \
  } while (false && (cond))
#else
#define WARD_DCHECK(cond) WARD_CHECK(cond)
#endif

#define WARD_BUG(message) ::ward::internal::BugReported((message), std::source_location::current())
