// SPDX-License-Identifier: Apache-2.0
// The IPC tests' view of the Windows transport (a named pipe); posix/ipc_test_transport.h is the
// Unix-socket one. CMake puts the folder for the OS on the include path.
#pragma once

#include <windows.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../raw_connection.h"
#include "ward/common/sid_windows.h"

namespace ward::agent::ipc::testing {

// A pipe name of this test's own, "\\.\pipe\ward-test-<pid>-<n>".
class TestEndpoint {
 public:
  TestEndpoint() {
    static std::atomic<int> counter{0};
    name_ = LR"(\\.\pipe\ward-test-)" + std::to_wstring(GetCurrentProcessId()) + L"-" +
            std::to_wstring(++counter);
  }
  std::filesystem::path endpoint() const { return name_; }

 private:
  std::wstring name_;
};

// A bare connection that speaks raw bytes, to send what a real client never would.
class RawConnection : public RawConnectionBase<RawConnection> {
 public:
  explicit RawConnection(const std::filesystem::path& pipe) {
    for (int attempt = 0; attempt < 200 && pipe_ == INVALID_HANDLE_VALUE; ++attempt) {
      pipe_ = CreateFileW(pipe.c_str(), GENERIC_READ | FILE_WRITE_DATA, 0, nullptr, OPEN_EXISTING,
                          0, nullptr);
      if (pipe_ == INVALID_HANDLE_VALUE && GetLastError() == ERROR_PIPE_BUSY) {
        WaitNamedPipeW(pipe.c_str(), 50);
      } else if (pipe_ == INVALID_HANDLE_VALUE) {
        break;
      }
    }
  }
  ~RawConnection() {
    if (pipe_ != INVALID_HANDLE_VALUE) {
      CloseHandle(pipe_);
    }
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return pipe_ != INVALID_HANDLE_VALUE; }

  bool Write(std::string_view bytes) {
    while (!bytes.empty()) {
      DWORD n = 0;
      if (!WriteFile(pipe_, bytes.data(), static_cast<DWORD>(bytes.size()), &n, nullptr) ||
          n == 0) {
        return false;
      }
      bytes.remove_prefix(n);
    }
    return true;
  }

  // RawConnectionBase's transport: the pipe, polled (a synchronous pipe handle has no timeout).
  long ReadBytes(char* buf, std::size_t size, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    DWORD available = 0;
    while (true) {
      if (!PeekNamedPipe(pipe_, nullptr, 0, nullptr, &available, nullptr)) {
        return -1;
      }
      if (available > 0) {
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    DWORD n = 0;
    if (!ReadFile(pipe_, buf, std::min<DWORD>(available, static_cast<DWORD>(size)), &n, nullptr) ||
        n == 0) {
      return -1;
    }
    return static_cast<long>(n);
  }

  HANDLE handle() const { return pipe_; }

 private:
  HANDLE pipe_ = INVALID_HANDLE_VALUE;
};

// This process's user SID, straight from its own token: what the server must name the caller.
inline std::string OwnUserId() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
    return "no token";
  }
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> buffer(size == 0 ? 1 : size);
  std::string sid = "no user";
  if (GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
    sid = SidString(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid);
  }
  CloseHandle(token);
  return sid;
}
inline std::int64_t OwnProcessId() { return GetCurrentProcessId(); }
// A user id that is not this process's (a well-formed SID no account has).
inline std::string OtherUserId() { return "S-1-5-21-1-2-3-4242"; }

}  // namespace ward::agent::ipc::testing
