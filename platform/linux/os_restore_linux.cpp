// SPDX-License-Identifier: Apache-2.0
#include <system_error>

#include "sysfs_linux.h"
#include "usb_names_linux.h"
#include "ward/platform/os_restore.h"

namespace ward::platform {
namespace {

namespace fs = std::filesystem;

// The value a root hub's authorized_default had when it was created: usbcore's parameter, where
// -1 ("all but wireless", the kernel's default) shows as 1 on a wired root hub.
std::string KernelDefault(const fs::path& sysfs_root) {
  auto param = internal::ReadAttribute(sysfs_root / "module/usbcore/parameters/authorized_default");
  if (param.has_value() && (*param == "0" || *param == "2")) {
    return *param;
  }
  return "1";
}

void RestoreUsb(const fs::path& sysfs_root, OsRestoreReport& report) {
  const fs::path bus = sysfs_root / "bus/usb/devices";
  auto names = internal::ListNames(bus);
  if (!names.has_value()) {
    report.restored.push_back("USB: no USB bus on this machine, nothing to restore");
    return;
  }
  const std::string value = KernelDefault(sysfs_root);
  std::size_t hubs = 0;
  for (const std::string& name : *names) {
    if (!internal::IsRootHubName(name)) {
      continue;
    }
    auto device = internal::WriteAttribute(bus / name / "authorized_default", value);
    auto interface = internal::WriteAttribute(bus / name / "interface_authorized_default", "1");
    if (!device.has_value() || !interface.has_value()) {
      report.problems.push_back("USB: " + name + ": " +
                                (device.has_value() ? interface : device).error().ToString());
      continue;
    }
    ++hubs;
  }
  report.restored.push_back(
      "USB: " + std::to_string(hubs) +
      " root hub(s) back to the kernel's default (authorized_default=" + value + ")");
}

bool SameContent(const fs::path& path, const std::string& content) {
  auto bytes = internal::ReadAttributeBytes(path, content.size() + 1);
  return bytes.has_value() && std::string(bytes->begin(), bytes->end()) == content;
}

void RestoreSettings(const OsRestoreOptions& options, OsRestoreReport& report) {
  std::vector<fs::path> remove;
  std::error_code ec;
  for (const ManagedFile& file : options.settings_files) {
    const fs::path path = options.settings_root / file.path;
    if (!fs::exists(fs::symlink_status(path, ec))) {
      continue;
    }
    // The dconf profile may be the site's own (Ward overwrote it with the same two lines only
    // if it had none): delete it only when it is exactly Ward's.
    if (file.path.filename() == "user" && !SameContent(path, file.content)) {
      report.restored.push_back("settings: " + path.string() + " is not Ward's; left as it is");
      continue;
    }
    remove.push_back(path);
  }
  // The database dconf compiled from Ward's keyfiles.
  if (const fs::path db = options.settings_root / "etc/dconf/db/ward";
      fs::exists(fs::symlink_status(db, ec))) {
    remove.push_back(db);
  }
  std::size_t removed = 0;
  for (const fs::path& path : remove) {
    if (fs::remove(path, ec); ec) {
      report.problems.push_back("settings: cannot delete " + path.string() + ": " + ec.message());
    } else {
      ++removed;
    }
  }
  for (const char* dir : {"etc/dconf/db/ward.d/locks", "etc/dconf/db/ward.d"}) {
    fs::remove(options.settings_root / dir, ec);  // only when empty; anything else stays
  }
  report.restored.push_back("settings: " + std::to_string(removed) +
                            " of Ward's dconf and polkit files deleted (dconf locks and the "
                            "polkit rule are gone)");
}

}  // namespace

OsRestoreReport RestoreOsDefaults(const OsRestoreOptions& options) {
  OsRestoreReport report;
  RestoreUsb(options.sysfs_root, report);
  RestoreSettings(options, report);
  report.restored.push_back(
      "programs: nothing to undo (the kernel drops the agent's exec marks when it exits)");
  return report;
}

}  // namespace ward::platform
