// SPDX-License-Identifier: Apache-2.0
#pragma once

// A umockdev test bed for USB tests. The test bed needs umockdev's preload library to build its
// /sys tree, so a test binary that includes this header re-executes itself under
// umockdev-wrapper before main() when the library is not loaded yet. Ward's code reads the tree
// through its real path (root_dir()/sys): the configurable sysfs root, no interposition.

#include <umockdev.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ward::testing {

namespace internal {
// Before main(): exec "umockdev-wrapper <this binary> <same arguments>" unless already wrapped.
[[gnu::constructor]] inline void ReexecUnderUmockdevWrapper() {
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload != nullptr && std::string(preload).find("umockdev") != std::string::npos) {
    return;
  }
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args{"umockdev-wrapper"};
  for (std::string arg; std::getline(in, arg, '\0');) {
    args.push_back(arg);
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0 || argv.size() < 2) {
    return;
  }
  self[n] = '\0';
  argv[1] = self;
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  // umockdev-wrapper missing: carry on; UsbTestbed::Available() fails the tests clearly.
}
}  // namespace internal

class UsbTestbed {
 public:
  UsbTestbed() : bed_(umockdev_testbed_new()) {
    gchar* root = umockdev_testbed_get_root_dir(bed_);
    root_ = root;
    g_free(root);
  }
  ~UsbTestbed() { g_object_unref(bed_); }
  UsbTestbed(const UsbTestbed&) = delete;
  UsbTestbed& operator=(const UsbTestbed&) = delete;

  std::filesystem::path sysfs_root() const { return root_ / "sys"; }
  // True when the preload library is active (the test bed cannot nest devices otherwise).
  static bool Available() {
    const char* preload = std::getenv("LD_PRELOAD");
    return preload != nullptr && std::string(preload).find("umockdev") != std::string::npos;
  }

  // A root hub "usbN" with both defaults "1" (the kernel's defaults). Returns its sys path.
  std::string AddRootHub(int bus) {
    const std::string name = "usb" + std::to_string(bus);
    return Add(name, nullptr,
               {"idVendor", "1d6b", "idProduct", "0002", "bDeviceClass", "09", "authorized", "1",
                "authorized_default", "1", "interface_authorized_default", "1"},
               "usb_device");
  }

  // A device below `parent` with `descriptors` and `authorized` as given. An authorised device
  // also gets its interfaces in sysfs, as the kernel would create them.
  std::string AddDevice(const std::string& parent, const std::string& name, std::uint16_t vendor,
                        std::uint16_t product, const std::string& serial, bool authorized,
                        const std::vector<std::uint8_t>& descriptors) {
    const std::string path =
        Add(name, parent.c_str(),
            {"idVendor", Hex4(vendor), "idProduct", Hex4(product), "bDeviceClass", "00", "serial",
             serial, "product", "Test device " + serial, "manufacturer", "Ward tests", "authorized",
             authorized ? "1" : "0"},
            "usb_device");
    // The kernel's write-only `remove`, as a plain file the test can read back.
    umockdev_testbed_set_attribute(bed_, path.c_str(), "remove", "0");
    std::vector<guint8> bytes(descriptors.begin(), descriptors.end());
    umockdev_testbed_set_attribute_binary(bed_, path.c_str(), "descriptors", bytes.data(),
                                          static_cast<gint>(bytes.size()));
    return path;
  }

  // An interface "<device>:1.<number>" as the kernel creates it once the device is authorised.
  std::string AddInterface(const std::string& device_path, const std::string& device_name,
                           std::uint8_t number, std::uint8_t cls, std::uint8_t subclass,
                           std::uint8_t protocol, bool authorized) {
    const std::string name = device_name + ":1." + std::to_string(number);
    return Add(name, device_path.c_str(),
               {"bInterfaceNumber", Hex2(number), "bInterfaceClass", Hex2(cls),
                "bInterfaceSubClass", Hex2(subclass), "bInterfaceProtocol", Hex2(protocol),
                "bAlternateSetting", " 0", "authorized", authorized ? "1" : "0"},
               "usb_interface");
  }

  void Remove(const std::string& path) { umockdev_testbed_remove_device(bed_, path.c_str()); }

  // The attribute's content through the real path, without the trailing newline.
  std::string Read(const std::string& name, const std::string& attribute) const {
    std::ifstream in(sysfs_root() / "bus" / "usb" / "devices" / name / attribute);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    while (!s.empty() && s.back() == '\n') {
      s.pop_back();
    }
    return s;
  }

 private:
  static std::string Hex4(std::uint16_t v) {
    char b[8];
    std::snprintf(b, sizeof(b), "%04x", v);
    return b;
  }
  static std::string Hex2(std::uint8_t v) {
    char b[8];
    std::snprintf(b, sizeof(b), "%02x", v);
    return b;
  }

  std::string Add(const std::string& name, const char* parent,
                  const std::vector<std::string>& attributes, const char* devtype) {
    std::vector<const gchar*> attrs;
    for (const auto& a : attributes) {
      attrs.push_back(a.c_str());
    }
    attrs.push_back(nullptr);
    const gchar* props[] = {"DEVTYPE", devtype, nullptr};
    gchar* path =
        umockdev_testbed_add_devicev(bed_, "usb", name.c_str(), parent,
                                     const_cast<gchar**>(attrs.data()), const_cast<gchar**>(props));
    std::string out = path == nullptr ? std::string() : std::string(path);
    g_free(path);
    return out;
  }

  UMockdevTestbed* bed_;
  std::filesystem::path root_;
};

}  // namespace ward::testing
