// SPDX-License-Identifier: Apache-2.0
// The agent's signed policy (load, keep, apply) and the tray's IPC server.
#include <fstream>
#include <sstream>

#include "internal/os.h"
#include "ward/app/agent.h"
#include "ward/common/log.h"

namespace ward::app {
namespace {

Result<std::string> ReadBundleFile(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return NotFoundError("cannot read policy bundle " + path.string() + ": " + ec.message());
  }
  if (size > policy::kMaxBundleBytes) {
    return InvalidArgumentError("policy bundle " + path.string() + " is too large (" +
                                std::to_string(size) + " bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!in) {
    return UnavailableError("cannot read policy bundle " + path.string());
  }
  return bytes.str();
}

Result<policy::PublicKey> ReadPinnedKey(const AgentConfig& config) {
  auto key = policy::PublicKey::ReadFile(config.policy_key);
  if (!key.has_value()) {
    return std::unexpected(
        std::move(key).error().WithContext("pinned policy key " + config.policy_key.string()));
  }
  return key;
}

}  // namespace

std::filesystem::path PolicyInForcePath(const AgentConfig& config) {
  return config.state_dir / "policy-in-force.bundle";
}

Result<v1::Policy> CheckPolicy(const AgentConfig& config) {
  if (!config.dev_policy_json.empty()) {
    WARD_ASSIGN_OR_RETURN(auto compiled, LoadPolicyFile(config.dev_policy_json));
    return compiled->policy;
  }
  WARD_ASSIGN_OR_RETURN(auto key, ReadPinnedKey(config));
  auto bundle = ReadBundleFile(config.policy_bundle);
  const std::filesystem::path& from =
      bundle.has_value() ? config.policy_bundle : PolicyInForcePath(config);
  if (!bundle.has_value()) {
    bundle = ReadBundleFile(from);
  }
  if (!bundle.has_value()) {
    return NotFoundError("no policy: neither " + config.policy_bundle.string() + " nor " +
                         from.string() + " can be read");
  }
  auto verified = policy::VerifySignedPolicyBytes(*bundle, key, 0);
  if (!verified.has_value()) {
    return std::unexpected(std::move(verified).error().WithContext(from.string()));
  }
  return verified;
}

std::shared_ptr<const core::ActivePolicy> Agent::policy() const {
  std::scoped_lock lock(policy_mu_);
  return policy_;
}

Status Agent::RejectPolicy(const Error& error, PolicyOrigin origin) {
  deps_->failures->Handle(core::FailureReason::kPolicyInvalid, error.ToString());
  if (origin == PolicyOrigin::kLocal) {
    // The sync engine records its own rejections (with the version it refused).
    RecordAgent(v1::AgentEvent::KIND_POLICY_REJECTED, error.ToString());
  }
  // Logged by the failure policy (and by the caller that handles the error).
  return std::unexpected(error);
}

Result<std::shared_ptr<const core::ActivePolicy>> Agent::LoadStartPolicy() {
  const AgentConfig& config = deps_->config;
  if (!config.dev_policy_json.empty()) {
    log::Warning("running an UNSIGNED development policy (dev_policy_json)",
                 {{"file", config.dev_policy_json.string()}});
    return LoadPolicyFile(config.dev_policy_json);
  }
  WARD_ASSIGN_OR_RETURN(auto key, ReadPinnedKey(config));
  key_ = key;
  std::scoped_lock lock(apply_mu_);
  std::shared_ptr<const core::ActivePolicy> compiled;
  std::optional<Error> why_none;
  const auto kept_path = PolicyInForcePath(config);
  if (auto kept = ReadBundleFile(kept_path); kept.has_value()) {
    auto verified = policy::VerifySignedPolicyBytes(*kept, key, 0);
    auto next =
        verified.has_value()
            ? core::ActivePolicy::Compile(*std::move(verified))
            : Result<std::shared_ptr<const core::ActivePolicy>>(std::unexpected(verified.error()));
    if (next.has_value()) {
      compiled = *std::move(next);
      bundle_in_force_ = *std::move(kept);
    } else {
      // Someone changed the kept policy, or the pinned key changed: not trusted.
      const std::string detail = kept_path.string() + ": " + next.error().ToString();
      RecordAgent(v1::AgentEvent::KIND_TAMPER, detail);
      log::Error("the policy kept in force does not verify", {{"error", detail}});
      why_none = next.error();
    }
  }
  if (auto bundle = ReadBundleFile(config.policy_bundle);
      bundle.has_value() && *bundle != bundle_in_force_) {
    auto verified = policy::VerifySignedPolicyBytes(
        *bundle, key, compiled != nullptr ? compiled->policy.version() : 0);
    auto next =
        verified.has_value()
            ? core::ActivePolicy::Compile(*std::move(verified))
            : Result<std::shared_ptr<const core::ActivePolicy>>(std::unexpected(verified.error()));
    Status kept = next.has_value() ? WriteFileDurably(kept_path, *bundle) : OkStatus();
    if (next.has_value() && kept.has_value()) {
      compiled = *std::move(next);
      bundle_in_force_ = *std::move(bundle);
      RecordAgent(v1::AgentEvent::KIND_POLICY_APPLIED,
                  "policy " + std::to_string(compiled->policy.version()) + " from " +
                      config.policy_bundle.string());
    } else {
      const Error error = (next.has_value() ? kept.error() : next.error())
                              .WithContext(config.policy_bundle.string());
      (void)RejectPolicy(error);
      why_none = error;
    }
  } else if (!bundle.has_value() && compiled == nullptr) {
    why_none = bundle.error();
  }
  if (compiled == nullptr) {
    return std::unexpected(why_none.value_or(
        Error(ErrorCode::kNotFound, "no signed policy in " + config.policy_bundle.string())));
  }
  return compiled;
}

Status Agent::ReloadBundle() {
  auto bundle = ReadBundleFile(deps_->config.policy_bundle);
  if (!bundle.has_value()) {
    return RejectPolicy(bundle.error());
  }
  {
    std::scoped_lock lock(apply_mu_);
    if (*bundle == bundle_in_force_) {
      log::Info("policy bundle unchanged", {{"status", Summary()}});
      return OkStatus();
    }
  }
  return ApplySignedPolicy(*bundle);
}

Status Agent::ApplySignedPolicy(std::string_view bundle, PolicyOrigin origin) {
  if (!key_.has_value()) {
    return FailedPreconditionError(
        "no pinned policy key: the agent has not started, or runs an unsigned development "
        "policy (dev_policy_json)");
  }
  std::scoped_lock lock(apply_mu_);
  const auto current = policy();
  auto verified = policy::VerifySignedPolicyBytes(
      bundle, *key_, current != nullptr ? current->policy.version() : 0);
  if (!verified.has_value()) {
    return RejectPolicy(verified.error(), origin);
  }
  auto next = core::ActivePolicy::Compile(*std::move(verified));
  if (!next.has_value()) {
    return RejectPolicy(next.error(), origin);
  }
  return Adopt(*std::move(next), std::string(bundle), origin);
}

Status Agent::Adopt(std::shared_ptr<const core::ActivePolicy> next, std::string bundle,
                    PolicyOrigin origin) {
  if (!bundle.empty()) {
    // Kept before it is applied: a restart must never fall back to an older policy.
    if (auto kept = WriteFileDurably(PolicyInForcePath(deps_->config), bundle); !kept.has_value()) {
      return RejectPolicy(kept.error().WithContext("cannot keep the new policy"), origin);
    }
    bundle_in_force_ = std::move(bundle);
  }
  {
    std::scoped_lock lock(policy_mu_);
    policy_ = next;
  }
  if (deps_->usb_policy != nullptr) {
    deps_->usb_policy->SetPolicy(next);
  }
  if (deps_->usb != nullptr) {
    deps_->usb->SetPolicy(next);
  }
  if (deps_->exec != nullptr) {
    deps_->exec->SetPolicy(next);
  }
  if (deps_->settings != nullptr) {
    deps_->settings->SetPolicy(next);
  }
  if (deps_->settings_policy != nullptr) {
    deps_->settings_policy->SetPolicy(next);
  }
  if (service_ != nullptr) {
    service_->SetPolicy(next, key_.has_value());
  }
  RecordAgent(v1::AgentEvent::KIND_POLICY_APPLIED, Summary());
  v1::Notice notice;
  notice.mutable_policy_changed()->set_policy_version(next->policy.version());
  deps_->notices->Notify(std::move(notice));
  log::Info("policy applied", {{"status", Summary()}});
  return WriteStatus("running");
}

void Agent::StartIpc() {
  service_ = std::make_unique<AgentService>(deps_->store.get(), *deps_->events, *deps_->factory,
                                            *deps_->notices, SystemRandom());
  service_->SetPolicy(policy(), key_.has_value());
  if (deps_->config.ipc) {
    internal::PrepareIpcEndpoint(deps_->config.ipc_socket);
    agent::ipc::IpcServerOptions options;
    options.endpoint = deps_->config.ipc_socket;
    auto server = agent::ipc::IpcServer::Create(options, *service_);
    Status started =
        server.has_value() ? (*server)->Start() : Status(std::unexpected(server.error()));
    if (started.has_value()) {
      ipc_ = *std::move(server);
      deps_->notices->Attach(ipc_.get());
    } else {
      // Fail-open: enforcement goes on; the tray says it cannot reach the agent.
      deps_->degraded.push_back("ipc: " + started.error().ToString());
      log::Error("the tray's socket is not available", {{"error", started.error().ToString()}});
    }
  }
  service_->SetDegraded(deps_->degraded);
}

void Agent::StopIpc() {
  deps_->notices->Attach(nullptr);
  if (ipc_ != nullptr) {
    ipc_->Stop();
    ipc_.reset();
  }
}

}  // namespace ward::app
