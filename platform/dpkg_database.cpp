// SPDX-License-Identifier: Apache-2.0
#include "ward/platform/dpkg_database.h"

#include <algorithm>
#include <functional>
#include <tuple>
#include <unordered_set>

#include "ward/common/hex.h"

namespace ward::platform {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (IsBlank(s.back()) || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls `line(view)` for each line of `text` (without its '\n'), the last one even when it has
// no newline. Stops early when `line` returns false.
template <typename F>
void ForEachLine(std::string_view text, F&& line) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view current = text.substr(0, end);
    if (!line(current)) {
      return;
    }
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// The last blank-separated word of `s` (already trimmed), and what comes before it.
std::pair<std::string_view, std::string_view> SplitLastWord(std::string_view s) {
  const std::size_t blank = s.find_last_of(" \t");
  if (blank == std::string_view::npos) {
    return {std::string_view(), s};
  }
  return {Trim(s.substr(0, blank)), s.substr(blank + 1)};
}

// " /etc/foo.conf 0123...cdef [obsolete] [remove-on-upgrade]" (paths may hold spaces).
std::optional<DpkgPackage::Conffile> ParseConffileLine(std::string_view line) {
  std::string_view rest = Trim(line);
  DpkgPackage::Conffile conffile;
  for (;;) {
    auto [before, word] = SplitLastWord(rest);
    if (word == "obsolete") {
      conffile.obsolete = true;
    } else if (word != "remove-on-upgrade") {
      break;
    }
    rest = before;
  }
  auto [path, hash] = SplitLastWord(rest);
  if (path.empty() || path.front() != '/') {
    return std::nullopt;
  }
  conffile.path = std::string(path);
  conffile.md5 = ParseMd5Hex(hash);  // "newconffile": none
  return conffile;
}

void SetStatus(DpkgPackage& package, std::string_view value) {
  std::string_view words[3];
  for (auto& word : words) {
    value = Trim(value);
    const std::size_t blank = value.find_first_of(" \t");
    word = value.substr(0, blank);
    value = blank == std::string_view::npos ? std::string_view() : value.substr(blank);
  }
  package.want = std::string(words[0]);
  package.flag = std::string(words[1]);
  package.state = std::string(words[2]);
}

class StanzaParser {
 public:
  Status Line(std::string_view line, std::size_t number) {
    if (Trim(line).empty()) {
      Finish();
      return OkStatus();
    }
    if (IsBlank(line.front())) {
      if (field_ == Field::kNone && !in_stanza_) {
        return InvalidArgumentError("line " + std::to_string(number) +
                                    ": a continuation line before any field");
      }
      if (field_ == Field::kConffiles) {
        if (auto conffile = ParseConffileLine(line)) {
          current_.conffiles.push_back(*std::move(conffile));
        }
      }
      return OkStatus();
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgumentError("line " + std::to_string(number) + ": not a field");
    }
    in_stanza_ = true;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    field_ = Field::kOther;
    if (EqualsIgnoreCase(name, "Package")) {
      current_.name = std::string(value);
    } else if (EqualsIgnoreCase(name, "Status")) {
      SetStatus(current_, value);
    } else if (EqualsIgnoreCase(name, "Architecture")) {
      current_.architecture = std::string(value);
    } else if (EqualsIgnoreCase(name, "Version")) {
      current_.version = std::string(value);
    } else if (EqualsIgnoreCase(name, "Multi-Arch")) {
      current_.multi_arch_same = value == "same";
    } else if (EqualsIgnoreCase(name, "Conffiles")) {
      field_ = Field::kConffiles;
      if (auto conffile = ParseConffileLine(value)) {
        current_.conffiles.push_back(*std::move(conffile));
      }
    }
    return OkStatus();
  }

  std::vector<DpkgPackage> Take() {
    Finish();
    return std::move(packages_);
  }

 private:
  enum class Field { kNone, kConffiles, kOther };
  void Finish() {
    if (in_stanza_ && !current_.name.empty()) {
      packages_.push_back(std::move(current_));
    }
    current_ = DpkgPackage();
    field_ = Field::kNone;
    in_stanza_ = false;
  }

  std::vector<DpkgPackage> packages_;
  DpkgPackage current_;
  Field field_ = Field::kNone;
  bool in_stanza_ = false;
};

// "/usr/bin/ls" -> ("/usr/bin", "ls"); "/ls" -> ("", "ls").
std::pair<std::string_view, std::string_view> SplitPath(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

std::optional<Md5Digest> ParseMd5Hex(std::string_view hex) {
  // Called for every md5sums line (over 100,000 on a desktop): no allocation.
  Md5Digest digest;
  if (!HexDecodeInto(hex, digest)) {
    return std::nullopt;
  }
  return digest;
}

std::string Md5Hex(const Md5Digest& digest) { return HexEncode(digest); }

bool DpkgPackage::Installed() const {
  return (want == "install" || want == "hold") && flag == "ok" &&
         (state == "installed" || state == "triggers-pending" || state == "triggers-awaited");
}

std::string DpkgPackage::InfoName() const {
  return multi_arch_same && !architecture.empty() ? name + ":" + architecture : name;
}

Result<std::vector<DpkgPackage>> ParseDpkgStatus(std::string_view text) {
  StanzaParser parser;
  std::size_t number = 0;
  Status status = OkStatus();
  ForEachLine(text, [&](std::string_view line) {
    status = parser.Line(line, ++number);
    return status.has_value();
  });
  if (!status.has_value()) {
    return std::unexpected(status.error());
  }
  return parser.Take();
}

std::vector<std::string_view> ParseDpkgList(std::string_view text) {
  std::vector<std::string_view> paths;
  ForEachLine(text, [&](std::string_view line) {
    if (!line.empty() && line.front() == '/' && line != "/.") {
      paths.push_back(line);
    }
    return true;
  });
  return paths;
}

DpkgMd5sums ParseDpkgMd5sums(std::string_view text) {
  DpkgMd5sums out;
  ForEachLine(text, [&](std::string_view line) {
    if (Trim(line).empty()) {
      return true;
    }
    const auto md5 = line.size() > 34 ? ParseMd5Hex(line.substr(0, 32)) : std::nullopt;
    if (!md5.has_value() || line[32] != ' ' || (line[33] != ' ' && line[33] != '*')) {
      ++out.malformed_lines;
      return true;
    }
    std::string_view path = line.substr(34);
    if (path.starts_with("./")) {
      path.remove_prefix(2);
    }
    while (path.starts_with('/')) {
      path.remove_prefix(1);
    }
    if (path.empty()) {
      ++out.malformed_lines;
      return true;
    }
    out.files.push_back({path, *md5});
    return true;
  });
  return out;
}

Result<std::vector<DpkgDiversion>> ParseDpkgDiversions(std::string_view text) {
  std::vector<std::string_view> lines;
  ForEachLine(text, [&](std::string_view line) {
    lines.push_back(line);
    return true;
  });
  if (lines.size() % 3 != 0) {
    return InvalidArgumentError("diversions: " + std::to_string(lines.size()) +
                                " lines, not a multiple of three");
  }
  std::vector<DpkgDiversion> out;
  out.reserve(lines.size() / 3);
  for (std::size_t i = 0; i < lines.size(); i += 3) {
    if (!lines[i].starts_with('/') || !lines[i + 1].starts_with('/') || lines[i + 2].empty()) {
      return InvalidArgumentError("diversions: entry at line " + std::to_string(i + 1) +
                                  " is not two absolute paths and a package");
    }
    out.push_back({std::string(lines[i]), std::string(lines[i + 1]), std::string(lines[i + 2])});
  }
  return out;
}

PackageSelection PackageSelection::Only(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  PackageSelection selection;
  selection.all_ = false;
  selection.names_ = std::move(names);
  return selection;
}

bool PackageSelection::Contains(std::string_view name) const {
  return all_ || std::binary_search(names_.begin(), names_.end(), name, std::less<>());
}

std::vector<PackageFile> PackageIndex::Lookup(std::string_view path) const {
  std::vector<PackageFile> out;
  if (path.empty() || path.front() != '/') {
    return out;
  }
  const auto [dir, name] = SplitPath(path);
  const auto found = dir_ids_.find(dir);
  if (found == dir_ids_.end()) {
    return out;
  }
  const std::uint32_t dir_id = found->second;
  const auto key = [this](const Entry& e) { return std::pair(e.dir, NameOf(e)); };
  auto it = std::lower_bound(entries_.begin(), entries_.end(), std::pair(dir_id, name),
                             [&](const Entry& e, const auto& k) { return key(e) < k; });
  for (; it != entries_.end() && it->dir == dir_id && NameOf(*it) == name; ++it) {
    const Package& package = packages_[it->package];
    out.push_back({package.name, package.architecture, it->md5, it->conffile});
  }
  return out;
}

PackageIndexBuilder::PackageIndexBuilder(std::vector<DpkgDiversion> diversions,
                                         std::vector<DirectoryAlias> aliases,
                                         PackageSelection selection)
    : aliases_(std::move(aliases)), selection_(std::move(selection)), index_(new PackageIndex()) {
  for (auto& diversion : diversions) {
    std::string from = diversion.from;
    diversions_.emplace(std::move(from), std::move(diversion));
  }
}

PackageIndexBuilder::~PackageIndexBuilder() = default;

std::string_view PackageIndexBuilder::OnDisk(std::string_view path, std::string_view package,
                                             std::string& scratch) {
  std::string_view out = path;
  if (const auto it = diversions_.find(path); it != diversions_.end()) {
    // The diverting package keeps the original name; everybody else's copy (and every copy,
    // for a local diversion) is at the diverted name.
    if (it->second.local() || it->second.package != package) {
      out = it->second.to;
      ++index_->stats_.diverted;
    }
  }
  for (const DirectoryAlias& alias : aliases_) {
    if (out.starts_with(alias.link) &&
        (out.size() == alias.link.size() || out[alias.link.size()] == '/')) {
      std::string renamed = alias.target;
      renamed.append(out.substr(alias.link.size()));
      scratch = std::move(renamed);
      ++index_->stats_.aliased;
      return scratch;
    }
  }
  return out;
}

std::uint32_t PackageIndexBuilder::DirId(std::string_view dir) {
  if (const auto it = dir_ids_.find(dir); it != dir_ids_.end()) {
    return it->second;
  }
  const auto id = static_cast<std::uint32_t>(dir_ids_.size());
  dir_ids_.emplace(std::string(dir), id);
  return id;
}

void PackageIndexBuilder::SkipPackageWithoutList() { ++index_->stats_.packages_without_list; }

void PackageIndexBuilder::SkipPackageNotSelected() { ++index_->stats_.packages_not_selected; }

void PackageIndexBuilder::Add(std::string_view dpkg_path, std::string_view package,
                              std::uint32_t package_id, const Md5Digest& md5, bool conffile) {
  PackageIndex& index = *index_;
  std::string scratch;
  const auto [dir, name] = SplitPath(OnDisk(dpkg_path, package, scratch));
  if (name.empty() || name.size() > 0xffff) {
    return;  // not a file name (a path ending in '/')
  }
  PackageIndex::Entry entry;
  entry.dir = DirId(dir);
  entry.name_offset = static_cast<std::uint32_t>(index.names_.size());
  entry.name_size = static_cast<std::uint16_t>(name.size());
  entry.package = package_id;
  entry.md5 = md5;
  entry.conffile = conffile;
  index.names_.append(name);
  index.entries_.push_back(entry);
  index.stats_.conffiles += conffile ? 1 : 0;
}

void PackageIndexBuilder::AddPackage(const DpkgPackage& package, std::string_view list,
                                     std::optional<std::string_view> md5sums) {
  if (!Selected(package.name)) {
    SkipPackageNotSelected();
    return;
  }
  PackageIndex& index = *index_;
  const auto package_id = static_cast<std::uint32_t>(index.packages_.size());
  index.packages_.push_back({package.name, package.architecture});
  ++index.stats_.packages;

  // The listed paths without their leading '/', as md5sums writes them.
  const std::vector<std::string_view> paths = ParseDpkgList(list);
  std::unordered_set<std::string_view> listed;
  listed.reserve(paths.size());
  for (const std::string_view path : paths) {
    listed.insert(path.substr(1));
  }
  // Conffiles take their digest from the status record, also when md5sums names them.
  std::unordered_set<std::string_view> conffiles;
  for (const auto& conffile : package.conffiles) {
    const std::string_view relative = std::string_view(conffile.path).substr(1);
    if (!conffile.obsolete && conffile.md5.has_value() && listed.contains(relative) &&
        conffiles.insert(relative).second) {
      Add(conffile.path, package.name, package_id, *conffile.md5, true);
    }
  }
  if (!md5sums.has_value()) {
    ++index.stats_.packages_without_md5sums;
    return;
  }
  const DpkgMd5sums parsed = ParseDpkgMd5sums(*md5sums);
  index.stats_.malformed_lines += parsed.malformed_lines;
  std::unordered_set<std::string_view> added;
  added.reserve(parsed.files.size());
  std::string absolute;
  for (const auto& file : parsed.files) {
    if (!listed.contains(file.path)) {
      ++index.stats_.md5sums_not_listed;
      continue;
    }
    if (conffiles.contains(file.path) || !added.insert(file.path).second) {
      continue;
    }
    absolute.assign("/").append(file.path);
    Add(absolute, package.name, package_id, file.md5, false);
  }
}

std::shared_ptr<const PackageIndex> PackageIndexBuilder::Build() {
  std::unique_ptr<PackageIndex> index = std::move(index_);
  index_.reset(new PackageIndex());
  const auto key = [&index](const PackageIndex::Entry& e) {
    const auto& package = index->packages_[e.package];
    return std::tuple(e.dir, index->NameOf(e), std::string_view(package.name),
                      std::string_view(package.architecture));
  };
  std::sort(index->entries_.begin(), index->entries_.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  index->entries_.shrink_to_fit();
  index->names_.shrink_to_fit();
  index->dirs_.resize(dir_ids_.size());
  for (auto& [dir, id] : dir_ids_) {
    index->dirs_[id] = dir;
  }
  dir_ids_.clear();
  index->dir_ids_.reserve(index->dirs_.size());
  std::size_t bytes =
      sizeof(PackageIndex) + index->entries_.capacity() * sizeof(PackageIndex::Entry) +
      index->names_.capacity() + index->packages_.capacity() * sizeof(PackageIndex::Package);
  for (std::uint32_t id = 0; id < index->dirs_.size(); ++id) {
    index->dir_ids_.emplace(index->dirs_[id], id);
    bytes += sizeof(std::string) + index->dirs_[id].capacity();
  }
  // Hash nodes (key, value, next pointer, cached hash) and the bucket array.
  bytes += index->dir_ids_.size() * (sizeof(std::string_view) + 2 * sizeof(void*) + 8) +
           index->dir_ids_.bucket_count() * sizeof(void*);
  for (const auto& package : index->packages_) {
    bytes += package.name.capacity() + package.architecture.capacity();
  }
  for (const auto& name : selection_.names()) {
    bytes += sizeof(std::string) + name.capacity();
  }
  index->selection_ = selection_;
  index->stats_.files = index->entries_.size();
  index->stats_.bytes = bytes;
  return std::shared_ptr<const PackageIndex>(std::move(index));
}

}  // namespace ward::platform
