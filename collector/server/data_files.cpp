// SPDX-License-Identifier: Apache-2.0
// The collector's files hold every concern: they are for the collector's own user only.
#include "ward/collector/server/data_files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace ward::collector {
namespace {

namespace fs = std::filesystem;

std::string Octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The mode of `path` when group or others have any permission on it; nullopt when they have
// none, or when it does not exist and `must_exist` is false.
Result<std::optional<mode_t>> OpenMode(const fs::path& path, bool must_exist) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT && !must_exist) {
      return std::optional<mode_t>();
    }
    return std::unexpected(ErrnoError("cannot examine " + path.string(), errno));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) == 0) {
    return std::optional<mode_t>();
  }
  return std::optional<mode_t>(st.st_mode);
}

}  // namespace

Status CheckDataIsPrivate(const fs::path& data_dir, std::string_view storage_url) {
  std::vector<fs::path> dirs;
  if (!data_dir.empty()) {
    dirs.push_back(fs::absolute(data_dir).lexically_normal());
  }
  constexpr std::string_view kSqlite = "sqlite:";
  fs::path db;
  if (storage_url.starts_with(kSqlite)) {
    db = fs::absolute(fs::path(storage_url.substr(kSqlite.size()))).lexically_normal();
    if (dirs.empty() || dirs.front() != db.parent_path()) {
      dirs.push_back(db.parent_path());
    }
  }
  std::string open;   // "<path> (mode 0755), ..."
  std::string fixes;  // "chmod 700 <dir> && chmod 600 <file> <file>"
  for (const fs::path& dir : dirs) {
    WARD_ASSIGN_OR_RETURN(auto mode, OpenMode(dir, /*must_exist=*/true));
    if (mode.has_value()) {
      open += (open.empty() ? "" : ", ") + dir.string() + " (mode " + Octal(*mode) + ")";
      fixes += (fixes.empty() ? "chmod 700 " : " && chmod 700 ") + dir.string();
    }
  }
  std::string files;
  if (!db.empty()) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      const fs::path file = db.string() + suffix;
      WARD_ASSIGN_OR_RETURN(auto mode, OpenMode(file, /*must_exist=*/false));
      if (mode.has_value()) {
        open += (open.empty() ? "" : ", ") + file.string() + " (mode " + Octal(*mode) + ")";
        files += " " + file.string();
      }
    }
  }
  if (!files.empty()) {
    fixes += (fixes.empty() ? "chmod 600" : " && chmod 600") + files;
  }
  if (open.empty()) {
    return OkStatus();
  }
  return PermissionDeniedError(
      "refusing to start: other users of this machine could read the " +
      std::string("concerns in ") + open +
      ". Make them private (only the collector's own user) with: " + fixes);
}

}  // namespace ward::collector
