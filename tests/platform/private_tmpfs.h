// SPDX-License-Identifier: Apache-2.0
#pragma once

// Puts the calling (single-threaded) test process into its own mount namespace, with every
// mount private, and mounts a tmpfs there. fanotify marks on that tmpfs cannot see or hold any
// exec outside this process tree's namespace, and the namespace dies with the process.

#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace ward::testing {

// Returns "" on success, else what failed. `dir` receives the tmpfs mount point.
inline std::string EnterPrivateTmpfs(std::filesystem::path& dir) {
  if (::unshare(CLONE_NEWNS) != 0) {
    return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("making / private: ") + std::strerror(errno);
  }
  char templ[] = "/tmp/ward-exec-XXXXXX";
  if (::mkdtemp(templ) == nullptr) {
    return std::string("mkdtemp: ") + std::strerror(errno);
  }
  if (::mount("ward-test", templ, "tmpfs", 0, "size=64m,mode=0755") != 0) {
    return std::string("mount tmpfs: ") + std::strerror(errno);
  }
  dir = templ;
  return "";
}

// Unmounts the tmpfs and removes its (host-visible, empty) mount point.
inline void LeavePrivateTmpfs(const std::filesystem::path& dir) {
  if (!dir.empty()) {
    ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
  }
}

// Forks and execs `argv`; returns the pid. The child exits 126 when execve fails with EPERM
// (what a refused exec gives) and 127 for any other execve failure.
inline pid_t Spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(args[0], args.data());
    ::_exit(errno == EPERM ? 126 : 127);
  }
  return pid;
}

// Waits up to `limit` for `pid`; its exit code, or -1 if it is still running (then killed).
inline int WaitExit(pid_t pid, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// The system's x86-64 / aarch64 dynamic loader, or "" if none is known.
inline std::filesystem::path SystemLoader() {
  for (const char* p : {"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"}) {
    if (std::filesystem::exists(p)) {
      return p;
    }
  }
  return {};
}

}  // namespace ward::testing
