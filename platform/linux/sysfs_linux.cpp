// SPDX-License-Identifier: Apache-2.0
#include "sysfs_linux.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "unique_fd_linux.h"

namespace ward::platform::internal {

Result<std::vector<std::uint8_t>> ReadAttributeBytes(const std::filesystem::path& path,
                                                     std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return std::unexpected(ErrnoError("open " + path.string(), errno));
  }
  std::vector<std::uint8_t> out;
  std::uint8_t buffer[4096];
  while (out.size() < max_bytes) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(ErrnoError("read " + path.string(), errno));
    }
    if (n == 0) {
      return out;
    }
    out.insert(out.end(), buffer, buffer + n);
  }
  return ResourceExhaustedError(path.string() + " is larger than " + std::to_string(max_bytes) +
                                " bytes");
}

Result<std::string> ReadAttribute(const std::filesystem::path& path) {
  WARD_ASSIGN_OR_RETURN(auto bytes, ReadAttributeBytes(path, 4096));
  std::string text(bytes.begin(), bytes.end());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) {
    text.pop_back();
  }
  return text;
}

Result<std::vector<std::string>> ListNames(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  std::vector<std::string> names;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    return std::unexpected(ErrnoError("listing " + dir.string(), ec.value()));
  }
  return names;
}

Status WriteAttribute(const std::filesystem::path& path, std::string_view value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return std::unexpected(ErrnoError("open " + path.string() + " for writing", errno));
  }
  return WriteAll(fd.get(), value, path);
}

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(ErrnoError("write " + path.string(), errno));
    }
    written += static_cast<std::size_t>(n);
  }
  return OkStatus();
}

}  // namespace ward::platform::internal
