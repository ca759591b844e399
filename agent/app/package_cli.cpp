// SPDX-License-Identifier: Apache-2.0
// The subcommands of the Debian package's maintainer scripts: enrol, last-upload, restore-os,
// and how the service tells the package's stops from anyone else's.
#include "ward/app/package_cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>

#include "ward/app/agent.h"
#include "ward/common/hex.h"
#include "ward/core/settings_render.h"
#include "ward/platform/os_restore.h"

namespace ward::app {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr std::size_t kMaxInputBytes = 64 * 1024;

// The options every subcommand shares: --config PATH, --within SECONDS, --from DIR, --help.
struct CommandArgs {
  std::string config_path;
  seconds within{0};
  fs::path from = "/etc/ward/enrol.d";
  bool help = false;
};

// Returns an error message, or "" when the arguments are fine.
std::string ParseArgs(int argc, char** argv, bool takes_from, CommandArgs& args) {
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      args.help = true;
    } else if (arg == "--config" && has_value) {
      args.config_path = argv[++i];
    } else if (arg == "--from" && has_value && takes_from) {
      args.from = argv[++i];
    } else if (arg == "--within" && has_value) {
      const std::string_view v = argv[++i];
      long long n = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || ptr != v.data() + v.size() || n < 1 || n > 3600) {
        return "--within needs seconds between 1 and 3600";
      }
      args.within = seconds(n);
    } else {
      return "unknown argument '" + std::string(arg) + "'";
    }
  }
  return "";
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

Result<std::string> ReadSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot read " + path.string());
  }
  std::string bytes(kMaxInputBytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  if (bytes.size() > kMaxInputBytes) {
    return InvalidArgumentError(path.string() + " is too large");
  }
  return bytes;
}

// policy.pub: the PEM `wardctl keygen` writes, or the key's 64 hex digits (what
// `ward-collector add-group --pubkey` takes).
Result<policy::PublicKey> ParsePolicyKey(const std::string& text) {
  if (text.find("-----BEGIN") != std::string::npos) {
    return policy::PublicKey::FromPem(text);
  }
  auto raw = HexDecode(Trimmed(text));
  if (!raw.has_value() || raw->size() != policy::kEd25519PublicKeyBytes) {
    return InvalidArgumentError(
        "the policy key must be a PEM public key or 64 hex digits (wardctl keygen)");
  }
  std::array<std::uint8_t, policy::kEd25519PublicKeyBytes> bytes{};
  std::copy(raw->begin(), raw->end(), bytes.begin());
  return policy::PublicKey::FromRaw(bytes);
}

// The engine's policy sink while enrolling: keeps the first verified policy for the caller.
class FirstPolicySink final : public agent::sync::PolicySink {
 public:
  std::uint64_t CurrentPolicyVersion() override {
    std::scoped_lock lock(mu_);
    return version_;
  }
  Status ApplyPolicy(const v1::Policy& policy, const v1::SignedPolicy& signed_policy) override {
    std::scoped_lock lock(mu_);
    version_ = policy.version();
    enforce_ = policy.mode() == v1::MODE_ENFORCE;
    bundle_ = signed_policy.SerializeAsString();
    received_.notify_all();
    return OkStatus();
  }
  // Waits until a policy arrived, `stop_early` says to give up, or `until`.
  bool WaitFor(std::chrono::steady_clock::time_point until, const std::function<bool()>& stop) {
    std::unique_lock lock(mu_);
    while (bundle_.empty() && std::chrono::steady_clock::now() < until) {
      received_.wait_for(lock, std::chrono::milliseconds(200));
      if (bundle_.empty() && stop()) {
        return false;
      }
    }
    return !bundle_.empty();
  }
  std::string bundle() {
    std::scoped_lock lock(mu_);
    return bundle_;
  }
  bool enforce() {
    std::scoped_lock lock(mu_);
    return enforce_;
  }

 private:
  std::mutex mu_;
  std::condition_variable received_;
  std::uint64_t version_ = 0;
  bool enforce_ = false;
  std::string bundle_;
};

// While only uploading: the policy in force, so the collector holds its long-poll.
class KeptPolicySink final : public agent::sync::PolicySink {
 public:
  explicit KeptPolicySink(std::uint64_t version) : version_(version) {}
  std::uint64_t CurrentPolicyVersion() override { return version_; }
  Status ApplyPolicy(const v1::Policy&, const v1::SignedPolicy&) override {
    return FailedPreconditionError("the agent is not running: a new policy waits for it");
  }

 private:
  std::uint64_t version_;
};

int Fail(const char* command, const Error& error) {
  std::fprintf(stderr, "ward-agent %s: %s\n", command, error.ToString().c_str());
  return 1;
}

// Parses the arguments; prints why not (exit code 2) when they are wrong.
bool ParseOrComplain(const char* command, int argc, char** argv, bool takes_from,
                     CommandArgs& args) {
  if (const std::string bad = ParseArgs(argc, argv, takes_from, args); !bad.empty()) {
    std::fprintf(stderr, "ward-agent %s: %s (try ward-agent --help)\n", command, bad.c_str());
    return false;
  }
  return true;
}

// The configuration, for a command that needs the agent stopped (it owns the store and would
// revert OS changes as drift); nullopt once it has said why not.
std::optional<AgentConfig> ConfigWithAgentStopped(const char* command, const std::string& path) {
  auto config = LoadConfig(path);
  if (!config.has_value()) {
    (void)Fail(command, config.error());
    return std::nullopt;
  }
  if (AgentIsRunning(config->status_file)) {
    std::fprintf(stderr, "ward-agent %s: the agent is running; stop it first\n", command);
    return std::nullopt;
  }
  return *std::move(config);
}

// What a sync engine outside the service needs: the pinned key, the transport, the options.
struct SyncParts {
  policy::PublicKey key;
  std::unique_ptr<agent::sync::CollectorTransport> transport;
  agent::sync::SyncOptions options;
};

Result<SyncParts> SyncPartsFor(const AgentConfig& config) {
  WARD_ASSIGN_OR_RETURN(policy::PublicKey key, policy::PublicKey::ReadFile(config.policy_key));
  WARD_ASSIGN_OR_RETURN(auto transport, CreateCollectorTransport(config));
  WARD_ASSIGN_OR_RETURN(auto options, SyncOptionsFor(config));
  return SyncParts{std::move(key), std::move(transport), std::move(options)};
}

void RemoveInputs(const fs::path& from) {
  std::error_code ec;
  for (const char* name : {"secret", "collector.url", "ca.pem", "policy.pub"}) {
    fs::remove(from / name, ec);
  }
}

// Pins the CA and the policy key and writes the collector settings drop-in. An already pinned
// policy key must be the same one: a laptop never silently changes whose policies it obeys.
Status InstallEnrolmentSettings(const CommandArgs& args, const AgentConfig& config,
                                const std::string& url) {
  if (url.empty() || !url.starts_with("https://")) {
    return InvalidArgumentError((args.from / "collector.url").string() +
                                " must hold the collector's https:// URL");
  }
  WARD_ASSIGN_OR_RETURN(const std::string ca, ReadSmallFile(args.from / "ca.pem"));
  if (ca.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return InvalidArgumentError((args.from / "ca.pem").string() +
                                " must be the site CA certificate (PEM)");
  }
  WARD_ASSIGN_OR_RETURN(const std::string key_text, ReadSmallFile(args.from / "policy.pub"));
  WARD_ASSIGN_OR_RETURN(const policy::PublicKey key, ParsePolicyKey(key_text));
  if (auto pinned = policy::PublicKey::ReadFile(config.policy_key); pinned.has_value()) {
    if (pinned->raw() != key.raw()) {
      return FailedPreconditionError("a different policy key is already pinned in " +
                                     config.policy_key.string() +
                                     " (purge ward-agent first to move this laptop to another "
                                     "site)");
    }
  } else {
    WARD_RETURN_IF_ERROR(key.WriteFile(config.policy_key));
  }
  const fs::path etc = fs::path(args.config_path).parent_path();
  const fs::path ca_path = etc / "collector-ca.pem";
  WARD_RETURN_IF_ERROR(WriteFileDurably(ca_path, ca));
  std::error_code ec;
  fs::permissions(ca_path,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  ec);
  const fs::path drop_in = ConfigDropInDir(args.config_path) / "50-enrolment.conf";
  std::ostringstream conf;
  conf << "# Written by `ward-agent enrol` (the collector this laptop reports to).\n"
       << "collector_url = " << url << "\n"
       << "collector_ca = " << ca_path.string() << "\n"
       << "enrolment_secret_file = " << (args.from / "secret").string() << "\n";
  WARD_RETURN_IF_ERROR(WriteFileDurably(drop_in, conf.str()));
  fs::permissions(drop_in,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  ec);
  return OkStatus();
}

}  // namespace

int RunEnrolCommand(int argc, char** argv, std::string config_path) {
  CommandArgs args{.config_path = std::move(config_path), .within = seconds(60)};
  if (!ParseOrComplain("enrol", argc, argv, true, args)) {
    return 2;
  }
  if (args.help) {
    std::printf(
        "Usage: ward-agent enrol [--from DIR] [--within SECONDS] [--config PATH]\n"
        "Enrols this laptop with the files IT put in DIR (default /etc/ward/enrol.d):\n"
        "  collector.url  https://host:port of the collector\n"
        "  ca.pem         the site CA (the collector's ca.pem)\n"
        "  policy.pub     the group's policy key (wardctl keygen's .pub, or 64 hex digits)\n"
        "  secret         the enrolment secret, root-only (chmod 600)\n"
        "then waits up to SECONDS (60) for the group's signed policy. The files are deleted\n"
        "once the laptop is enrolled. The agent must not be running.\n");
    return 0;
  }
  auto config = ConfigWithAgentStopped("enrol", args.config_path);
  if (!config.has_value()) {
    return 1;
  }
  auto url = ReadSmallFile(args.from / "collector.url");
  if (!url.has_value()) {
    std::fprintf(stderr, "ward-agent enrol: nothing to enrol with: %s\n",
                 url.error().ToString().c_str());
    return 1;
  }
  if (auto checked = CheckEnrolmentSecretFile(args.from / "secret"); !checked.has_value()) {
    return Fail("enrol", checked.error());
  }
  if (auto installed = InstallEnrolmentSettings(args, *config, Trimmed(*url));
      !installed.has_value()) {
    return Fail("enrol", installed.error());
  }
  if (auto reloaded = LoadConfig(args.config_path); reloaded.has_value()) {
    config = *std::move(reloaded);
  } else {
    return Fail("enrol", reloaded.error());
  }
  auto parts = SyncPartsFor(*config);
  auto opened = parts.has_value() ? OpenAgentStore(*config)
                                  : Result<OpenedStore>(std::unexpected(parts.error()));
  if (!opened.has_value()) {
    return Fail("enrol", opened.error());
  }
  auto& store = *opened->store;
  if (store.GetState(agent::sync::kCredentialStateKey).has_value() &&
      CheckPolicy(*config).has_value()) {
    RemoveInputs(args.from);
    std::printf("Ward: this laptop is already enrolled; its policy stays in force.\n");
    return 0;
  }
  FirstPolicySink sink;
  agent::sync::SyncEngine engine(std::move(parts->options), parts->key, *parts->transport, store,
                                 sink);
  engine.Start();
  const auto until = std::chrono::steady_clock::now() + args.within;
  // A refused secret, or a laptop that waits for IT to readmit it, will not be accepted on a
  // retry: give up at once.
  const bool got = sink.WaitFor(until, [&engine] {
    const agent::sync::SyncSnapshot s = engine.Snapshot();
    return (s.last_error_code == ErrorCode::kUnauthenticated ||
            s.last_error_code == ErrorCode::kPermissionDenied) &&
           !s.last_error.empty();
  });
  engine.Stop();
  const agent::sync::SyncSnapshot snapshot = engine.Snapshot();
  if (!got) {
    const std::string why = !snapshot.last_error.empty() ? snapshot.last_error
                            : snapshot.enrolled          ? "the group has no signed policy yet"
                                                         : "the collector did not answer";
    std::fprintf(stderr,
                 "ward-agent enrol: not enrolled within %lld s: %s\n"
                 "The settings in %s are kept; run `ward-agent enrol` again (or "
                 "`dpkg --configure -a`) once the collector can be reached.\n",
                 static_cast<long long>(args.within.count()), why.c_str(), args.from.c_str());
    return 1;
  }
  if (auto kept = WriteFileDurably(PolicyInForcePath(*config), sink.bundle()); !kept.has_value()) {
    return Fail("enrol", kept.error());
  }
  RemoveInputs(args.from);
  std::printf(
      "Ward: enrolled as device %s in group %s; policy %llu (%s) is in force. The enrolment "
      "secret is deleted.\n",
      snapshot.device_id.c_str(), snapshot.group.c_str(),
      static_cast<unsigned long long>(sink.CurrentPolicyVersion()),
      sink.enforce() ? "enforce" : "monitor");
  return 0;
}

int RunLastUploadCommand(int argc, char** argv, std::string config_path) {
  CommandArgs args{.config_path = std::move(config_path), .within = seconds(10)};
  if (!ParseOrComplain("last-upload", argc, argv, false, args)) {
    return 2;
  }
  auto config = LoadConfig(args.config_path);
  if (!config.has_value()) {
    return Fail("last-upload", config.error());
  }
  if (AgentIsRunning(config->status_file)) {
    std::printf("Ward: the agent is running and uploads by itself.\n");
    return 0;
  }
  if (!config->store || !fs::exists(config->state_dir / "events.db")) {
    std::printf("%s\n", LastUploadReport(std::uint64_t{0}, "").c_str());
    return 0;
  }
  auto opened = OpenAgentStore(*config);
  if (!opened.has_value()) {
    return Fail("last-upload", opened.error());
  }
  auto& store = *opened->store;
  Result<std::uint64_t> left = UnsentCritical(store);
  std::string why;
  if (left.has_value() && *left > 0 && config->collector_url.empty()) {
    why = "no collector is configured";
  } else if (left.has_value() && *left > 0) {
    auto parts = SyncPartsFor(*config);
    if (!parts.has_value()) {
      why = parts.error().ToString();
    } else {
      const auto kept = CheckPolicy(*config);
      KeptPolicySink sink(kept.has_value() ? kept->version()
                                           : std::numeric_limits<std::uint32_t>::max());
      agent::sync::SyncEngine engine(std::move(parts->options), parts->key, *parts->transport,
                                     store, sink);
      engine.Start();
      left = UploadCriticalWithin(engine, store, args.within);
      engine.Stop();
      why = engine.Snapshot().last_error;
    }
  }
  std::printf("%s\n", LastUploadReport(left, why).c_str());
  return left.has_value() && *left == 0 ? 0 : 1;
}

int RunRestoreOsCommand(int argc, char** argv, std::string config_path) {
  CommandArgs args{.config_path = std::move(config_path)};
  if (!ParseOrComplain("restore-os", argc, argv, false, args)) {
    return 2;
  }
  const auto config = ConfigWithAgentStopped("restore-os", args.config_path);
  if (!config.has_value()) {
    return 1;
  }
  auto files = core::RenderSettings(v1::SettingsPolicy(), config->learner_group);
  if (!files.has_value()) {
    return Fail("restore-os", files.error());
  }
  const platform::OsRestoreReport report =
      platform::RestoreOsDefaults({.sysfs_root = config->sysfs_root,
                                   .settings_root = config->settings_root,
                                   .settings_files = *std::move(files)});
  for (const std::string& line : report.restored) {
    std::printf("Ward restored %s\n", line.c_str());
  }
  for (const std::string& line : report.problems) {
    std::fprintf(stderr, "Ward could not restore %s\n", line.c_str());
  }
  return report.problems.empty() ? 0 : 1;
}

StopCause TakeStopCause(const AgentConfig& config) {
  const fs::path marker = PackageStopMarker(config);
  struct stat st{};
  // Only root can write the run directory; a marker owned by anyone else is not the package's.
  if (::lstat(marker.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid()) {
    const std::string what = Trimmed(ReadSmallFile(marker).value_or(""));
    std::error_code ec;
    fs::remove(marker, ec);
    if (what == "upgrade") {
      return StopCause::kPackageUpgrade;
    }
    if (what == "remove") {
      return StopCause::kPackageRemove;
    }
  }
  // In a power-off or reboot, systemd-shutdown (PID 1 by then) sends the last SIGTERM.
  if (Trimmed(ReadSmallFile("/proc/1/comm").value_or("")) == "systemd-shutdow") {
    return StopCause::kShutdown;
  }
  return StopCause::kOther;
}

}  // namespace ward::app
