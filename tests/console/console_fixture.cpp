// SPDX-License-Identifier: Apache-2.0
// ward_console_fixture: what the console's browser tests and benchmark need around a real
// collector, through the real storage layer.
//   seed --storage URL --group G [--devices N] [--concerns M] [--now-ms T]
//       N laptops (some degraded, some not seen for 9 days, each with a few events) and M
//       concerns spread over the last weeks, written with the Storage API before the collector
//       starts.
//   post-concerns --port P --ca CA.pem --secret ENROLMENT_SECRET [--count N] [--interval-ms M]
//       a simulated laptop speaking the device protocol: enrols, then POSTs N concerns M ms
//       apart, printing "<reference> <wall ms just before the POST> <wall ms of the ack>" per
//       concern (the console benchmark times how long each takes to show in an open inbox).
//   postgres --databases a,b
//       a throwaway PostgreSQL (tests/support/postgres): prints one libpq conninfo per database,
//       then "ready", and runs until it is sent SIGTERM (then stops the server, by its PID).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ward/collector/storage/secrets.h"
#include "ward/collector/storage/storage.h"
#include "ward/common/clock.h"
#include "ward/common/random.h"
#include "ward/common/uuid.h"
#include "ward/testing/https_client.h"
#include "ward/testing/postgres_server.h"
#include "ward/v1/sync.pb.h"

namespace ward::console_fixture {
namespace {

using collector::ConcernRow;
using collector::DeviceRecord;
using collector::EventRow;
using collector::Storage;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kDay = 24 * 60 * kMinute;

int Fail(const std::string& what) {
  std::cerr << "ward_console_fixture: " << what << "\n";
  return 1;
}

struct Options {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  long Number(const std::string& key, long fallback) const {
    const std::string v = Get(key);
    return v.empty() ? fallback : std::stol(v);
  }
};

// What learners write, in their words (made up for tests).
const std::vector<std::pair<int, std::string>> kConcerns = {
    {1,
     "People in my group chat keep posting mean things about me and I don't want to come in "
     "tomorrow."},
    {2, "Someone I met in a game keeps asking for photos and says not to tell anyone."},
    {3, "I saw a video on a site that really upset me and I can't stop thinking about it."},
    {4, "A friend keeps sharing posts saying people like us should fight back. It scares me."},
    {5, "I think someone has logged into my account, my password doesn't work any more."},
    {6, "Things at home are really difficult at the moment and I don't know who to tell."},
};

ward::v1::Event BaseEvent(const std::string& id, std::int64_t at_ms, ward::v1::Priority p) {
  ward::v1::Event e;
  e.set_id(id);
  e.mutable_device_time()->set_seconds(at_ms / 1000);
  e.set_priority(p);
  e.set_user("learner");
  return e;
}

EventRow Row(const ward::v1::Event& e, std::string kind) {
  EventRow r;
  r.id = e.id();
  r.device_time_ms = e.device_time().seconds() * 1000;
  r.priority = static_cast<int>(e.priority());
  r.kind = std::move(kind);
  r.body = e.SerializeAsString();
  return r;
}

// A few things a laptop reports: a blocked USB stick, a blocked program, a setting put back,
// tampering.
std::vector<EventRow> DeviceEvents(UuidV7Generator& ids, std::int64_t now) {
  std::vector<EventRow> out;
  for (int i = 0; i < 4; ++i) {
    const std::int64_t at = now - (4 - i) * 37 * kMinute;
    ward::v1::Event e = BaseEvent(ids.Next().ToString(), at, ward::v1::PRIORITY_HIGH);
    switch (i) {
      case 0: {
        auto* u = e.mutable_usb();
        u->set_kind(ward::v1::UsbEvent::KIND_DECIDED);
        u->set_decision(ward::v1::DECISION_BLOCK);
        u->mutable_device()->set_device_id("0781:5567");
        u->mutable_device()->set_name("SanDisk Cruzer Blade");
        out.push_back(Row(e, "usb"));
        break;
      }
      case 1: {
        auto* x = e.mutable_exec();
        x->set_decision(ward::v1::DECISION_BLOCK);
        x->set_path("/home/learner/Downloads/free-game.AppImage");
        out.push_back(Row(e, "exec"));
        break;
      }
      case 2: {
        auto* s = e.mutable_settings();
        s->set_kind(ward::v1::SettingsEvent::KIND_DRIFT_REVERTED);
        s->set_setting("wallpaper");
        out.push_back(Row(e, "settings"));
        break;
      }
      default: {
        e.set_priority(ward::v1::PRIORITY_CRITICAL);
        auto* a = e.mutable_agent();
        a->set_kind(ward::v1::AgentEvent::KIND_TAMPER);
        a->set_detail("the ward-agent service was stopped by hand");
        out.push_back(Row(e, "agent"));
        break;
      }
    }
  }
  return out;
}

int Seed(const Options& o) {
  auto opened = collector::OpenStorage(o.Get("storage"));
  if (!opened) {
    return Fail(opened.error().ToString());
  }
  Storage& store = **opened;
  const std::string group = o.Get("group", "learners-under-18");
  const long devices = o.Number("devices", 12);
  const long concerns = o.Number("concerns", 8);
  const std::int64_t now =
      o.Number("now-ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
  auto latest = store.LatestPolicy(group);
  if (!latest) {
    return Fail(latest.error().ToString());
  }
  const std::uint64_t version = latest->has_value() ? (*latest)->version : 0;
  UuidV7Generator ids(SystemClock(), SystemRandom());
  std::vector<std::string> device_ids;
  for (long i = 0; i < devices; ++i) {
    DeviceRecord d;
    d.id = ids.Next().ToString();
    d.group = group;
    char name[32];
    std::snprintf(name, sizeof(name), "lab-%04ld", i + 1);
    d.hostname = name;
    d.os = "Debian GNU/Linux 12";
    d.agent_version = "0.1.0";
    d.machine_hash = collector::NewSecret();
    d.credential_hash = collector::HashSecret(collector::NewSecret());
    d.enrolled_at_ms = now - 60 * kDay;
    d.last_seen_ms = i % 10 == 9 ? now - 9 * kDay : now - (i % 50) * kMinute;
    d.policy_version = i % 6 == 5 ? (version > 0 ? version - 1 : 0) : version;
    ward::v1::DeviceStatus status;
    status.set_agent_version("0.1.0");
    status.set_policy_version(d.policy_version);
    status.set_mode(i % 4 == 3 ? ward::v1::MODE_MONITOR : ward::v1::MODE_ENFORCE);
    if (i % 7 == 6) {
      auto* g = status.add_degraded();
      g->set_subsystem("usb");
      g->set_reason("no USB host controller found");
    }
    d.last_status = status.SerializeAsString();
    if (auto s = store.PutDevice(d); !s) {
      return Fail(s.error().ToString());
    }
    if (i < 200) {
      // Ingest sets the device's last contact: the events arrived when it was last seen.
      const auto events = DeviceEvents(ids, d.last_seen_ms);
      if (auto r = store.IngestEvents(d.id, events, d.last_seen_ms); !r) {
        return Fail(r.error().ToString());
      }
    }
    device_ids.push_back(d.id);
  }
  if (device_ids.empty() && concerns > 0) {
    return Fail("concerns need at least one device");
  }
  for (long i = 0; i < concerns; ++i) {
    const auto& [category, text] = kConcerns[static_cast<std::size_t>(i) % kConcerns.size()];
    // Newest last; spread over the last weeks, a few minutes apart at the newest end.
    const std::int64_t at = now - (concerns - i) * (concerns > 100 ? 3 : 97) * kMinute;
    ward::v1::Event e = BaseEvent(ids.Next().ToString(), at, ward::v1::PRIORITY_CRITICAL);
    auto* c = e.mutable_concern();
    char reference[16];
    std::snprintf(reference, sizeof(reference), "T%03ld-%04ld", (i * 7919) % 1000, i % 10000);
    c->set_reference(reference);
    c->set_category(static_cast<ward::v1::ConcernCategory>(category));
    c->set_text(text);
    c->set_anonymous(i % 3 == 1);
    c->set_in_danger(i % 250 == 3);
    EventRow row = Row(e, "concern");
    row.concern = ConcernRow{c->reference(),
                             category,
                             text,
                             c->anonymous(),
                             c->in_danger(),
                             c->anonymous() ? "" : "learner" + std::to_string(i % 40),
                             ""};
    const std::string& device = device_ids[static_cast<std::size_t>(i) % device_ids.size()];
    auto stored = store.IngestEvents(device, std::vector<EventRow>{row}, at + 2000);
    if (!stored) {
      return Fail(stored.error().ToString());
    }
    // Older concerns have been dealt with.
    if (i < concerns - 6) {
      const auto status =
          i % 5 == 0 ? collector::ConcernStatus::kReferred : collector::ConcernStatus::kClosed;
      if (auto s = store.ApplyConcernChange(
              {.concern_id = e.id(), .author = "Ms Patel", .at_ms = at + kDay, .status = status});
          !s) {
        return Fail(s.error().ToString());
      }
      if (auto s = store.MarkConcernOpened(e.id(), "Ms Patel", at + kDay); !s) {
        return Fail(s.error().ToString());
      }
    }
    // Seeded concerns were alerted long ago: the collector under test must not alert them.
    if (auto done = store.FinishConcernAlert(e.id(), at + 2500); !done) {
      return Fail(done.error().ToString());
    }
  }
  std::cout << "seeded " << devices << " devices and " << concerns << " concerns\n";
  return 0;
}

std::int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int PostConcerns(const Options& o) {
  auto tls = testing::TlsClientContext::Create(o.Get("ca"));
  if (!tls) {
    return Fail(tls.error().ToString());
  }
  auto conn =
      testing::HttpsConnection::Connect(*tls, static_cast<std::uint16_t>(o.Number("port", 0)));
  if (!conn) {
    return Fail(conn.error().ToString());
  }
  ward::v1::EnrolRequest enrol;
  enrol.set_enrolment_secret(o.Get("secret"));
  enrol.set_hostname("bench-laptop");
  enrol.set_os("Debian GNU/Linux 12");
  enrol.set_agent_version("0.1.0");
  enrol.set_machine_hash(collector::NewSecret());
  auto enrolled = (*conn)->Request("POST", "/v1/enrol", enrol.SerializeAsString());
  ward::v1::EnrolResponse device;
  if (!enrolled || enrolled->status != 200 || !device.ParseFromString(enrolled->body)) {
    return Fail("enrolment failed");
  }
  const std::string auth = "Bearer " + device.device_id() + "." + device.credential();
  UuidV7Generator ids(SystemClock(), SystemRandom());
  const long count = o.Number("count", 20);
  const auto interval = std::chrono::milliseconds(o.Number("interval-ms", 2000));
  for (long i = 0; i < count; ++i) {
    ward::v1::Event e = BaseEvent(ids.Next().ToString(), WallMs(), ward::v1::PRIORITY_CRITICAL);
    char reference[16];
    std::snprintf(reference, sizeof(reference), "B%03ld-%04ld", i % 1000, (i * 37) % 10000);
    auto* c = e.mutable_concern();
    c->set_reference(reference);
    c->set_category(ward::v1::CONCERN_CATEGORY_OTHER);
    c->set_text("Benchmark concern " + std::to_string(i));
    ward::v1::EventBatch batch;
    *batch.add_events() = e;
    const std::int64_t sent = WallMs();
    auto r = (*conn)->Request("POST", "/v1/events", batch.SerializeAsString(),
                              {{"Authorization", auth}});
    if (!r || r->status != 200) {
      return Fail("POST /v1/events failed");
    }
    std::cout << reference << " " << sent << " " << WallMs() << std::endl;
    std::this_thread::sleep_for(interval);
  }
  return 0;
}

volatile sig_atomic_t g_stop = 0;

int Postgres(const Options& o) {
  struct sigaction sa{};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  auto server = testing::PostgresServer::Start();
  if (!server) {
    return Fail(server.error().ToString());
  }
  std::string names = o.Get("databases", "console");
  std::size_t start = 0;
  while (start <= names.size()) {
    const std::size_t comma = std::min(names.find(',', start), names.size());
    auto conninfo = (*server)->CreateDatabase(names.substr(start, comma - start));
    if (!conninfo) {
      return Fail(conninfo.error().ToString());
    }
    std::cout << *conninfo << "\n";
    start = comma + 1;
  }
  std::cout << "ready" << std::endl;
  while (g_stop == 0) {
    ::pause();
  }
  return 0;  // the server is stopped and its directory removed by its destructor
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    return Fail("usage: ward_console_fixture seed|postgres --key value ...");
  }
  Options o;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (!key.starts_with("--")) {
      return Fail("expected --key value, got '" + key + "'");
    }
    o.values[key.substr(2)] = argv[i + 1];
  }
  const std::string command = argv[1];
  if (command == "seed") {
    return Seed(o);
  }
  if (command == "post-concerns") {
    return PostConcerns(o);
  }
  if (command == "postgres") {
    return Postgres(o);
  }
  return Fail("unknown command '" + command + "'");
}

}  // namespace
}  // namespace ward::console_fixture

int main(int argc, char** argv) {
  try {
    return ward::console_fixture::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ward_console_fixture: " << e.what() << "\n";
    return 1;
  }
}
