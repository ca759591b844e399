// SPDX-License-Identifier: Apache-2.0
#include "ward/common/error_windows.h"

#include <windows.h>

#include <string>

namespace ward {
namespace {

ErrorCode CodeForWindowsError(DWORD e) {
  switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_NOT_FOUND:
    case ERROR_SERVICE_DOES_NOT_EXIST:
      return ErrorCode::kNotFound;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
    case ERROR_SERVICE_EXISTS:
      return ErrorCode::kAlreadyExists;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
    case ERROR_WRITE_PROTECT:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      return ErrorCode::kPermissionDenied;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_TOO_MANY_OPEN_FILES:
    case ERROR_NOT_ENOUGH_QUOTA:
      return ErrorCode::kResourceExhausted;
    case ERROR_BUSY:
    case ERROR_PIPE_BUSY:
    case ERROR_SERVICE_NOT_ACTIVE:
      return ErrorCode::kUnavailable;
    case ERROR_TIMEOUT:
    case WAIT_TIMEOUT:
      return ErrorCode::kDeadlineExceeded;
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_DIRECTORY:
      return ErrorCode::kInvalidArgument;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
    case ERROR_PROC_NOT_FOUND:
      return ErrorCode::kUnsupported;
    case ERROR_CRC:
    case ERROR_FILE_CORRUPT:
    case ERROR_DISK_CORRUPT:
      return ErrorCode::kDataLoss;
    default:
      return ErrorCode::kInternal;
  }
}

// The system's text for a Win32 error (in English where the system has it), without the
// trailing ".\r\n" noise.
std::string MessageFor(DWORD code) {
  std::string text;
  for (const DWORD language :
       {static_cast<DWORD>(MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US)), static_cast<DWORD>(0)}) {
    wchar_t* buffer = nullptr;
    const DWORD n = FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, language, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
    if (n > 0 && buffer != nullptr) {
      text = Utf8(std::wstring_view(buffer, n));
    }
    LocalFree(buffer);
    if (!text.empty()) {
      break;
    }
  }
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.')) {
    text.pop_back();
  }
  if (text.empty()) {
    text = "Windows error " + std::to_string(code);
  }
  return text;
}

}  // namespace

Error WindowsError(std::string_view context, std::uint32_t code) {
  std::string message(context);
  message.append(": ").append(MessageFor(code));
  return Error(CodeForWindowsError(code), std::move(message), code);
}

std::string Utf8(std::wstring_view wide) {
  if (wide.empty()) {
    return {};
  }
  const int n = WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr,
                                    0, nullptr, nullptr);
  if (n <= 0) {
    return {};
  }
  std::string out(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), out.data(), n,
                      nullptr, nullptr);
  return out;
}

std::wstring Utf16(std::string_view utf8) {
  if (utf8.empty()) {
    return {};
  }
  const int n =
      MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  if (n <= 0) {
    return {};
  }
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string PathUtf8(const std::filesystem::path& path) { return Utf8(path.native()); }

}  // namespace ward
