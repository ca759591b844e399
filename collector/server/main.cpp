// SPDX-License-Identifier: Apache-2.0
// ward-collector: serve the API, or bootstrap a store (init, add-group, enrolment-secret, token).
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "ward/collector/server/alerts.h"
#include "ward/collector/server/collector.h"
#include "ward/collector/server/config.h"
#include "ward/collector/server/data_files.h"
#include "ward/collector/server/tls.h"
#include "ward/collector/storage/secrets.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/hex.h"
#include "ward/common/log.h"
#include "ward/policy/signing.h"

namespace ward::collector {
namespace {

constexpr std::string_view kUsage =
    R"(ward-collector: Ward's server (enrolment, events, signed policy, concerns).

usage:
  ward-collector [serve] [--config FILE] [--data-dir DIR] [--key value ...]
  ward-collector init --data-dir DIR [--host NAME_OR_IP[,NAME...]] [--listen ADDR:PORT]
                      [--write-config FILE]   (default DIR/collector.conf)
  ward-collector add-group --name GROUP --pubkey-file PUB.pem | --pubkey HEX
                                                       (the group's Ed25519 policy key)
  ward-collector enrolment-secret --group GROUP        (prints a new secret for agents)
  ward-collector token create --role it|dsl|viewer|metrics --name "NAME"
                                                       (prints a staff token; `metrics` is for
                                                        a monitoring system: /metrics only)
  ward-collector vacuum                                (SQLite: switch an older store to
                                                        incremental auto-vacuum, once; stop the
                                                        collector first)

Admin commands find the store like `serve` does: --data-dir DIR, --config FILE or --storage URL.

serve settings (config file `key = value`, or flags `--key value`; flags win):
)";

void PrintUsage() {
  std::cout << kUsage;
  for (const auto& [key, help] : ServeConfigKeys()) {
    std::string flag = "--" + std::string(key);
    std::replace(flag.begin(), flag.end(), '_', '-');
    std::printf("  %-26s %s\n", flag.c_str(), std::string(help).c_str());
  }
}

int Fail(const Error& e) {
  std::cerr << "ward-collector: " << e.message() << "\n";
  return e.code() == ErrorCode::kInvalidArgument ? 2 : 1;
}

Result<ConfigValues> LoadValues(std::span<const std::string> args,
                                std::vector<std::string>& positional) {
  ConfigValues flags;
  WARD_ASSIGN_OR_RETURN(positional, flags.ApplyFlags(args));
  ConfigValues values;
  std::filesystem::path config = flags.Get("config");
  const std::string data_dir = flags.Get("data_dir");
  if (config.empty() && !data_dir.empty() &&
      std::filesystem::exists(std::filesystem::path(data_dir) / "collector.conf")) {
    config = std::filesystem::path(data_dir) / "collector.conf";
  }
  if (!config.empty()) {
    WARD_RETURN_IF_ERROR(values.LoadFile(config));
  }
  WARD_RETURN_IF_ERROR(values.ApplyFlags(args));
  return values;
}

// The admin commands open the store like `serve` does, and refuse a store others could read.
Result<std::unique_ptr<Storage>> OpenFromValues(const ConfigValues& values) {
  WARD_ASSIGN_OR_RETURN(ServeConfig c, ResolveServeConfig(values));
  WARD_RETURN_IF_ERROR(CheckDataIsPrivate(values.Get("data_dir"), c.storage_url));
  return OpenStorage(c.storage_url);
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             SystemClock().Now().time_since_epoch())
      .count();
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = s.find(',', start);
    const std::string part = s.substr(start, comma - start);
    if (!part.empty()) {
      out.push_back(part);
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

int Init(const ConfigValues& v) {
  const std::filesystem::path dir = v.Get("data_dir");
  if (dir.empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "init needs --data-dir DIR"));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (std::filesystem::exists(dir / "server.pem") || std::filesystem::exists(dir / "ca.pem")) {
    return Fail(Error(ErrorCode::kAlreadyExists,
                      dir.string() + " already holds a collector; refusing to overwrite it"));
  }
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  const std::vector<std::string> hosts = Split(v.Get("host", "127.0.0.1,localhost"));
  auto ca = CreateCertificateAuthority("Ward collector CA", 3650);
  if (!ca) {
    return Fail(ca.error());
  }
  auto server = IssueServerCertificate(*ca, hosts, 825);
  if (!server) {
    return Fail(server.error());
  }
  if (auto s = WriteTlsMaterial(*ca, dir / "ca.pem", dir / "ca.key"); !s) {
    return Fail(s.error());
  }
  if (auto s = WriteTlsMaterial(*server, dir / "server.pem", dir / "server.key"); !s) {
    return Fail(s.error());
  }
  // The Debian package keeps the settings in /etc/ward-collector and the data in DIR.
  const std::filesystem::path conf_path = v.Get("write_config", (dir / "collector.conf").string());
  {
    std::ofstream conf(conf_path);
    conf << "# ward-collector settings (see ward-collector --help)\n"
         << "listen = " << v.Get("listen", "127.0.0.1:8443") << "\n"
         << "storage = sqlite:" << (dir / "collector.db").string() << "\n"
         << "tls_cert = " << (dir / "server.pem").string() << "\n"
         << "tls_key = " << (dir / "server.key").string() << "\n";
    if (!conf) {
      return Fail(Error(ErrorCode::kUnavailable, "cannot write " + conf_path.string()));
    }
  }
  auto store = OpenSqliteStorage((dir / "collector.db").string());
  if (!store) {
    return Fail(store.error());
  }
  std::cout << "created collector in " << dir.string() << "\n"
            << "  CA certificate (pin it on agents): " << (dir / "ca.pem").string() << "\n"
            << "  settings: " << conf_path.string() << "\n"
            << "  server certificate for: " << v.Get("host", "127.0.0.1,localhost") << "\n"
            << "  store: " << (dir / "collector.db").string() << " (schema "
            << (*store)->SchemaVersion() << ")\n";
  return 0;
}

int AddGroup(const ConfigValues& v) {
  const std::string name = v.Get("name");
  std::string key = v.Get("pubkey");
  if (const std::string file = v.Get("pubkey_file"); !file.empty()) {
    // The PEM that `wardctl keygen` writes.
    auto pem = policy::PublicKey::ReadFile(file);
    if (!pem) {
      return Fail(pem.error());
    }
    key = HexEncode(pem->raw());
  }
  if (name.empty() || key.empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument,
                      "add-group needs --name and --pubkey HEX (or --pubkey-file PEM)"));
  }
  auto raw = HexDecode(key);
  if (!raw || raw->size() != 32) {
    return Fail(Error(ErrorCode::kInvalidArgument,
                      "--pubkey must be the group's Ed25519 public key: 64 hex characters"));
  }
  auto store = OpenFromValues(v);
  if (!store) {
    return Fail(store.error());
  }
  if (auto s = (*store)->CreateGroup({name, HexEncode(*raw)}); !s) {
    return Fail(s.error());
  }
  std::cout << "group " << name << " added\n";
  return 0;
}

int EnrolmentSecret(const ConfigValues& v) {
  const std::string group = v.Get("group");
  if (group.empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "enrolment-secret needs --group"));
  }
  auto store = OpenFromValues(v);
  if (!store) {
    return Fail(store.error());
  }
  const std::string secret = NewSecret("wes_");
  if (auto s = (*store)->AddEnrolmentSecret(HashSecret(secret), group, NowMs()); !s) {
    return Fail(s.error());
  }
  std::cout << secret << "\n";
  return 0;
}

int TokenCreate(const ConfigValues& v) {
  const std::string name = v.Get("name");
  auto role = ParseStaffRole(v.Get("role"));
  if (name.empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "token create needs --name"));
  }
  if (!role) {
    return Fail(role.error());
  }
  auto store = OpenFromValues(v);
  if (!store) {
    return Fail(store.error());
  }
  const std::string token = NewSecret("wst_");
  if (auto s = (*store)->CreateStaffToken(name, *role, HashSecret(token), NowMs()); !s) {
    return Fail(s.error());
  }
  std::cout << token << "\n";
  return 0;
}

// ADR 0015 "Space": a store made before incremental auto-vacuum needs one VACUUM to switch.
int Vacuum(const ConfigValues& v) {
  auto config = ResolveServeConfig(v);
  if (!config) {
    return Fail(config.error());
  }
  if (auto s = CheckDataIsPrivate(v.Get("data_dir"), config->storage_url); !s) {
    return Fail(s.error());
  }
  if (config->storage_url.starts_with("sqlite:")) {
    std::cout << "a store made before incremental auto-vacuum is rewritten once; that needs as "
                 "much free disk as the store's size and may take a while\n"
              << std::flush;
  }
  auto report = VacuumStore(config->storage_url);
  if (!report) {
    return Fail(report.error());
  }
  if (report->postgres) {
    std::cout << "nothing to do: PostgreSQL's autovacuum gives deleted space back by itself\n";
  } else if (report->switched) {
    std::cout << "done: the store now gives space back after each retention run ("
              << report->pages_before << " pages before, " << report->pages_after << " now)\n";
  } else {
    std::cout << "the store already gives space back after each retention run; freed pages "
                 "returned now ("
              << report->pages_before << " pages before, " << report->pages_after << " now)\n";
  }
  return 0;
}

void RaiseFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int Serve(const ConfigValues& v) {
  for (const std::string& key : v.Keys()) {
    const auto& known = ServeConfigKeys();
    if (std::none_of(known.begin(), known.end(), [&](const auto& k) { return k.first == key; })) {
      return Fail(Error(ErrorCode::kInvalidArgument,
                        "unknown setting '" + key + "' (see ward-collector --help)"));
    }
  }
  auto config = ResolveServeConfig(v);
  if (!config) {
    return Fail(config.error());
  }
  if (auto s = CheckDataIsPrivate(v.Get("data_dir"), config->storage_url); !s) {
    return Fail(s.error());
  }
  if (config->log_level == "debug") {
    log::SetMinLevel(log::Level::kDebug);
  } else if (config->log_level == "warning") {
    log::SetMinLevel(log::Level::kWarning);
  } else if (config->log_level == "error") {
    log::SetMinLevel(log::Level::kError);
  }
  RaiseFileLimit();
  // Signals are taken synchronously by this thread; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto store = OpenStorage(config->storage_url);
  if (!store) {
    return Fail(store.error());
  }
  auto alerter = CreateConcernAlerter(**store, config->alerts, SystemClock());
  if (!alerter) {
    return Fail(alerter.error());
  }
  auto collector = Collector::Start(config->options, **store, **alerter, SystemClock());
  if (!collector) {
    return Fail(collector.error());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  log::Info("collector stopping", {{"signal", sig}});
  (*collector)->Stop();
  return 0;
}

int Main(int argc, char** argv) {
  // Everything this process creates (the store, its -wal and -shm, keys, the config) is for the
  // collector's own user only.
  ::umask(077);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "serve";
  if (!args.empty() && !args.front().starts_with("--")) {
    command = args.front();
    args.erase(args.begin());
  }
  if (command == "token") {
    if (args.empty() || args.front() != "create") {
      return Fail(Error(ErrorCode::kInvalidArgument, "usage: ward-collector token create ..."));
    }
    args.erase(args.begin());
  }
  std::vector<std::string> positional;
  auto values = LoadValues(args, positional);
  if (!values) {
    return Fail(values.error());
  }
  if (command == "help" || values->Has("help")) {
    PrintUsage();
    return 0;
  }
  if (!positional.empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "unexpected argument '" + positional.front() +
                                                       "' (see ward-collector --help)"));
  }
  if (command == "serve") {
    return Serve(*values);
  }
  if (command == "init") {
    return Init(*values);
  }
  if (command == "add-group") {
    return AddGroup(*values);
  }
  if (command == "enrolment-secret") {
    return EnrolmentSecret(*values);
  }
  if (command == "token") {
    return TokenCreate(*values);
  }
  if (command == "vacuum") {
    return Vacuum(*values);
  }
  return Fail(Error(ErrorCode::kInvalidArgument,
                    "unknown command '" + command + "' (see ward-collector --help)"));
}

}  // namespace
}  // namespace ward::collector

int main(int argc, char** argv) {
  try {
    return ward::collector::Main(argc, argv);
  } catch (const std::exception& e) {
    ward::log::Error("ward-collector crashed", {{"error", e.what()}});
    return 70;
  }
}
