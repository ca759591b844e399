// SPDX-License-Identifier: Apache-2.0
// The agent's sync to the collector: config check, transport, engine, and its hooks into the
// agent (policy sink, upload trigger, reachability, concern acknowledgements).
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <sstream>

#include "internal/os.h"
#include "ward/app/agent.h"
#include "ward/common/hex.h"
#include "ward/common/log.h"

namespace ward::app {
namespace {

constexpr std::size_t kMaxSecretBytes = 4096;

Result<std::string> ReadEnrolmentSecret(const std::filesystem::path& path) {
  WARD_RETURN_IF_ERROR(CheckEnrolmentSecretFile(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot read the enrolment secret " + path.string());
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string secret = bytes.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  if (secret.empty() || secret.size() > kMaxSecretBytes) {
    return InvalidArgumentError("the enrolment secret in " + path.string() +
                                " is empty or too long");
  }
  return secret;
}

constexpr const char* kAgentVersion = "ward-agent " WARD_AGENT_VERSION;

// The collector's key for "the same laptop, enrolled again" (a reinstall): an app-specific hash
// of the machine id, as machine-id(5) asks (HMAC-SHA256 keyed by the id), so the id itself never
// leaves the laptop and cannot be matched with other software's records. Empty when there is no
// id: the collector then treats every enrolment as a new device.
std::string MachineHash(const std::string& id) {
  if (id.empty()) {
    return "";
  }
  static constexpr std::string_view kApp = "ward-agent machine hash v1";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), id.data(), static_cast<int>(id.size()),
           reinterpret_cast<const unsigned char*>(kApp.data()), kApp.size(), mac,
           &mac_len) == nullptr) {
    return "";
  }
  return HexEncode(std::span<const std::uint8_t>(mac, mac_len));
}

// The engine's view of the agent: verified policies go to the agent (which verifies again, as it
// owns rollback state, and leaves recording a rejection from this origin to the engine, so it is
// recorded once); the heartbeat carries the agent's version, mode and degradations.
class AgentSyncHooks final : public agent::sync::PolicySink, public agent::sync::StatusSource {
 public:
  explicit AgentSyncHooks(Agent& agent) : agent_(agent) {}
  std::uint64_t CurrentPolicyVersion() override {
    const auto current = agent_.policy();
    return current != nullptr ? current->policy.version() : 0;
  }
  Status ApplyPolicy(const v1::Policy& /*policy*/, const v1::SignedPolicy& signed_policy) override {
    return agent_.ApplySignedPolicy(signed_policy.SerializeAsString(), PolicyOrigin::kSync);
  }
  // Degradations are all recorded before sync starts (Agent::Start), so reading them from the
  // upload thread needs no lock.
  v1::DeviceStatus CurrentStatus() override {
    v1::DeviceStatus status;
    status.set_agent_version(kAgentVersion);
    if (const auto current = agent_.policy(); current != nullptr) {
      status.set_mode(current->policy.mode());
    }
    AddDegradations(agent_.deps().degraded, status);
    return status;
  }

 private:
  Agent& agent_;
};

}  // namespace

Result<std::unique_ptr<agent::sync::CollectorTransport>> CreateCollectorTransport(
    const AgentConfig& config) {
  agent::sync::HttpsTransportOptions options;
  options.url = config.collector_url;
  options.ca_file = config.collector_ca;
  return agent::sync::CreateHttpsTransport(options);
}

Result<agent::sync::SyncOptions> SyncOptionsFor(const AgentConfig& config) {
  agent::sync::SyncOptions options;
  // The secret is deleted once the device is enrolled: then the saved credential is used.
  auto secret = ReadEnrolmentSecret(config.enrolment_secret_file);
  if (!secret.has_value() && secret.error().code() != ErrorCode::kNotFound) {
    return std::unexpected(secret.error());
  }
  options.enrolment_secret = secret.has_value() ? *std::move(secret) : std::string();
  options.hostname = internal::HostName();
  options.os = internal::OsName();
  options.agent_version = kAgentVersion;
  options.machine_hash = MachineHash(internal::MachineId(config));
  return options;
}

Status CheckSync(const AgentConfig& config) {
  if (config.collector_url.empty()) {
    return OkStatus();
  }
  if (!config.store) {
    return InvalidArgumentError("collector_url needs store = on (events are sent from it)");
  }
  if (!config.dev_policy_json.empty()) {
    return InvalidArgumentError(
        "collector_url cannot be used with dev_policy_json (pushed policies are signed)");
  }
  WARD_RETURN_IF_ERROR(SyncOptionsFor(config));
  WARD_RETURN_IF_ERROR(CreateCollectorTransport(config));
  return OkStatus();
}

void AgentDeps::CreateSync() {
  if (config.collector_url.empty()) {
    return;
  }
  Status checked = CheckSync(config);
  if (checked.has_value() && store == nullptr) {
    checked = std::unexpected(Error(ErrorCode::kUnavailable, "the store is not available"));
  }
  auto options = checked.has_value()
                     ? SyncOptionsFor(config)
                     : Result<agent::sync::SyncOptions>(std::unexpected(checked.error()));
  auto transport = options.has_value() ? CreateCollectorTransport(config)
                                       : Result<std::unique_ptr<agent::sync::CollectorTransport>>(
                                             std::unexpected(options.error()));
  if (!transport.has_value()) {
    // Fail-open: enforcement goes on; events stay in the store until sync works.
    degraded.push_back("sync: " + transport.error().ToString());
    log::Error("sync to the collector is off", {{"error", transport.error().ToString()}});
    return;
  }
  collector = *std::move(transport);
  sync_options = *std::move(options);
}

void Agent::StartSync() {
  if (deps_->collector == nullptr || !key_.has_value()) {
    return;
  }
  agent::sync::SyncOptions options = deps_->sync_options;
  options.on_acked = [this](const std::vector<std::string>& ids) {
    if (service_ != nullptr) {
      for (const auto& id : ids) {
        service_->OnConcernAcknowledged(id);
      }
    }
  };
  options.on_reachable = [this](bool reachable) {
    if (service_ != nullptr) {
      service_->SetCollectorReachable(reachable);
    }
  };
  auto hooks = std::make_unique<AgentSyncHooks>(*this);
  agent::sync::StatusSource* status = hooks.get();
  sync_sink_ = std::move(hooks);
  sync_ = std::make_unique<agent::sync::SyncEngine>(std::move(options), *key_, *deps_->collector,
                                                    *deps_->store, *sync_sink_, status);
  if (service_ != nullptr) {
    service_->SetUploadTrigger(
        [engine = sync_.get()] { engine->NotifyAppended(v1::PRIORITY_CRITICAL); });
  }
  sync_->Start();
  log::Info("sync to the collector started", {{"url", deps_->config.collector_url}});
}

void Agent::StopSync() {
  if (sync_ == nullptr) {
    return;
  }
  if (service_ != nullptr) {
    service_->SetUploadTrigger(nullptr);
  }
  sync_->Stop();
}

}  // namespace ward::app
