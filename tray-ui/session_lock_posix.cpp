// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "ward/tray/session_lock.h"

namespace ward::tray {

Result<std::unique_ptr<SessionLock>> SessionLock::TryTake(const std::string& name) {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime == nullptr || *runtime == '\0') {
    return FailedPreconditionError("XDG_RUNTIME_DIR is not set, so the session has no lock folder");
  }
  const std::filesystem::path path = std::filesystem::path(runtime) / (name + ".lock");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return std::unexpected(ErrnoError("opening " + path.string(), errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return nullptr;
    }
    return std::unexpected(ErrnoError("locking " + path.string(), error));
  }
  return std::unique_ptr<SessionLock>(new SessionLock(fd));
}

SessionLock::~SessionLock() { ::close(static_cast<int>(handle_)); }

}  // namespace ward::tray
