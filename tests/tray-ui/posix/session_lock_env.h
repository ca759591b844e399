// SPDX-License-Identifier: Apache-2.0
// The session the lock tests run in, on Linux: a private XDG_RUNTIME_DIR of their own.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace ward::tray::testing {

inline std::string ProcessId() { return std::to_string(::getpid()); }

class SessionEnvironment {
 public:
  SessionEnvironment() {
    if (const char* old = ::getenv("XDG_RUNTIME_DIR"); old != nullptr) {
      old_ = old;
      had_old_ = true;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "ward-tray-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    ::setenv("XDG_RUNTIME_DIR", dir_.c_str(), 1);
  }
  ~SessionEnvironment() {
    if (had_old_) {
      ::setenv("XDG_RUNTIME_DIR", old_.c_str(), 1);
    } else {
      ::unsetenv("XDG_RUNTIME_DIR");
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SessionEnvironment(const SessionEnvironment&) = delete;
  SessionEnvironment& operator=(const SessionEnvironment&) = delete;

 private:
  std::filesystem::path dir_;
  std::string old_;
  bool had_old_ = false;
};

}  // namespace ward::tray::testing
