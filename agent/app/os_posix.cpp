// SPDX-License-Identifier: Apache-2.0
// ward-agent's OS seam on Linux (internal/os.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <fstream>

#include "internal/os.h"
#include "ward/app/agent.h"
#include "ward/common/log.h"

namespace ward::app {

namespace internal {

AgentConfig DefaultAgentConfig() { return AgentConfig{}; }

std::filesystem::path DefaultConfigPath() { return "/etc/ward/agent.conf"; }

bool IsAbsolutePath(std::string_view text) { return !text.empty() && text.front() == '/'; }

const char* OsName() { return "linux"; }

std::string HostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) {
    return "unknown";
  }
  return name;
}

std::string MachineId(const AgentConfig& config) {
  std::ifstream in(config.machine_id_file);
  std::string id;
  if (!(in >> id) || id.size() != 32) {
    log::Warning("no machine id: a reinstall enrols as a new device",
                 {{"path", config.machine_id_file.string()}});
    return "";
  }
  return id;
}

long CurrentProcessId() { return static_cast<long>(::getpid()); }

bool ProcessRunning(long pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0; }

void PrepareIpcEndpoint(const std::filesystem::path& endpoint) {
  const auto dir = endpoint.parent_path();
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec) && std::filesystem::create_directories(dir, ec)) {
    ::chmod(dir.c_str(), 0755);
  }
}

}  // namespace internal

Status WriteFileDurably(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return std::unexpected(ErrnoError("open " + tmp, errno));
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return std::unexpected(ErrnoError("write " + tmp, err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return std::unexpected(ErrnoError("fsync " + tmp, err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return std::unexpected(ErrnoError("rename " + tmp, errno));
  }
  if (const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return OkStatus();
}

Status CheckEnrolmentSecretFile(const std::filesystem::path& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return NotFoundError("cannot read the enrolment secret " + path.string());
    }
    return std::unexpected(ErrnoError("reading the enrolment secret " + path.string(), errno));
  }
  const std::string fix = "; make it root's and private with: chown root:root " + path.string() +
                          " && chmod 600 " + path.string();
  if (!S_ISREG(st.st_mode)) {
    return PermissionDeniedError("the enrolment secret file " + path.string() +
                                 " is not a plain file (a link or a directory); put the secret "
                                 "itself there" +
                                 fix);
  }
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return PermissionDeniedError("the enrolment secret file " + path.string() + " belongs to uid " +
                                 std::to_string(st.st_uid) + ", not root" + fix);
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDeniedError("other users of this laptop can read the enrolment secret file " +
                                 path.string() + " (mode " + mode + ")" + fix);
  }
  return OkStatus();
}

}  // namespace ward::app
