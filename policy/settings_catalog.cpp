// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/settings_catalog.h"

#include <algorithm>
#include <array>

namespace ward::policy {
namespace {

using std::string_view_literals::operator""sv;

// GNOME keys (gsettings schemas org.gnome.desktop.*), written to the system dconf database with
// a matching entry in its locks directory when the setting is locked.
constexpr std::array kWallpaperKeys = {
    DconfKey{"/org/gnome/desktop/background/picture-uri", "s", DconfEncoding::kFileUri},
    DconfKey{"/org/gnome/desktop/background/picture-uri-dark", "s", DconfEncoding::kFileUri},
};
constexpr std::array kScreensaverEnabledKeys = {
    DconfKey{"/org/gnome/desktop/screensaver/idle-activation-enabled", "b"},
};
constexpr std::array kIdleDelayKeys = {
    DconfKey{"/org/gnome/desktop/session/idle-delay", "u"},
};
constexpr std::array kLockEnabledKeys = {
    DconfKey{"/org/gnome/desktop/screensaver/lock-enabled", "b"},
};
constexpr std::array kUserSwitchingKeys = {
    DconfKey{"/org/gnome/desktop/lockdown/disable-user-switching", "b", DconfEncoding::kInvertBool},
};
constexpr std::array kCommandLineKeys = {
    DconfKey{"/org/gnome/desktop/lockdown/disable-command-line", "b", DconfEncoding::kInvertBool},
};

// polkit actions denied to learners (a rules.d file) when the bool setting is false.
constexpr std::array kSoftwareInstallActions = {
    "org.freedesktop.packagekit.package-install"sv,
    "org.freedesktop.packagekit.package-install-untrusted"sv,
    "org.freedesktop.packagekit.package-remove"sv,
    "org.freedesktop.packagekit.system-update"sv,
    "org.freedesktop.Flatpak.app-install"sv,
    "org.freedesktop.Flatpak.runtime-install"sv,
};
constexpr std::array kNetworkActions = {
    "org.freedesktop.NetworkManager.settings.modify.system"sv,
    "org.freedesktop.NetworkManager.settings.modify.hostname"sv,
    "org.freedesktop.NetworkManager.settings.modify.global-dns"sv,
};
constexpr std::array kDateTimeActions = {
    "org.freedesktop.timedate1.set-time"sv,
    "org.freedesktop.timedate1.set-timezone"sv,
    "org.freedesktop.timedate1.set-ntp"sv,
    "org.freedesktop.timedate1.set-local-rtc"sv,
};

constexpr std::string_view kDesktopPolicies =
    "HKCU\\Software\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop";

// Sorted by name (FindSetting relies on it; a test checks it).
constexpr std::array kCatalog = {
    SettingInfo{
        .name = "datetime.change",
        .type = SettingType::kBool,
        .description = "Whether learners may change the date, time and time zone. false denies "
                       "the systemd-timedated actions to learners.",
        .locked_sentence = "You can't change the date or time.",
        .polkit_actions = kDateTimeActions,
        .windows_note = "Windows has no registry policy value for this: it is the user right "
                        "SeSystemtimePrivilege, which standard users do not have by default.",
    },
    SettingInfo{
        .name = "desktop.command_line",
        .type = SettingType::kBool,
        .description = "Whether learners may open a terminal or command prompt.",
        .locked_sentence = "The command line is turned off.",
        .dconf = kCommandLineKeys,
        .windows = {"HKCU\\Software\\Policies\\Microsoft\\Windows\\System", "DisableCMD",
                    RegistryEncoding::kDwordInvert},
    },
    SettingInfo{
        .name = "desktop.user_switching",
        .type = SettingType::kBool,
        .description = "Whether the login screen offers to switch to another user.",
        .locked_sentence = "Switching to another user is turned off.",
        .dconf = kUserSwitchingKeys,
        .windows = {"HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System",
                    "HideFastUserSwitching", RegistryEncoding::kDwordInvert},
    },
    SettingInfo{
        .name = "desktop.wallpaper",
        .type = SettingType::kString,
        .description = "The desktop wallpaper: an absolute path to an image on the laptop. "
                       "Locked, learners cannot change it.",
        .locked_sentence = "You can't change the wallpaper.",
        .string_format = StringFormat::kAbsolutePath,
        .dconf = kWallpaperKeys,
        .windows = {"HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System",
                    "Wallpaper", RegistryEncoding::kSzString},
        .windows_note = "Written to each learner's registry hive.",
    },
    SettingInfo{
        .name = "network.configure",
        .type = SettingType::kBool,
        .description = "Whether learners may change system network settings (wired and shared "
                       "connections, host name, DNS). Joining Wi-Fi networks is not affected.",
        .locked_sentence = "You can't change the network settings.",
        .polkit_actions = kNetworkActions,
        .windows = {"HKCU\\Software\\Policies\\Microsoft\\Windows\\Network Connections",
                    "NC_LanChangeProperties", RegistryEncoding::kDword01},
    },
    SettingInfo{
        .name = "screensaver.enabled",
        .type = SettingType::kBool,
        .description = "Whether the screen saver starts when the laptop is idle.",
        .locked_sentence = "The screen saver is turned off.",
        .locked_true_sentence = "The screen saver comes on when you leave the laptop.",
        .dconf = kScreensaverEnabledKeys,
        .windows = {kDesktopPolicies, "ScreenSaveActive", RegistryEncoding::kSz01},
    },
    SettingInfo{
        .name = "screensaver.idle_delay_seconds",
        .type = SettingType::kInt,
        .description = "Seconds of inactivity before the screen saver starts (30 to 7200).",
        .locked_sentence = "",
        .min_int = 30,
        .max_int = 7200,
        .dconf = kIdleDelayKeys,
        .windows = {kDesktopPolicies, "ScreenSaveTimeOut", RegistryEncoding::kSzDecimal},
    },
    SettingInfo{
        .name = "screensaver.lock_enabled",
        .type = SettingType::kBool,
        .description = "Whether the screen locks (asks for the password) when the screen saver "
                       "starts.",
        .locked_sentence = "",
        .locked_true_sentence = "The screen locks itself when you are away.",
        .dconf = kLockEnabledKeys,
        .windows = {kDesktopPolicies, "ScreenSaverIsSecure", RegistryEncoding::kSz01},
    },
    SettingInfo{
        .name = "software.install",
        .type = SettingType::kBool,
        .description = "Whether learners may install or remove software (PackageKit, Flatpak; "
                       "Windows Installer). false denies those actions to learners.",
        .locked_sentence = "You can't install new programs. Ask IT if you need one.",
        .polkit_actions = kSoftwareInstallActions,
        .windows = {"HKLM\\Software\\Policies\\Microsoft\\Windows\\Installer", "DisableMSI",
                    RegistryEncoding::kDwordDisable2},
    },
};

static_assert(std::ranges::is_sorted(kCatalog, {}, &SettingInfo::name));

}  // namespace

std::span<const SettingInfo> SettingsCatalog() { return kCatalog; }

const SettingInfo* FindSetting(std::string_view name) {
  const auto it = std::ranges::lower_bound(kCatalog, name, {}, &SettingInfo::name);
  if (it == kCatalog.end() || it->name != name) {
    return nullptr;
  }
  return &*it;
}

std::string_view SettingTypeName(SettingType type) {
  switch (type) {
    case SettingType::kBool:
      return "true or false (bool_value)";
    case SettingType::kInt:
      return "a whole number (int_value)";
    case SettingType::kString:
      return "text (string_value)";
  }
  return "a value";
}

}  // namespace ward::policy
