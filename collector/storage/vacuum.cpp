// SPDX-License-Identifier: Apache-2.0
// ward-collector vacuum: an existing SQLite store switched to incremental auto-vacuum, once.
#include <fcntl.h>
#include <unistd.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "ward/collector/storage/storage.h"

namespace ward::collector {
namespace {

using namespace Poco::Data::Keywords;

constexpr int kIncremental = 2;
// The -shm byte every SQLite connection to a WAL database holds a shared lock on while it is
// open (UNIX_SHM_DMS in SQLite's os_unix.c: (22 + 8) * 4 + 8).
constexpr off_t kShmDeadManSwitch = 128;

// The process holding the store open, if another one does (0 when none).
Result<pid_t> OtherOpener(const std::string& path) {
  const std::string shm = path + "-shm";
  const int fd = ::open(shm.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    return 0;  // nobody has it open in WAL mode
  }
  if (fd < 0) {
    return UnavailableError("cannot open " + shm);
  }
  struct flock lock{};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = kShmDeadManSwitch;
  lock.l_len = 1;
  const int rc = ::fcntl(fd, F_GETLK, &lock);
  ::close(fd);
  if (rc != 0) {
    return UnavailableError("cannot check whether " + path + " is in use");
  }
  return lock.l_type == F_UNLCK ? 0 : lock.l_pid;
}

}  // namespace

Result<VacuumReport> VacuumStore(std::string_view url) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with("postgresql:")) {
    return VacuumReport{.postgres = true};
  }
  if (!url.starts_with(kSqlite)) {
    return InvalidArgumentError("storage must start with 'sqlite:' or 'postgresql:', got '" +
                                std::string(url) + "'");
  }
  const std::string path(url.substr(kSqlite.size()));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFoundError("there is no store at " + path);
  }
  WARD_ASSIGN_OR_RETURN(pid_t other, OtherOpener(path));
  if (other != 0) {
    return FailedPreconditionError(
        "another program (process " + std::to_string(other) + ", a running ward-collector?) has " +
        path +
        " open. Stop the collector first (systemctl stop ward-collector), then run this "
        "again");
  }
  try {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session s("SQLite", path);
    s << "PRAGMA busy_timeout=5000", now;
    VacuumReport report;
    int mode = 0;
    s << "PRAGMA auto_vacuum", into(mode), now;
    s << "PRAGMA page_count", into(report.pages_before), now;
    if (mode != kIncremental) {
      s << "PRAGMA auto_vacuum=INCREMENTAL", now;
      s << "VACUUM", now;
      s << "PRAGMA auto_vacuum", into(mode), now;
      if (mode != kIncremental) {
        return InternalError("the VACUUM ran but " + path + " did not change mode");
      }
      report.switched = true;
    } else {
      s << "PRAGMA incremental_vacuum", now;
    }
    s << "PRAGMA wal_checkpoint(TRUNCATE)", now;
    s << "PRAGMA page_count", into(report.pages_after), now;
    return report;
  } catch (const Poco::Exception& e) {
    return UnavailableError("vacuuming " + path + ": " + e.displayText());
  }
}

}  // namespace ward::collector
