// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ward/platform/settings_control.h"

namespace ward::platform {

struct OsRestoreOptions {
  // Where sysfs is mounted (tests: a directory shaped like it).
  std::filesystem::path sysfs_root = "/sys";
  // The prefix Ward's settings files were written under, and those files as Ward writes them
  // (the paths from core::RenderSettings). A file whose content is Ward's own is deleted; the
  // dconf profile is deleted only when it is exactly what Ward wrote (else it was the site's).
  std::filesystem::path settings_root = "/";
  std::vector<ManagedFile> settings_files;
};

// What RestoreOsDefaults did, in plain lines for the person removing Ward. Value type.
struct OsRestoreReport {
  std::vector<std::string> restored;
  std::vector<std::string> problems;  // what could not be put back (the rest still was)
};

// Puts back what a running agent changed, for when Ward is removed (never while the agent runs:
// it would revert the change as drift). USB: every root hub's `authorized_default` goes back to
// the kernel's own default (usbcore's `authorized_default` parameter: -1 and 1 authorise new
// devices, 0 and 2 are kept as the site set them) and `interface_authorized_default` to 1.
// Settings: Ward's dconf keyfiles, locks and compiled database, its dconf profile and its polkit
// rule are deleted. Exec: fanotify marks and the kernel's ignore marks belong to the agent's
// fanotify group and are gone once it has exited; nothing is left to undo. Best effort: every
// step is tried and each failure reported.
OsRestoreReport RestoreOsDefaults(const OsRestoreOptions& options);

}  // namespace ward::platform
