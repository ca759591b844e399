// SPDX-License-Identifier: Apache-2.0
// dpkg's database on disk: file reading, the /usr-merge aliases of the root, change watching
// (inotify) and dpkg's lock. The parsing and the index are in dpkg_database.cpp.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>

#include "unique_fd_linux.h"
#include "wakeable_wait_linux.h"
#include "ward/platform/package_database.h"

namespace ward::platform {
namespace {

namespace fs = std::filesystem;
using internal::UniqueFd;

// The whole file; std::nullopt when it does not exist.
Result<std::optional<std::string>> ReadWholeFile(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return std::optional<std::string>();
    }
    return std::unexpected(ErrnoError("open " + path.string(), errno));
  }
  struct stat st{};
  std::string out;
  if (::fstat(fd.get(), &st) == 0 && st.st_size > 0) {
    out.reserve(static_cast<std::size_t>(st.st_size));
  }
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::unexpected(ErrnoError("read " + path.string(), errno));
    }
    if (n == 0) {
      break;
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return std::optional<std::string>(std::move(out));
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Top-level directory links of the root ("/bin" -> "/usr/bin"): the /usr merge.
std::vector<DirectoryAlias> RootAliases(const fs::path& root) {
  std::vector<DirectoryAlias> out;
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) {
    return out;
  }
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    const fs::path link = root / name;
    struct stat st{};
    if (::lstat(link.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
      continue;
    }
    char target[4096];
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) {
      continue;
    }
    // A relative target is relative to the root; an absolute one is within the root too.
    fs::path resolved =
        (fs::path("/") / std::string(target, static_cast<std::size_t>(n))).lexically_normal();
    std::string text = resolved.string();
    while (text.size() > 1 && text.back() == '/') {
      text.pop_back();
    }
    const std::string from = "/" + name;
    struct stat target_stat{};
    if (text == "/" || text == from || text.starts_with(from + "/") ||
        ::stat((root / text.substr(1)).c_str(), &target_stat) != 0 ||
        !S_ISDIR(target_stat.st_mode)) {
      continue;
    }
    out.push_back({from, text});
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end(),
            [](const DirectoryAlias& a, const DirectoryAlias& b) { return a.link < b.link; });
  return out;
}

class DpkgDatabase final : public PackageDatabase {
 public:
  DpkgDatabase(fs::path root, fs::path admindir, UniqueFd inotify, internal::WakeableWait wait)
      : root_(std::move(root)),
        admindir_(std::move(admindir)),
        inotify_(std::move(inotify)),
        wait_(std::move(wait)) {}

  Result<std::shared_ptr<const PackageIndex>> Load(const PackageSelection& selection) override {
    const std::uint64_t seen = changes_seen_.load();
    auto index = LoadNow(selection);
    loaded_through_.store(seen);
    return index;
  }

  Result<bool> WaitForChange(std::chrono::milliseconds max_wait) override {
    WARD_ASSIGN_OR_RETURN(const auto outcome,
                          wait_.Wait(inotify_.get(), std::chrono::steady_clock::now() + max_wait));
    if (outcome != internal::WakeableWait::Outcome::kReadable) {
      return false;
    }
    bool changed = false;
    alignas(inotify_event) char buffer[8192];
    for (;;) {
      const ssize_t n = ::read(inotify_.get(), buffer, sizeof(buffer));
      if (n <= 0) {
        break;
      }
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        const std::string_view name = event->len > 0 ? std::string_view(event->name) : "";
        changed = changed || (event->mask & IN_Q_OVERFLOW) != 0 || Relevant(event->wd, name);
      }
    }
    if (changed) {
      changes_seen_.fetch_add(1);
    }
    return changed;
  }

  void Interrupt() override { wait_.Wake(); }

  bool ChangedSinceLoad() const override {
    if (changes_seen_.load() != loaded_through_.load()) {
      return true;
    }
    // Events the watcher has not read yet. Any event counts here (the watcher filters them);
    // at worst that is one needless reload.
    pollfd pending{inotify_.get(), POLLIN, 0};
    return ::poll(&pending, 1, 0) > 0;
  }

  // dpkg takes a write lock (fcntl) on <admindir>/lock for the whole of a run.
  bool DpkgRunning() const override {
    UniqueFd fd(::open((admindir_ / "lock").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      return false;
    }
    struct flock probe{};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    return ::fcntl(fd.get(), F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  }

  const fs::path& root() const override { return root_; }

  Status Watch() {
    admin_wd_ = ::inotify_add_watch(inotify_.get(), admindir_.c_str(),
                                    IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE);
    if (admin_wd_ < 0) {
      return std::unexpected(ErrnoError("inotify_add_watch " + admindir_.string(), errno));
    }
    // Missing on a database dpkg never ran on: then changes show as a new status file.
    updates_wd_ = ::inotify_add_watch(inotify_.get(), (admindir_ / "updates").c_str(),
                                      IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE);
    return OkStatus();
  }

 private:
  Result<std::shared_ptr<const PackageIndex>> LoadNow(const PackageSelection& selection) const {
    WARD_ASSIGN_OR_RETURN(auto packages, ReadPackages());
    WARD_ASSIGN_OR_RETURN(auto diversion_text, ReadWholeFile(admindir_ / "diversions"));
    std::vector<DpkgDiversion> diversions;
    if (diversion_text.has_value()) {
      auto parsed = ParseDpkgDiversions(*diversion_text);
      if (!parsed.has_value()) {
        return std::unexpected(parsed.error().WithContext((admindir_ / "diversions").string()));
      }
      diversions = *std::move(parsed);
    }
    PackageIndexBuilder builder(std::move(diversions), RootAliases(root_), selection);
    const fs::path info = admindir_ / "info";
    for (const DpkgPackage& package : packages) {
      if (!package.Installed()) {
        continue;
      }
      if (!builder.Selected(package.name)) {
        builder.SkipPackageNotSelected();  // its files cannot be asked about: not even opened
        continue;
      }
      const std::string stem = package.InfoName();
      WARD_ASSIGN_OR_RETURN(auto list, ReadWholeFile(info / (stem + ".list")));
      std::string found_stem = stem;
      if (!list.has_value()) {
        // dpkg names info files "pkg:arch" only for Multi-Arch: same; accept either spelling.
        found_stem =
            stem == package.name ? package.name + ":" + package.architecture : package.name;
        WARD_ASSIGN_OR_RETURN(list, ReadWholeFile(info / (found_stem + ".list")));
      }
      if (!list.has_value()) {
        builder.SkipPackageWithoutList();
        continue;
      }
      WARD_ASSIGN_OR_RETURN(auto md5sums, ReadWholeFile(info / (found_stem + ".md5sums")));
      builder.AddPackage(
          package, *list,
          md5sums.has_value() ? std::optional<std::string_view>(*md5sums) : std::nullopt);
    }
    return builder.Build();
  }

  bool Relevant(int wd, std::string_view name) const {
    if (wd == admin_wd_) {
      return name == "status" || name == "diversions";
    }
    return wd == updates_wd_ && AllDigits(name);
  }

  // status, then each updates/ journal file in order, each record replacing the one before it
  // for the same package and architecture.
  Result<std::vector<DpkgPackage>> ReadPackages() const {
    const fs::path status_path = admindir_ / "status";
    WARD_ASSIGN_OR_RETURN(auto status, ReadWholeFile(status_path));
    if (!status.has_value()) {
      return NotFoundError("no dpkg status file: " + status_path.string());
    }
    auto parsed = ParseDpkgStatus(*status);
    if (!parsed.has_value()) {
      return std::unexpected(parsed.error().WithContext(status_path.string()));
    }
    std::vector<DpkgPackage> packages = *std::move(parsed);
    std::map<std::pair<std::size_t, std::string>, fs::path> journal;  // (length, name): order
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(admindir_ / "updates", ec)) {
      const std::string name = entry.path().filename().string();
      if (AllDigits(name)) {
        journal.emplace(std::pair(name.size(), name), entry.path());
      }
    }
    if (journal.empty()) {
      return packages;
    }
    std::map<std::string, std::size_t> by_key;
    for (std::size_t i = 0; i < packages.size(); ++i) {
      by_key[packages[i].name + ":" + packages[i].architecture] = i;
    }
    for (const auto& [order, path] : journal) {
      WARD_ASSIGN_OR_RETURN(auto text, ReadWholeFile(path));
      if (!text.has_value()) {
        continue;  // folded into status since it was listed
      }
      auto records = ParseDpkgStatus(*text);
      if (!records.has_value()) {
        return std::unexpected(records.error().WithContext(path.string()));
      }
      for (auto& record : *records) {
        const std::string key = record.name + ":" + record.architecture;
        if (const auto it = by_key.find(key); it != by_key.end()) {
          packages[it->second] = std::move(record);
        } else {
          by_key.emplace(key, packages.size());
          packages.push_back(std::move(record));
        }
      }
    }
    return packages;
  }

  const fs::path root_;
  const fs::path admindir_;
  UniqueFd inotify_;
  internal::WakeableWait wait_;
  int admin_wd_ = -1;
  int updates_wd_ = -1;
  std::atomic<std::uint64_t> changes_seen_{0};
  std::atomic<std::uint64_t> loaded_through_{0};
};

}  // namespace

Result<std::unique_ptr<PackageDatabase>> CreatePackageDatabase(
    const PackageDatabaseOptions& options) {
  const fs::path admindir =
      options.admindir.empty() ? options.root / "var/lib/dpkg" : options.admindir;
  struct stat st{};
  if (::stat(admindir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return NotFoundError("no dpkg database at " + admindir.string());
  }
  UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!inotify.valid()) {
    return std::unexpected(ErrnoError("inotify_init1", errno));
  }
  WARD_ASSIGN_OR_RETURN(auto wait, internal::WakeableWait::Create());
  auto database =
      std::make_unique<DpkgDatabase>(options.root, admindir, std::move(inotify), std::move(wait));
  WARD_RETURN_IF_ERROR(database->Watch());
  return database;
}

}  // namespace ward::platform
