// SPDX-License-Identifier: Apache-2.0
// Windows only (compiled into ward::common on Windows builds).
#pragma once

#include <cstdint>
#include <utility>

namespace ward {

// Owns one Win32 kernel object HANDLE (typed void* here so that no header needs <windows.h>) and
// closes it with CloseHandle. Null and INVALID_HANDLE_VALUE both mean "none". Move-only;
// thread-compatible.
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(void* handle) : handle_(handle) {}
  ~UniqueHandle() { Reset(); }
  UniqueHandle(UniqueHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  UniqueHandle& operator=(UniqueHandle&& other) noexcept {
    if (this != &other) {
      Reset(std::exchange(other.handle_, nullptr));
    }
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;

  void* get() const { return handle_; }
  bool valid() const {
    return handle_ != nullptr && handle_ != reinterpret_cast<void*>(static_cast<std::intptr_t>(-1));
  }
  // Gives up ownership without closing.
  void* Release() { return std::exchange(handle_, nullptr); }
  // Closes the handle held (if any) and holds `handle` instead.
  void Reset(void* handle = nullptr);

 private:
  void* handle_ = nullptr;
};

}  // namespace ward
