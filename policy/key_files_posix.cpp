// SPDX-License-Identifier: Apache-2.0
// Key files on POSIX systems: created with their final mode (no window where a private key is
// readable by others), never overwritten, and a private key others can read is refused.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <openssl/crypto.h>

#include "ward/policy/signing.h"

namespace ward::policy {
namespace {

// Closes a POSIX file descriptor when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  // Closes now, reporting the error close() gives (data may be lost on some filesystems).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Wipes a secret held in a string before the memory is released.
void Cleanse(std::string& secret) {
  if (!secret.empty()) {
    OPENSSL_cleanse(secret.data(), secret.size());
  }
  secret.clear();
}

Result<std::string> ReadSmallFile(const std::filesystem::path& path, std::size_t max_bytes,
                                  struct stat* info) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    return std::unexpected(ErrnoError("opening " + path.string(), errno));
  }
  if (::fstat(fd.get(), info) != 0) {
    return std::unexpected(ErrnoError("reading " + path.string(), errno));
  }
  if (!S_ISREG(info->st_mode)) {
    return InvalidArgumentError(path.string() + " is not a regular file");
  }
  if (static_cast<std::uint64_t>(info->st_size) > max_bytes) {
    return InvalidArgumentError(path.string() + " is " + std::to_string(info->st_size) +
                                " bytes; a key file is at most " + std::to_string(max_bytes));
  }
  std::string content(static_cast<std::size_t>(info->st_size), '\0');
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::unexpected(ErrnoError("reading " + path.string(), errno));
    }
    if (n == 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  content.resize(done);
  return content;
}

// Creates `path` (it must not exist) with exactly `mode`, writes `content` and syncs it. On any
// failure the half-written file is removed.
Status WriteNewFile(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode));
  if (fd.get() < 0) {
    if (errno == EEXIST) {
      return AlreadyExistsError(path.string() + " exists already; not overwriting it");
    }
    return std::unexpected(ErrnoError("creating " + path.string(), errno));
  }
  const auto fail = [&](std::string_view what) {
    Error error = ErrnoError(std::string(what) + " " + path.string(), errno);
    ::unlink(path.c_str());
    return std::unexpected(std::move(error));
  };
  // The umask may have removed bits; set the mode we mean.
  if (::fchmod(fd.get(), mode) != 0) {
    return fail("setting the mode of");
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail("writing");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    return fail("syncing");
  }
  if (fd.Close() != 0) {
    return fail("closing");
  }
  return OkStatus();
}

}  // namespace

Result<PublicKey> PublicKey::ReadFile(const std::filesystem::path& path) {
  struct stat info{};
  WARD_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, kMaxKeyFileBytes, &info));
  auto key = FromPem(pem);
  if (!key) {
    return std::unexpected(std::move(key).error().WithContext(path.string()));
  }
  return key;
}

Status PublicKey::WriteFile(const std::filesystem::path& path) const {
  WARD_ASSIGN_OR_RETURN(const std::string pem, ToPem());
  return WriteNewFile(path, pem, 0644);
}

Result<SigningKey> SigningKey::ReadFile(const std::filesystem::path& path) {
  struct stat info{};
  WARD_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, kMaxKeyFileBytes, &info));
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    Cleanse(pem);
    const unsigned mode = info.st_mode & 0777u;
    std::string octal = "0";
    octal.push_back(static_cast<char>('0' + ((mode >> 6) & 7u)));
    octal.push_back(static_cast<char>('0' + ((mode >> 3) & 7u)));
    octal.push_back(static_cast<char>('0' + (mode & 7u)));
    return PermissionDeniedError("the private key " + path.string() +
                                 " can be used by other users (mode " + octal +
                                 "); run: chmod 600 " + path.string());
  }
  auto key = FromPem(pem);
  Cleanse(pem);
  if (!key) {
    return std::unexpected(std::move(key).error().WithContext(path.string()));
  }
  return key;
}

Status SigningKey::WriteFile(const std::filesystem::path& path) const {
  WARD_ASSIGN_OR_RETURN(std::string pem, ToPem());
  Status written = WriteNewFile(path, pem, 0600);
  Cleanse(pem);
  return written;
}

}  // namespace ward::policy
