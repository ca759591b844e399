// SPDX-License-Identifier: Apache-2.0
#include <sys/socket.h>

#include <cerrno>

#include "internal/unique_fd.h"

namespace ward::agent::ipc::internal {

long SendSome(int fd, const char* data, unsigned long size) {
  while (true) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return n;
  }
}

}  // namespace ward::agent::ipc::internal
