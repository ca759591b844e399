// SPDX-License-Identifier: Apache-2.0
// Key files on Windows: created with their final access list (no window where a private key is
// readable by others), never overwritten, and a private key others can read or change is refused.
// The Windows twin of key_files_posix.cpp: "mode 0600" is an access list that is not inherited and
// grants the file only to its user, SYSTEM and the Administrators; "0644" adds read for Everyone.
#include <windows.h>

#include <sddl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <openssl/crypto.h>

#include "ward/common/error_windows.h"
#include "ward/common/file_windows.h"
#include "ward/policy/signing.h"

namespace ward::policy {
namespace {

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
  UniqueWindowsHandle token(raw);
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

// What another account must not be able to do to a private key: read or change it.
constexpr std::uint32_t kReadOrChange = FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA |
                                        WRITE_DAC | WRITE_OWNER | GENERIC_READ | GENERIC_WRITE |
                                        GENERIC_ALL;

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
  WARD_ASSIGN_OR_RETURN(UniqueWindowsHandle file, OpenForReading(path));
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
  WARD_ASSIGN_OR_RETURN(UniqueWindowsHandle file, OpenForReading(path));
  WARD_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(file.get(), shown, kMaxKeyFileBytes));
  auto others = OthersWithAccess(file.get(), shown, kReadOrChange);
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
