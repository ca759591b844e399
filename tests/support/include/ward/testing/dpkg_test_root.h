// SPDX-License-Identifier: Apache-2.0
#pragma once

// Real Debian packages for tests: built with `dpkg-deb --build` and installed with `dpkg` into
// a temporary root (--root, --admindir and --log inside it), so the machine's own database and
// log are never touched. dpkg changes file ownership, so callers need root.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ward::testing {

class DpkgTestRoot {
 public:
  struct File {
    std::string path;  // absolute within the package: "/bin/alpha-tool"
    std::string content;
    bool executable = true;
    bool conffile = false;
  };
  struct Package {
    std::string name;
    std::string version = "1.0";
    std::string architecture = "all";
    std::string multi_arch;  // "" or "same"
    std::string replaces;    // Replaces: (taking a file over from another package)
    std::vector<File> files;
    bool md5sums = true;  // ship DEBIAN/md5sums (conffiles left out, as debhelper does)
  };
  static Package Make(std::string name, std::vector<File> files, std::string version = "1.0") {
    Package package;
    package.name = std::move(name);
    package.files = std::move(files);
    package.version = std::move(version);
    return package;
  }

  // Creates `root` with an empty dpkg database; `merged_usr` makes bin a link to usr/bin, as
  // on a /usr-merged system. Packages are built below `work` (outside the root).
  DpkgTestRoot(std::filesystem::path root, std::filesystem::path work, bool merged_usr = true)
      : root_(std::move(root)), work_(std::move(work)) {
    namespace fs = std::filesystem;
    fs::create_directories(admindir() / "info");
    fs::create_directories(admindir() / "updates");
    fs::create_directories(root_ / "usr/bin");
    fs::create_directories(work_);
    std::ofstream(admindir() / "status").flush();
    if (merged_usr) {
      fs::create_symlink("usr/bin", root_ / "bin");
    }
  }

  static bool Available() {
    return std::system("command -v dpkg >/dev/null && command -v dpkg-deb >/dev/null") == 0;
  }
  // dpkg's native architecture ("amd64").
  static std::string NativeArchitecture() { return Output("dpkg --print-architecture"); }
  // md5sum of a file, as 32 hex digits ("" if it cannot be read).
  static std::string Md5Of(const std::filesystem::path& file) {
    const std::string line = Output("md5sum '" + file.string() + "'");
    return line.substr(0, line.find(' '));
  }

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path admindir() const { return root_ / "var/lib/dpkg"; }
  // A path inside the root: At("/usr/bin/ls").
  std::filesystem::path At(const std::string& path) const { return root_ / path.substr(1); }

  // The .deb's path; a test failure and "" if dpkg-deb fails.
  std::filesystem::path Build(const Package& package) const {
    namespace fs = std::filesystem;
    const fs::path tree =
        work_ / (package.name + "_" + package.version + "_" + package.architecture);
    fs::remove_all(tree);
    fs::create_directories(tree / "DEBIAN");
    std::string conffiles;
    std::string md5sums;
    for (const File& file : package.files) {
      const fs::path at = tree / file.path.substr(1);
      fs::create_directories(at.parent_path());
      std::ofstream(at, std::ios::binary) << file.content;
      fs::permissions(at, file.executable ? fs::perms(0755) : fs::perms(0644));
      if (file.conffile) {
        conffiles += file.path + "\n";
      } else {
        md5sums += Md5Of(at) + "  " + file.path.substr(1) + "\n";
      }
    }
    std::ofstream control(tree / "DEBIAN/control");
    control << "Package: " << package.name << "\nVersion: " << package.version
            << "\nArchitecture: " << package.architecture
            << "\nMaintainer: Ward tests <tests@example.invalid>\n";
    if (!package.multi_arch.empty()) {
      control << "Multi-Arch: " << package.multi_arch << "\n";
    }
    if (!package.replaces.empty()) {
      control << "Replaces: " << package.replaces << "\n";
    }
    control << "Description: a package built by Ward's tests\n";
    control.close();
    if (!conffiles.empty()) {
      std::ofstream(tree / "DEBIAN/conffiles") << conffiles;
    }
    if (package.md5sums) {
      std::ofstream(tree / "DEBIAN/md5sums") << md5sums;
    }
    const fs::path deb = tree.string() + ".deb";
    if (Run("dpkg-deb --root-owner-group --build '" + tree.string() + "' '" + deb.string() + "'") !=
        0) {
      return {};
    }
    return deb;
  }

  // dpkg with this root's options; its exit code (the output goes to a log, shown on failure).
  int Dpkg(const std::string& arguments) const {
    return Run("dpkg --root='" + root_.string() + "' --admindir='" + admindir().string() +
               "' --log=/dev/null --force-script-chrootless --force-unsafe-io " + arguments);
  }
  int Install(const std::filesystem::path& deb) const { return Dpkg("-i '" + deb.string() + "'"); }
  int Remove(const std::string& name) const { return Dpkg("--remove " + name); }
  int Divert(const std::string& arguments) const {
    return Run("dpkg-divert --root='" + root_.string() + "' --admindir='" + admindir().string() +
               "' " + arguments);
  }

 private:
  int Run(const std::string& command) const {
    const std::filesystem::path log = work_ / "command.log";
    const int status = std::system((command + " >'" + log.string() + "' 2>&1").c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (code != 0) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      ADD_FAILURE() << command << " exited " << code << ":\n" << text.str();
    }
    return code;
  }

  static std::string Output(const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[256];
      while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) {
        out += buffer;
      }
      ::pclose(pipe);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
      out.pop_back();
    }
    return out;
  }

  std::filesystem::path root_;
  std::filesystem::path work_;
};

}  // namespace ward::testing
