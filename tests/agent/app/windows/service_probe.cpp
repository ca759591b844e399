// SPDX-License-Identifier: Apache-2.0
// ward_service_probe.exe: reads back what the Service Control Manager holds for a service, for
// ward_agent_service_test.sh (which asserts on its output), and keeps a Wine session's services
// alive while that test runs.
//   ward_service_probe config NAME   prints start=<type> failure_reset=<s> action=<type>/<ms>...
//                                    and dacl=<SDDL of the DACL QueryServiceObjectSecurity gives>
//   ward_service_probe hold SECONDS  sleeps (Wine ends services.exe when no program runs)
#include <windows.h>

#include <sddl.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

int Fail(const char* what) {
  std::fprintf(stderr, "ward_service_probe: %s failed (error %lu)\n", what, GetLastError());
  return 1;
}

int PrintConfig(const wchar_t* name) {
  SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
  if (scm == nullptr) {
    return Fail("OpenSCManager");
  }
  SC_HANDLE service = OpenServiceW(scm, name, SERVICE_QUERY_CONFIG | READ_CONTROL);
  if (service == nullptr) {
    return Fail("OpenService");
  }
  DWORD needed = 0;
  QueryServiceConfigW(service, nullptr, 0, &needed);
  std::vector<unsigned char> buffer(needed);
  auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
  if (!QueryServiceConfigW(service, config, needed, &needed)) {
    return Fail("QueryServiceConfig");
  }
  std::printf("start=%lu\n", config->dwStartType);
  needed = 0;
  QueryServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, nullptr, 0, &needed);
  std::vector<unsigned char> actions_buffer(needed);
  auto* failure = reinterpret_cast<SERVICE_FAILURE_ACTIONSW*>(actions_buffer.data());
  if (QueryServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, actions_buffer.data(), needed,
                           &needed)) {
    std::printf("failure_reset=%lu\n", failure->dwResetPeriod);
    for (DWORD i = 0; i < failure->cActions; ++i) {
      std::printf("action=%d/%lu\n", static_cast<int>(failure->lpsaActions[i].Type),
                  failure->lpsaActions[i].Delay);
    }
  } else if (GetLastError() == ERROR_INVALID_LEVEL) {
    // Wine 8 accepts the recovery actions but cannot give them back.
    std::printf("failure_actions=unreadable\n");
  } else {
    return Fail("QueryServiceConfig2(SERVICE_CONFIG_FAILURE_ACTIONS)");
  }
  needed = 0;
  QueryServiceObjectSecurity(service, DACL_SECURITY_INFORMATION, nullptr, 0, &needed);
  std::vector<unsigned char> descriptor(needed);
  if (!QueryServiceObjectSecurity(service, DACL_SECURITY_INFORMATION, descriptor.data(), needed,
                                  &needed)) {
    return Fail("QueryServiceObjectSecurity");
  }
  wchar_t* sddl = nullptr;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(
          descriptor.data(), SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &sddl, nullptr)) {
    return Fail("ConvertSecurityDescriptorToStringSecurityDescriptor");
  }
  std::printf("dacl=%ls\n", sddl);
  LocalFree(sddl);
  CloseServiceHandle(service);
  CloseServiceHandle(scm);
  return 0;
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  if (argc == 3 && std::wstring(argv[1]) == L"config") {
    return PrintConfig(argv[2]);
  }
  if (argc == 3 && std::wstring(argv[1]) == L"hold") {
    Sleep(static_cast<DWORD>(std::wcstoul(argv[2], nullptr, 10)) * 1000);
    return 0;
  }
  std::fprintf(stderr, "usage: ward_service_probe config NAME | hold SECONDS\n");
  return 2;
}
