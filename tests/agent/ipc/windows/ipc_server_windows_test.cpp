// SPDX-License-Identifier: Apache-2.0
// The named-pipe transport: who may hold the name, the pipe's access list, who the caller is.
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "ipc_server_fixture.h"
#include "ward/agent/ipc/ipc_server.h"

namespace ward::agent::ipc {
namespace {

using namespace std::chrono_literals;
using testing::IpcServerTest;

TEST_F(IpcServerTest, NamesTheCallerByItsTokenUserAndAccount) {
  StartServer();
  auto client = Client();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Status().has_value());
  const auto callers = control_.callers();
  ASSERT_EQ(callers.size(), 1u);
  EXPECT_TRUE(callers[0].user_id.starts_with("S-1-5-")) << callers[0].user_id;
  EXPECT_EQ(callers[0].user_id, testing::OwnUserId());
  // "DOMAIN\name" from the account database, not the SID again.
  EXPECT_NE(callers[0].user_name.find('\\'), std::string::npos) << callers[0].user_name;
}

TEST_F(IpcServerTest, SecondServerOnTheSamePipeFails) {
  StartServer();
  testing::TestAgentControl other_control;
  auto second = IpcServer::Create({.endpoint = endpoint_.endpoint()}, other_control, clock_);
  ASSERT_TRUE(second.has_value());
  const auto started = (*second)->Start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), ErrorCode::kPermissionDenied) << started.error().ToString();
  // The first one still serves.
  auto client = Client();
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Status().has_value());
}

TEST_F(IpcServerTest, RefusesToServeANameAnotherProgramHolds) {
  // A program that created the pipe before the agent started (to answer learners' trays itself).
  HANDLE squatter =
      CreateNamedPipeW(endpoint_.endpoint().c_str(), PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE,
                       PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, nullptr);
  ASSERT_NE(squatter, INVALID_HANDLE_VALUE);
  const auto started = TryStart();
  CloseHandle(squatter);
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), ErrorCode::kPermissionDenied) << started.error().ToString();
}

TEST_F(IpcServerTest, RefusesAnEndpointThatIsNotALocalPipe) {
  auto server = IpcServer::Create({.endpoint = R"(\\otherhost\pipe\ward-agent)"}, control_, clock_);
  ASSERT_TRUE(server.has_value());
  const auto started = (*server)->Start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code(), ErrorCode::kInvalidArgument);
}

// The access list read back from the pipe: deny network logons, SYSTEM and Administrators
// everything, interactive users read + write data (never FILE_CREATE_PIPE_INSTANCE), nothing
// inherited.
TEST_F(IpcServerTest, PipeCarriesTheWardAccessList) {
  StartServer();
  testing::RawConnection raw(endpoint_.endpoint());
  ASSERT_TRUE(raw.connected());
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  ASSERT_EQ(GetSecurityInfo(raw.handle(), SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                            nullptr, &dacl, nullptr, &descriptor),
            static_cast<DWORD>(ERROR_SUCCESS));
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  ASSERT_TRUE(GetSecurityDescriptorControl(descriptor, &control, &revision));
  EXPECT_NE(control & SE_DACL_PROTECTED, 0);
  ASSERT_NE(dacl, nullptr);
  struct Expected {
    BYTE type;
    WELL_KNOWN_SID_TYPE who;
    bool full;
  };
  const Expected expected[] = {{ACCESS_DENIED_ACE_TYPE, WinNetworkSid, true},
                               {ACCESS_ALLOWED_ACE_TYPE, WinLocalSystemSid, true},
                               {ACCESS_ALLOWED_ACE_TYPE, WinBuiltinAdministratorsSid, true},
                               {ACCESS_ALLOWED_ACE_TYPE, WinInteractiveSid, false}};
  ASSERT_EQ(dacl->AceCount, 4u);
  for (DWORD i = 0; i < 4; ++i) {
    void* raw_ace = nullptr;
    ASSERT_TRUE(GetAce(dacl, i, &raw_ace));
    auto* header = static_cast<ACE_HEADER*>(raw_ace);
    EXPECT_EQ(header->AceType, expected[i].type) << "ACE " << i;
    // ACCESS_ALLOWED_ACE and ACCESS_DENIED_ACE share this layout.
    auto* ace = static_cast<ACCESS_ALLOWED_ACE*>(raw_ace);
    EXPECT_TRUE(IsWellKnownSid(&ace->SidStart, expected[i].who)) << "ACE " << i;
    if (expected[i].full) {
      EXPECT_TRUE(ace->Mask == GENERIC_ALL || ace->Mask == FILE_ALL_ACCESS)
          << "ACE " << i << " mask " << std::hex << ace->Mask;
    } else {
      EXPECT_EQ(ace->Mask, static_cast<ACCESS_MASK>(FILE_GENERIC_READ | FILE_WRITE_DATA));
      EXPECT_EQ(ace->Mask & FILE_CREATE_PIPE_INSTANCE, 0u);
    }
  }
  LocalFree(descriptor);
}

// --- What this system enforces about pipes. Real Windows is asserted; under Wine the test pins
// what Wine 8 does (docs/ipc.md, "What Wine cannot prove"), so a Wine that starts enforcing is
// noticed and the document updated.

bool UnderWine() {
  return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr;
}

// A pipe instance of `name` with this DACL (SDDL), or INVALID_HANDLE_VALUE.
HANDLE PipeWithDacl(const std::filesystem::path& name, const wchar_t* sddl, DWORD extra_mode = 0) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &descriptor,
                                                            nullptr)) {
    return INVALID_HANDLE_VALUE;
  }
  SECURITY_ATTRIBUTES attributes{sizeof(SECURITY_ATTRIBUTES), descriptor, FALSE};
  HANDLE pipe = CreateNamedPipeW(name.c_str(), PIPE_ACCESS_DUPLEX | extra_mode, PIPE_TYPE_BYTE,
                                 PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, &attributes);
  LocalFree(descriptor);
  return pipe;
}

struct OpenResult {
  bool opened;
  DWORD error;
};

OpenResult OpenClientEnd(const std::filesystem::path& name, DWORD access) {
  HANDLE h = CreateFileW(name.c_str(), access, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  const DWORD error = GetLastError();
  if (h != INVALID_HANDLE_VALUE) {
    CloseHandle(h);
    return {true, 0};
  }
  return {false, error};
}

TEST(PipeEnforcementTest, FirstPipeInstanceFlag) {
  testing::TestEndpoint endpoint;
  HANDLE first = PipeWithDacl(endpoint.endpoint(), L"D:(A;;GA;;;WD)");
  ASSERT_NE(first, INVALID_HANDLE_VALUE);
  HANDLE second =
      PipeWithDacl(endpoint.endpoint(), L"D:(A;;GA;;;WD)", FILE_FLAG_FIRST_PIPE_INSTANCE);
  const DWORD error = GetLastError();
  if (second != INVALID_HANDLE_VALUE) {
    CloseHandle(second);
  }
  CloseHandle(first);
  if (UnderWine()) {
    EXPECT_NE(second, INVALID_HANDLE_VALUE) << "Wine now enforces FILE_FLAG_FIRST_PIPE_INSTANCE";
  } else {
    EXPECT_EQ(second, INVALID_HANDLE_VALUE);
    EXPECT_EQ(error, static_cast<DWORD>(ERROR_ACCESS_DENIED));
  }
}

// Opens the client end of a fresh pipe with this DACL (each client takes the only instance).
OpenResult OpenWithDacl(const wchar_t* sddl, DWORD access) {
  testing::TestEndpoint endpoint;
  HANDLE pipe = PipeWithDacl(endpoint.endpoint(), sddl);
  if (pipe == INVALID_HANDLE_VALUE) {
    return {false, GetLastError()};
  }
  const OpenResult result = OpenClientEnd(endpoint.endpoint(), access);
  CloseHandle(pipe);
  return result;
}

TEST(PipeEnforcementTest, DaclOnOpeningTheClientEnd) {
  // Everyone may read and write data, nothing more: what Ward gives interactive users.
  constexpr wchar_t kTrayOnly[] = L"D:P(A;;0x12008b;;;WD)";
  const OpenResult as_tray = OpenWithDacl(kTrayOnly, GENERIC_READ | FILE_WRITE_DATA);
  const OpenResult generic_write = OpenWithDacl(kTrayOnly, GENERIC_READ | GENERIC_WRITE);
  const OpenResult nobody = OpenWithDacl(L"D:P", GENERIC_READ | FILE_WRITE_DATA);  // empty DACL
  std::printf(
      "pipe DACL probe: tray access %s (%lu), GENERIC_WRITE %s (%lu), empty DACL %s (%lu)\n",
      as_tray.opened ? "opened" : "refused", as_tray.error,
      generic_write.opened ? "opened" : "refused", generic_write.error,
      nobody.opened ? "opened" : "refused", nobody.error);
  EXPECT_TRUE(as_tray.opened) << as_tray.error;
  if (UnderWine()) {
    EXPECT_TRUE(generic_write.opened) << "Wine now checks pipe DACLs: update docs/ipc.md";
    EXPECT_TRUE(nobody.opened) << "Wine now checks pipe DACLs: update docs/ipc.md";
  } else {
    EXPECT_FALSE(generic_write.opened);
    EXPECT_FALSE(nobody.opened);
  }
}

TEST(PipeEnforcementTest, DaclOnAddingAServerInstance) {
  testing::TestEndpoint endpoint;
  HANDLE pipe = PipeWithDacl(endpoint.endpoint(), L"D:P(A;;0x12008b;;;WD)");
  ASSERT_NE(pipe, INVALID_HANDLE_VALUE);
  // Another instance needs FILE_CREATE_PIPE_INSTANCE, which that DACL gives nobody.
  HANDLE another = PipeWithDacl(endpoint.endpoint(), L"D:P(A;;GA;;;WD)");
  const DWORD error = GetLastError();
  std::printf("pipe DACL probe: adding an instance %s (%lu)\n",
              another != INVALID_HANDLE_VALUE ? "allowed" : "refused", error);
  if (another != INVALID_HANDLE_VALUE) {
    CloseHandle(another);
  }
  CloseHandle(pipe);
  if (UnderWine()) {
    EXPECT_NE(another, INVALID_HANDLE_VALUE) << "Wine now checks pipe DACLs: update docs/ipc.md";
  } else {
    EXPECT_EQ(another, INVALID_HANDLE_VALUE);
    EXPECT_EQ(error, static_cast<DWORD>(ERROR_ACCESS_DENIED));
  }
}

}  // namespace
}  // namespace ward::agent::ipc
