// SPDX-License-Identifier: Apache-2.0
#include <windows.h>

#include "ward/common/error_windows.h"
#include "ward/tray/session_lock.h"

namespace ward::tray {

// "Local\" is the kernel object namespace of the caller's own logon session, so each learner
// signed in (fast user switching, Remote Desktop) gets a tray of their own.
Result<std::unique_ptr<SessionLock>> SessionLock::TryTake(const std::string& name) {
  const std::wstring full = L"Local\\" + Utf16(name);
  HANDLE mutex = CreateMutexW(nullptr, FALSE, full.c_str());
  if (mutex == nullptr) {
    // A non-mutex object of that name, or one we may not open: someone else has it.
    const DWORD error = GetLastError();
    if (error == ERROR_ACCESS_DENIED || error == ERROR_INVALID_HANDLE) {
      return nullptr;
    }
    return std::unexpected(WindowsError("creating the tray's session mutex", error));
  }
  if (GetLastError() == ERROR_ALREADY_EXISTS) {
    CloseHandle(mutex);
    return nullptr;
  }
  return std::unique_ptr<SessionLock>(new SessionLock(reinterpret_cast<std::intptr_t>(mutex)));
}

SessionLock::~SessionLock() { CloseHandle(reinterpret_cast<HANDLE>(handle_)); }

}  // namespace ward::tray
