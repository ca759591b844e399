// SPDX-License-Identifier: Apache-2.0
#include "wakeable_wait_linux.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace ward::platform::internal {

Result<WakeableWait> WakeableWait::Create() {
  UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event.valid()) {
    return std::unexpected(ErrnoError("eventfd", errno));
  }
  return WakeableWait(std::move(event));
}

Result<WakeableWait::Outcome> WakeableWait::Wait(int fd,
                                                 std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const auto timeout = std::clamp<std::int64_t>(left.count(), 0, 24 * 3600 * 1000);
    pollfd fds[2] = {{fd, POLLIN, 0}, {event_.get(), POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(timeout));
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(ErrnoError("poll", errno));
    }
    if (ready == 0) {
      return Outcome::kTimedOut;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const ssize_t n = ::read(event_.get(), &count, sizeof(count));
      return Outcome::kWoken;
    }
    return Outcome::kReadable;
  }
}

void WakeableWait::Wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(event_.get(), &one, sizeof(one));
}

}  // namespace ward::platform::internal
