// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ward/common/result.h"

namespace ward::tray {

// One tray per login session: the first ward-tray takes the lock, a second one started in the
// same session (a second logon start, a double click) finds it taken and quits. Windows: a named
// mutex in the session's own namespace, "Local\<name>" (session_lock_windows.cpp); Linux: an
// flock() on "$XDG_RUNTIME_DIR/<name>.lock", the session's private runtime folder
// (session_lock_posix.cpp). The OS drops either when the process ends, however it ends.
class SessionLock {
 public:
  static constexpr const char* kTrayName = "Ward.Tray";

  // The lock, or null when another process of this session holds it. An error when it could not
  // be checked (the caller may then run anyway).
  [[nodiscard]] static Result<std::unique_ptr<SessionLock>> TryTake(const std::string& name);

  ~SessionLock();
  SessionLock(const SessionLock&) = delete;
  SessionLock& operator=(const SessionLock&) = delete;

 private:
  explicit SessionLock(std::intptr_t handle) : handle_(handle) {}
  std::intptr_t handle_;  // the mutex HANDLE or the locked file descriptor
};

}  // namespace ward::tray
