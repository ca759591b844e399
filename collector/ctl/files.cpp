// SPDX-License-Identifier: Apache-2.0
#include "ward/ctl/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <system_error>

namespace ward::ctl {
namespace {

struct FileClose {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

Error FromErrorCode(const std::string& context, const std::error_code& ec) {
  return ErrnoError(context, ec.value());
}

}  // namespace

Result<std::string> ReadWholeFile(const std::filesystem::path& path, std::size_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) {
    return std::unexpected(FromErrorCode("reading " + path.string(), ec));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return InvalidArgumentError(path.string() + " is not a regular file");
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return std::unexpected(FromErrorCode("reading " + path.string(), ec));
  }
  if (size > max_bytes) {
    return InvalidArgumentError(path.string() + " is " + std::to_string(size) + " bytes; at most " +
                                std::to_string(max_bytes) + " are accepted here");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::unexpected(ErrnoError("opening " + path.string(), errno));
  }
  std::string content(static_cast<std::size_t>(size), '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (in.bad()) {
    return std::unexpected(ErrnoError("reading " + path.string(), errno));
  }
  content.resize(static_cast<std::size_t>(in.gcount()));
  return content;
}

Status WriteNewFile(const std::filesystem::path& path, std::string_view content, unsigned mode) {
  // O_EXCL: fail if the file exists, so nothing is ever overwritten.
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  std::unique_ptr<std::FILE, FileClose> file(fd < 0 ? nullptr : ::fdopen(fd, "wb"));
  if (!file) {
    if (fd >= 0) {
      ::close(fd);
    }
    if (errno == EEXIST) {
      return AlreadyExistsError(path.string() + " exists already; not overwriting it");
    }
    return std::unexpected(ErrnoError("creating " + path.string(), errno));
  }
  const bool written = std::fwrite(content.data(), 1, content.size(), file.get()) == content.size();
  const int saved_errno = errno;
  const bool closed = std::fclose(file.release()) == 0;
  if (!written || !closed) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    return std::unexpected(ErrnoError("writing " + path.string(), written ? errno : saved_errno));
  }
  return OkStatus();
}

}  // namespace ward::ctl
