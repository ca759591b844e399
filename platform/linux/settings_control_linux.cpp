// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <set>
#include <system_error>

#include "sysfs_linux.h"
#include "unique_fd_linux.h"
#include "wakeable_wait_linux.h"
#include "ward/platform/settings_control.h"

extern char** environ;

namespace ward::platform {
namespace {

namespace fs = std::filesystem;
using internal::UniqueFd;

constexpr const char* kCompiledDb = "etc/dconf/db/ward";

Result<std::string> ReadText(const fs::path& path) {
  auto bytes = internal::ReadAttributeBytes(path, 4 * 1024 * 1024);
  if (!bytes.has_value()) {
    return std::unexpected(bytes.error());
  }
  return std::string(bytes->begin(), bytes->end());
}

Status WriteAtomically(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    return std::unexpected(ErrnoError("creating " + path.parent_path().string(), ec.value()));
  }
  const fs::path tmp = path.string() + ".ward-tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) {
    return std::unexpected(ErrnoError("open " + tmp.string(), errno));
  }
  WARD_RETURN_IF_ERROR(internal::WriteAll(fd.get(), content, tmp));
  ::fchmod(fd.get(), 0644);
  if (::fsync(fd.get()) != 0) {
    return std::unexpected(ErrnoError("fsync " + tmp.string(), errno));
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return std::unexpected(ErrnoError("rename to " + path.string(), errno));
  }
  return OkStatus();
}

// Runs argv, waits, and fails unless it exits 0.
Status RunCommand(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (rc != 0) {
    return std::unexpected(ErrnoError("starting " + argv[0], rc));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return std::unexpected(ErrnoError("waiting for " + argv[0], errno));
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError(argv[0] + " " + argv[1] + " failed (status " + std::to_string(status) +
                            ")");
  }
  return OkStatus();
}

class InotifySettingsControl final : public SettingsControl {
 public:
  InotifySettingsControl(SettingsControlOptions options, UniqueFd inotify,
                         internal::WakeableWait wait)
      : options_(std::move(options)), inotify_(std::move(inotify)), wait_(std::move(wait)) {}

  Status Apply(const std::vector<ManagedFile>& files) override {
    bool dconf = false;
    for (const auto& file : files) {
      const fs::path path = options_.root / file.path;
      WARD_RETURN_IF_ERROR(WriteAtomically(path, file.content));
      Watch(path.parent_path());
      dconf = dconf || file.path.string().starts_with("etc/dconf/db/");
    }
    if (dconf) {
      const fs::path db_dir = options_.root / "etc/dconf/db";
      WARD_RETURN_IF_ERROR(RunCommand({options_.dconf_command, "update", db_dir.string()}));
      Watch(db_dir);
      auto compiled = ReadText(options_.root / kCompiledDb);
      if (!compiled.has_value()) {
        return std::unexpected(compiled.error().WithContext("dconf update wrote no database"));
      }
      compiled_ = *std::move(compiled);
    }
    return OkStatus();
  }

  Result<std::vector<fs::path>> Drifted(const std::vector<ManagedFile>& files) override {
    std::vector<fs::path> out;
    for (const auto& file : files) {
      auto now = ReadText(options_.root / file.path);
      if (!now.has_value() || *now != file.content) {
        out.push_back(file.path);
      }
    }
    if (compiled_.has_value()) {
      auto now = ReadText(options_.root / kCompiledDb);
      if (!now.has_value() || *now != *compiled_) {
        out.emplace_back(kCompiledDb);
      }
    }
    return out;
  }

  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    WARD_ASSIGN_OR_RETURN(const auto outcome,
                          wait_.Wait(inotify_.get(), std::chrono::steady_clock::now() + max_wait));
    if (outcome != internal::WakeableWait::Outcome::kReadable) {
      return false;
    }
    // Drain: the caller re-checks every file, so the individual events do not matter.
    alignas(inotify_event) char buffer[8192];
    while (::read(inotify_.get(), buffer, sizeof(buffer)) > 0) {
    }
    return true;
  }

  void Interrupt() override { wait_.Wake(); }

 private:
  void Watch(const fs::path& dir) {
    ::inotify_add_watch(inotify_.get(), dir.c_str(),
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                            IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
  }

  const SettingsControlOptions options_;
  UniqueFd inotify_;
  internal::WakeableWait wait_;
  std::optional<std::string> compiled_;
};

}  // namespace

Result<std::unique_ptr<SettingsControl>> CreateSettingsControl(
    const SettingsControlOptions& options) {
  UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!inotify.valid()) {
    return std::unexpected(ErrnoError("inotify_init1", errno));
  }
  WARD_ASSIGN_OR_RETURN(auto wait, internal::WakeableWait::Create());
  return std::make_unique<InotifySettingsControl>(options, std::move(inotify), std::move(wait));
}

}  // namespace ward::platform
