// SPDX-License-Identifier: Apache-2.0
// Key file access lists on Windows (key_files_windows.cpp), run under Wine in CI.
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "key_files_test.h"
#include "ward/policy/signing.h"
#include "ward/testing/access_list_windows.h"
#include "ward/testing/temp_dir.h"

namespace ward::policy {
namespace {

using ::testing::HasSubstr;
using testing::NewKey;
using ward::testing::SetAccessList;
using ward::testing::TempDir;

struct LocalFreer {
  void operator()(void* p) const { LocalFree(p); }
};

// The SIDs (as strings) that an allow entry of `path`'s access list gives read access to.
std::vector<std::string> Readers(const std::filesystem::path& path) {
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD rc = GetNamedSecurityInfoW(path.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                         nullptr, nullptr, &dacl, nullptr, &descriptor);
  EXPECT_EQ(rc, static_cast<DWORD>(ERROR_SUCCESS));
  std::unique_ptr<void, LocalFreer> owned(descriptor);
  std::vector<std::string> readers;
  if (rc != ERROR_SUCCESS) {
    return readers;
  }
  if (dacl == nullptr) {
    readers.push_back("S-1-1-0");  // no access list: Everyone
    return readers;
  }
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    if (!GetAce(dacl, i, &ace)) {
      continue;
    }
    const auto* header = static_cast<ACE_HEADER*>(ace);
    const auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE ||
        (allowed->Mask & (FILE_READ_DATA | GENERIC_READ | GENERIC_ALL)) == 0) {
      continue;
    }
    char* text = nullptr;
    if (ConvertSidToStringSidA(const_cast<DWORD*>(&allowed->SidStart), &text)) {
      readers.emplace_back(text);
      LocalFree(text);
    }
  }
  return readers;
}

std::string CurrentUserSid() {
  HANDLE token = nullptr;
  EXPECT_TRUE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
  std::vector<std::uint8_t> buffer(512);
  DWORD size = 0;
  EXPECT_TRUE(GetTokenInformation(token, TokenUser, buffer.data(),
                                  static_cast<DWORD>(buffer.size()), &size));
  CloseHandle(token);
  char* text = nullptr;
  EXPECT_TRUE(
      ConvertSidToStringSidA(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text));
  std::string sid = text != nullptr ? text : "";
  LocalFree(text);
  return sid;
}

TEST(KeyFilesWindowsTest, OnlyTheUserSystemAndAdministratorsCanReadThePrivateKey) {
  TempDir dir;
  const SigningKey key = NewKey();
  const auto private_path = dir.path() / "ward-signing.key";
  const auto public_path = dir.path() / "ward-signing.pub";
  ASSERT_TRUE(key.WriteFile(private_path).has_value());
  ASSERT_TRUE(key.public_key().WriteFile(public_path).has_value());

  const std::string user = CurrentUserSid();
  const std::vector<std::string> private_readers = Readers(private_path);
  ASSERT_FALSE(private_readers.empty());
  for (const std::string& sid : private_readers) {
    // SYSTEM, Administrators, this user.
    EXPECT_TRUE(sid == "S-1-5-18" || sid == "S-1-5-32-544" || sid == user)
        << "the private key is readable by " << sid;
  }
  EXPECT_THAT(Readers(public_path), ::testing::Contains("S-1-1-0"))
      << "the public key should be readable by Everyone";

  auto read_back = SigningKey::ReadFile(private_path);
  ASSERT_TRUE(read_back.has_value()) << read_back.error().ToString();
  EXPECT_EQ(read_back->key_id(), key.key_id());
}

TEST(KeyFilesWindowsTest, RefusesAPrivateKeyOtherUsersCanRead) {
  TempDir dir;
  const auto path = dir.path() / "shared.key";
  ASSERT_TRUE(NewKey().WriteFile(path).has_value());
  const std::string user = CurrentUserSid();
  SetAccessList(
      path, L"D:P(A;;FA;;;SY)(A;;FA;;;" + std::filesystem::path(user).native() + L")(A;;FR;;;BU)");
  auto key = SigningKey::ReadFile(path);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(key.error().message(), HasSubstr("can be used by other users"));
  EXPECT_THAT(key.error().message(), HasSubstr("run: icacls"));
}

}  // namespace
}  // namespace ward::policy
