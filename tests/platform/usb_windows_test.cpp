// SPDX-License-Identifier: Apache-2.0
// USB on Windows under Wine (a private prefix per test session): the install-policy contract
// against the registry, the sample policies written and read back with the registry API against
// their golden files, and what can run of the SetupAPI enumeration and the hot-plug
// notifications without USB devices (Wine has none; docs/enforcement-windows.md has the manual
// check on a laptop).
#include <windows.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "registry_values_windows.h"
#include "usb_install_policy_contract.h"
#include "usb_policy_samples.h"
#include "ward/common/error_windows.h"
#include "ward/platform/device_control.h"
#include "ward/platform/usb_hotplug.h"

namespace ward::platform {
namespace {

constexpr char kRestoreKey[] = "SOFTWARE\\WardTest\\UsbRestore";
constexpr const char* kPolicyRoots[] = {
    "Software\\Policies\\Microsoft\\Windows\\DeviceInstall",
    "Software\\Policies\\Microsoft\\Windows\\RemovableStorageDevices"};

unsigned long Number(const std::string& name) {
  return !name.empty() && std::ranges::all_of(name, [](char c) { return c >= '0' && c <= '9'; })
             ? std::stoul(name)
             : 0ul;
}

// A key and everything below it in .reg syntax as FormatRegistryPolicy writes it: sections with
// values only, values in Group Policy's list order ("1", "2", ..., "10").
void RegDump(const std::string& path, std::string& out) {
  HKEY key = nullptr;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, Utf16(path).c_str(), 0, KEY_READ, &key) != ERROR_SUCCESS) {
    return;
  }
  std::vector<std::pair<std::string, std::string>> lines;  // name, line
  for (const internal::NamedValue& value : internal::ListValues(key)) {
    const std::string name = Utf8(value.name);
    if (value.type == REG_DWORD) {
      DWORD dword = 0;
      std::memcpy(&dword, value.data.data(), sizeof(dword));
      lines.emplace_back(name, FormatRegistryValueLine(name, RegistryType::kDword, dword, ""));
    } else if (value.type == REG_SZ) {
      std::wstring text(reinterpret_cast<const wchar_t*>(value.data.data()),
                        value.data.size() / sizeof(wchar_t));
      while (!text.empty() && text.back() == L'\0') {
        text.pop_back();
      }
      lines.emplace_back(name, FormatRegistryValueLine(name, RegistryType::kSz, 0, Utf8(text)));
    } else {
      lines.emplace_back(name, "\"" + name + "\"=type " + std::to_string(value.type));
    }
  }
  std::ranges::sort(lines, {}, [](const auto& l) { return std::pair(Number(l.first), l.first); });
  if (!lines.empty()) {
    out += "\n[HKEY_LOCAL_MACHINE\\" + path + "]\n";
    for (const auto& [name, line] : lines) {
      out += line + "\n";
    }
  }
  std::vector<std::string> children;
  for (DWORD i = 0;; ++i) {
    wchar_t name[256];
    DWORD size = 256;
    if (RegEnumKeyExW(key, i, name, &size, nullptr, nullptr, nullptr, nullptr) != ERROR_SUCCESS) {
      break;
    }
    children.push_back(Utf8(std::wstring_view(name, size)));
  }
  RegCloseKey(key);
  std::ranges::sort(children);
  for (const std::string& child : children) {
    RegDump(path + "\\" + child, out);
  }
}

// Both policy roots, with which keys exist (an empty key shows as "key <path>").
std::string PolicyState() {
  std::string out = "Windows Registry Editor Version 5.00\n";
  for (const char* root : kPolicyRoots) {
    RegDump(root, out);
  }
  return out;
}

std::string KeysPresent() {
  std::string out;
  for (const char* root : kPolicyRoots) {
    HKEY key = nullptr;
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, Utf16(root).c_str(), 0, KEY_READ, &key) ==
        ERROR_SUCCESS) {
      out += std::string("key ") + root + "\n";
      RegCloseKey(key);
    }
  }
  return out;
}

void DeleteTree(const std::string& path) {
  RegDeleteTreeW(HKEY_LOCAL_MACHINE, Utf16(path).c_str());
  RegDeleteKeyW(HKEY_LOCAL_MACHINE, Utf16(path).c_str());
}

std::unique_ptr<UsbInstallPolicy> CreateForTest() {
  auto created = CreateUsbInstallPolicy({.restore_key = kRestoreKey});
  EXPECT_TRUE(created.has_value()) << created.error().ToString();
  return created.has_value() ? std::move(*created) : nullptr;
}

struct RegistryUsbBackend {
  static std::unique_ptr<UsbInstallPolicy> Create() { return CreateForTest(); }
  static void Write(UsbInstallPolicy& /*control*/, const RegistryPolicyValue& v) {
    HKEY key = nullptr;
    ASSERT_EQ(RegCreateKeyExW(HKEY_LOCAL_MACHINE, Utf16(v.key).c_str(), 0, nullptr, 0,
                              KEY_SET_VALUE, nullptr, &key, nullptr),
              ERROR_SUCCESS);
    if (v.type == RegistryType::kDword) {
      const DWORD dword = v.dword;
      EXPECT_EQ(RegSetValueExW(key, Utf16(v.name).c_str(), 0, REG_DWORD,
                               reinterpret_cast<const BYTE*>(&dword), sizeof(dword)),
                ERROR_SUCCESS);
    } else {
      const std::wstring text = Utf16(v.text);
      EXPECT_EQ(RegSetValueExW(key, Utf16(v.name).c_str(), 0, REG_SZ,
                               reinterpret_cast<const BYTE*>(text.c_str()),
                               static_cast<DWORD>((text.size() + 1) * sizeof(wchar_t))),
                ERROR_SUCCESS);
    }
    RegCloseKey(key);
  }
  static std::string Snapshot(UsbInstallPolicy& /*control*/) {
    return KeysPresent() + PolicyState();
  }
  static void CleanUp() {
    for (const char* root : kPolicyRoots) {
      DeleteTree(root);
    }
    DeleteTree(kRestoreKey);
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Registry, UsbInstallPolicyContractTest, RegistryUsbBackend);

class UsbRegistryReadBackTest : public ::testing::TestWithParam<const char*> {
 protected:
  void TearDown() override { RegistryUsbBackend::CleanUp(); }
};

// What Group Policy would leave in the registry for the sample policy, read back value by value
// with RegEnumValueW, equals the golden file (the part before its "; " comment lines).
TEST_P(UsbRegistryReadBackTest, SamplePolicyIsWrittenExactlyAsTheGoldenFile) {
  auto policy = SamplePolicy(GetParam());
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  const UsbRegistryPlan plan = CompileUsbRegistryPlan(*policy);
  auto control = CreateForTest();
  ASSERT_NE(control, nullptr);
  ASSERT_TRUE(control->Apply(plan).has_value());
  const std::string golden = ReadText(UsbGoldenPath(GetParam()));
  EXPECT_EQ(PolicyState(), golden.substr(0, golden.find("\n; ")));
  auto drifted = control->Drifted(plan);
  ASSERT_TRUE(drifted.has_value()) << drifted.error().ToString();
  EXPECT_TRUE(drifted->empty());
}

INSTANTIATE_TEST_SUITE_P(Samples, UsbRegistryReadBackTest,
                         ::testing::Values("sample-under18", "example-adult"));

TEST(UsbRegistryDriftTest, DeletedPolicyKeyIsReportedAndWrittenAgain) {
  auto policy = SamplePolicy("sample-under18");
  ASSERT_TRUE(policy.has_value());
  const UsbRegistryPlan plan = CompileUsbRegistryPlan(*policy);
  auto control = CreateForTest();
  ASSERT_NE(control, nullptr);
  ASSERT_TRUE(control->Apply(plan).has_value());
  const std::string applied = PolicyState();
  DeleteTree(kDeviceInstallRestrictionsKey);
  auto drifted = control->Drifted(plan);
  ASSERT_TRUE(drifted.has_value());
  EXPECT_EQ(drifted->size(), plan.values.size());
  ASSERT_FALSE(drifted->empty());
  EXPECT_EQ(drifted->front().found, "missing");
  ASSERT_TRUE(control->Apply(plan).has_value());
  EXPECT_EQ(PolicyState(), applied);
  RegistryUsbBackend::CleanUp();
}

// Wine has no USB devices: enumeration runs and returns what there is (nothing, or devices that
// are well formed); the calls that need a device say plainly that it is not there.
TEST(UsbDeviceControlWindowsTest, EnumeratesWithoutDevicesAndNamesWhatIsMissing) {
  const auto control = CreateDeviceControl({});
  auto devices = control->Enumerate();
  ASSERT_TRUE(devices.has_value()) << devices.error().ToString();
  for (const UsbDevice& device : *devices) {
    EXPECT_TRUE(device.id.starts_with("USB\\")) << device.id;
  }
  const std::string absent = "USB\\VID_FFFF&PID_FFFE\\WARDTEST";
  auto describe = control->Describe(absent);
  ASSERT_FALSE(describe.has_value());
  EXPECT_EQ(describe.error().code(), ErrorCode::kNotFound) << describe.error().ToString();
  auto disable = control->SetAuthorization(absent, Authorization::kBlocked);
  ASSERT_FALSE(disable.has_value());
  EXPECT_EQ(disable.error().code(), ErrorCode::kNotFound) << disable.error().ToString();
  auto interface = control->SetInterfaceAuthorization("PCI\\VEN_8086", Authorization::kBlocked);
  ASSERT_FALSE(interface.has_value());
  EXPECT_EQ(interface.error().code(), ErrorCode::kInvalidArgument);
  auto remove = control->Remove(absent);
  ASSERT_FALSE(remove.has_value());
  EXPECT_EQ(remove.error().code(), ErrorCode::kNotFound);
  auto defaults =
      control->SetDefaultAuthorization(Authorization::kBlocked, Authorization::kBlocked);
  ASSERT_FALSE(defaults.has_value());
  EXPECT_EQ(defaults.error().code(), ErrorCode::kUnsupported);
}

class UsbHotplugWindowsTest : public ::testing::TestWithParam<bool> {};

TEST_P(UsbHotplugWindowsTest, StartsTimesOutQuietlyAndWakesOnInterrupt) {
  auto hotplug = CreateUsbHotplug({.force_window_fallback = GetParam()});
  ASSERT_TRUE(hotplug.has_value()) << hotplug.error().ToString();
  const std::string mechanism = (*hotplug)->Mechanism();
  if (GetParam()) {
    EXPECT_EQ(mechanism, "device-notification window");
  } else {
    EXPECT_TRUE(mechanism == "CM_Register_Notification" ||
                mechanism == "device-notification window")
        << mechanism;
  }
  std::printf("hot-plug mechanism here: %s\n", mechanism.c_str());
  auto quiet = (*hotplug)->WaitForChange(std::chrono::milliseconds(200));
  ASSERT_TRUE(quiet.has_value()) << quiet.error().ToString();
  EXPECT_FALSE(*quiet);
  UsbHotplug& watcher = **hotplug;
  std::thread interrupter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    watcher.Interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  auto woken = watcher.WaitForChange(std::chrono::seconds(60));
  interrupter.join();
  ASSERT_TRUE(woken.has_value());
  EXPECT_FALSE(*woken);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, UsbHotplugWindowsTest, ::testing::Bool());

}  // namespace
}  // namespace ward::platform
