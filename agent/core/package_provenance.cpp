// SPDX-License-Identifier: Apache-2.0
#include "ward/core/package_provenance.h"

#include <algorithm>
#include <chrono>

#include "ward/common/log.h"

namespace ward::core {
namespace {

using Clock = std::chrono::steady_clock;

// dpkg writes its records in bursts (one journal file per state change); reload once a burst
// has paused, at most once per kMinInterval (a load of a desktop's records costs about 0.2 s
// of CPU, docs/benchmarks.md), and never later than kMaxStaleness after the first change.
constexpr auto kQuiet = std::chrono::milliseconds(250);
constexpr auto kMinInterval = std::chrono::seconds(2);
constexpr auto kMaxStaleness = std::chrono::seconds(5);
constexpr auto kIdleWait = std::chrono::hours(1);

std::string RootPrefix(const std::filesystem::path& root) {
  std::string text = root.string();
  while (!text.empty() && text.back() == '/') {
    text.pop_back();
  }
  return text;
}

}  // namespace

PackageProvenance::PackageProvenance(std::unique_ptr<platform::PackageDatabase> database,
                                     EventSink& events, EventFactory& factory,
                                     FailurePolicy& failures)
    : database_(std::move(database)),
      events_(events),
      factory_(factory),
      failures_(failures),
      root_(RootPrefix(database_->root())) {}

PackageProvenance::~PackageProvenance() { Stop(); }

void PackageProvenance::Start(const policy::AppEvaluator* load_for) {
  if (watcher_.joinable()) {
    return;
  }
  stopping_ = false;
  if (load_for != nullptr && load_for->HasPackageRules()) {
    Reload(platform::PackageSelection::Only(load_for->PackageRuleNames()));
  }
  watcher_ = std::thread([this] { Watch(); });
}

void PackageProvenance::Stop() {
  stopping_ = true;
  database_->Interrupt();
  if (watcher_.joinable()) {
    watcher_.join();
  }
}

void PackageProvenance::OnNewIndex(std::function<void()> callback) {
  std::scoped_lock lock(callback_mutex_);
  on_new_index_ = std::move(callback);
}

std::shared_ptr<const platform::PackageIndex> PackageProvenance::index() const {
  std::scoped_lock lock(mutex_);
  return index_;
}

PackageProvenanceStats PackageProvenance::Stats() const {
  std::scoped_lock lock(mutex_);
  return stats_;
}

bool PackageProvenance::Follows(const std::vector<std::string>& names) const {
  std::scoped_lock lock(mutex_);
  return wanted_.has_value() && !wanted_->all() && wanted_->names() == names;
}

void PackageProvenance::Reload(std::optional<platform::PackageSelection> selection) {
  std::scoped_lock serial(load_mutex_);
  if (selection.has_value()) {
    std::scoped_lock lock(mutex_);
    wanted_ = selection;  // from now on, changes are followed for these packages
  } else {
    {
      std::scoped_lock lock(mutex_);
      selection = wanted_;
    }
    if (!selection.has_value() || !database_->ChangedSinceLoad()) {
      return;  // never wanted yet (no policy with package rules), or nothing new to read
    }
  }
  const auto started = Clock::now();
  auto loaded = database_->Load(*selection);
  if (!loaded.has_value()) {
    {
      std::scoped_lock lock(mutex_);
      ++stats_.load_failures;
    }
    failures_.Handle(FailureReason::kPackageIndexFailed, loaded.error().ToString());
    return;
  }
  const platform::PackageIndexStats& s = (*loaded)->stats();
  {
    std::scoped_lock lock(mutex_);
    index_ = *loaded;
    ++stats_.loads;
    stats_.index_packages = s.packages;
    stats_.index_files = s.files;
    stats_.index_bytes = s.bytes;
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
  {
    std::scoped_lock lock(callback_mutex_);
    if (on_new_index_) {
      on_new_index_();
    }
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  log::Info("package records loaded",
            {{"packages", static_cast<std::uint64_t>(s.packages)},
             {"files", static_cast<std::uint64_t>(s.files)},
             {"not_read", static_cast<std::uint64_t>(s.packages_not_selected)},
             {"without_md5sums", static_cast<std::uint64_t>(s.packages_without_md5sums)},
             {"ms", static_cast<std::int64_t>(ms)}});
}

void PackageProvenance::Watch() {
  bool pending = false;  // changes seen that no reload has read yet
  Clock::time_point first_change;
  Clock::time_point last_change;
  Clock::time_point last_reload = Clock::now();
  const auto due_at = [&] {
    return std::min(std::max(last_change + kQuiet, last_reload + kMinInterval),
                    first_change + kMaxStaleness);
  };
  while (!stopping_) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kIdleWait);
    if (pending) {
      wait =
          std::max(std::chrono::milliseconds(0),
                   std::chrono::duration_cast<std::chrono::milliseconds>(due_at() - Clock::now()));
    }
    auto changed = database_->WaitForChange(wait);
    if (!changed.has_value()) {
      failures_.Handle(FailureReason::kPackageIndexFailed,
                       "watching the package records: " + changed.error().ToString());
      return;  // the index in force stays
    }
    if (stopping_) {
      return;
    }
    const auto now = Clock::now();
    if (*changed) {
      last_change = now;
      if (!pending) {
        first_change = now;
      }
      pending = true;
    }
    if (pending && now >= due_at()) {
      pending = false;
      Reload(std::nullopt);
      last_reload = Clock::now();
    }
  }
}

void PackageProvenance::FreshenIfSettled() {
  if (database_->ChangedSinceLoad() && !database_->DpkgRunning()) {
    Reload(std::nullopt);
  }
}

std::vector<platform::PackageFile> PackageProvenance::RuledOwners(
    const platform::PackageIndex* index, std::string_view path,
    const policy::AppEvaluator& apps) const {
  if (index == nullptr) {
    return {};
  }
  if (!root_.empty()) {
    if (!path.starts_with(root_) || path.size() <= root_.size() || path[root_.size()] != '/') {
      return {};
    }
    path.remove_prefix(root_.size());
  }
  std::vector<platform::PackageFile> owners = index->Lookup(path);
  std::erase_if(owners, [&](const auto& owner) { return !apps.HasPackageRule(owner.package); });
  return owners;
}

Result<PackageProvenance::Answer> PackageProvenance::PackageOf(const platform::ExecRequest& request,
                                                               const policy::AppEvaluator& apps,
                                                               platform::ExecControl& control,
                                                               std::uint64_t policy_version) {
  if (const std::vector<std::string>& names = apps.PackageRuleNames(); !Follows(names)) {
    // The first policy with package rules, or one naming other packages than the index in
    // force holds: read their records before judging anything with it. The exec enforcer
    // dropped its cached verdicts with the old policy, and generation() changes.
    Reload(platform::PackageSelection::Only(names));
  } else {
    // A run of dpkg that just ended is read now rather than after the watcher's pause, so a
    // new install or upgrade is judged by its own records and a removed package vouches for
    // nothing.
    FreshenIfSettled();
  }
  // The owners' names view into this index: keep it alive while they are used.
  const std::shared_ptr<const platform::PackageIndex> pin = index();
  const std::vector<platform::PackageFile> owners = RuledOwners(pin.get(), request.path, apps);
  if (owners.empty()) {
    return Answer{};  // no owner a rule names: the package cannot change the verdict
  }
  platform::Md5Digest digest{};
  if (const auto cached = digests_.find(request.file); cached != digests_.end()) {
    digest = cached->second;
  } else {
    WARD_ASSIGN_OR_RETURN(const std::string hex, control.Md5(request.id));
    const auto parsed = platform::ParseMd5Hex(hex);
    if (!parsed.has_value()) {
      return InternalError("the MD5 of " + request.path + " is not 32 hex digits");
    }
    digest = *parsed;
    if (digests_.size() >= kDigestCacheCapacity) {
      digests_.clear();
    }
    digests_.emplace(request.file, digest);
    std::scoped_lock lock(mutex_);
    ++stats_.digests;
  }
  for (const auto& owner : owners) {
    if (owner.md5 == digest) {
      std::scoped_lock lock(mutex_);
      ++stats_.verified;
      return Answer{std::string(owner.package), true};
    }
  }
  if (database_->DpkgRunning()) {
    // An upgrade between writing the files and writing the records: judge again later.
    std::scoped_lock lock(mutex_);
    ++stats_.unsettled;
    return Answer{"", false};
  }
  Report(request.path, owners.front(), digest, policy_version);
  return Answer{};
}

void PackageProvenance::Report(std::string_view path, const platform::PackageFile& owner,
                               const platform::Md5Digest& found, std::uint64_t policy_version) {
  std::string key(path);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(found.data()), found.size());
  if (reported_.contains(key)) {
    return;
  }
  if (reported_.size() >= kReportedCapacity) {
    reported_.clear();
  }
  reported_.insert(std::move(key));
  {
    std::scoped_lock lock(mutex_);
    ++stats_.modified;
  }
  const std::string detail =
      std::string(path) + " differs from the " + (owner.conffile ? "conffile" : "file") +
      " package " + std::string(owner.package) + " installed (dpkg records MD5 " +
      platform::Md5Hex(owner.md5) + ", the file has " + platform::Md5Hex(found) +
      "); it is not trusted as part of the package";
  log::Warning("packaged file modified", {{"detail", detail}});
  v1::Event event = factory_.New(v1::PRIORITY_HIGH, policy_version);
  auto* agent = event.mutable_agent();
  agent->set_kind(v1::AgentEvent::KIND_PACKAGE_FILE_MODIFIED);
  agent->set_detail(detail);
  agent->set_count(1);
  events_.Record(std::move(event));
}

}  // namespace ward::core
