// SPDX-License-Identifier: Apache-2.0
#include "ward/app/agent.h"

#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "internal/os.h"
#include "ward/common/log.h"
#include "ward/policy/loader.h"

namespace ward::app {
namespace {

// Until the encrypted store is wired in: each event is one journal line.
class LogEventSink final : public core::EventSink {
 public:
  void Record(v1::Event event) override {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(event, &json, options).ok()) {
      json = event.ShortDebugString();
    }
    log::Info("event", {{"event", json}});
  }
};

// Events into the encrypted store. A refused append (disk full, queue full) is counted and
// logged (the first, then every 1000th); the store itself reports drops as EVENTS_EVICTED.
class StoreEventSink final : public core::EventSink {
 public:
  explicit StoreEventSink(agent::store::EventStore& store) : store_(store) {}
  void Record(v1::Event event) override {
    auto appended = store_.Append(event);
    if (!appended.has_value()) {
      const std::uint64_t n = ++failed_;
      if (n == 1 || n % 1000 == 0) {
        log::Warning("event not stored", {{"error", appended.error().ToString()}, {"count", n}});
      }
    }
  }

 private:
  agent::store::EventStore& store_;
  std::atomic<std::uint64_t> failed_{0};
};

}  // namespace

Result<std::shared_ptr<const core::ActivePolicy>> LoadPolicyFile(
    const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("cannot read policy file " + path.string());
  }
  std::stringstream text;
  text << in.rdbuf();
  auto policy = policy::LoadPolicyJson(text.str());
  if (!policy.has_value()) {
    return std::unexpected(std::move(policy).error().WithContext(path.string()));
  }
  return core::ActivePolicy::Compile(*std::move(policy));
}

Result<OpenedStore> OpenAgentStore(const AgentConfig& config) {
  OpenedStore opened;
  platform::KeyProviderOptions key_options;
  key_options.state_dir = config.state_dir;
  key_options.key_expected_if_exists = config.state_dir / "events.db";
  opened.keys = platform::CreateKeyProvider(key_options);
  agent::store::StoreOptions options;
  options.path = config.state_dir / "events.db";
  agent::store::OpenReport report;
  WARD_ASSIGN_OR_RETURN(opened.store,
                        agent::store::EventStore::Open(options, *opened.keys, &report));
  return opened;
}

Result<std::uint64_t> UnsentCritical(agent::store::EventStore& store) {
  WARD_ASSIGN_OR_RETURN(const v1::StoreStatus status, store.GetStatus());
  const auto& counts = status.events_by_priority();
  const auto critical = counts.find("CRITICAL");
  return critical != counts.end() ? static_cast<std::uint64_t>(critical->second) : 0;
}

Result<std::uint64_t> UploadCriticalWithin(agent::sync::SyncEngine& engine,
                                           agent::store::EventStore& store,
                                           std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  engine.NotifyAppended(v1::PRIORITY_CRITICAL);
  for (;;) {
    WARD_ASSIGN_OR_RETURN(const std::uint64_t left, UnsentCritical(store));
    if (left == 0 || std::chrono::steady_clock::now() >= deadline) {
      return left;
    }
    // The engine retries CRITICAL uploads every few seconds (critical_retry_cap): a short poll
    // of the store is all this wait needs.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::unique_ptr<AgentDeps>> AgentDeps::Create(const AgentConfig& config,
                                                     std::unique_ptr<core::EventSink> events,
                                                     std::unique_ptr<core::NoticeSink> notices) {
  auto deps = std::make_unique<AgentDeps>();
  deps->config = config;
  std::string store_error;
  if (events == nullptr && config.store) {
    auto opened = OpenAgentStore(config);
    if (opened.has_value()) {
      deps->keys = std::move(opened->keys);
      deps->store = std::move(opened->store);
      events = std::make_unique<StoreEventSink>(*deps->store);
    } else {
      store_error = opened.error().ToString();
    }
  }
  deps->events = events != nullptr ? std::move(events) : std::make_unique<LogEventSink>();
  deps->notices = std::make_unique<NoticeBridge>(std::move(notices));
  deps->factory = std::make_unique<core::EventFactory>(SystemClock(), SystemRandom());
  deps->failures = std::make_unique<core::FailurePolicy>(*deps->events, *deps->factory);
  if (!store_error.empty()) {
    deps->degraded.push_back("store: " + store_error);
    deps->failures->Handle(core::FailureReason::kStoreWriteFailed, store_error);
  }
  deps->CreateSync();

  deps->CreateEnforcers();
  return deps;
}

Agent::~Agent() { Stop(); }

Status Agent::Start() {
  WARD_ASSIGN_OR_RETURN(auto initial, LoadStartPolicy());
  {
    std::scoped_lock lock(policy_mu_);
    policy_ = initial;
  }
  if (deps_->usb_policy != nullptr) {
    deps_->usb_policy->Start(initial);
  }
  if (deps_->usb != nullptr) {
    deps_->usb->Start(initial);
  }
  if (deps_->packages != nullptr) {
    // Read before the first exec is judged when the policy names packages (only theirs); else
    // only once a policy that does arrives (the index costs memory the agent otherwise does
    // not need).
    deps_->packages->Start(initial->apps.get());
  }
  if (deps_->exec != nullptr) {
    deps_->exec->Start(initial);
  }
  if (deps_->settings != nullptr) {
    deps_->settings->Start(initial);
  }
  if (deps_->settings_policy != nullptr) {
    deps_->settings_policy->Start(initial);
  }
  StartIpc();
  StartSync();
  running_ = true;
  RecordAgent(v1::AgentEvent::KIND_STARTED, Summary());
  for (const auto& d : deps_->degraded) {
    RecordAgent(v1::AgentEvent::KIND_DEGRADED, d);
  }
  log::Info("ward-agent started", {{"status", Summary()}});
  return WriteStatus("running");
}

Status Agent::Reload() {
  if (deps_->config.dev_policy_json.empty()) {
    return ReloadBundle();
  }
  auto next = LoadPolicyFile(deps_->config.dev_policy_json);
  const auto current = policy();
  if (next.has_value() && (*next)->policy.version() < current->policy.version()) {
    next = std::unexpected(Error(ErrorCode::kFailedPrecondition,
                                 "policy version " + std::to_string((*next)->policy.version()) +
                                     " is older than the one in force (" +
                                     std::to_string(current->policy.version()) + ")"));
  }
  if (!next.has_value()) {
    return RejectPolicy(next.error());
  }
  std::scoped_lock lock(apply_mu_);
  return Adopt(*std::move(next), "");
}

void Agent::RecordStopCause(v1::AgentEvent::Kind kind, const std::string& detail) {
  RecordAgent(kind, detail);
  stop_recorded_ = true;
}

Result<std::uint64_t> Agent::LastUpload(std::chrono::milliseconds within) {
  if (deps_->store == nullptr) {
    return UnavailableError("the store is not available");
  }
  // Whatever was just recorded (the stop cause) must be in the store before it is counted.
  WARD_RETURN_IF_ERROR(deps_->store->Flush());
  if (sync_ == nullptr) {
    return UnsentCritical(*deps_->store);
  }
  return UploadCriticalWithin(*sync_, *deps_->store, within);
}

void Agent::Stop() {
  if (!running_) {
    return;
  }
  running_ = false;
  if (!stop_recorded_) {
    RecordAgent(v1::AgentEvent::KIND_STOPPING, "");
  }
  // Sync first: its threads use the store, which closes after Stop.
  StopSync();
  StopIpc();
  // Exec first: every pending program gets its answer before anything else stops.
  if (deps_->exec != nullptr) {
    deps_->exec->Stop();
  }
  if (deps_->packages != nullptr) {
    deps_->packages->Stop();
  }
  if (deps_->usb != nullptr) {
    deps_->usb->Stop();
  }
  // The declarative controls' values stay in force: only Restore() (uninstall) removes them.
  if (deps_->usb_policy != nullptr) {
    deps_->usb_policy->Stop();
  }
  if (deps_->settings != nullptr) {
    deps_->settings->Stop();
  }
  if (deps_->settings_policy != nullptr) {
    deps_->settings_policy->Stop();
  }
  if (deps_->store != nullptr) {
    (void)deps_->store->Flush();
  }
  (void)WriteStatus("stopped");
}

std::string Agent::Summary() const {
  std::string s;
  if (const auto current = policy(); current != nullptr) {
    s += "policy " + std::to_string(current->policy.version()) + " (" +
         (current->enforce() ? "enforce" : "monitor") + ")";
  }
  s += "; usb " +
       std::string(deps_->usb != nullptr ? "on" : (deps_->config.usb ? "degraded" : "off"));
  s += "; exec " +
       std::string(deps_->exec != nullptr ? "on" : (deps_->config.exec ? "degraded" : "off"));
  if (deps_->config.exec && deps_->config.packages) {
    s += "; packages " + std::string(deps_->packages != nullptr ? "on" : "degraded");
  }
  s += "; store " +
       std::string(deps_->store != nullptr ? "on" : (deps_->config.store ? "degraded" : "off"));
  const bool settings_on = deps_->settings != nullptr || deps_->settings_policy != nullptr;
  s += "; settings " +
       std::string(settings_on ? "on" : (deps_->config.settings ? "degraded" : "off"));
  s += "; ipc " + std::string(ipc_ != nullptr ? "on" : (deps_->config.ipc ? "degraded" : "off"));
  if (!deps_->config.collector_url.empty()) {
    s += "; sync " + std::string(sync_ != nullptr ? "on" : "degraded");
  }
  if (deps_->exec != nullptr) {
    const auto stats = deps_->exec->Stats();
    s += " (" + std::to_string(stats.decisions) + " decisions, " + std::to_string(stats.blocked) +
         " blocked)";
  }
  return s;
}

Status Agent::WriteStatus(std::string_view state) const {
  // The main thread and ApplySignedPolicy (sync's thread) both write it.
  std::scoped_lock lock(status_mu_);
  const auto& path = deps_->config.status_file;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "state=" << state << "\npid=" << internal::CurrentProcessId()
        << "\nsummary=" << Summary() << "\n";
    for (const auto& d : deps_->degraded) {
      out << "degraded=" << d << "\n";
    }
    if (!out) {
      return UnavailableError("cannot write status file " + tmp.string());
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return std::unexpected(ErrnoError("rename " + tmp.string(), ec.value()));
  }
  return OkStatus();
}

void Agent::RecordAgent(v1::AgentEvent::Kind kind, const std::string& detail) {
  const auto current = policy();
  // Tamper is a safeguarding matter (CRITICAL: never evicted, uploaded at once).
  const v1::Priority priority = kind == v1::AgentEvent::KIND_TAMPER ? v1::PRIORITY_CRITICAL
                                : kind == v1::AgentEvent::KIND_POLICY_REJECTED ? v1::PRIORITY_HIGH
                                                                               : v1::PRIORITY_LOW;
  v1::Event event =
      deps_->factory->New(priority, current != nullptr ? current->policy.version() : 0);
  event.mutable_agent()->set_kind(kind);
  event.mutable_agent()->set_detail(detail);
  deps_->events->Record(std::move(event));
}

namespace {

struct StatusFile {
  std::string state;
  long pid = 0;
  std::string text;
};

std::optional<StatusFile> ReadStatusFile(const std::filesystem::path& status_file) {
  std::ifstream in(status_file);
  if (!in) {
    return std::nullopt;
  }
  StatusFile status;
  std::string line;
  while (std::getline(in, line)) {
    status.text += line + "\n";
    if (line.starts_with("state=")) {
      status.state = line.substr(6);
    } else if (line.starts_with("pid=")) {
      status.pid = std::strtol(line.c_str() + 4, nullptr, 10);
    }
  }
  return status;
}

bool Running(const StatusFile& status) {
  return status.state == "running" && internal::ProcessRunning(status.pid);
}

}  // namespace

bool AgentIsRunning(const std::filesystem::path& status_file) {
  const auto status = ReadStatusFile(status_file);
  return status.has_value() && Running(*status);
}

int PrintStatus(const std::filesystem::path& status_file) {
  const auto status = ReadStatusFile(status_file);
  if (!status.has_value()) {
    std::printf("ward-agent is not running (no status at %s)\n", status_file.string().c_str());
    return 3;
  }
  std::fputs(status->text.c_str(), stdout);
  if (!Running(*status)) {
    std::printf("ward-agent is not running\n");
    return 3;
  }
  return 0;
}

}  // namespace ward::app
