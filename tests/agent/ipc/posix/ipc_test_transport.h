// SPDX-License-Identifier: Apache-2.0
// The IPC tests' view of the Linux transport (a Unix socket); windows/ipc_test_transport.h is the
// named-pipe one. CMake puts the folder for the OS on the include path.
#pragma once

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "../raw_connection.h"
#include "ward/agent/ipc/frame.h"

namespace ward::agent::ipc::testing {

// A private directory for one test's socket, 0755 so a test child running as another uid can
// reach the socket inside. Removed on destruction.
class TempSocketDir {
 public:
  TempSocketDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ward-ipc-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    ::chmod(dir_.c_str(), 0755);
  }
  ~TempSocketDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir() const { return dir_; }
  std::filesystem::path socket() const { return dir_ / "agent.sock"; }
  std::filesystem::path endpoint() const { return socket(); }

 private:
  std::filesystem::path dir_;
};

// A bare connection that speaks raw bytes, to send what a real client never would.
class RawConnection : public RawConnectionBase<RawConnection> {
 public:
  explicit RawConnection(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const auto& p = path.native();
    std::copy(p.begin(), p.end(), addr.sun_path);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool Write(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // RawConnectionBase's transport: the socket.
  long ReadBytes(char* buf, std::size_t size, std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) {
      return 0;
    }
    const ssize_t n = ::recv(fd_, buf, size, 0);
    return n <= 0 ? -1 : n;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// What the contract tests expect of every transport.
using TestEndpoint = TempSocketDir;

// This process's Caller::user_id and process_id as the server must see them.
inline std::string OwnUserId() { return std::to_string(::geteuid()); }
inline std::int64_t OwnProcessId() { return ::getpid(); }
// A user id that is not this process's.
inline std::string OtherUserId() { return std::to_string(::geteuid() + 1); }

}  // namespace ward::agent::ipc::testing
