// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ward/common/result.h"

namespace ward::platform {

// Which version of which file: a file rewritten in place keeps (device, inode) but changes its
// change time (and usually its size), so a decision keyed by all four is never reused for new
// content.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t change_time_ns = 0;
  std::int64_t size = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

// For unordered containers keyed by file version.
struct FileIdentityHash {
  std::size_t operator()(const FileIdentity& f) const {
    std::size_t h = std::hash<std::uint64_t>()(f.inode);
    const auto mix = [&h](std::uint64_t v) {
      h ^= std::hash<std::uint64_t>()(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    };
    mix(f.device);
    mix(static_cast<std::uint64_t>(f.change_time_ns));
    mix(static_cast<std::uint64_t>(f.size));
    return h;
  }
};

enum class ExecVerdict : std::uint8_t { kAllow, kDeny };

// A program about to run, held by the kernel until answered. Next() fills what a cached
// decision needs (the file version, the requester, the loader flag) without any system call
// beyond the event's own fstat; `path` and `uid` cost two more and are filled by Describe().
struct ExecRequest {
  std::uint64_t id = 0;  // for Respond(), Sha256() and Describe()
  std::string path;      // Describe(): as the kernel resolved it; informational (names change)
  std::int32_t pid = 0;
  std::uint32_t uid = 0;  // Describe(): owner of the executing process (0xffffffff: unknown)
  FileIdentity file;
  // The file is a configured dynamic loader executed directly ("ld-linux.so <program>"), not as
  // the interpreter of a program that was itself judged. Policy should refuse it for learners:
  // otherwise it runs any program without an exec check.
  bool direct_loader = false;
  // The kernel gets `fallback` if nobody answers by then (see ExecControlOptions).
  std::chrono::steady_clock::time_point deadline;
};

struct ExecControlStats {
  std::uint64_t requests = 0;               // handed to the caller
  std::uint64_t answered = 0;               // answered by the caller
  std::uint64_t timed_out = 0;              // answered with the timeout verdict
  std::uint64_t overloaded = 0;             // answered at once: too many pending
  std::uint64_t shutdown_answered = 0;      // answered by Shutdown()
  std::uint64_t loader_as_interpreter = 0;  // loader opened for a judged program: allowed
  std::uint64_t own_process = 0;            // our own execs (never held)
  std::uint64_t queue_overflows = 0;        // kernel queue overflowed (not with unlimited queue)
  std::uint64_t remembered = 0;             // allowances the kernel took over (AllowAndRemember)
  std::uint64_t remembered_flushes = 0;     // ForgetRemembered(), or the capacity was reached
  std::uint64_t notify_overflows = 0;       // exec notifications lost (see AllowAndRemember)
};

struct ExecControlOptions {
  // Paths whose whole filesystems are watched (FAN_MARK_FILESYSTEM: every mount of them, in
  // every mount namespace). Tests pass only a private tmpfs; never the host's "/" there.
  std::vector<std::filesystem::path> mounts;
  // Dynamic loaders (e.g. /lib64/ld-linux-x86-64.so.2): watched by inode too, so a direct
  // execution is seen even when the loader is not on a watched mount.
  std::vector<std::filesystem::path> loaders;
  // Every request is answered within this time on every path.
  std::chrono::milliseconds answer_within{3000};
  ExecVerdict timeout_verdict = ExecVerdict::kAllow;
  // More than `max_pending` unanswered requests: new ones get `overload_verdict` at once.
  std::size_t max_pending = 512;
  ExecVerdict overload_verdict = ExecVerdict::kAllow;
  // Let programs this process starts itself (dconf update) run unjudged. The agent sets it;
  // tests that exec from the listening process itself leave it off.
  bool trust_own_children = false;
  // What Shutdown() (and destruction) answer for requests still pending.
  ExecVerdict shutdown_verdict = ExecVerdict::kAllow;
  // Let the kernel remember allowances (AllowAndRemember); off, that is a plain allow.
  bool kernel_cache = true;
  // At most this many files remembered at once; then everything is forgotten and relearnt.
  std::size_t kernel_cache_capacity = 8192;
};

// Exec permission checks (fanotify FAN_CLASS_CONTENT + FAN_OPEN_EXEC_PERM on Linux, with
// filesystem marks). The kernel
// holds each exec until it is answered; this class guarantees an answer: the caller's, or the
// timeout / overload / shutdown verdict. Next(), Sha256() and Describe() are confined to one
// reader thread; Respond(), Interrupt(), Shutdown() and Stats() are thread-safe. An internal
// thread answers requests that reach their deadline.
class ExecControl {
 public:
  virtual ~ExecControl() = default;

  // The next request, waiting up to `max_wait`; std::nullopt on timeout or Interrupt().
  virtual Result<std::optional<ExecRequest>> Next(std::chrono::milliseconds max_wait) = 0;

  // Answers a request. kDeadlineExceeded if it was already answered (timeout, shutdown).
  virtual Status Respond(std::uint64_t id, ExecVerdict verdict) = 0;

  // Answers kAllow and, when the file qualifies, lets the kernel remember it: later execs of the
  // file then run without a request at all (no wake-up, no context switch) until its content is
  // written (the kernel drops what it remembers on any write to the file), ForgetRemembered() or
  // Shutdown(). A file qualifies when no learner can change it behind the kernel's back: owned
  // by root, no group or other write bit, no ACL, on a local filesystem (ext4, xfs, btrfs, f2fs,
  // tmpfs, ramfs, or a read-only squashfs, erofs or iso9660), not a loader; and, when loaders are
  // watched and the file names an ELF interpreter, on a filesystem whose exec notifications this
  // control follows, so that the kernel's opening of the interpreter is still told apart from
  // "ld.so <program>". Otherwise, and with `kernel_cache` off, this is Respond(id, kAllow).
  // Errors as Respond().
  virtual Status AllowAndRemember(std::uint64_t id) = 0;

  // Forgets every allowance the kernel remembers: the next exec of each file is a request again.
  // For a new policy or new package records. Thread-safe.
  virtual void ForgetRemembered() = 0;

  // SHA-256 (lower-case hex) of the file content behind a pending request, read from the file
  // the kernel opened (not the path, which could be swapped). kNotFound once answered.
  virtual Result<std::string> Sha256(std::uint64_t id) = 0;

  // MD5 (lower-case hex) of the same content, read the same way: dpkg records only MD5, so
  // package provenance compares with it. kNotFound once answered.
  virtual Result<std::string> Md5(std::uint64_t id) = 0;

  // Fills `path` and `uid` of a pending request (see ExecRequest). kNotFound once answered;
  // an unreadable owner (the process is gone) leaves uid 0xffffffff and is not an error.
  virtual Status Describe(ExecRequest& request) = 0;

  virtual void Interrupt() = 0;

  // Answers every pending request with the shutdown verdict and stops watching. Idempotent.
  virtual void Shutdown() = 0;

  virtual ExecControlStats Stats() const = 0;
};

// kUnavailable when fanotify is missing, kPermissionDenied without CAP_SYS_ADMIN, kNotFound for
// a mount or loader that does not exist.
Result<std::unique_ptr<ExecControl>> CreateExecControl(const ExecControlOptions& options);

}  // namespace ward::platform
