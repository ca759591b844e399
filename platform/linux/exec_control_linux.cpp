// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <linux/magic.h>
#include <openssl/evp.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unique_fd_linux.h"
#include "wakeable_wait_linux.h"
#include "ward/common/hex.h"
#include "ward/common/log.h"
#include "ward/platform/elf.h"
#include "ward/platform/exec_control.h"

namespace ward::platform {
namespace {

using internal::UniqueFd;
using Clock = std::chrono::steady_clock;

// How long "pid P just exec'd a dynamically linked program" stays valid while the kernel opens
// that program's interpreter. The interpreter is opened within the same execve().
constexpr auto kInterpreterWindow = std::chrono::seconds(5);

// How many file versions the "has an interpreter" cache keeps before it starts again.
constexpr std::size_t kInterpreterCacheCapacity = 4096;

FileIdentity IdentityOf(const struct stat& st) {
  return FileIdentity{
      .device = static_cast<std::uint64_t>(st.st_dev),
      .inode = static_cast<std::uint64_t>(st.st_ino),
      .change_time_ns =
          static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec,
      .size = static_cast<std::int64_t>(st.st_size),
  };
}

std::string FdPath(int fd) {
  char link[64];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  char target[4096];
  const ssize_t n = ::readlink(link, target, sizeof(target) - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

std::uint32_t ProcessUid(std::int32_t pid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d", pid);
  struct stat st{};
  return ::stat(path, &st) == 0 ? st.st_uid : 0xffffffffU;
}

Result<std::string> HashFd(int fd, const EVP_MD* md) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return InternalError("EVP digest init failed");
  }
  std::uint8_t buffer[64 * 1024];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof(buffer), offset);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int e = errno;
      EVP_MD_CTX_free(ctx);
      return std::unexpected(ErrnoError("reading file to hash", e));
    }
    if (n == 0) {
      break;
    }
    EVP_DigestUpdate(ctx, buffer, static_cast<std::size_t>(n));
    offset += n;
  }
  std::uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  return HexEncode(std::span<const std::uint8_t>(digest, length));
}

// The parent of `pid` from /proc/<pid>/stat (the field after the parenthesised name), or -1.
std::int32_t ParentPid(std::int32_t pid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  internal::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return -1;
  }
  char buffer[512];
  const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer) - 1);
  if (n <= 0) {
    return -1;
  }
  buffer[n] = '\0';
  const char* close = std::strrchr(buffer, ')');
  int ppid = -1;
  char state = 0;
  if (close == nullptr || std::sscanf(close + 1, " %c %d", &state, &ppid) != 2) {
    return -1;
  }
  return ppid;
}

// Whether this process has any child (running or not yet reaped), without reaping one. One system
// call; it spares reading /proc/<pid>/stat for every exec while the agent has no children,
// which is nearly always.
bool HasChildren() {
  siginfo_t info{};
  for (;;) {
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
      return true;
    }
    if (errno != EINTR) {
      return errno != ECHILD;
    }
  }
}

bool HasInterpreter(int fd) {
  std::uint8_t head[4096];
  const ssize_t n = ::pread(fd, head, sizeof(head), 0);
  if (n <= 0) {
    return false;
  }
  auto has = ElfHasInterpreter(std::span<const std::uint8_t>(head, static_cast<std::size_t>(n)));
  return has.has_value() && *has;
}

// Filesystems whose every content change the kernel sees (so it drops a remembered allowance), or
// that cannot change at all. Not network or FUSE filesystems: a change made elsewhere raises no
// event here.
bool WritesAreSeenLocally(const struct statfs& fs) {
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case TMPFS_MAGIC:
    case RAMFS_MAGIC:
    case SQUASHFS_MAGIC:
    case EROFS_SUPER_MAGIC_V1:
    case ISOFS_SUPER_MAGIC:
      return true;
    default:
      return false;
  }
}

// Whether the file has an access ACL, which could let a learner write it whatever its mode says.
bool HasAccessAcl(int fd) {
  const ssize_t n = ::fgetxattr(fd, "system.posix_acl_access", nullptr, 0);
  return n >= 0 || (errno != ENODATA && errno != ENOTSUP);
}

// The kernel's name for a file, as fanotify reports it with FAN_REPORT_FID: the filesystem id
// and the file handle (type and bytes). Empty when the filesystem has no handles.
std::string FileKey(const __kernel_fsid_t& fsid, std::int32_t handle_type,
                    const unsigned char* handle, std::size_t handle_bytes) {
  std::string key;
  key.reserve(sizeof(fsid) + sizeof(handle_type) + handle_bytes);
  key.append(reinterpret_cast<const char*>(&fsid), sizeof(fsid));
  key.append(reinterpret_cast<const char*>(&handle_type), sizeof(handle_type));
  key.append(reinterpret_cast<const char*>(handle), handle_bytes);
  return key;
}

std::string FileKeyOf(int fd, const struct statfs& fs) {
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ] = {};
  auto* handle = reinterpret_cast<file_handle*>(storage);
  handle->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (::name_to_handle_at(fd, "", handle, &mount_id, AT_EMPTY_PATH) != 0) {
    return {};
  }
  __kernel_fsid_t fsid{};
  static_assert(sizeof(fsid) == sizeof(fs.f_fsid));
  std::memcpy(&fsid, &fs.f_fsid, sizeof(fsid));
  return FileKey(fsid, handle->handle_type, storage + sizeof(file_handle), handle->handle_bytes);
}

// The hot path (a program whose decision the caller has cached) costs, per exec: one read of the
// fanotify queue (shared by every event it returns), one fstat, one write (the answer), one close,
// and one poll when the queue was empty — plus one waitid when the agent trusts its own children.
// The path, the requester's uid and the SHA-256 are read only when the caller asks for them, and
// whether a file has an ELF interpreter is read once per file version.
//
// Faster still, a file the caller allows with AllowAndRemember() gets an ignore mark in the
// fanotify group (FAN_MARK_IGNORED_MASK for FAN_OPEN_EXEC_PERM on its inode, without
// FAN_MARK_IGNORED_SURV_MODIFY, so the kernel clears it when the file is written): its next execs
// raise no event at all. That hides the program's own event, which the loader check needs (the
// loader opened as a program's interpreter is allowed, "ld.so <program>" is not). So when loaders
// are watched, a second group (`notify_`, FAN_REPORT_FID, FAN_OPEN_EXEC notifications on the same
// filesystems) records which process opened a remembered dynamically linked program; it never
// wakes anyone, and is read only when a loader's permission event comes.
class FanotifyExecControl final : public ExecControl {
 public:
  FanotifyExecControl(UniqueFd fan, UniqueFd notify, std::set<std::uint64_t> notified_devices,
                      internal::WakeableWait wait,
                      std::set<std::pair<std::uint64_t, std::uint64_t>> loaders,
                      const ExecControlOptions& options)
      : fan_(std::move(fan)),
        notify_(std::move(notify)),
        notified_devices_(std::move(notified_devices)),
        wait_(std::move(wait)),
        loaders_(std::move(loaders)),
        options_(options),
        self_pid_(::getpid()) {
    pending_.reserve(std::min<std::size_t>(options_.max_pending, 1024));
    deadline_thread_ = std::thread([this] { DeadlineLoop(); });
  }

  ~FanotifyExecControl() override {
    Shutdown();
    {
      std::scoped_lock lock(mutex_);
      stop_deadline_thread_ = true;
    }
    deadline_changed_.notify_all();
    deadline_thread_.join();
    // Closing the group makes the kernel allow whatever is still queued.
  }

  Result<std::optional<ExecRequest>> Next(std::chrono::milliseconds max_wait) override {
    const auto deadline = Clock::now() + max_wait;
    while (ready_head_ == ready_.size()) {
      ready_.clear();
      ready_head_ = 0;
      WARD_ASSIGN_OR_RETURN(const auto outcome, wait_.Wait(fan_.get(), deadline));
      if (outcome != internal::WakeableWait::Outcome::kReadable) {
        return std::nullopt;
      }
      WARD_RETURN_IF_ERROR(ReadEvents());
    }
    return std::move(ready_[ready_head_++]);
  }

  Status Respond(std::uint64_t id, ExecVerdict verdict) override {
    return Finish(id, verdict, /*remember=*/false);
  }

  Status AllowAndRemember(std::uint64_t id) override {
    return Finish(id, ExecVerdict::kAllow, /*remember=*/options_.kernel_cache);
  }

  void ForgetRemembered() override {
    std::scoped_lock lock(mutex_);
    if (!shut_down_) {
      ForgetInKernel();
    }
  }

  Result<std::string> Sha256(std::uint64_t id) override { return Digest(id, EVP_sha256()); }

  Result<std::string> Md5(std::uint64_t id) override { return Digest(id, EVP_md5()); }

  Result<std::string> Digest(std::uint64_t id, const EVP_MD* md) {
    UniqueFd copy;
    {
      std::scoped_lock lock(mutex_);
      const auto it = FindPending(id);
      if (it == pending_.end()) {
        return NotFoundError("exec request " + std::to_string(id) + " is no longer pending");
      }
      copy.Reset(::fcntl(it->fd.get(), F_DUPFD_CLOEXEC, 0));
    }
    if (!copy.valid()) {
      return std::unexpected(ErrnoError("dup fanotify fd", errno));
    }
    return HashFd(copy.get(), md);
  }

  Status Describe(ExecRequest& request) override {
    {
      // One readlink under the lock: the deadline thread cannot close the fd meanwhile.
      std::scoped_lock lock(mutex_);
      const auto it = FindPending(request.id);
      if (it == pending_.end()) {
        return NotFoundError("exec request " + std::to_string(request.id) +
                             " is no longer pending");
      }
      request.path = FdPath(it->fd.get());
    }
    request.uid = ProcessUid(request.pid);
    return OkStatus();
  }

  void Interrupt() override { wait_.Wake(); }

  void Shutdown() override {
    {
      std::scoped_lock lock(mutex_);
      if (shut_down_) {
        return;
      }
      shut_down_ = true;
      for (const auto& pending : pending_) {
        (void)Answer(pending.fd, options_.shutdown_verdict);
        ++stats_.shutdown_answered;
      }
      pending_.clear();
    }
    // Stop new events, then answer those already queued: nothing is left holding an exec.
    ::fanotify_mark(fan_.get(), FAN_MARK_FLUSH | FAN_MARK_FILESYSTEM, 0, AT_FDCWD, nullptr);
    ::fanotify_mark(fan_.get(), FAN_MARK_FLUSH | FAN_MARK_MOUNT, 0, AT_FDCWD, nullptr);
    ::fanotify_mark(fan_.get(), FAN_MARK_FLUSH, 0, AT_FDCWD, nullptr);
    while (ReadEvents().has_value() && drained_any_) {
    }
    deadline_changed_.notify_all();
    Interrupt();
  }

  ExecControlStats Stats() const override {
    std::scoped_lock lock(mutex_);
    return stats_;
  }

 private:
  struct Pending {
    std::uint64_t id = 0;
    UniqueFd fd;
    std::int32_t pid = 0;
    FileIdentity file;
    Clock::time_point deadline;
    bool only_root_writes = false;  // owned by root, no group or other write bit
  };
  using PendingList = std::vector<Pending>;

  // Few requests are pending at a time (one per exec being judged), so a linear search in a
  // reserved vector beats a map and allocates nothing per exec. Requires mutex_.
  PendingList::iterator FindPending(std::uint64_t id) {
    return std::find_if(pending_.begin(), pending_.end(),
                        [id](const Pending& p) { return p.id == id; });
  }

  // Answers the caller's request (see Respond, AllowAndRemember).
  Status Finish(std::uint64_t id, ExecVerdict verdict, bool remember) {
    UniqueFd fd;  // closed after the lock is released
    std::scoped_lock lock(mutex_);
    const auto it = FindPending(id);
    if (it == pending_.end()) {
      return DeadlineExceededError("exec request " + std::to_string(id) + " was already answered");
    }
    ++stats_.answered;
    if (remember && it->only_root_writes) {
      RememberInKernel(*it);
    }
    const Status answered = AnswerAndRemember(*it, verdict);
    fd = TakePending(it);
    return answered;
  }

  // Removes `it` (order does not matter) and hands back its fd. Requires mutex_.
  UniqueFd TakePending(PendingList::iterator it) {
    UniqueFd fd = std::move(it->fd);
    if (it != pending_.end() - 1) {
      *it = std::move(pending_.back());
    }
    pending_.pop_back();
    return fd;
  }

  // Writes the kernel's answer for one held event. Requires mutex_ (serialises writes).
  Status Answer(const UniqueFd& fd, ExecVerdict verdict) {
    fanotify_response response{};
    response.fd = fd.get();
    response.response = verdict == ExecVerdict::kAllow ? FAN_ALLOW : FAN_DENY;
    for (;;) {
      if (::write(fan_.get(), &response, sizeof(response)) == sizeof(response)) {
        return OkStatus();
      }
      if (errno != EINTR) {
        // ENOENT: the kernel no longer waits on it (the process died). Nothing is held.
        return std::unexpected(ErrnoError("answering fanotify permission event", errno));
      }
    }
  }

  // Answers, and when a dynamically linked program is let run remembers it, so the kernel's
  // opening of its interpreter is not taken for a direct "ld.so <program>". Requires mutex_.
  Status AnswerAndRemember(const Pending& pending, ExecVerdict verdict) {
    if (verdict == ExecVerdict::kAllow && !loaders_.empty() &&
        CachedHasInterpreter(pending.fd, pending.file)) {
      RememberInterpreterDue(pending.pid);
    }
    return Answer(pending.fd, verdict);
  }

  // Puts an ignore mark on the pending file when it qualifies (see AllowAndRemember). Requires
  // mutex_. Costs, once per file version: fstatfs, fgetxattr, the mark (and for a dynamically
  // linked program with loaders watched, name_to_handle_at).
  void RememberInKernel(const Pending& pending) {
    if (loaders_.contains({pending.file.device, pending.file.inode})) {
      return;
    }
    struct statfs fs{};
    if (::fstatfs(pending.fd.get(), &fs) != 0 || !WritesAreSeenLocally(fs) ||
        HasAccessAcl(pending.fd.get())) {
      return;
    }
    const bool dynamic = !loaders_.empty() && CachedHasInterpreter(pending.fd, pending.file);
    std::string key;
    if (dynamic) {
      if (!notify_.valid() || !notified_devices_.contains(pending.file.device)) {
        return;  // the loader check could not tell its interpreter load from "ld.so <it>"
      }
      key = FileKeyOf(pending.fd.get(), fs);
      if (key.empty()) {
        return;
      }
    }
    if (remembered_ >= options_.kernel_cache_capacity) {
      ForgetInKernel();
    }
    if (::fanotify_mark(fan_.get(), FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM,
                        pending.fd.get(), nullptr) != 0) {
      return;  // ENOSPC (mark limit) and the like: the caller's own cache still answers
    }
    if (dynamic) {
      remembered_dynamic_.insert(std::move(key));
    } else if (notify_.valid()) {
      // A static program needs no loader: keep its notifications out of the queue.
      (void)::fanotify_mark(notify_.get(), FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC,
                            pending.fd.get(), nullptr);
    }
    ++remembered_;
    ++stats_.remembered;
  }

  // Drops every ignore mark. FAN_MARK_FLUSH removes all inode marks, so the loaders' are put
  // back at once (a loader that is not on a watched filesystem goes unseen for those few
  // microseconds). Requires mutex_.
  void ForgetInKernel() {
    if (remembered_ == 0) {
      return;
    }
    ::fanotify_mark(fan_.get(), FAN_MARK_FLUSH, 0, AT_FDCWD, nullptr);
    for (const auto& loader : options_.loaders) {
      if (::fanotify_mark(fan_.get(), FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD, loader.c_str()) !=
          0) {
        log::Error("cannot watch the dynamic loader again",
                   {{"loader", loader.string()}, {"error", std::strerror(errno)}});
      }
    }
    if (notify_.valid()) {
      ::fanotify_mark(notify_.get(), FAN_MARK_FLUSH, 0, AT_FDCWD, nullptr);
      DrainNotifications();
    }
    // A process may have opened a remembered program an instant ago and not yet queued its
    // notification: for one interpreter window those files still count.
    recently_dynamic_ = std::move(remembered_dynamic_);
    recently_until_ = Clock::now() + kInterpreterWindow;
    remembered_dynamic_.clear();
    remembered_ = 0;
    ++stats_.remembered_flushes;
  }

  // Reads every queued exec notification; a process that opened a remembered dynamically linked
  // program is due to open its interpreter. Requires mutex_.
  void DrainNotifications() {
    // The kernel fills a read with every queued event that fits; so once a read leaves room for
    // the largest one, the queue was empty and the usual drain is one read, not two.
    constexpr std::size_t kLargestEvent = sizeof(fanotify_event_metadata) +
                                          sizeof(fanotify_event_info_fid) + sizeof(file_handle) +
                                          MAX_HANDLE_SZ;
    alignas(fanotify_event_metadata) char buffer[8192];
    for (bool more = true; more;) {
      const ssize_t length = ::read(notify_.get(), buffer, sizeof(buffer));
      if (length <= 0) {
        return;  // EAGAIN: empty
      }
      more = sizeof(buffer) - static_cast<std::size_t>(length) < kLargestEvent;
      auto* event = reinterpret_cast<fanotify_event_metadata*>(buffer);
      ssize_t left = length;
      for (; FAN_EVENT_OK(event, left); event = FAN_EVENT_NEXT(event, left)) {
        if ((event->mask & FAN_Q_OVERFLOW) != 0) {
          ++stats_.notify_overflows;
          continue;
        }
        if (remembered_dynamic_.empty() && recently_dynamic_.empty()) {
          continue;
        }
        const std::string key = NotificationKey(*event);
        if (key.empty()) {
          continue;
        }
        if (remembered_dynamic_.contains(key) ||
            (recently_dynamic_.contains(key) && Clock::now() < recently_until_)) {
          RememberInterpreterDue(event->pid);
        }
      }
    }
  }

  // The FID record of one notification, as FileKey(); empty if it has none.
  static std::string NotificationKey(const fanotify_event_metadata& event) {
    const auto* at = reinterpret_cast<const unsigned char*>(&event) + event.metadata_len;
    const auto* end = reinterpret_cast<const unsigned char*>(&event) + event.event_len;
    while (end - at >= static_cast<std::ptrdiff_t>(sizeof(fanotify_event_info_header))) {
      fanotify_event_info_header header{};
      std::memcpy(&header, at, sizeof(header));
      if (header.len < sizeof(header) || header.len > end - at) {
        return {};
      }
      constexpr std::size_t kFixed = sizeof(fanotify_event_info_fid) + sizeof(file_handle);
      if (header.info_type == FAN_EVENT_INFO_TYPE_FID && header.len >= kFixed) {
        fanotify_event_info_fid fid{};
        std::memcpy(&fid, at, sizeof(fid));
        file_handle handle{};
        std::memcpy(&handle, at + sizeof(fanotify_event_info_fid), sizeof(handle));
        if (handle.handle_bytes > header.len - kFixed) {
          return {};
        }
        return FileKey(fid.fsid, handle.handle_type, at + kFixed, handle.handle_bytes);
      }
      at += header.len;
    }
    return {};
  }

  // Whether the file has a PT_INTERP, read once per file version. Requires mutex_.
  bool CachedHasInterpreter(const UniqueFd& fd, const FileIdentity& file) {
    if (const auto hit = has_interpreter_.find(file); hit != has_interpreter_.end()) {
      return hit->second;
    }
    if (has_interpreter_.size() >= kInterpreterCacheCapacity) {
      has_interpreter_.clear();
    }
    const bool has = HasInterpreter(fd.get());
    has_interpreter_.emplace(file, has);
    return has;
  }

  // Whether `pid` is due to open its interpreter now; the entry is consumed. Requires mutex_.
  bool TakeInterpreterDue(std::int32_t pid, Clock::time_point now) {
    if (interpreter_expected_.empty()) {
      return false;
    }
    const auto expected = interpreter_expected_.find(pid);
    if (expected == interpreter_expected_.end()) {
      return false;
    }
    const bool due = expected->second > now;
    interpreter_expected_.erase(expected);
    return due;
  }

  // Requires mutex_. An entry is consumed by the pid's next event; programs whose interpreter is
  // not a watched loader leave theirs behind, so expired ones are swept now and then (amortised:
  // each sweep doubles the size at which the next one runs).
  void RememberInterpreterDue(std::int32_t pid) {
    const auto now = Clock::now();
    interpreter_expected_[pid] = now + kInterpreterWindow;
    if (interpreter_expected_.size() < sweep_expected_at_) {
      return;
    }
    std::erase_if(interpreter_expected_, [now](const auto& e) { return e.second <= now; });
    sweep_expected_at_ = std::max<std::size_t>(256, 2 * interpreter_expected_.size());
  }

  Status ReadEvents() {
    alignas(fanotify_event_metadata) char buffer[16 * 1024];
    const ssize_t length = ::read(fan_.get(), buffer, sizeof(buffer));
    drained_any_ = length > 0;
    if (length < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        return OkStatus();
      }
      return std::unexpected(ErrnoError("read fanotify", errno));
    }
    auto* event = reinterpret_cast<fanotify_event_metadata*>(buffer);
    ssize_t left = length;
    for (; FAN_EVENT_OK(event, left); event = FAN_EVENT_NEXT(event, left)) {
      if (event->vers != FANOTIFY_METADATA_VERSION) {
        return InternalError("fanotify metadata version mismatch");
      }
      if ((event->mask & FAN_Q_OVERFLOW) != 0) {
        std::scoped_lock lock(mutex_);
        ++stats_.queue_overflows;
      }
      if (event->fd < 0) {
        continue;
      }
      Handle(UniqueFd(event->fd), event->pid, event->mask);
    }
    return OkStatus();
  }

  // Whether `pid` is this process or (when trusted) one of its children.
  bool IsOwn(std::int32_t pid) const {
    if (pid == self_pid_) {
      return true;
    }
    return options_.trust_own_children && HasChildren() && ParentPid(pid) == self_pid_;
  }

  void Handle(UniqueFd fd, std::int32_t pid, std::uint64_t mask) {
    std::unique_lock lock(mutex_);
    if ((mask & FAN_OPEN_EXEC_PERM) == 0) {
      (void)Answer(fd, ExecVerdict::kAllow);
      return;
    }
    if (shut_down_) {
      (void)Answer(fd, options_.shutdown_verdict);
      ++stats_.shutdown_answered;
      return;
    }
    // Our own execs, and our children's (dconf update), never wait for ourselves.
    if (IsOwn(pid)) {
      (void)Answer(fd, ExecVerdict::kAllow);
      ++stats_.own_process;
      return;
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) {
      (void)Answer(fd, options_.timeout_verdict);
      ++stats_.timed_out;
      return;
    }
    ExecRequest request;
    request.file = IdentityOf(st);
    request.pid = pid;
    request.uid = 0xffffffffU;
    const auto now = Clock::now();
    bool interpreter_due = TakeInterpreterDue(pid, now);
    if (!loaders_.empty() && loaders_.contains({request.file.device, request.file.inode})) {
      if (notify_.valid()) {
        // The program this loader may be the interpreter of could have run without an event.
        DrainNotifications();
        interpreter_due = TakeInterpreterDue(pid, now) || interpreter_due;
      }
      if (interpreter_due) {
        (void)Answer(fd, ExecVerdict::kAllow);
        ++stats_.loader_as_interpreter;
        return;
      }
      request.direct_loader = true;
    }
    if (pending_.size() >= options_.max_pending) {
      (void)AnswerAndRemember(Pending{0, std::move(fd), pid, request.file, now},
                              options_.overload_verdict);
      ++stats_.overloaded;
      return;
    }
    request.id = next_id_++;
    request.deadline = now + options_.answer_within;
    ++stats_.requests;
    const bool only_root_writes = st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
    pending_.push_back(
        Pending{request.id, std::move(fd), pid, request.file, request.deadline, only_root_writes});
    // Deadlines only grow (now + a fixed bound), so a sleeping deadline thread with a timer set
    // wakes early enough by itself; only an idle one (no timer) needs waking. That keeps a
    // context switch off the per-exec path.
    requests_since_wake_ = true;
    const bool wake = deadline_thread_idle_;
    lock.unlock();
    if (wake) {
      deadline_changed_.notify_all();
    }
    ready_.push_back(std::move(request));
  }

  void DeadlineLoop() {
    std::unique_lock lock(mutex_);
    while (!stop_deadline_thread_) {
      auto earliest = Clock::time_point::max();
      for (const auto& pending : pending_) {
        earliest = std::min(earliest, pending.deadline);
      }
      if (earliest == Clock::time_point::max() && requests_since_wake_) {
        // Nothing pending, but execs are coming: keep a timer armed one answer bound ahead, so
        // the next request (whose deadline is later) needs no wake-up. Execs that come one by
        // one would otherwise wake this thread (a futex call and a context switch) every time.
        requests_since_wake_ = false;
        deadline_changed_.wait_until(lock, Clock::now() + options_.answer_within);
      } else if (earliest == Clock::time_point::max()) {
        // Quiet for a whole bound: sleep without a timer (no idle wake-ups).
        deadline_thread_idle_ = true;
        deadline_changed_.wait(lock);
        deadline_thread_idle_ = false;
      } else {
        deadline_changed_.wait_until(lock, earliest);
      }
      const auto now = Clock::now();
      for (std::size_t i = 0; i < pending_.size();) {
        if (pending_[i].deadline <= now) {
          (void)AnswerAndRemember(pending_[i], options_.timeout_verdict);
          ++stats_.timed_out;
          TakePending(pending_.begin() + static_cast<std::ptrdiff_t>(i));  // the last moves to i
        } else {
          ++i;
        }
      }
    }
  }

  UniqueFd fan_;
  UniqueFd notify_;  // invalid unless loaders are watched and the kernel cache is on
  const std::set<std::uint64_t> notified_devices_;  // st_dev of filesystems `notify_` follows
  internal::WakeableWait wait_;
  const std::set<std::pair<std::uint64_t, std::uint64_t>> loaders_;  // (device, inode)
  const ExecControlOptions options_;
  const std::int32_t self_pid_;
  std::vector<ExecRequest> ready_;  // reader thread only; handed out from ready_head_
  std::size_t ready_head_ = 0;      // reader thread only
  std::atomic<bool> drained_any_ = false;
  std::uint64_t next_id_ = 1;  // reader thread only

  mutable std::mutex mutex_;
  std::condition_variable deadline_changed_;
  PendingList pending_;                                                       // guarded by mutex_
  std::map<std::int32_t, Clock::time_point> interpreter_expected_;            // guarded by mutex_
  std::size_t sweep_expected_at_ = 256;                                       // guarded by mutex_
  std::unordered_map<FileIdentity, bool, FileIdentityHash> has_interpreter_;  // guarded by mutex_
  std::unordered_set<std::string> remembered_dynamic_;  // FileKey()s; guarded by mutex_
  std::unordered_set<std::string> recently_dynamic_;    // until recently_until_; guarded
  Clock::time_point recently_until_;                    // guarded by mutex_
  std::size_t remembered_ = 0;                          // ignore marks; guarded by mutex_
  ExecControlStats stats_;                              // guarded by mutex_
  bool shut_down_ = false;                              // guarded by mutex_
  bool stop_deadline_thread_ = false;                   // guarded by mutex_
  bool requests_since_wake_ = false;                    // guarded by mutex_
  bool deadline_thread_idle_ = false;                   // guarded by mutex_
  std::thread deadline_thread_;
};

}  // namespace

Result<std::unique_ptr<ExecControl>> CreateExecControl(const ExecControlOptions& options) {
  UniqueFd fan(::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
                               O_RDONLY | O_LARGEFILE | O_CLOEXEC));
  if (!fan.valid()) {
    const int e = errno;
    if (e == ENOSYS) {
      return UnavailableError("fanotify is not available in this kernel");
    }
    return std::unexpected(ErrnoError("fanotify_init", e));
  }
  for (const auto& mount : options.mounts) {
    // A filesystem (superblock) mark, not a mount mark: it sees execs through every mount of
    // that filesystem, bind mounts and other mount namespaces included — the agent itself runs
    // in systemd's private namespace (ProtectSystem=strict), whose mounts are copies.
    if (::fanotify_mark(fan.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, AT_FDCWD,
                        mount.c_str()) != 0) {
      return std::unexpected(ErrnoError("fanotify_mark filesystem " + mount.string(), errno));
    }
  }
  std::set<std::pair<std::uint64_t, std::uint64_t>> loaders;
  for (const auto& loader : options.loaders) {
    struct stat st{};
    if (::stat(loader.c_str(), &st) != 0) {
      return std::unexpected(ErrnoError("dynamic loader " + loader.string(), errno));
    }
    if (::fanotify_mark(fan.get(), FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD, loader.c_str()) !=
        0) {
      return std::unexpected(ErrnoError("fanotify_mark loader " + loader.string(), errno));
    }
    loaders.emplace(static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
  }
  // Exec notifications for the loader check of remembered programs (see FanotifyExecControl).
  // A filesystem without file handles (or a kernel without FID reporting on it) is simply not
  // followed: its dynamically linked programs are then not remembered.
  UniqueFd notify;
  std::set<std::uint64_t> notified_devices;
  if (options.kernel_cache && !options.loaders.empty()) {
    notify.Reset(::fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_CLOEXEC | FAN_NONBLOCK,
                                 O_RDONLY | O_LARGEFILE | O_CLOEXEC));
    for (const auto& mount :
         notify.valid() ? options.mounts : std::vector<std::filesystem::path>{}) {
      struct stat st{};
      if (::stat(mount.c_str(), &st) == 0 &&
          ::fanotify_mark(notify.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC, AT_FDCWD,
                          mount.c_str()) == 0) {
        notified_devices.insert(static_cast<std::uint64_t>(st.st_dev));
      } else {
        log::Info(
            "exec notifications unavailable: its dynamically linked programs are judged on every "
            "run",
            {{"filesystem", mount.string()}, {"error", std::strerror(errno)}});
      }
    }
  }
  WARD_ASSIGN_OR_RETURN(auto wait, internal::WakeableWait::Create());
  return std::make_unique<FanotifyExecControl>(std::move(fan), std::move(notify),
                                               std::move(notified_devices), std::move(wait),
                                               std::move(loaders), options);
}

}  // namespace ward::platform
