// SPDX-License-Identifier: Apache-2.0
// Linux store key: a systemd credential when the unit passes one, otherwise a root-only key file.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

#include "internal/store_key.h"
#include "unique_fd_linux.h"
#include "ward/common/hex.h"
#include "ward/platform/key_provider.h"

namespace ward::platform {
namespace {

namespace fs = std::filesystem;

using internal::UniqueFd;

// Closes now and reports the error (a close error after write can mean lost data).
Status CloseChecked(UniqueFd& fd, std::string_view what) {
  int raw = fd.Release();
  if (raw >= 0 && ::close(raw) != 0) {
    return std::unexpected(ErrnoError(what, errno));
  }
  return OkStatus();
}

std::string Ctx(std::string_view verb, const fs::path& path) {
  return std::string(verb) + " " + path.string();
}

Result<std::string> ReadSmallFile(int fd, const fs::path& path, std::size_t limit) {
  std::string out;
  char buf[256];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(ErrnoError(Ctx("read", path), errno));
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      return out;  // callers reject the length
    }
  }
}

Status WriteAll(int fd, const std::uint8_t* data, std::size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(ErrnoError(Ctx("write", path), errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return OkStatus();
}

Status FsyncPath(const fs::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd.valid()) {
    return std::unexpected(ErrnoError(Ctx("open", path), errno));
  }
  if (::fsync(fd.get()) != 0) {
    return std::unexpected(ErrnoError(Ctx("fsync", path), errno));
  }
  return CloseChecked(fd, Ctx("close", path));
}

// Only the effective user may reach the key: owner is us, no group or other bits.
Status CheckPrivate(const struct stat& st, const fs::path& path, std::string_view what) {
  if (st.st_uid != ::geteuid()) {
    return PermissionDeniedError(std::string(what) + " " + path.string() + " is owned by uid " +
                                 std::to_string(st.st_uid) + ", not by uid " +
                                 std::to_string(::geteuid()) + ": refusing to use it");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDeniedError(std::string(what) + " " + path.string() + " has mode " + mode +
                                 " (group or others may access it): refusing to use it; " +
                                 "it must be 0600 (file) or 0700 (directory)");
  }
  return OkStatus();
}

// A credential holds 32 raw bytes or 64 hex digits (an optional trailing newline is allowed).
Result<std::array<std::uint8_t, kStoreKeyBytes>> ParseKeyBytes(std::string text,
                                                               const fs::path& path,
                                                               bool allow_hex) {
  std::array<std::uint8_t, kStoreKeyBytes> key{};
  if (text.size() == kStoreKeyBytes) {
    std::copy(text.begin(), text.end(), key.begin());
    OPENSSL_cleanse(text.data(), text.size());
    return key;
  }
  if (allow_hex) {
    std::string_view hex = text;
    if (!hex.empty() && hex.back() == '\n') {
      hex.remove_suffix(1);
    }
    if (hex.size() == 2 * kStoreKeyBytes) {
      auto decoded = HexDecode(hex);
      OPENSSL_cleanse(text.data(), text.size());
      if (!decoded) {
        return DataLossError("store key " + path.string() + " is not valid hex");
      }
      std::copy(decoded->begin(), decoded->end(), key.begin());
      OPENSSL_cleanse(decoded->data(), decoded->size());
      return key;
    }
  }
  std::size_t size = text.size();
  OPENSSL_cleanse(text.data(), text.size());
  return DataLossError("store key " + path.string() + " has " + std::to_string(size) +
                       " bytes, expected " + std::to_string(kStoreKeyBytes) +
                       (allow_hex ? " raw bytes or 64 hex digits" : "") +
                       ": refusing to use it (move it aside to start a fresh store)");
}

class LinuxKeyProvider final : public KeyProvider {
 public:
  explicit LinuxKeyProvider(KeyProviderOptions options) : options_(std::move(options)) {}

  Result<StoreKey> GetOrCreateStoreKey() override {
    fs::path cred_dir;
    if (options_.credentials_directory) {
      cred_dir = *options_.credentials_directory;
    } else if (const char* env = std::getenv("CREDENTIALS_DIRECTORY"); env != nullptr) {
      cred_dir = env;
    }
    if (!cred_dir.empty()) {
      WARD_ASSIGN_OR_RETURN(auto from_credential, ReadCredential(cred_dir));
      if (from_credential) {
        return std::move(*from_credential);
      }
    }
    return FromKeyFile();
  }

 private:
  // nullopt when the service was not given the credential.
  Result<std::optional<StoreKey>> ReadCredential(const fs::path& dir) {
    fs::path path = dir / options_.credential_name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) {
        return std::optional<StoreKey>();
      }
      return std::unexpected(ErrnoError(Ctx("open credential", path), errno));
    }
    WARD_ASSIGN_OR_RETURN(auto text, ReadSmallFile(fd.get(), path, 4 * kStoreKeyBytes));
    WARD_ASSIGN_OR_RETURN(auto bytes, ParseKeyBytes(std::move(text), path, /*allow_hex=*/true));
    StoreKey key;
    key.bytes = bytes;
    key.source = "systemd-credential";
    return std::optional<StoreKey>(std::move(key));
  }

  Status EnsureStateDir() {
    const fs::path& dir = options_.state_dir;
    if (dir.empty()) {
      return InvalidArgumentError("key provider: no state directory configured");
    }
    struct stat st{};
    if (::lstat(dir.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        return std::unexpected(ErrnoError(Ctx("stat", dir), errno));
      }
      WARD_RETURN_IF_ERROR(CreatePrivateDirectory(dir));
      if (::lstat(dir.c_str(), &st) != 0) {
        return std::unexpected(ErrnoError(Ctx("stat", dir), errno));
      }
    }
    if (!S_ISDIR(st.st_mode)) {
      return PermissionDeniedError("state directory " + dir.string() +
                                   " is not a directory: refusing to keep the key there");
    }
    return CheckPrivate(st, dir, "state directory");
  }

  Result<StoreKey> FromKeyFile() {
    WARD_RETURN_IF_ERROR(EnsureStateDir());
    fs::path path = options_.state_dir / options_.key_file_name;
    for (int attempt = 0; attempt < 3; ++attempt) {
      UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (fd.valid()) {
        return ReadKeyFile(fd.get(), path);
      }
      if (errno != ENOENT) {
        return std::unexpected(ErrnoError(Ctx("open key file", path), errno));
      }
      auto created = CreateKeyFile(path);
      if (created || created.error().code() != ErrorCode::kAlreadyExists) {
        return created;
      }
      // Another process created it between our open and rename: read theirs.
    }
    return InternalError("key file " + path.string() + " keeps appearing and vanishing");
  }

  Result<StoreKey> ReadKeyFile(int fd, const fs::path& path) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
      return std::unexpected(ErrnoError(Ctx("stat", path), errno));
    }
    if (!S_ISREG(st.st_mode)) {
      return PermissionDeniedError("key file " + path.string() + " is not a regular file");
    }
    WARD_RETURN_IF_ERROR(CheckPrivate(st, path, "key file"));
    WARD_ASSIGN_OR_RETURN(auto text, ReadSmallFile(fd, path, 4 * kStoreKeyBytes));
    WARD_ASSIGN_OR_RETURN(auto bytes, ParseKeyBytes(std::move(text), path, /*allow_hex=*/false));
    StoreKey key;
    key.bytes = bytes;
    key.source = "key-file";
    return key;
  }

  // O_EXCL temp file, fsync, rename without replacing, fsync the directory.
  Result<StoreKey> CreateKeyFile(const fs::path& path) {
    WARD_ASSIGN_OR_RETURN(StoreKey key, internal::NewStoreKey(options_, "key-file"));

    fs::path tmp = path;
    tmp.replace_filename("." + path.filename().string() + ".tmp");
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid() && errno == EEXIST) {
      // Left over from a start that died before the rename: it never became the key.
      ::unlink(tmp.c_str());
      fd.Reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    }
    if (!fd.valid()) {
      return std::unexpected(ErrnoError(Ctx("create", tmp), errno));
    }
    auto fail = [&](Error e) -> Result<StoreKey> {
      ::unlink(tmp.c_str());
      OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
      return std::unexpected(std::move(e));
    };
    if (::fchmod(fd.get(), 0600) != 0) {
      return fail(ErrnoError(Ctx("chmod", tmp), errno));
    }
    if (auto s = WriteAll(fd.get(), key.bytes.data(), key.bytes.size(), tmp); !s) {
      return fail(s.error());
    }
    if (::fsync(fd.get()) != 0) {
      return fail(ErrnoError(Ctx("fsync", tmp), errno));
    }
    if (auto s = CloseChecked(fd, Ctx("close", tmp)); !s) {
      return fail(s.error());
    }
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
      int e = errno;
      return fail(ErrnoError(Ctx("rename to", path), e));
    }
    if (auto s = FsyncPath(options_.state_dir, O_RDONLY | O_DIRECTORY); !s) {
      // The key is in place but may not survive a power cut; the next start checks again.
      return std::unexpected(s.error());
    }
    return key;
  }

  KeyProviderOptions options_;
};

}  // namespace

std::unique_ptr<KeyProvider> CreateKeyProvider(const KeyProviderOptions& options) {
  return std::make_unique<LinuxKeyProvider>(options);
}

Status CreatePrivateDirectory(const fs::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path()) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) {
      return std::unexpected(ErrnoError(Ctx("create", dir.parent_path()), ec.value()));
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return std::unexpected(ErrnoError(Ctx("create", dir), errno));
  }
  return OkStatus();
}

}  // namespace ward::platform
