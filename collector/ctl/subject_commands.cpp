// SPDX-License-Identifier: Apache-2.0
// wardctl subject export: one person's records from the collector's subject-access pages
// (docs/adr/0015-uk-gdpr-rights.md), assembled into one directory or zip a DPO can hand over.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Path.h>
#include <Poco/Zip/Compress.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "ward/ctl/cli.h"
#include "ward/ctl/commands.h"
#include "ward/ctl/files.h"
#include "ward/ctl/staff_client.h"
#include "ward/ctl/terminal_text.h"
#include "ward/policy/data_inventory.h"

namespace ward::ctl {
namespace {

namespace fs = std::filesystem;

// An export holds a learner's safeguarding records: only its owner may read it.
constexpr fs::perms kPrivateFile = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms kPrivateDir = fs::perms::owner_all;

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

// "YYYY-MM-DD" as the UTC midnight that starts it, in ms since the epoch.
Result<std::int64_t> ParseDate(std::string_view option, std::string_view text) {
  const auto bad = [&] {
    return InvalidArgumentError("--" + std::string(option) + " '" + std::string(text) +
                                "' is not a date: write it as YYYY-MM-DD, for example 2026-09-01");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return bad();
  }
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < lengths[i]; ++j) {
      const char ch = text[starts[i] + j];
      if (ch < '0' || ch > '9') {
        return bad();
      }
      parts[i] = parts[i] * 10 + (ch - '0');
    }
  }
  const std::chrono::year_month_day day{std::chrono::year(parts[0]),
                                        std::chrono::month(static_cast<unsigned>(parts[1])),
                                        std::chrono::day(static_cast<unsigned>(parts[2]))};
  if (!day.ok() || parts[0] < 1970) {
    return bad();
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::sys_days(day).time_since_epoch())
      .count();
}

std::string Date(std::int64_t ms) {
  const std::chrono::sys_days day = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
  const std::chrono::year_month_day ymd(day);
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return out;
}

std::string Stringify(const Poco::Dynamic::Var& v) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(v, out, 2);
  return out.str();
}

// The inventory entry (docs/privacy.md) that names `column` at the collector.
const policy::InventoryEntry* InventoryFor(std::string_view column) {
  for (const policy::InventoryEntry& e : policy::DataInventory()) {
    if (e.holder == policy::DataHolder::kCollector &&
        std::find(e.columns.begin(), e.columns.end(), column) != e.columns.end()) {
      return &e;
    }
  }
  return nullptr;
}

// What the export holds, for README.txt and the summary line.
struct Counts {
  std::uint64_t events = 0;
  std::uint64_t aup = 0;
  std::uint64_t concerns = 0;
  std::uint64_t screenshots = 0;
  std::uint64_t devices = 0;
};

// A JSON array written one item at a time, so an export of any size never sits in memory.
class JsonArrayFile {
 public:
  explicit JsonArrayFile(const fs::path& path) : out_(path, std::ios::binary) {
    std::error_code ec;
    fs::permissions(path, kPrivateFile, ec);
    out_ << "[";
  }
  void Add(const Poco::Dynamic::Var& item) {
    out_ << (first_ ? "\n" : ",\n") << Stringify(item);
    first_ = false;
  }
  Status Close() {
    out_ << (first_ ? "]\n" : "\n]\n");
    out_.close();
    return out_.good() ? OkStatus() : UnavailableError("could not write the export's records");
  }

 private:
  std::ofstream out_;
  bool first_ = true;
};

class Exporter {
 public:
  Exporter(const Args& args, fs::path dir, Poco::JSON::Object::Ptr request)
      : args_(args), dir_(std::move(dir)), request_(std::move(request)) {}

  Status Run() {
    std::error_code ec;
    for (const fs::path& d : {dir_.parent_path(), dir_, dir_ / "records", dir_ / "screenshots"}) {
      fs::create_directories(d, ec);
      fs::permissions(d, kPrivateDir, ec);
    }
    if (ec) {
      return UnavailableError("cannot make " + dir_.string() + ": " + ec.message());
    }
    WARD_RETURN_IF_ERROR(Pages("events", "events.json", counts_.events, nullptr));
    WARD_RETURN_IF_ERROR(Pages("aup", "aup_acceptances.json", counts_.aup, nullptr));
    std::vector<std::string> with_screenshot;
    WARD_RETURN_IF_ERROR(
        Pages("concerns", "concerns.json", counts_.concerns, [&](Poco::JSON::Object::Ptr& concern) {
          if (concern->optValue<bool>("has_screenshot", false)) {
            const std::string id = concern->getValue<std::string>("id");
            concern->set("screenshot_file", "screenshots/" + id + ".png");
            with_screenshot.push_back(id);
          }
        }));
    for (const std::string& id : with_screenshot) {
      WARD_RETURN_IF_ERROR(Screenshot(id));
    }
    WARD_RETURN_IF_ERROR(Pages("devices", "devices.json", counts_.devices, nullptr));
    return OkStatus();
  }

  const Counts& counts() const { return counts_; }

 private:
  // Every page of /v1/staff/subject/<part> into records/<file>, each item through `adjust`.
  Status Pages(const std::string& part, const std::string& file, std::uint64_t& count,
               const std::function<void(Poco::JSON::Object::Ptr&)>& adjust) {
    JsonArrayFile out(dir_ / "records" / file);
    std::string cursor;
    do {
      request_->set("cursor", cursor);
      WARD_ASSIGN_OR_RETURN(StaffReply reply, StaffCall(args_, "POST", "/v1/staff/subject/" + part,
                                                        Stringify(request_)));
      try {
        auto items = Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < items->size(); ++i) {
          Poco::JSON::Object::Ptr item = items->getObject(static_cast<unsigned>(i));
          if (item.isNull()) {
            return UnavailableError("the collector's " + part + " page holds a non-object");
          }
          if (adjust) {
            adjust(item);
          }
          out.Add(item);
          ++count;
        }
      } catch (const Poco::Exception& e) {
        return UnavailableError("the collector's answer is not a JSON list: " + e.displayText());
      }
      cursor = reply.next_cursor;
    } while (!cursor.empty());
    request_->remove("cursor");
    return out.Close();
  }

  Status Screenshot(const std::string& id) {
    if (id.empty() || id.find_first_not_of("0123456789abcdef-") != std::string::npos) {
      return UnavailableError("the collector named a concern '" + ForTerminal(id) +
                              "' that is not an id");
    }
    Poco::JSON::Object::Ptr body = new Poco::JSON::Object(*request_);
    body->set("concern_id", id);
    WARD_ASSIGN_OR_RETURN(StaffReply reply, StaffCall(args_, "POST", "/v1/staff/subject/screenshot",
                                                      Stringify(body)));
    WARD_RETURN_IF_ERROR(WriteNewFile(dir_ / "screenshots" / (id + ".png"), reply.body, 0600));
    ++counts_.screenshots;
    return OkStatus();
  }

  const Args& args_;
  fs::path dir_;
  Poco::JSON::Object::Ptr request_;
  Counts counts_;
};

// One README.txt paragraph per part of the export: what, why, where from, how long, who sees,
// from the data inventory (policy/data_inventory, the same table docs/privacy.md comes from).
void DescribePart(std::ostream& out, std::string_view file, std::uint64_t count,
                  std::string_view where_from, std::string_view column) {
  out << "records/" << file << " (" << count << ")\n";
  if (const policy::InventoryEntry* e = InventoryFor(column)) {
    out << "  What: " << e->data << "\n"
        << "  Why: " << e->purpose << "\n"
        << "  Lawful basis (as the provider's DPIA confirms it): " << e->lawful_basis << "\n"
        << "  Where from: " << where_from << "\n"
        << "  How long it is kept: " << e->retention << "\n"
        << "  Who can see it: " << e->who_sees << "\n\n";
  }
}

std::string Readme(const Args& args, const Counts& c, std::int64_t from_ms, std::int64_t to_ms) {
  std::ostringstream out;
  const std::string account = *args.value("account");
  out << "Subject access export from Ward\n"
      << "===============================\n\n"
      << "Account name: " << account << "\n"
      << "Laptop: " << args.value("device").value_or("every laptop") << "\n"
      << "Records received: "
      << (from_ms > 0 ? "from " + Date(from_ms) : std::string("from the start")) << " "
      << (to_ms > 0 ? "to " + Date(to_ms - kDayMs) + " (inclusive)" : std::string("to now")) << "\n"
      << "Exported: "
      << Date(std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count())
      << " from " << args.value("collector").value_or("https://127.0.0.1:8443") << "\n\n"
      << "This export holds every record the Ward collector keeps that names this account: "
      << c.events << " events, " << c.aup << " agreement (AUP) acceptances, " << c.concerns
      << " concerns with their incident log, " << c.screenshots << " screenshots, and the "
      << c.devices << " laptops the records came from. Each read was written to the collector's "
      << "audit log (action subject.export).\n\n"
      << "BEFORE YOU RELEASE IT\n\n"
      << "1. Concerns may name other people. A learner's words can name friends, family or "
         "staff, and so can the incident log. Every concern in records/concerns.json is marked "
         "\"review_before_release\": true. Read each one, and its screenshot, and redact other "
         "people's details before you hand the export over. Ward has removed nothing.\n\n";
  if (c.devices > 1) {
    out << "2. This account name was seen on " << c.devices
        << " laptops. Please check these records are about one person: some providers give a "
           "whole class one shared account, and then this export mixes several people.\n\n";
  } else {
    out << "2. This account name was seen on " << c.devices << " laptop"
        << (c.devices == 1 ? "" : "s") << ".\n\n";
  }
  out << "3. Anonymous concerns are not here. A learner can send a concern without their name; "
         "by design it carries no account, so no export can find it. If the learner says they "
         "sent one, the DSL can find it in the inbox by the reference the tray showed them.\n\n"
      << "4. The laptop keeps events until it has sent them. Events a laptop has not yet sent "
         "to the collector (one that has been offline) are not in this export.\n\n"
      << "WHAT EACH FILE HOLDS\n\n"
      << "Times in the JSON files are milliseconds since 1970-01-01 UTC (received_ms: when the "
         "collector received it; device_time_ms: the laptop's clock).\n\n";
  DescribePart(out, "events.json", c.events,
               "the Ward agent on the laptop, which sent them to the collector", "events.body");
  DescribePart(out, "aup_acceptances.json", c.aup,
               "the Ward agent on the laptop, when the learner accepted the agreement",
               "events.body");
  DescribePart(out, "concerns.json", c.concerns,
               "the learner, through \"Tell someone\" in the Ward tray", "concerns.text");
  DescribePart(out, "concerns.json (incident_log of each concern)", c.concerns,
               "the safeguarding team (DSL), recording what they did", "concern_notes.text");
  DescribePart(out, "devices.json", c.devices, "each laptop's Ward agent, when it enrolled",
               "devices.hostname");
  out << "screenshots/ (" << c.screenshots
      << "): the screenshots the learner attached to their concerns, one file per concern, "
         "named by the concern's id.\n";
  return out.str();
}

// Moves `from` to `to` unless `to` exists (never overwrites, even if `to` appeared meanwhile).
Status MoveNoReplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    return MakeError(err == EEXIST ? ErrorCode::kAlreadyExists : ErrorCode::kUnavailable,
                     "cannot put the export at " + to.string() + ": " + std::strerror(err));
  }
  return OkStatus();
}

Status Zip(const fs::path& dir, const fs::path& zip) {
  try {
    std::ofstream out(zip, std::ios::binary);
    std::error_code ec;
    fs::permissions(zip, kPrivateFile, ec);
    Poco::Zip::Compress compress(out, true);
    // `dir` holds one directory, which the zip unpacks to.
    compress.addRecursive(Poco::Path::forDirectory(dir.string()), Poco::Zip::ZipCommon::CL_NORMAL,
                          true);
    compress.close();
    out.close();
    if (!out.good()) {
      return UnavailableError("could not write " + zip.string());
    }
  } catch (const Poco::Exception& e) {
    return UnavailableError("could not make the zip: " + e.displayText());
  }
  return OkStatus();
}

int Export(const Args& args, Io& io) {
  const fs::path out = *args.value("out");
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  if (auto from = args.value("from")) {
    auto ms = ParseDate("from", *from);
    if (!ms) {
      return Fail(io, ms.error());
    }
    from_ms = *ms;
  }
  if (auto to = args.value("to")) {
    auto ms = ParseDate("to", *to);
    if (!ms) {
      return Fail(io, ms.error());
    }
    to_ms = *ms + kDayMs;  // the whole day
  }
  if (to_ms > 0 && from_ms >= to_ms) {
    return Fail(io, "--to " + *args.value("to") + " is before --from " + *args.value("from") +
                        "; give the earlier date first");
  }
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out, ec))) {
    return Fail(io, out.string() +
                        " exists already, and wardctl never overwrites an export. Choose "
                        "another --out, or move the old one away first.");
  }
  const bool zip = out.extension() == ".zip";
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  const std::string tag = ".wardctl-export-" + std::to_string(::getpid());
  // The export is made in a hidden directory beside --out, and moved or zipped into place.
  const fs::path staging_root = parent / ("." + out.filename().string() + tag);
  const fs::path staging = staging_root / (zip ? out.stem() : out.filename());
  Poco::JSON::Object::Ptr request = new Poco::JSON::Object;
  request->set("account", *args.value("account"));
  request->set("device", args.value("device").value_or(""));
  request->set("from_ms", from_ms);
  request->set("to_ms", to_ms);
  Exporter exporter(args, staging, request);
  Status done = exporter.Run();
  if (done.has_value()) {
    if (auto s = WriteNewFile(staging / "README.txt",
                              Readme(args, exporter.counts(), from_ms, to_ms), 0600);
        !s.has_value()) {
      done = s;
    }
  }
  if (done.has_value() && zip) {
    const fs::path partial_zip = parent / ("." + out.filename().string() + tag + ".zip");
    done = Zip(staging_root, partial_zip);
    if (done.has_value()) {
      done = MoveNoReplace(partial_zip, out);
    }
    fs::remove(partial_zip, ec);
  } else if (done.has_value()) {
    done = MoveNoReplace(staging, out);
  }
  fs::remove_all(staging_root, ec);
  if (!done.has_value()) {
    return Fail(io, done.error().WithContext("exporting"));
  }
  const Counts& c = exporter.counts();
  if (args.flag("json")) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("out", out.string());
    o->set("events", c.events);
    o->set("aup_acceptances", c.aup);
    o->set("concerns", c.concerns);
    o->set("screenshots", c.screenshots);
    o->set("devices", c.devices);
    io.out << Stringify(o) << "\n";
    return kExitOk;
  }
  io.out << "exported to " << ForTerminal(out.string()) << ": " << c.events << " events, " << c.aup
         << " AUP acceptances, " << c.concerns << " concerns (each marked review before release), "
         << c.screenshots << " screenshots, " << c.devices << " laptop"
         << (c.devices == 1 ? "" : "s") << ". Read README.txt before you release it.\n";
  if (c.devices > 1) {
    io.out << "this account was seen on " << c.devices
           << " laptops: check it is one person (shared accounts mix people)\n";
  }
  return kExitOk;
}

}  // namespace

Command SubjectCommands() {
  return Command{
      .name = "subject",
      .summary = "a person's UK GDPR rights: export what the collector keeps about them",
      .subcommands = {Command{
          .name = "export",
          .summary = "write everything the collector keeps about one account (subject access)",
          .description =
              "Writes every record the collector keeps that names the account: events, AUP\n"
              "acceptances, concerns with their incident log, screenshots and laptops, with a\n"
              "README.txt for the DPO. A directory, or a zip when --out ends in .zip; never\n"
              "over an existing file. Role dsl; every page read is in the audit log.\n"
              "Concerns are marked \"review before release\": they may name other people.",
          .options = StaffOptions({
              {.name = "account",
               .value_name = "NAME",
               .help = "the learner's account name on the laptop",
               .required = true},
              {.name = "device", .value_name = "ID", .help = "only records from this laptop"},
              {.name = "from",
               .value_name = "DATE",
               .help = "only records received on or after this day (YYYY-MM-DD, UTC)"},
              {.name = "to",
               .value_name = "DATE",
               .help = "only records received on or before this day (YYYY-MM-DD, UTC)"},
              {.name = "out",
               .value_name = "FILE",
               .help = "where to write: a new directory, or a .zip",
               .required = true},
          }),
          .run = Export,
      }},
  };
}

}  // namespace ward::ctl
