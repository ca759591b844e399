// SPDX-License-Identifier: Apache-2.0
#include "ward/common/check.h"

#include <atomic>
#include <cstdlib>

#include "ward/common/log.h"

namespace ward {
namespace {
std::atomic<std::uint64_t> g_bug_count{0};
}  // namespace

std::uint64_t BugCount() { return g_bug_count.load(std::memory_order_relaxed); }

namespace internal {

void CheckFailed(std::string_view condition, std::source_location where) {
  log::Error("check failed", {{"condition", condition},
                              {"file", where.file_name()},
                              {"line", static_cast<std::uint64_t>(where.line())}});
  std::abort();
}

void BugReported(std::string_view message, std::source_location where) {
  g_bug_count.fetch_add(1, std::memory_order_relaxed);
  log::Error("bug", {{"what", message},
                     {"file", where.file_name()},
                     {"line", static_cast<std::uint64_t>(where.line())}});
#ifndef NDEBUG
  std::abort();
#endif
}

}  // namespace internal
}  // namespace ward
