// SPDX-License-Identifier: Apache-2.0
// Windows store key: 32 random bytes encrypted with DPAPI in machine scope, in a key file that only
// SYSTEM and the Administrators may use. The Windows twin of linux/key_provider_linux.cpp's key
// file: "mode 0600, owned by root" is a protected access list for SYSTEM and the Administrators
// and an owner among them; what is on the disk is DPAPI's blob, never the raw key.
//
// Not CNG with the TPM yet: DPAPI machine scope needs nothing but Windows, works the same on every
// edition and under Wine, and ties the key to this Windows installation (its LSA secret), which is
// the Linux host-key case (docs/privacy.md). A TPM-bound key (NCrypt with the Platform Crypto
// Provider) would survive theft of the disk alone; it is for later, with a laptop to prove it on.
#include <windows.h>

#include <dpapi.h>
#include <openssl/crypto.h>
#include <sddl.h>

#include <algorithm>
#include <string>
#include <system_error>

#include "internal/store_key.h"
#include "ward/common/error_windows.h"
#include "ward/common/file_windows.h"
#include "ward/platform/key_provider.h"

namespace ward::platform {
namespace {

namespace fs = std::filesystem;

// Protected (never inherited from the parent) lists: SYSTEM and the Administrators only. The
// directory's entries are inherited by what is created in it (the store's database files).
constexpr std::wstring_view kDirectorySddl = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
constexpr std::wstring_view kKeyFileSddl = L"D:P(A;;FA;;;SY)(A;;FA;;;BA)";

// What nobody else may do to the key file or its directory: read, change, delete, add files to,
// or change the access list or owner.
constexpr std::uint32_t kAnyUse = FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA |
                                  FILE_DELETE_CHILD | DELETE | WRITE_DAC | WRITE_OWNER |
                                  GENERIC_READ | GENERIC_WRITE | GENERIC_ALL;

// Mixed into DPAPI's encryption: another program unprotecting the blob in machine scope must know
// it too (it is not a secret from an administrator; it keeps the blob Ward's).
constexpr char kEntropy[] = "ward.store-key.v1";
// The largest DPAPI blob of a 32-byte key is a few hundred bytes.
constexpr std::size_t kMaxKeyFileBytes = 4096;

// A DPAPI input or output; `data` must outlive it.
DATA_BLOB Blob(const void* data, std::size_t size) {
  return DATA_BLOB{static_cast<DWORD>(size), static_cast<BYTE*>(const_cast<void*>(data))};
}

// Refuses an object another account may use or own: kPermissionDenied naming it and the fix.
Status CheckPrivate(void* object, const std::string& shown, std::string_view what) {
  WARD_ASSIGN_OR_RETURN(const std::string owner, UntrustedOwner(object, shown));
  if (!owner.empty()) {
    return PermissionDeniedError(std::string(what) + " " + shown + " is owned by " + owner +
                                 ", not by SYSTEM or the Administrators: refusing to use it");
  }
  WARD_ASSIGN_OR_RETURN(const std::string others, OthersWithAccess(object, shown, kAnyUse));
  if (!others.empty()) {
    return PermissionDeniedError(std::string(what) + " " + shown + " can be used by " + others +
                                 " (its access list must allow only SYSTEM and the " +
                                 "Administrators): refusing to use it; fix it with: icacls \"" +
                                 shown + "\" /inheritance:r /grant:r SYSTEM:F Administrators:F");
  }
  return OkStatus();
}

class WindowsKeyProvider final : public KeyProvider {
 public:
  explicit WindowsKeyProvider(KeyProviderOptions options) : options_(std::move(options)) {}

  Result<StoreKey> GetOrCreateStoreKey() override {
    WARD_RETURN_IF_ERROR(EnsureStateDir());
    const fs::path path = options_.state_dir / options_.key_file_name;
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto file = OpenForReading(path, /*follow_links=*/false);
      if (file) {
        return ReadKeyFile(file->get(), PathUtf8(path));
      }
      if (file.error().code() != ErrorCode::kNotFound) {
        return std::unexpected(file.error().WithContext("opening the store key file"));
      }
      auto created = CreateKeyFile(path);
      if (created || created.error().code() != ErrorCode::kAlreadyExists) {
        return created;
      }
      // Another process created it between our open and the move: read theirs.
    }
    return InternalError("key file " + PathUtf8(path) + " keeps appearing and vanishing");
  }

 private:
  Status EnsureStateDir() {
    const fs::path& dir = options_.state_dir;
    if (dir.empty()) {
      return InvalidArgumentError("key provider: no state directory configured");
    }
    auto opened = OpenForReading(dir, /*follow_links=*/false);
    if (!opened && opened.error().code() == ErrorCode::kNotFound) {
      WARD_RETURN_IF_ERROR(CreatePrivateDirectory(dir));
      opened = OpenForReading(dir, /*follow_links=*/false);
    }
    if (!opened) {
      return std::unexpected(opened.error().WithContext("opening the state directory"));
    }
    const std::string shown = PathUtf8(dir);
    BY_HANDLE_FILE_INFORMATION info{};
    if (!GetFileInformationByHandle(opened->get(), &info)) {
      return std::unexpected(WindowsError("reading " + shown, GetLastError()));
    }
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0) {
      return PermissionDeniedError("state directory " + shown +
                                   " is not a directory: refusing to keep the key there");
    }
    return CheckPrivate(opened->get(), shown, "state directory");
  }

  Result<StoreKey> ReadKeyFile(void* file, const std::string& shown) {
    WARD_RETURN_IF_ERROR(CheckPrivate(file, shown, "key file"));
    WARD_ASSIGN_OR_RETURN(std::string blob, ReadSmallFile(file, shown, kMaxKeyFileBytes));
    DATA_BLOB in = Blob(blob.data(), blob.size());
    DATA_BLOB entropy = Blob(kEntropy, sizeof kEntropy - 1);
    DATA_BLOB out{};
    if (!CryptUnprotectData(&in, nullptr, &entropy, nullptr, nullptr, CRYPTPROTECT_UI_FORBIDDEN,
                            &out)) {
      const Error cause = WindowsError("DPAPI", GetLastError());
      return DataLossError(
          "store key " + shown + " cannot be decrypted (" + cause.message() +
          "): it is damaged, not a Ward key, or from another Windows " +
          "installation; refusing to use it (move it aside to start a fresh store)");
    }
    LocalPtr<BYTE> owned(out.pbData);
    StoreKey key;
    const std::size_t size = out.cbData;
    if (size == kStoreKeyBytes) {
      std::copy(out.pbData, out.pbData + size, key.bytes.begin());
    }
    SecureZeroMemory(out.pbData, out.cbData);
    if (size != kStoreKeyBytes) {
      return DataLossError("store key " + shown + " holds " + std::to_string(size) +
                           " bytes, expected " + std::to_string(kStoreKeyBytes) +
                           ": refusing to use it (move it aside to start a fresh store)");
    }
    key.source = "dpapi-key-file";
    return key;
  }

  // Encrypt, write a temporary file with its final access list, flush, move it into place
  // without replacing anything (MoveFileEx without MOVEFILE_REPLACE_EXISTING).
  Result<StoreKey> CreateKeyFile(const fs::path& path) {
    WARD_ASSIGN_OR_RETURN(StoreKey key, internal::NewStoreKey(options_, "dpapi-key-file"));
    auto fail = [&](Error e) -> Result<StoreKey> {
      OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
      return std::unexpected(std::move(e));
    };

    DATA_BLOB in = Blob(key.bytes.data(), key.bytes.size());
    DATA_BLOB entropy = Blob(kEntropy, sizeof kEntropy - 1);
    DATA_BLOB out{};
    if (!CryptProtectData(&in, L"Ward event store key", &entropy, nullptr, nullptr,
                          CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN, &out)) {
      return fail(WindowsError("encrypting the store key with DPAPI", GetLastError()));
    }
    LocalPtr<BYTE> owned(out.pbData);
    const std::string_view blob(reinterpret_cast<const char*>(out.pbData), out.cbData);

    fs::path tmp = path;
    tmp.replace_filename(L"." + path.filename().wstring() + L".tmp");
    Status written = WriteNewFile(tmp, blob, kKeyFileSddl);
    if (!written && written.error().code() == ErrorCode::kAlreadyExists) {
      // Left over from a start that died before the move: it never became the key.
      DeleteFileW(tmp.c_str());
      written = WriteNewFile(tmp, blob, kKeyFileSddl);
    }
    if (!written) {
      return fail(written.error());
    }
    if (!MoveFileExW(tmp.c_str(), path.c_str(), MOVEFILE_WRITE_THROUGH)) {
      const DWORD error = GetLastError();
      DeleteFileW(tmp.c_str());
      if (error == ERROR_ALREADY_EXISTS || error == ERROR_FILE_EXISTS) {
        return fail(AlreadyExistsError(PathUtf8(path) + " was created by another process").error());
      }
      return fail(WindowsError("moving the new store key to " + PathUtf8(path), error));
    }
    return key;
  }

  KeyProviderOptions options_;
};

}  // namespace

std::unique_ptr<KeyProvider> CreateKeyProvider(const KeyProviderOptions& options) {
  return std::make_unique<WindowsKeyProvider>(options);
}

Status CreatePrivateDirectory(const fs::path& dir) {
  const std::string shown = PathUtf8(dir);
  std::error_code ec;
  if (dir.has_parent_path()) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) {
      return UnavailableError("creating " + PathUtf8(dir.parent_path()) + ": " + ec.message());
    }
  }
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
          std::wstring(kDirectorySddl).c_str(), SDDL_REVISION_1, &descriptor, nullptr)) {
    return std::unexpected(WindowsError("preparing the access list of " + shown, GetLastError()));
  }
  LocalPtr<void> owned(descriptor);
  SECURITY_ATTRIBUTES attributes{sizeof attributes, descriptor, FALSE};
  if (!CreateDirectoryW(dir.c_str(), &attributes) && GetLastError() != ERROR_ALREADY_EXISTS) {
    return std::unexpected(WindowsError("creating " + shown, GetLastError()));
  }
  return OkStatus();
}

}  // namespace ward::platform
