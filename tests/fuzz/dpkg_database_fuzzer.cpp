// SPDX-License-Identifier: Apache-2.0
// dpkg's status, .list, .md5sums and diversions parsers, and the index built from what they
// return. The same bytes go to every parser: each file format is a few line rules, so one
// corpus reaches all of them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ward/common/check.h"
#include "ward/platform/dpkg_database.h"

using namespace ward::platform;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto packages = ParseDpkgStatus(text);
  if (packages.has_value()) {
    for (const auto& package : *packages) {
      WARD_CHECK(!package.name.empty());
      for (const auto& conffile : package.conffiles) {
        WARD_CHECK(!conffile.path.empty() && conffile.path.front() == '/');
      }
    }
  }
  const auto list = ParseDpkgList(text);
  for (const auto path : list) {
    WARD_CHECK(!path.empty() && path.front() == '/' && path != "/.");
  }
  const DpkgMd5sums md5sums = ParseDpkgMd5sums(text);
  for (const auto& file : md5sums.files) {
    WARD_CHECK(!file.path.empty() && file.path.front() != '/');
    WARD_CHECK(ParseMd5Hex(Md5Hex(file.md5)) == file.md5);
  }
  auto diversions = ParseDpkgDiversions(text);
  if (diversions.has_value()) {
    for (const auto& d : *diversions) {
      WARD_CHECK(d.from.front() == '/' && d.to.front() == '/' && !d.package.empty());
    }
  }

  // An index from the same bytes as .list and .md5sums: every file both name is found again.
  DpkgPackage package;
  package.name = "fuzz";
  package.want = "install";
  package.flag = "ok";
  package.state = "installed";
  if (packages.has_value() && !packages->empty()) {
    package.conffiles = packages->front().conffiles;
  }
  PackageIndexBuilder builder({}, {});
  builder.AddPackage(package, text, text);
  const auto index = builder.Build();
  for (const auto& file : md5sums.files) {
    const std::string absolute = "/" + std::string(file.path);
    bool listed = false;
    for (const auto path : list) {
      listed = listed || path == absolute;
    }
    const std::size_t name = absolute.size() - absolute.rfind('/') - 1;
    if (listed && name > 0 && name <= 0xffff) {
      WARD_CHECK(!index->Lookup(absolute).empty());
    }
  }
  WARD_CHECK(index->stats().files <= md5sums.files.size() + package.conffiles.size());

  // With the same bytes as diversions and the /usr merge: an index selecting the package
  // answers as the full one, an index selecting another package holds nothing.
  std::vector<DpkgDiversion> diverted;
  if (diversions.has_value()) {
    diverted = *diversions;
  }
  const std::vector<DirectoryAlias> aliases = {{"/bin", "/usr/bin"}};
  PackageIndexBuilder all(diverted, aliases);
  PackageIndexBuilder selected(diverted, aliases, PackageSelection::Only({"fuzz"}));
  PackageIndexBuilder other(diverted, aliases, PackageSelection::Only({"other"}));
  for (PackageIndexBuilder* each : {&all, &selected, &other}) {
    each->AddPackage(package, text, text);
  }
  const auto all_index = all.Build();
  const auto selected_index = selected.Build();
  const auto other_index = other.Build();
  WARD_CHECK(selected_index->stats().files == all_index->stats().files);
  WARD_CHECK(other_index->stats().files == 0 && other_index->stats().packages_not_selected == 1);
  const auto same = [&](std::string_view path) {
    const auto a = all_index->Lookup(path);
    const auto b = selected_index->Lookup(path);
    WARD_CHECK(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      WARD_CHECK(a[i].package == b[i].package && a[i].md5 == b[i].md5 &&
                 a[i].conffile == b[i].conffile);
    }
    WARD_CHECK(other_index->Lookup(path).empty());
  };
  for (const auto path : list) {
    same(path);
    if (path.starts_with("/bin/")) {
      same("/usr" + std::string(path));
    }
  }
  for (const auto& d : diverted) {
    same(d.to);
    same("/usr" + d.to);
  }
  return 0;
}
