// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ward/common/result.h"

namespace ward::platform {

// One file Ward owns, relative to the root prefix ("etc/dconf/db/ward.d/00-ward").
struct ManagedFile {
  std::filesystem::path path;
  std::string content;
  friend bool operator==(const ManagedFile&, const ManagedFile&) = default;
};

// Writes Ward's settings files under a root prefix, compiles the dconf database, and watches
// them for drift. Confined to one thread, except Interrupt() (thread-safe).
class SettingsControl {
 public:
  virtual ~SettingsControl() = default;

  // Writes each file atomically (temporary file + rename, mode 0644), then compiles the dconf
  // databases below <root>/etc/dconf/db when a dconf file is among them. Watches the files'
  // directories from then on.
  virtual Status Apply(const std::vector<ManagedFile>& files) = 0;

  // The files (of `files`, plus the compiled dconf database "etc/dconf/db/ward") whose content
  // on disk is not what the last Apply() wrote. Empty when nothing drifted.
  virtual Result<std::vector<std::filesystem::path>> Drifted(
      const std::vector<ManagedFile>& files) = 0;

  // Waits up to `max_wait` for any change in a watched directory. true when there was one
  // (call Drifted() to see what), false on timeout or Interrupt().
  virtual Result<bool> WaitForChange(std::chrono::milliseconds max_wait) = 0;

  virtual void Interrupt() = 0;
};

struct SettingsControlOptions {
  // Everything is written below this prefix; tests use a temporary directory.
  std::filesystem::path root = "/";
  // The dconf CLI ("dconf update <root>/etc/dconf/db" compiles the keyfiles).
  std::string dconf_command = "dconf";
};

// inotify-based (Linux). kUnavailable/kResourceExhausted when inotify cannot be set up.
Result<std::unique_ptr<SettingsControl>> CreateSettingsControl(
    const SettingsControlOptions& options);

}  // namespace ward::platform
