// SPDX-License-Identifier: Apache-2.0
// ward-agent's OS seam on Windows (internal/os.h): %ProgramData%\Ward, the named pipe, the
// MachineGuid, private files through their access lists.
#include <windows.h>

#include <shlobj.h>
// COM's objbase.h defines `interface` as `struct`; Ward's headers use it as a name.
#undef interface

#include <cwctype>

#include "internal/os.h"
#include "ward/agent/ipc/endpoint.h"
#include "ward/app/agent.h"
#include "ward/common/error_windows.h"
#include "ward/common/file_windows.h"
#include "ward/common/log.h"

namespace ward::app {
namespace {

// SYSTEM, the Administrators and the file's owner (an administrator running --console).
constexpr std::wstring_view kPrivateFileSddl = L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)";

std::filesystem::path ProgramData() {
  PWSTR found = nullptr;
  std::filesystem::path out = LR"(C:\ProgramData)";
  if (SUCCEEDED(SHGetKnownFolderPath(FOLDERID_ProgramData, KF_FLAG_DEFAULT, nullptr, &found)) &&
      found != nullptr) {
    out = found;
  }
  CoTaskMemFree(found);
  return out;
}

}  // namespace

namespace internal {

AgentConfig DefaultAgentConfig() {
  const std::filesystem::path ward = ProgramData() / "Ward";
  AgentConfig config;
  config.policy_bundle = ward / "policy.bundle";
  config.policy_key = ward / "policy.pub";
  config.status_file = ward / "agent.status";
  config.state_dir = ward / "state";
  config.ipc_socket = agent::ipc::DefaultEndpoint();
  // Linux only: dpkg provenance, the dynamic loader, /sys, /etc/machine-id.
  config.packages = false;
  config.exec_mounts.clear();
  config.exec_loaders.clear();
  config.sysfs_root.clear();
  config.dpkg_root.clear();
  config.settings_root.clear();
  config.machine_id_file.clear();
  return config;
}

std::filesystem::path DefaultConfigPath() { return ProgramData() / "Ward" / "agent.conf"; }

bool IsAbsolutePath(std::string_view text) {
  // libstdc++ does not see "\\.\pipe\name" as absolute; every "\\" path is (UNC, device).
  return !text.empty() && (text.starts_with(R"(\\)") || std::filesystem::path(text).is_absolute());
}

const char* OsName() { return "windows"; }

std::string HostName() {
  wchar_t name[MAX_COMPUTERNAME_LENGTH + 1] = {};
  DWORD size = MAX_COMPUTERNAME_LENGTH + 1;
  if (!GetComputerNameW(name, &size)) {
    return "unknown";
  }
  return Utf8(std::wstring_view(name, size));
}

std::string MachineId(const AgentConfig&) {
  wchar_t guid[64] = {};
  DWORD size = sizeof(guid);
  const LSTATUS read =
      RegGetValueW(HKEY_LOCAL_MACHINE, LR"(SOFTWARE\Microsoft\Cryptography)", L"MachineGuid",
                   RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY, nullptr, guid, &size);
  std::string id;
  if (read == ERROR_SUCCESS) {
    for (const wchar_t* c = guid; *c != L'\0'; ++c) {
      if (std::iswxdigit(static_cast<wint_t>(*c))) {
        id.push_back(static_cast<char>(std::towlower(static_cast<wint_t>(*c))));
      }
    }
  }
  if (id.size() != 32) {
    log::Warning("no machine id: a reinstall enrols as a new device",
                 {{"error", WindowsError("MachineGuid", static_cast<DWORD>(read)).ToString()}});
    return "";
  }
  return id;
}

long CurrentProcessId() { return static_cast<long>(GetCurrentProcessId()); }

bool ProcessRunning(long pid) {
  if (pid <= 0) {
    return false;
  }
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) {
    // Another user's (SYSTEM's) process the caller may not open still runs.
    return GetLastError() == ERROR_ACCESS_DENIED;
  }
  DWORD code = 0;
  const bool running = GetExitCodeProcess(process, &code) && code == STILL_ACTIVE;
  CloseHandle(process);
  return running;
}

void PrepareIpcEndpoint(const std::filesystem::path&) {}

}  // namespace internal

Status WriteFileDurably(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  DeleteFileW(tmp.c_str());  // a crash's leftover; WriteNewFile wants a new file
  WARD_RETURN_IF_ERROR(WriteNewFile(tmp, bytes, kPrivateFileSddl));
  if (!MoveFileExW(tmp.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    const DWORD err = GetLastError();
    DeleteFileW(tmp.c_str());
    return std::unexpected(WindowsError("replacing " + PathUtf8(path), err));
  }
  return OkStatus();
}

Status CheckEnrolmentSecretFile(const std::filesystem::path& path) {
  const std::string shown = PathUtf8(path);
  auto file = OpenForReading(path, /*follow_links=*/false);
  if (!file.has_value()) {
    if (file.error().code() == ErrorCode::kNotFound) {
      return NotFoundError("cannot read the enrolment secret " + shown);
    }
    return std::unexpected(file.error().WithContext("reading the enrolment secret"));
  }
  const std::string fix = "; make it private with: icacls \"" + shown +
                          "\" /inheritance:r /grant:r SYSTEM:F Administrators:F";
  BY_HANDLE_FILE_INFORMATION info{};
  if (!GetFileInformationByHandle(file->get(), &info)) {
    return std::unexpected(WindowsError("reading the enrolment secret " + shown, GetLastError()));
  }
  if ((info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) != 0) {
    return PermissionDeniedError("the enrolment secret file " + shown +
                                 " is not a plain file (a link or a folder); put the secret "
                                 "itself there" +
                                 fix);
  }
  WARD_ASSIGN_OR_RETURN(const std::string owner, UntrustedOwner(file->get(), shown));
  if (!owner.empty()) {
    return PermissionDeniedError("the enrolment secret file " + shown + " belongs to " + owner +
                                 ", not SYSTEM or the Administrators" + fix);
  }
  WARD_ASSIGN_OR_RETURN(const std::string others,
                        OthersWithAccess(file->get(), shown, FILE_READ_DATA | FILE_WRITE_DATA));
  if (!others.empty()) {
    return PermissionDeniedError("other users of this laptop (" + others +
                                 ") can read the enrolment secret file " + shown + fix);
  }
  return OkStatus();
}

}  // namespace ward::app
