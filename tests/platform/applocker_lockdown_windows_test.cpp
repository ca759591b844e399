// SPDX-License-Identifier: Apache-2.0
// The AppLocker back-end under Wine (a private prefix per test session): the application-control
// contract, the sample policies read back with the registry API against the golden files, a
// site's own AppLocker rules and service start type put back by Restore, and the edition report.
#include <windows.h>

#include "app_lockdown_contract.h"
#include "applocker_golden.h"
#include "registry_dump_windows.h"
#include "ward/common/error_windows.h"
#include "ward/platform/applocker_policy.h"

namespace ward::platform {
namespace {

constexpr char kRestoreKey[] = "SOFTWARE\\WardTest\\AppLockerRestore";

AppLockdownOptions TestOptions(std::string edition = "Education") {
  return {.restore_key = kRestoreKey, .edition_for_testing = std::move(edition)};
}

// Every key AppLocker's registry form touches: the SrpV2 collections and the service's key.
std::string AppLockerKeys() {
  std::string out;
  Dump(HKEY_LOCAL_MACHINE, Utf16(kSrpV2Key), out);
  Dump(HKEY_LOCAL_MACHINE, Utf16(kAppIdSvcKey), out);
  return out;
}

struct RegistryBackend {
  static std::unique_ptr<AppLockdown> Create() {
    auto control = CreateAppLockdown(TestOptions());
    EXPECT_TRUE(control.has_value()) << control.error().ToString();
    return control.has_value() ? *std::move(control) : nullptr;
  }
  // An administrator (or malware running as one) turns the Exe collection to audit only.
  static void WeakenModeBehindWardsBack(AppLockdown&) {
    const DWORD zero = 0;
    ASSERT_EQ(RegSetKeyValueW(HKEY_LOCAL_MACHINE, Utf16(std::string(kSrpV2Key) + "\\Exe").c_str(),
                              L"EnforcementMode", REG_DWORD, &zero, sizeof(zero)),
              ERROR_SUCCESS);
  }
  // ... or adds an "allow everything" rule of their own.
  static void AddRuleBehindWardsBack(AppLockdown&) {
    const std::wstring rule =
        L"<FilePathRule Id=\"11111111-2222-3333-4444-555555555555\" Name=\"mine\" "
        L"Description=\"\" UserOrGroupSid=\"S-1-1-0\" Action=\"Allow\"><Conditions>"
        L"<FilePathCondition Path=\"*\" /></Conditions></FilePathRule>";
    ASSERT_EQ(
        RegSetKeyValueW(
            HKEY_LOCAL_MACHINE,
            Utf16(std::string(kSrpV2Key) + "\\Exe\\11111111-2222-3333-4444-555555555555").c_str(),
            L"Value", REG_SZ, rule.c_str(),
            static_cast<DWORD>((rule.size() + 1) * sizeof(wchar_t))),
        ERROR_SUCCESS);
  }
  static std::string Snapshot(AppLockdown&) { return AppLockerKeys(); }
  static void CleanUp() {
    auto control = CreateAppLockdown(TestOptions());
    if (control.has_value()) {
      EXPECT_TRUE((*control)->Restore().has_value());
    }
    RegDeleteTreeW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WardTest");
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WardTest");
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Registry, AppLockdownContractTest, RegistryBackend);

class RegistryAppLockerTest : public ::testing::TestWithParam<const char*> {
 protected:
  void TearDown() override { RegistryBackend::CleanUp(); }
};

// What Ward wrote, read back with the registry API in the golden files' format.
std::string ReadBack(const RegistryPolicy& rendered, const AppApplyReport& report) {
  std::set<std::string> keys;
  for (const RegistryPolicyValue& v : rendered.values) {
    keys.insert(v.key);
  }
  std::string out = "Windows Registry Editor Version 5.00\n";
  for (const std::string& key : keys) {
    out += "\n[HKEY_LOCAL_MACHINE\\" + key + "]\n" +
           ValueLines(HKEY_LOCAL_MACHINE, Utf16(key)).value_or("(missing)\n");
  }
  if (!report.not_enforced.empty()) {
    out += "\n";
  }
  for (const SettingNotEnforced& n : report.not_enforced) {
    out += "; not enforced on Windows: " + n.setting + ": " + n.reason + "\n";
  }
  return out;
}

TEST_P(RegistryAppLockerTest, SamplePolicyReadsBackAsTheGoldenRegistryState) {
  auto policy = AppLockerSamplePolicy(GetParam());
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  auto control = CreateAppLockdown(TestOptions());
  ASSERT_TRUE(control.has_value()) << control.error().ToString();
  auto report = (*control)->Apply(policy->apps(), policy->mode());
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  const RegistryPolicy rendered =
      RenderAppLockerRegistry(CompileAppLockerPolicy(policy->apps(), policy->mode()));
  EXPECT_EQ(ReadBack(rendered, *report), ReadText(AppLockerGoldenPath(GetParam())));
  // Nothing but the policy's rules in Ward's collections.
  auto drifted = (*control)->Drifted(policy->apps(), policy->mode());
  ASSERT_TRUE(drifted.has_value());
  EXPECT_TRUE(drifted->empty());
}

INSTANTIATE_TEST_SUITE_P(Samples, RegistryAppLockerTest,
                         ::testing::Values("windows-lab", "sample-under18", "example-adult"));

TEST_F(RegistryAppLockerTest, ANewPolicyRemovesTheRulesItNoLongerHas) {
  auto control = CreateAppLockdown(TestOptions());
  ASSERT_TRUE(control.has_value());
  v1::AppPolicy apps = ContractApps();
  ASSERT_TRUE((*control)->Apply(apps, v1::MODE_ENFORCE).has_value());
  apps.mutable_rules()->RemoveLast();
  auto report = (*control)->Apply(apps, v1::MODE_ENFORCE);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->notes.back(), "0 registry value(s) written, 1 rule(s) removed");
  EXPECT_EQ(AppLockerKeys().find("block-game"), std::string::npos);
  auto drifted = (*control)->Drifted(apps, v1::MODE_ENFORCE);
  ASSERT_TRUE(drifted.has_value());
  EXPECT_TRUE(drifted->empty());
}

TEST_F(RegistryAppLockerTest, RestorePutsBackASitesOwnRulesAndServiceStartType) {
  // The site had an AppLocker rule of its own and the service on manual start (3).
  const std::wstring own = L"<FilePathRule Id=\"aaaaaaaa-0000-0000-0000-000000000001\" />";
  ASSERT_EQ(
      RegSetKeyValueW(
          HKEY_LOCAL_MACHINE,
          Utf16(std::string(kSrpV2Key) + "\\Exe\\aaaaaaaa-0000-0000-0000-000000000001").c_str(),
          L"Value", REG_SZ, own.c_str(), static_cast<DWORD>((own.size() + 1) * 2)),
      ERROR_SUCCESS);
  const DWORD manual = 3;
  ASSERT_EQ(RegSetKeyValueW(HKEY_LOCAL_MACHINE, Utf16(kAppIdSvcKey).c_str(), L"Start", REG_DWORD,
                            &manual, sizeof(manual)),
            ERROR_SUCCESS);
  const std::string before = AppLockerKeys();
  auto control = CreateAppLockdown(TestOptions());
  ASSERT_TRUE(control.has_value());
  ASSERT_TRUE((*control)->Apply(ContractApps(), v1::MODE_ENFORCE).has_value());
  EXPECT_EQ(AppLockerKeys().find("aaaaaaaa-0000"), std::string::npos);  // Ward owns Exe now
  control->reset();
  // Restore runs in another process at uninstall: a new instance knows what to put back.
  auto uninstall = CreateAppLockdown(TestOptions());
  ASSERT_TRUE(uninstall.has_value());
  ASSERT_TRUE((*uninstall)->Restore().has_value());
  EXPECT_EQ(AppLockerKeys(), before);
  RegDeleteTreeW(HKEY_LOCAL_MACHINE, Utf16(kSrpV2Key).c_str());
  RegDeleteKeyW(HKEY_LOCAL_MACHINE, Utf16(kSrpV2Key).c_str());
  RegDeleteKeyValueW(HKEY_LOCAL_MACHINE, Utf16(kAppIdSvcKey).c_str(), L"Start");
}

TEST_F(RegistryAppLockerTest, ProEditionIsReportedAsNotEnforcedButTheRulesAreWritten) {
  auto control = CreateAppLockdown(TestOptions("Professional"));
  ASSERT_TRUE(control.has_value());
  auto report = (*control)->Apply(ContractApps(), v1::MODE_ENFORCE);
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->os_enforces);
  EXPECT_TRUE(report->notes.front().starts_with("Windows Professional is not known to enforce"));
  auto drifted = (*control)->Drifted(ContractApps(), v1::MODE_ENFORCE);
  ASSERT_TRUE(drifted.has_value());
  EXPECT_TRUE(drifted->empty());
}

TEST_F(RegistryAppLockerTest, TheMachinesOwnEditionIsRead) {
  auto control = CreateAppLockdown({.restore_key = kRestoreKey, .edition_for_testing = ""});
  ASSERT_TRUE(control.has_value());
  auto report = (*control)->Apply(ContractApps(), v1::MODE_MONITOR);
  ASSERT_TRUE(report.has_value());
  // Wine's prefix says what it says; the note names it either way.
  EXPECT_TRUE(report->notes.front().starts_with("Windows ")) << report->notes.front();
}

}  // namespace
}  // namespace ward::platform
