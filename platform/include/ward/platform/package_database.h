// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "ward/common/result.h"
#include "ward/platform/dpkg_database.h"

namespace ward::platform {

struct PackageDatabaseOptions {
  // The installed system the database describes; paths in the index are within it, and its
  // top-level directory links (the /usr merge) become DirectoryAlias entries.
  std::filesystem::path root = "/";
  // dpkg's administrative directory; empty means <root>/var/lib/dpkg (as dpkg --root).
  std::filesystem::path admindir;
};

// The system's package database (dpkg's on Debian): reads it into a PackageIndex and tells
// when dpkg changes it. WaitForChange() is confined to one thread (the watcher); Load() may be
// called from any thread, one call at a time; the rest is thread-safe.
class PackageDatabase {
 public:
  virtual ~PackageDatabase() = default;

  // Reads the database as it is now into an index of the `selection`'s packages: `status` with
  // the `updates/` journal applied over it (what dpkg itself reads), `diversions`, and the
  // `info/` .list and .md5sums of every installed package (DpkgPackage::Installed) the
  // selection names; the info/ files of the others are not opened. A missing .list skips its
  // package; a missing .md5sums leaves its package's files out (counted in the stats). Errors:
  // kNotFound without a status file, kInvalidArgument when status, a journal file or
  // diversions does not parse, and the errno error of a file that exists but cannot be read.
  virtual Result<std::shared_ptr<const PackageIndex>> Load(const PackageSelection& selection) = 0;

  // Waits up to `max_wait` for dpkg to change its records (status, the journal, diversions).
  // true when it did since the last call; false on timeout or Interrupt().
  virtual Result<bool> WaitForChange(std::chrono::milliseconds max_wait) = 0;
  virtual void Interrupt() = 0;

  // dpkg holds its lock: a run is unpacking files and writing records, which may not match
  // each other until it is done. A digest mismatch seen then is no evidence of a modified file.
  virtual bool DpkgRunning() const = 0;
  // The records changed after the last Load() began, whether it succeeded or not (changes
  // WaitForChange() has not reported yet included): an index loaded before may be out of date.
  virtual bool ChangedSinceLoad() const = 0;

  virtual const std::filesystem::path& root() const = 0;
};

// kNotFound when the admindir does not exist (not a dpkg system); the errno error when it cannot
// be watched. Nothing is read until Load().
Result<std::unique_ptr<PackageDatabase>> CreatePackageDatabase(
    const PackageDatabaseOptions& options);

}  // namespace ward::platform
