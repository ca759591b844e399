// SPDX-License-Identifier: Apache-2.0
// ward_subject_export_bench: `wardctl subject export` of one account with many events, against
// a real ward-collector process over TLS, each under /usr/bin/time -v (docs/benchmarks.md).
//
//   ward_subject_export_bench --collector BIN --wardctl BIN [--backend sqlite|postgres]
//                             [--events 100000] [--zip]
//
// Fills the store directly (the account's events on two laptops, a tenth as many of another
// account's, 20 AUP acceptances, 5 concerns with a 100 KB screenshot each), then starts the
// collector and runs the export, and prints the wall time, and each process's peak RSS and CPU
// time from /usr/bin/time.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ward/collector/storage/secrets.h"
#include "ward/collector/storage/storage.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/https_client.h"
#include "ward/testing/postgres_server.h"
#include "ward/v1/event.pb.h"

namespace {

using namespace ward;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "ward_subject_export_bench: %s\n", why.c_str());
  std::exit(1);
}

pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// The lines of a /usr/bin/time -v report that the figures use.
void PrintTime(const std::string& who, const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"Maximum resident set size", "Elapsed (wall clock)", "User time",
                            "System time", "Exit status"}) {
      if (line.find(key) != std::string::npos) {
        std::printf("%s: %s\n", who.c_str(), line.c_str() + line.find_first_not_of(" \t"));
      }
    }
  }
}

collector::EventRow Row(const std::string& id, const std::string& account, bool aup) {
  v1::Event e;
  e.set_id(id);
  e.set_user(account);
  e.mutable_device_time()->set_seconds(1'765'000'000);
  if (aup) {
    e.mutable_aup()->set_aup_version(3);
  } else {
    auto* usb = e.mutable_usb();
    usb->set_kind(v1::UsbEvent::KIND_DECIDED);
    usb->mutable_device()->set_device_id("0781:5567");
    usb->mutable_device()->set_serial("4C530001230915117521");
    usb->mutable_device()->set_name("SanDisk Cruzer Blade");
  }
  return collector::EventRow{.id = id,
                             .device_time_ms = 1'765'000'000'000,
                             .priority = 2,
                             .kind = aup ? "aup" : "usb",
                             .body = e.SerializeAsString(),
                             .concern = std::nullopt,
                             .account = account};
}

}  // namespace

int main(int argc, char** argv) {
  std::string backend = "sqlite";
  std::string collector_bin;
  std::string wardctl_bin;
  long events = 100000;
  bool zip = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        Die(a + " needs a value");
      }
      return argv[++i];
    };
    if (a == "--backend") {
      backend = next();
    } else if (a == "--collector") {
      collector_bin = next();
    } else if (a == "--wardctl") {
      wardctl_bin = next();
    } else if (a == "--events") {
      events = std::stol(next());
    } else if (a == "--zip") {
      zip = true;
    } else {
      Die("unknown argument " + a);
    }
  }
  if (collector_bin.empty() || wardctl_bin.empty()) {
    Die("usage: --collector BIN --wardctl BIN [--backend sqlite|postgres] [--events N] [--zip]");
  }
  testing::TempDir dir;
  auto pki = testing::CreateTestPki(dir.path());
  if (!pki) {
    Die(pki.error().ToString());
  }
  std::unique_ptr<testing::PostgresServer> pg;
  std::string url = "sqlite:" + (dir.path() / "collector.db").string();
  if (backend == "postgres") {
    testing::PostgresServer::Options po;
    po.fsync = true;
    auto started = testing::PostgresServer::Start(po);
    if (!started) {
      Die(started.error().ToString());
    }
    pg = std::move(*started);
    auto conninfo = pg->CreateDatabase("export");
    if (!conninfo) {
      Die(conninfo.error().ToString());
    }
    url = "postgresql:" + *conninfo;
  }
  std::string token;
  {
    auto store = collector::OpenStorage(url);
    if (!store) {
      Die(store.error().ToString());
    }
    auto site = testing::SeedTestSite(**store, "learners", std::string(64, 'a'));
    if (!site) {
      Die(site.error().ToString());
    }
    token = site->tokens["dsl"];
    const std::vector<std::string> devices = {"0190b6e4-7c1a-7b3e-9f00-0000000000d1",
                                              "0190b6e4-7c1a-7b3e-9f00-0000000000d2"};
    for (const std::string& id : devices) {
      collector::DeviceRecord d;
      d.id = id;
      d.group = "learners";
      d.hostname = "laptop-" + id.substr(id.size() - 2);
      d.credential_hash = collector::HashSecret(id);
      if (!(*store)->PutDevice(d)) {
        Die("put device");
      }
    }
    const auto fill_start = std::chrono::steady_clock::now();
    // Received now: the collector's retention job, which runs at its start, keeps them.
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    std::vector<collector::EventRow> batch;
    const long others = events / 10;
    for (long i = 0; i < events + others + 20; ++i) {
      const bool aup = i >= events + others;
      batch.push_back(
          Row("ev-" + std::to_string(i), i < events || aup ? "learner1" : "learner2", aup));
      if (batch.size() == 1000 || i + 1 == events + others + 20) {
        const std::string& device = i < 1000 ? devices[1] : devices[0];
        if (auto r = (*store)->IngestEvents(device, batch, now_ms); !r) {
          Die(r.error().ToString());
        }
        batch.clear();
      }
    }
    for (int c = 0; c < 5; ++c) {
      collector::EventRow row;
      row.id = "0190b6e4-7c1a-7b3e-9f00-00000000c0d" + std::to_string(c);
      row.kind = "concern";
      row.priority = 4;
      row.account = "learner1";
      row.concern = collector::ConcernRow{"K7QF-2M9" + std::to_string(c),
                                          1,
                                          std::string(2000, 'w'),
                                          false,
                                          false,
                                          "learner1",
                                          std::string(100 * 1024, static_cast<char>(c))};
      if (auto r = (*store)->IngestEvents(devices[0], std::vector{row}, now_ms); !r) {
        Die(r.error().ToString());
      }
    }
    auto hash = (*store)->AccountHash("learner1");
    auto counts = (*store)->CountAccountRecords(hash.value_or(""));
    if (!counts) {
      Die(counts.error().ToString());
    }
    std::printf("the store holds %llu events of the account\n",
                static_cast<unsigned long long>(counts->events));
    std::printf(
        "filled %ld events of the account (+%ld of another, 20 AUP, 5 concerns) in %.1f s\n",
        events, others,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_start).count());
  }
  const std::uint16_t port = testing::FreeLoopbackPort();
  const auto collector_time = dir.path() / "collector.time";
  const pid_t time_pid = Spawn(
      {"/usr/bin/time", "-v", "-o", collector_time.string(), collector_bin, "serve", "--storage",
       url, "--listen", "127.0.0.1:" + std::to_string(port), "--tls-cert",
       pki->server_cert.string(), "--tls-key", pki->server_key.string(), "--log-level", "warning"});
  auto tls = testing::TlsClientContext::Create(pki->ca_cert);
  if (!tls) {
    Die(tls.error().ToString());
  }
  bool healthy = false;
  for (int i = 0; i < 400 && !healthy; ++i) {
    if (auto c = testing::HttpsConnection::Connect(*tls, port)) {
      auto r = (*c)->Request("GET", "/healthz");
      healthy = r && r->status == 200;
    }
    if (!healthy) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (!healthy) {
    Die("the collector did not start");
  }
  const auto out = dir.path() / (zip ? "export.zip" : "export");
  const auto wardctl_time = dir.path() / "wardctl.time";
  const auto start = std::chrono::steady_clock::now();
  const pid_t ctl = Spawn({"/usr/bin/time", "-v", "-o", wardctl_time.string(), wardctl_bin,
                           "subject", "export", "--account", "learner1", "--out", out.string(),
                           "--collector", "https://127.0.0.1:" + std::to_string(port), "--ca",
                           pki->ca_cert.string(), "--token", token});
  int status = 0;
  ::waitpid(ctl, &status, 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The collector is /usr/bin/time's child: stop it, and time writes its report.
  std::ifstream children("/proc/" + std::to_string(time_pid) + "/task/" + std::to_string(time_pid) +
                         "/children");
  pid_t collector_pid = 0;
  children >> collector_pid;
  if (collector_pid > 0) {
    ::kill(collector_pid, SIGTERM);
  }
  ::waitpid(time_pid, nullptr, 0);
  std::uintmax_t bytes = 0;
  if (std::filesystem::is_directory(out)) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(out)) {
      bytes += e.is_regular_file() ? e.file_size() : 0;
    }
  } else if (std::filesystem::exists(out)) {
    bytes = std::filesystem::file_size(out);
  }
  std::printf("backend %s, %s: wardctl exit %d, %.2f s wall, export %.1f MB\n", backend.c_str(),
              zip ? "zip" : "directory", WIFEXITED(status) ? WEXITSTATUS(status) : -1, seconds,
              static_cast<double>(bytes) / 1e6);
  PrintTime("wardctl", wardctl_time);
  PrintTime("collector", collector_time);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
