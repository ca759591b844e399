// SPDX-License-Identifier: Apache-2.0
#pragma once

// dpkg's database as data: parsers for its files and the index built from them. Pure (no file
// access, no OS headers); the files are read by CreatePackageDatabase (package_database.h).

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ward/common/result.h"

namespace ward::platform {

using Md5Digest = std::array<std::uint8_t, 16>;

// 32 hex digits (either case) to a digest; std::nullopt otherwise.
std::optional<Md5Digest> ParseMd5Hex(std::string_view hex);
std::string Md5Hex(const Md5Digest& digest);  // lower-case

// One package record of dpkg's `status` file or of an `updates/` journal file.
struct DpkgPackage {
  struct Conffile {
    std::string path;              // absolute, as dpkg names it
    std::optional<Md5Digest> md5;  // of the file as shipped; none for "newconffile"
    bool obsolete = false;         // no longer shipped by the installed version
  };
  std::string name;          // "coreutils"
  std::string architecture;  // "amd64", "all"
  std::string version;
  bool multi_arch_same = false;
  std::string want;   // Status: first word ("install", "hold", "deinstall", "purge", ...)
  std::string flag;   // second word ("ok", "reinstreq")
  std::string state;  // third word ("installed", "unpacked", "config-files", ...)
  std::vector<Conffile> conffiles;

  // Its files are on disk and it is configured: want install or hold, flag ok, and state
  // installed or one of the trigger states (triggers-pending / triggers-awaited: configured,
  // waiting for another package's trigger to run; dpkg parks packages there during upgrades).
  bool Installed() const;
  // The stem of its info/ files: "libc6:amd64" for a Multi-Arch: same package, else the name.
  std::string InfoName() const;
};

// Parses the status file format (deb822 stanzas; continuation lines start with a space or a
// tab). Unknown fields are ignored; so are stanzas without a Package field. kInvalidArgument,
// naming the line, for a line that is neither a field nor a continuation, or a continuation
// before any field.
Result<std::vector<DpkgPackage>> ParseDpkgStatus(std::string_view text);

// info/<pkg>.list: absolute paths, one a line. Blank lines, "/." and lines that do not start
// with '/' are skipped. The views point into `text`.
std::vector<std::string_view> ParseDpkgList(std::string_view text);

// info/<pkg>.md5sums: "<32 hex digits><space><space or *><path>" a line, the path relative to
// the root ("usr/bin/ls"; a leading "./" or "/" is dropped). Malformed lines are skipped and
// counted, as dpkg does. The views point into `text`.
struct DpkgMd5sums {
  struct File {
    std::string_view path;  // relative: "usr/bin/ls"
    Md5Digest md5;
  };
  std::vector<File> files;
  std::size_t malformed_lines = 0;
};
DpkgMd5sums ParseDpkgMd5sums(std::string_view text);

// The `diversions` file: three lines per diversion (from, to, package; ":" is a local
// diversion, made by the administrator). kInvalidArgument when the line count is not a multiple
// of three or a path is not absolute.
struct DpkgDiversion {
  std::string from;
  std::string to;
  std::string package;
  bool local() const { return package == ":"; }
};
Result<std::vector<DpkgDiversion>> ParseDpkgDiversions(std::string_view text);

// A directory that is a symbolic link to another in the installed root: the /usr merge makes
// /bin a link to /usr/bin, so the kernel reports /usr/bin/ls for what dpkg lists as /bin/ls.
struct DirectoryAlias {
  std::string link;    // "/bin"
  std::string target;  // "/usr/bin"
};

// Which installed packages an index holds: all of them, or only those named. A name has no
// architecture and covers every instance of a Multi-Arch: same package. Only a named package's
// own records (its .list, .md5sums and Conffiles) decide which files are its, so an index of
// some packages answers exactly what the index of all of them answers for those packages.
class PackageSelection {
 public:
  static PackageSelection All() { return PackageSelection(); }
  // Any order, duplicates allowed.
  static PackageSelection Only(std::vector<std::string> names);

  bool all() const { return all_; }
  bool Contains(std::string_view name) const;
  // Sorted, without duplicates; empty for All().
  const std::vector<std::string>& names() const { return names_; }
  bool operator==(const PackageSelection&) const = default;

 private:
  PackageSelection() = default;
  bool all_ = true;
  std::vector<std::string> names_;
};

// One package's claim on a file, with the digest dpkg recorded for it.
struct PackageFile {
  std::string_view package;       // "coreutils" (no architecture)
  std::string_view architecture;  // "amd64", "all"
  Md5Digest md5;
  bool conffile = false;
};

struct PackageIndexStats {
  std::size_t packages = 0;                  // installed packages indexed
  std::size_t files = 0;                     // (path, package) entries with a digest
  std::size_t conffiles = 0;                 // of which conffiles
  std::size_t diverted = 0;                  // entries moved by a diversion
  std::size_t aliased = 0;                   // entries renamed through a DirectoryAlias
  std::size_t packages_without_md5sums = 0;  // their files cannot be checked: not indexed
  std::size_t packages_without_list = 0;     // recorded as installed, no .list: skipped
  std::size_t packages_not_selected = 0;     // installed, outside the selection: not read
  std::size_t md5sums_not_listed = 0;        // digests for files the package no longer owns
  std::size_t malformed_lines = 0;           // md5sums lines skipped
  std::size_t bytes = 0;                     // memory held by the index (approximate)
};

// Which installed package owns a path, and the digest its content must have. A path is owned
// by the package whose .list names it (not merely its .md5sums: a file taken over by another
// package through Replaces stays in the old package's md5sums); the digest comes from the
// owner's md5sums, or from the Conffiles field of its status record for a conffile. Files
// without a digest (symlinks, directories, packages without md5sums) are not indexed: their
// content cannot be checked. Diversions and directory aliases are applied when it is built, so
// lookups take the path of the file as it is on disk, within the root.
// Immutable; thread-safe.
class PackageIndex {
 public:
  PackageIndex(const PackageIndex&) = delete;
  PackageIndex& operator=(const PackageIndex&) = delete;

  // The packages that claim `path` (absolute, within the root, symlinks resolved: the path the
  // kernel reports). Usually none or one; several when packages share a file (Multi-Arch: same
  // instances, or a /bin and a /usr/bin entry that the /usr merge made one file). Sorted by
  // package name, then architecture. The views stay valid while the index lives.
  std::vector<PackageFile> Lookup(std::string_view path) const;
  const PackageIndexStats& stats() const { return stats_; }
  // The packages it was built for: Lookup never names another.
  const PackageSelection& selection() const { return selection_; }

 private:
  friend class PackageIndexBuilder;
  PackageIndex() = default;
  struct Entry {  // 32 bytes
    std::uint32_t dir = 0;
    std::uint32_t name_offset = 0;  // into names_
    std::uint32_t package = 0;      // into packages_
    std::uint16_t name_size = 0;    // a file name is at most 255 bytes
    bool conffile = false;
    Md5Digest md5{};
  };
  struct Package {
    std::string name;
    std::string architecture;
  };
  std::string_view NameOf(const Entry& e) const {
    return std::string_view(names_).substr(e.name_offset, e.name_size);
  }

  std::vector<Package> packages_;
  std::vector<std::string> dirs_;
  std::unordered_map<std::string_view, std::uint32_t> dir_ids_;  // views into dirs_
  std::string names_;                                            // every file name, back to back
  std::vector<Entry> entries_;                                   // sorted by (dir, name, package)
  PackageIndexStats stats_;
  PackageSelection selection_ = PackageSelection::All();
};

// Builds a PackageIndex one package at a time, for the packages `selection` names. Every
// diversion is applied, whoever the diverting package is (a file of a selected package diverted
// by another is at the diverted name). Thread-compatible.
class PackageIndexBuilder {
 public:
  PackageIndexBuilder(std::vector<DpkgDiversion> diversions, std::vector<DirectoryAlias> aliases,
                      PackageSelection selection = PackageSelection::All());
  ~PackageIndexBuilder();
  PackageIndexBuilder(const PackageIndexBuilder&) = delete;
  PackageIndexBuilder& operator=(const PackageIndexBuilder&) = delete;

  // Whether the index is to hold the package named `name`: the caller reads the info/ files of
  // those only, and counts the others with SkipPackageNotSelected.
  bool Selected(std::string_view name) const { return selection_.Contains(name); }
  // Adds an installed package (the caller checks DpkgPackage::Installed) from the text of its
  // .list and .md5sums files (`md5sums` absent when the package has none). A package outside
  // the selection is counted as not selected and left out.
  void AddPackage(const DpkgPackage& package, std::string_view list,
                  std::optional<std::string_view> md5sums);
  // Counts an installed package outside the selection, whose files were not read.
  void SkipPackageNotSelected();
  // Counts a package recorded as installed whose .list could not be read.
  void SkipPackageWithoutList();
  std::shared_ptr<const PackageIndex> Build();

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  // Where dpkg's `path` for a file of `package` is on disk: diversion, then directory alias.
  // Returns `path` itself when neither applies, else a view of `scratch`.
  std::string_view OnDisk(std::string_view path, std::string_view package, std::string& scratch);
  void Add(std::string_view dpkg_path, std::string_view package, std::uint32_t package_id,
           const Md5Digest& md5, bool conffile);
  std::uint32_t DirId(std::string_view dir);

  StringMap<DpkgDiversion> diversions_;  // by `from`
  std::vector<DirectoryAlias> aliases_;
  StringMap<std::uint32_t> dir_ids_;
  PackageSelection selection_;
  std::unique_ptr<PackageIndex> index_;
};

}  // namespace ward::platform
