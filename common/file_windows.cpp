// SPDX-License-Identifier: Apache-2.0
#include "ward/common/file_windows.h"

#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <vector>

#include "ward/common/error_windows.h"

namespace ward {
namespace {

// This process's user; nullptr when it cannot be read (then nobody counts as that user).
LocalPtr<void> CurrentUser() {
  HANDLE raw = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw)) {
    return nullptr;
  }
  UniqueWindowsHandle token(raw);
  DWORD size = 0;
  GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  std::vector<std::uint8_t> buffer(size);
  if (size == 0 || !GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size)) {
    return nullptr;
  }
  PSID sid = reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid;
  const DWORD length = GetLengthSid(sid);
  LocalPtr<void> copy(LocalAlloc(LMEM_FIXED, length));
  if (copy == nullptr || !CopySid(length, copy.get(), sid)) {
    return nullptr;
  }
  return copy;
}

bool IsTrusted(PSID sid, PSID user, bool owner_rights) {
  if (user != nullptr && EqualSid(sid, user)) {
    return true;
  }
  return IsWellKnownSid(sid, WinLocalSystemSid) ||
         IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
         (owner_rights && IsWellKnownSid(sid, WinCreatorOwnerRightsSid));
}

// "BUILTIN\Users", or the SID's string form when it has no name.
std::string NameOf(PSID sid) {
  wchar_t name[256];
  wchar_t domain[256];
  DWORD name_size = 256;
  DWORD domain_size = 256;
  SID_NAME_USE use;
  if (LookupAccountSidW(nullptr, sid, name, &name_size, domain, &domain_size, &use)) {
    return Utf8(domain_size > 0 ? std::wstring(domain) + L"\\" + name : std::wstring(name));
  }
  wchar_t* text = nullptr;
  if (ConvertSidToStringSidW(sid, &text)) {
    LocalPtr<wchar_t> owned(text);
    return Utf8(text);
  }
  return "an unknown account";
}

}  // namespace

void WindowsHandleCloser::operator()(void* handle) const {
  if (handle != nullptr && handle != INVALID_HANDLE_VALUE) {
    CloseHandle(handle);
  }
}

void LocalFreer::operator()(void* p) const { LocalFree(p); }

Result<UniqueWindowsHandle> OpenForReading(const std::filesystem::path& path, bool follow_links) {
  const std::string shown = PathUtf8(path);
  DWORD flags = FILE_FLAG_BACKUP_SEMANTICS;
  if (!follow_links) {
    flags |= FILE_FLAG_OPEN_REPARSE_POINT;
  }
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ | READ_CONTROL, FILE_SHARE_READ, nullptr,
                         OPEN_EXISTING, flags, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    return std::unexpected(WindowsError("opening " + shown, GetLastError()));
  }
  UniqueWindowsHandle file(h);
  if (!follow_links) {
    BY_HANDLE_FILE_INFORMATION info{};
    if (!GetFileInformationByHandle(h, &info)) {
      return std::unexpected(WindowsError("reading " + shown, GetLastError()));
    }
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
      return PermissionDeniedError(shown + " is a link (reparse point): refusing to follow it");
    }
  }
  return file;
}

Result<std::string> ReadSmallFile(void* file, const std::string& shown, std::size_t max_bytes) {
  BY_HANDLE_FILE_INFORMATION info{};
  if (!GetFileInformationByHandle(file, &info)) {
    return std::unexpected(WindowsError("reading " + shown, GetLastError()));
  }
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0 ||
      GetFileType(file) != FILE_TYPE_DISK) {
    return InvalidArgumentError(shown + " is not a regular file");
  }
  const std::uint64_t size =
      (static_cast<std::uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  if (size > max_bytes) {
    return InvalidArgumentError(shown + " is " + std::to_string(size) +
                                " bytes; a key file is at most " + std::to_string(max_bytes));
  }
  std::string content(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < content.size()) {
    DWORD n = 0;
    if (!::ReadFile(file, content.data() + done, static_cast<DWORD>(content.size() - done), &n,
                    nullptr)) {
      return std::unexpected(WindowsError("reading " + shown, GetLastError()));
    }
    if (n == 0) {
      break;
    }
    done += n;
  }
  content.resize(done);
  return content;
}

Status WriteNewFile(const std::filesystem::path& path, std::string_view content,
                    std::wstring_view sddl) {
  const std::string shown = PathUtf8(path);
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const std::wstring sddl_text(sddl);
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl_text.c_str(), SDDL_REVISION_1,
                                                            &descriptor, nullptr)) {
    return std::unexpected(WindowsError("preparing the access list of " + shown, GetLastError()));
  }
  LocalPtr<void> owned_descriptor(descriptor);
  SECURITY_ATTRIBUTES attributes{sizeof attributes, descriptor, FALSE};
  HANDLE h = CreateFileW(path.c_str(), GENERIC_WRITE, 0, &attributes, CREATE_NEW,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD error = GetLastError();
    if (error == ERROR_FILE_EXISTS || error == ERROR_ALREADY_EXISTS) {
      return AlreadyExistsError(shown + " exists already; not overwriting it");
    }
    return std::unexpected(WindowsError("creating " + shown, error));
  }
  UniqueWindowsHandle file(h);
  const auto fail = [&](std::string_view what) {
    Error error = WindowsError(std::string(what) + " " + shown, GetLastError());
    file.reset();
    DeleteFileW(path.c_str());
    return std::unexpected(std::move(error));
  };
  std::size_t done = 0;
  while (done < content.size()) {
    DWORD n = 0;
    if (!::WriteFile(file.get(), content.data() + done, static_cast<DWORD>(content.size() - done),
                     &n, nullptr)) {
      return fail("writing");
    }
    done += n;
  }
  if (!FlushFileBuffers(file.get())) {
    return fail("flushing");
  }
  if (!CloseHandle(file.release())) {
    Error error = WindowsError("closing " + shown, GetLastError());
    DeleteFileW(path.c_str());
    return std::unexpected(std::move(error));
  }
  return OkStatus();
}

Result<std::string> OthersWithAccess(void* object, const std::string& shown, std::uint32_t access) {
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD rc = GetSecurityInfo(object, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                   nullptr, &dacl, nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) {
    return std::unexpected(WindowsError("reading the access list of " + shown, rc));
  }
  LocalPtr<void> owned_descriptor(descriptor);
  if (dacl == nullptr) {
    return std::string("Everyone");
  }
  LocalPtr<void> user = CurrentUser();
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    if (!GetAce(dacl, i, &ace)) {
      continue;
    }
    const auto* header = static_cast<ACE_HEADER*>(ace);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE || (header->AceFlags & INHERIT_ONLY_ACE) != 0) {
      continue;
    }
    const auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
    PSID sid = const_cast<DWORD*>(&allowed->SidStart);
    if ((allowed->Mask & access) != 0 && !IsTrusted(sid, user.get(), /*owner_rights=*/true)) {
      return NameOf(sid);
    }
  }
  return std::string();
}

Result<std::string> UntrustedOwner(void* object, const std::string& shown) {
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD rc = GetSecurityInfo(object, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                                   nullptr, nullptr, nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) {
    return std::unexpected(WindowsError("reading the owner of " + shown, rc));
  }
  LocalPtr<void> owned_descriptor(descriptor);
  LocalPtr<void> user = CurrentUser();
  if (owner == nullptr || IsTrusted(owner, user.get(), /*owner_rights=*/false)) {
    return std::string();
  }
  return NameOf(owner);
}

}  // namespace ward
