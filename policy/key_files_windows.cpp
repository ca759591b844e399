// SPDX-License-Identifier: Apache-2.0
// Key files on Windows: created with their final access list (no window where a private key is
// readable by others), never overwritten, and a private key others can read or change is refused.
// The Windows twin of key_files_posix.cpp: "mode 0600" is an access list that is not inherited and
// grants the file only to its user, SYSTEM and the Administrators; "0644" adds read for Everyone.
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <openssl/crypto.h>

#include "ward/common/error_windows.h"
#include "ward/common/sid_windows.h"
#include "ward/policy/signing.h"

namespace ward::policy {
namespace {

struct HandleCloser {
  void operator()(HANDLE h) const {
    if (h != INVALID_HANDLE_VALUE && h != nullptr) {
      CloseHandle(h);
    }
  }
};
using UniqueHandle = std::unique_ptr<void, HandleCloser>;

struct LocalFreer {
  void operator()(void* p) const { LocalFree(p); }
};
template <typename T>
using LocalPtr = std::unique_ptr<T, LocalFreer>;

// Wipes a secret held in a string before the memory is released.
void Cleanse(std::string& secret) {
  if (!secret.empty()) {
    OPENSSL_cleanse(secret.data(), secret.size());
  }
  secret.clear();
}

// The SID of the user this process runs as, in SDDL's string form ("S-1-5-21-...").
Result<std::wstring> CurrentUserSid() {
  HANDLE raw = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw)) {
    return std::unexpected(WindowsError("reading this process's user", GetLastError()));
  }
  UniqueHandle token(raw);
  DWORD size = 0;
  GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  std::vector<std::uint8_t> buffer(size);
  if (size == 0 || !GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size)) {
    return std::unexpected(WindowsError("reading this process's user", GetLastError()));
  }
  wchar_t* text = nullptr;
  if (!ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text)) {
    return std::unexpected(WindowsError("reading this process's user", GetLastError()));
  }
  LocalPtr<wchar_t> owned(text);
  return std::wstring(text);
}

// True for the principals a private key may belong to: this process's user, SYSTEM, the
// Administrators group, and the file's owner (through OWNER RIGHTS).
bool IsTrusted(PSID sid, PSID user) {
  if (user != nullptr && EqualSid(sid, user)) {
    return true;
  }
  return IsWellKnownSid(sid, WinLocalSystemSid) ||
         IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
         IsWellKnownSid(sid, WinCreatorOwnerRightsSid);
}

// "BUILTIN\Users", or the SID's string form when it has no name.
std::string NameOf(PSID sid) {
  if (auto name = AccountName(sid); name.has_value()) {
    return *name;
  }
  if (std::string text = SidString(sid); !text.empty()) {
    return text;
  }
  return "an unknown account";
}

// Who other than the trusted principals may read or change the open file `file`; empty when
// nobody. A missing access list means everyone may.
Result<std::string> OthersWithAccess(HANDLE file, const std::string& shown) {
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD rc = GetSecurityInfo(file, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                   nullptr, &dacl, nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) {
    return std::unexpected(WindowsError("reading the access list of " + shown, rc));
  }
  LocalPtr<void> owned_descriptor(descriptor);
  if (dacl == nullptr) {
    return std::string("Everyone");
  }
  WARD_ASSIGN_OR_RETURN(const std::wstring user_text, CurrentUserSid());
  PSID user = nullptr;
  ConvertStringSidToSidW(user_text.c_str(), &user);
  LocalPtr<void> owned_user(user);
  constexpr ACCESS_MASK kReadOrChange = FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA |
                                        WRITE_DAC | WRITE_OWNER | GENERIC_READ | GENERIC_WRITE |
                                        GENERIC_ALL;
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
    if ((allowed->Mask & kReadOrChange) != 0 && !IsTrusted(sid, user)) {
      return NameOf(sid);
    }
  }
  return std::string();
}

// Opens `path` for reading; directories open too, so that they can be told apart.
Result<UniqueHandle> OpenForReading(const std::filesystem::path& path, const std::string& shown) {
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ | READ_CONTROL, FILE_SHARE_READ, nullptr,
                         OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    return std::unexpected(WindowsError("opening " + shown, GetLastError()));
  }
  return UniqueHandle(h);
}

Result<std::string> ReadSmallFile(HANDLE file, const std::string& shown, std::size_t max_bytes) {
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

// Creates `path` (it must not exist) with the access list `sddl` from the start, writes `content`
// and flushes it. On any failure the half-written file is removed.
Status WriteNewFile(const std::filesystem::path& path, std::string_view content,
                    const std::wstring& sddl) {
  const std::string shown = PathUtf8(path);
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                            &descriptor, nullptr)) {
    return std::unexpected(WindowsError("preparing the access list of " + shown, GetLastError()));
  }
  LocalPtr<void> owned_descriptor(descriptor);
  SECURITY_ATTRIBUTES attributes{sizeof attributes, descriptor, FALSE};
  UniqueHandle file(CreateFileW(path.c_str(), GENERIC_WRITE, 0, &attributes, CREATE_NEW,
                                FILE_ATTRIBUTE_NORMAL, nullptr));
  if (file.get() == INVALID_HANDLE_VALUE) {
    const DWORD error = GetLastError();
    if (error == ERROR_FILE_EXISTS || error == ERROR_ALREADY_EXISTS) {
      return AlreadyExistsError(shown + " exists already; not overwriting it");
    }
    return std::unexpected(WindowsError("creating " + shown, error));
  }
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
  HANDLE raw = file.release();
  if (!CloseHandle(raw)) {
    Error error = WindowsError("closing " + shown, GetLastError());
    DeleteFileW(path.c_str());
    return std::unexpected(std::move(error));
  }
  return OkStatus();
}

// Protected (not inherited) access lists: full control for SYSTEM, the Administrators and this
// user; the public key adds read for Everyone.
Result<std::wstring> KeyFileSddl(bool readable_by_everyone) {
  WARD_ASSIGN_OR_RETURN(const std::wstring user, CurrentUserSid());
  std::wstring sddl = L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;" + user + L")";
  if (readable_by_everyone) {
    sddl += L"(A;;FR;;;WD)";
  }
  return sddl;
}

}  // namespace

Result<PublicKey> PublicKey::ReadFile(const std::filesystem::path& path) {
  const std::string shown = PathUtf8(path);
  WARD_ASSIGN_OR_RETURN(UniqueHandle file, OpenForReading(path, shown));
  WARD_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(file.get(), shown, kMaxKeyFileBytes));
  auto key = FromPem(pem);
  if (!key) {
    return std::unexpected(std::move(key).error().WithContext(shown));
  }
  return key;
}

Status PublicKey::WriteFile(const std::filesystem::path& path) const {
  WARD_ASSIGN_OR_RETURN(const std::string pem, ToPem());
  WARD_ASSIGN_OR_RETURN(const std::wstring sddl, KeyFileSddl(true));
  return WriteNewFile(path, pem, sddl);
}

Result<SigningKey> SigningKey::ReadFile(const std::filesystem::path& path) {
  const std::string shown = PathUtf8(path);
  WARD_ASSIGN_OR_RETURN(UniqueHandle file, OpenForReading(path, shown));
  WARD_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(file.get(), shown, kMaxKeyFileBytes));
  auto others = OthersWithAccess(file.get(), shown);
  if (!others || !others->empty()) {
    Cleanse(pem);
    if (!others) {
      return std::unexpected(std::move(others).error());
    }
    return PermissionDeniedError("the private key " + shown + " can be used by other users (" +
                                 *others + "); run: icacls \"" + shown +
                                 "\" /inheritance:r /remove \"" + *others +
                                 "\" /grant:r \"%USERNAME%:F\"");
  }
  auto key = FromPem(pem);
  Cleanse(pem);
  if (!key) {
    return std::unexpected(std::move(key).error().WithContext(shown));
  }
  return key;
}

Status SigningKey::WriteFile(const std::filesystem::path& path) const {
  WARD_ASSIGN_OR_RETURN(std::string pem, ToPem());
  auto sddl = KeyFileSddl(false);
  if (!sddl) {
    Cleanse(pem);
    return std::unexpected(std::move(sddl).error());
  }
  Status written = WriteNewFile(path, pem, *sddl);
  Cleanse(pem);
  return written;
}

}  // namespace ward::policy
