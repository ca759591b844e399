// SPDX-License-Identifier: Apache-2.0
// The real ward-collector server library on SQLite, in its own process: the agent side links
// SQLCipher, which must never share a process with plain SQLite. The test starts, kills
// (SIGKILL) and restarts it.
//
//   ward_sync_test_collector --dir DIR --pubkey HEX [--port N] [--rate R --burst B]
//                            [--enrol-per-minute R --enrol-burst B]
//
// First start in DIR: makes a test PKI, the SQLite store, group "learners-under-18" with the
// policy key, an enrolment secret (DIR/secret) and an IT staff token (DIR/token). Every start
// writes the port to DIR/port once it accepts connections, then serves until SIGTERM/SIGINT.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "ward/collector/server/collector.h"
#include "ward/collector/storage/secrets.h"
#include "ward/common/clock.h"
#include "ward/testing/collector_support.h"

namespace {

namespace fs = std::filesystem;

int Fail(const std::string& what) {
  std::cerr << "ward_sync_test_collector: " << what << "\n";
  return 2;
}

bool WriteFile(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.good()) {
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ward::collector;
  fs::path dir;
  std::string pubkey;
  CollectorOptions options;
  options.port = 0;
  options.long_poll_max = std::chrono::seconds(30);
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--dir") {
      dir = value;
    } else if (flag == "--pubkey") {
      pubkey = value;
    } else if (flag == "--port") {
      options.port = static_cast<std::uint16_t>(std::stoi(value));
    } else if (flag == "--rate") {
      options.device_rate_per_second = std::stod(value);
    } else if (flag == "--burst") {
      options.device_burst = std::stod(value);
    } else if (flag == "--enrol-per-minute") {
      options.enrol_per_address_per_minute = std::stod(value);
    } else if (flag == "--enrol-burst") {
      options.enrol_address_burst = std::stod(value);
    } else {
      return Fail("unknown flag " + flag);
    }
  }
  if (dir.empty() || pubkey.empty()) {
    return Fail("--dir and --pubkey are required");
  }
  // Block the stop signals before any thread starts, so sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const fs::path db = dir / "collector.db";
  const bool first = !fs::exists(db);
  ward::testing::TestPki pki{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  if (first) {
    auto made = ward::testing::CreateTestPki(dir);
    if (!made.has_value()) {
      return Fail(made.error().ToString());
    }
    pki = *made;
  }
  auto storage = OpenSqliteStorage(db.string());
  if (!storage.has_value()) {
    return Fail(storage.error().ToString());
  }
  if (first) {
    const std::string secret = NewSecret("wes_");
    const std::string token = NewSecret("wst_");
    // The DSL's token reads events with concerns among them (only the DSL is shown those).
    const std::string dsl_token = NewSecret("wst_");
    if (!(*storage)->CreateGroup({"learners-under-18", pubkey}).has_value() ||
        !(*storage)->AddEnrolmentSecret(HashSecret(secret), "learners-under-18", 1).has_value() ||
        !(*storage)->CreateStaffToken("it", StaffRole::kIt, HashSecret(token), 1).has_value() ||
        !(*storage)
             ->CreateStaffToken("dsl", StaffRole::kDsl, HashSecret(dsl_token), 1)
             .has_value() ||
        !WriteFile(dir / "secret", secret) || !WriteFile(dir / "token", token) ||
        !WriteFile(dir / "dsl_token", dsl_token)) {
      return Fail("cannot seed the collector store");
    }
  }
  options.tls_cert = pki.server_cert;
  options.tls_key = pki.server_key;
  LogConcernAlerter alerter;
  auto collector = Collector::Start(options, **storage, alerter, ward::SystemClock());
  if (!collector.has_value()) {
    return Fail(collector.error().ToString());
  }
  if (!WriteFile(dir / "port", std::to_string((*collector)->port()))) {
    return Fail("cannot write the port file");
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*collector)->Stop();
  return 0;
}
