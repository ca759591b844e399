// SPDX-License-Identifier: Apache-2.0
// Child processes for tests that run the real binaries: start, wait with a bound, stop by PID.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ward::testing {

// Polls `done` every `every` for at most `limit` (a bound, never a timing assertion).
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(60),
                      std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(every);
  }
  return done();
}

// Starts `args[0]` with `args`; its stdout and stderr go to `output` when given (appended), else
// to the test's. -1 when it cannot be started.
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& output = "") {
  std::vector<char*> argv;
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!output.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Sends `signal_number` and waits for the child; its wait status (-1 for no child).
inline int Reap(pid_t pid, int signal_number) {
  if (pid <= 0) {
    return -1;
  }
  ::kill(pid, signal_number);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// The child's wait status once it exits by itself within `limit`; nullopt if it is still
// running then (it is left running).
inline std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds limit) {
  int status = 0;
  const bool exited = WaitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit);
  return exited ? std::optional<int>(status) : std::nullopt;
}

}  // namespace ward::testing
