// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

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

bool HasInterpreter(int fd) {
  std::uint8_t head[4096];
  const ssize_t n = ::pread(fd, head, sizeof(head), 0);
  if (n <= 0) {
    return false;
  }
  auto has = ElfHasInterpreter(std::span<const std::uint8_t>(head, static_cast<std::size_t>(n)));
  return has.has_value() && *has;
}

class FanotifyExecControl final : public ExecControl {
 public:
  FanotifyExecControl(UniqueFd fan, internal::WakeableWait wait,
                      std::set<std::pair<std::uint64_t, std::uint64_t>> loaders,
                      const ExecControlOptions& options)
      : fan_(std::move(fan)),
        wait_(std::move(wait)),
        loaders_(std::move(loaders)),
        options_(options) {
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
    while (ready_.empty()) {
      WARD_ASSIGN_OR_RETURN(const auto outcome, wait_.Wait(fan_.get(), deadline));
      if (outcome != internal::WakeableWait::Outcome::kReadable) {
        return std::nullopt;
      }
      WARD_RETURN_IF_ERROR(ReadEvents());
    }
    ExecRequest request = std::move(ready_.front());
    ready_.pop_front();
    return request;
  }

  Status Respond(std::uint64_t id, ExecVerdict verdict) override {
    Pending pending;
    {
      std::scoped_lock lock(mutex_);
      auto it = pending_.find(id);
      if (it == pending_.end()) {
        return DeadlineExceededError("exec request " + std::to_string(id) +
                                     " was already answered");
      }
      pending = std::move(it->second);
      pending_.erase(it);
    }
    std::scoped_lock lock(mutex_);
    ++stats_.answered;
    return AnswerAndRemember(pending.fd, pending.pid, verdict);
  }

  Result<std::string> Sha256(std::uint64_t id) override { return Digest(id, EVP_sha256()); }

  Result<std::string> Md5(std::uint64_t id) override { return Digest(id, EVP_md5()); }

  Result<std::string> Digest(std::uint64_t id, const EVP_MD* md) {
    UniqueFd copy;
    {
      std::scoped_lock lock(mutex_);
      auto it = pending_.find(id);
      if (it == pending_.end()) {
        return NotFoundError("exec request " + std::to_string(id) + " is no longer pending");
      }
      copy.Reset(::fcntl(it->second.fd.get(), F_DUPFD_CLOEXEC, 0));
    }
    if (!copy.valid()) {
      return std::unexpected(ErrnoError("dup fanotify fd", errno));
    }
    return HashFd(copy.get(), md);
  }

  void Interrupt() override { wait_.Wake(); }

  void Shutdown() override {
    {
      std::scoped_lock lock(mutex_);
      if (shut_down_) {
        return;
      }
      shut_down_ = true;
      for (auto& [id, pending] : pending_) {
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
    UniqueFd fd;
    std::int32_t pid = 0;
    Clock::time_point deadline;
  };

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
  Status AnswerAndRemember(const UniqueFd& fd, std::int32_t pid, ExecVerdict verdict) {
    if (verdict == ExecVerdict::kAllow && HasInterpreter(fd.get())) {
      interpreter_expected_[pid] = Clock::now() + kInterpreterWindow;
    }
    return Answer(fd, verdict);
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
    if (pid == ::getpid() || (options_.trust_own_children && ParentPid(pid) == ::getpid())) {
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
    const auto now = Clock::now();
    const auto expected = interpreter_expected_.find(pid);
    const bool interpreter_due = expected != interpreter_expected_.end() && expected->second > now;
    if (expected != interpreter_expected_.end()) {
      interpreter_expected_.erase(expected);
    }
    if (loaders_.contains({request.file.device, request.file.inode})) {
      if (interpreter_due) {
        (void)Answer(fd, ExecVerdict::kAllow);
        ++stats_.loader_as_interpreter;
        return;
      }
      request.direct_loader = true;
    }
    if (pending_.size() >= options_.max_pending) {
      (void)AnswerAndRemember(fd, pid, options_.overload_verdict);
      ++stats_.overloaded;
      return;
    }
    request.id = next_id_++;
    request.pid = pid;
    request.deadline = now + options_.answer_within;
    ++stats_.requests;
    const int raw = fd.get();
    pending_.emplace(request.id, Pending{std::move(fd), pid, request.deadline});
    // Deadlines only grow (now + a fixed bound), so a sleeping deadline thread with a timer set
    // wakes early enough by itself; only an idle one (nothing was pending) needs waking. That
    // keeps a context switch off the per-exec path.
    const bool wake = deadline_thread_idle_;
    lock.unlock();
    if (wake) {
      deadline_changed_.notify_all();
    }
    request.path = FdPath(raw);
    request.uid = ProcessUid(pid);
    ready_.push_back(std::move(request));
  }

  void DeadlineLoop() {
    std::unique_lock lock(mutex_);
    while (!stop_deadline_thread_) {
      auto earliest = Clock::time_point::max();
      for (const auto& [id, pending] : pending_) {
        earliest = std::min(earliest, pending.deadline);
      }
      if (earliest == Clock::time_point::max()) {
        deadline_thread_idle_ = true;
        deadline_changed_.wait(lock);
        deadline_thread_idle_ = false;
      } else {
        deadline_changed_.wait_until(lock, earliest);
      }
      const auto now = Clock::now();
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline <= now) {
          (void)AnswerAndRemember(it->second.fd, it->second.pid, options_.timeout_verdict);
          ++stats_.timed_out;
          it = pending_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  UniqueFd fan_;
  internal::WakeableWait wait_;
  const std::set<std::pair<std::uint64_t, std::uint64_t>> loaders_;  // (device, inode)
  const ExecControlOptions options_;
  std::deque<ExecRequest> ready_;  // reader thread only
  std::atomic<bool> drained_any_ = false;
  std::uint64_t next_id_ = 1;  // reader thread only

  mutable std::mutex mutex_;
  std::condition_variable deadline_changed_;
  std::map<std::uint64_t, Pending> pending_;                        // guarded by mutex_
  std::map<std::int32_t, Clock::time_point> interpreter_expected_;  // guarded by mutex_
  ExecControlStats stats_;                                          // guarded by mutex_
  bool shut_down_ = false;                                          // guarded by mutex_
  bool stop_deadline_thread_ = false;                               // guarded by mutex_
  bool deadline_thread_idle_ = false;                               // guarded by mutex_
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
  WARD_ASSIGN_OR_RETURN(auto wait, internal::WakeableWait::Create());
  return std::make_unique<FanotifyExecControl>(std::move(fan), std::move(wait), std::move(loaders),
                                               options);
}

}  // namespace ward::platform
