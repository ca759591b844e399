// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>

#include "unique_fd_linux.h"
#include "ward/common/result.h"

namespace ward::platform::internal {

// Waits for a descriptor to become readable, and lets another thread cut the wait short.
// Wait() is for one thread; Wake() is thread-safe.
class WakeableWait {
 public:
  static Result<WakeableWait> Create();

  enum class Outcome { kReadable, kTimedOut, kWoken };
  // Until `fd` is readable, `deadline` passes, or Wake() is called (before or during the wait).
  Result<Outcome> Wait(int fd, std::chrono::steady_clock::time_point deadline);
  void Wake();

 private:
  explicit WakeableWait(UniqueFd event) : event_(std::move(event)) {}
  UniqueFd event_;
};

}  // namespace ward::platform::internal
