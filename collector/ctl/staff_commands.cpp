// SPDX-License-Identifier: Apache-2.0
// wardctl commands that talk to a collector's staff API: policy push, devices, events tail,
// concerns list|show|status|note. Output is for people unless --json is given.
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <thread>

#include "ward/ctl/cli.h"
#include "ward/ctl/commands.h"
#include "ward/ctl/files.h"
#include "ward/ctl/staff_client.h"
#include "ward/ctl/terminal_text.h"
#include "ward/policy/signing.h"

namespace ward::ctl {

// Options every staff command takes.
std::vector<Option> StaffOptions(std::vector<Option> extra) {
  std::vector<Option> options = {
      {.name = "collector",
       .value_name = "URL",
       .help =
           "the collector, e.g. https://collector.example:8443 (default https://127.0.0.1:8443)"},
      {.name = "ca", .value_name = "FILE", .help = "the site CA to trust (ca.pem from 'init')"},
      {.name = "token", .value_name = "TOKEN", .help = "staff token (or WARD_STAFF_TOKEN)"},
      {.name = "json", .help = "print JSON for scripts"},
  };
  options.insert(options.end(), extra.begin(), extra.end());
  return options;
}

Result<StaffReply> StaffCall(const Args& args, const std::string& method, const std::string& path,
                             const std::string& body, const std::string& content_type) {
  const std::string collector = args.value("collector").value_or("https://127.0.0.1:8443");
  std::string token = args.value("token").value_or("");
  if (token.empty()) {
    if (const char* env = std::getenv("WARD_STAFF_TOKEN"); env != nullptr) {
      token = env;
    }
  }
  if (token.empty()) {
    return InvalidArgumentError(
        "no staff token: pass --token or set WARD_STAFF_TOKEN (made by 'ward-collector token "
        "create')");
  }
  try {
    static const bool initialised = [] {
      Poco::Net::initializeSSL();
      return true;
    }();
    (void)initialised;
    const Poco::URI uri(collector);
    if (uri.getScheme() != "https") {
      return InvalidArgumentError("--collector must be an https:// URL, got '" + collector + "'");
    }
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::CLIENT_USE, "", "",
                               args.value("ca").value_or(""), Poco::Net::Context::VERIFY_STRICT, 9,
                               !args.value("ca").has_value(), "ECDHE+AESGCM:ECDHE+CHACHA20");
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    Poco::Net::HTTPSClientSession session(uri.getHost(), uri.getPort(), context);
    session.setTimeout(Poco::Timespan(40, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + token);
    request.setContentType(content_type);
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    StaffReply reply;
    reply.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, reply.body);
    reply.next_cursor = response.get("Ward-Next-Cursor", "");
    if (reply.status >= 400) {
      std::string message = reply.body;
      try {
        auto obj = Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Object::Ptr>();
        message = obj->optValue<std::string>("message", reply.body);
      } catch (const Poco::Exception&) {
        // Not JSON: show the body as it came.
      }
      return MakeError(reply.status == 401   ? ErrorCode::kUnauthenticated
                       : reply.status == 403 ? ErrorCode::kPermissionDenied
                       : reply.status == 404 ? ErrorCode::kNotFound
                       : reply.status == 409 ? ErrorCode::kFailedPrecondition
                                             : ErrorCode::kInvalidArgument,
                       "the collector said " + std::to_string(reply.status) + ": " + message);
    }
    return reply;
  } catch (const Poco::Exception& e) {
    return UnavailableError("cannot reach " + collector + ": " + e.displayText());
  }
}

namespace {

using Reply = StaffReply;

Result<Reply> Call(const Args& args, const std::string& method, const std::string& path,
                   const std::string& body = "",
                   const std::string& content_type = "application/json") {
  return StaffCall(args, method, path, body, content_type);
}

Result<Poco::Dynamic::Var> CallJson(const Args& args, const std::string& method,
                                    const std::string& path, const std::string& body = "") {
  WARD_ASSIGN_OR_RETURN(Reply reply, Call(args, method, path, body));
  try {
    return Result<Poco::Dynamic::Var>(std::in_place, Poco::JSON::Parser().parse(reply.body));
  } catch (const Poco::Exception& e) {
    return UnavailableError("the collector's answer is not JSON: " + e.displayText());
  }
}

// Every page of a paged list (docs/collector.md: Ward-Next-Cursor), as one array.
Result<Poco::JSON::Array::Ptr> CallJsonPages(const Args& args, const std::string& path) {
  Poco::JSON::Array::Ptr all = new Poco::JSON::Array;
  std::string cursor;
  do {
    std::string page = path;
    if (!cursor.empty()) {
      std::string encoded;
      Poco::URI::encode(cursor, "&=+?#", encoded);
      page += (path.find('?') == std::string::npos ? "?cursor=" : "&cursor=") + encoded;
    }
    WARD_ASSIGN_OR_RETURN(Reply reply, Call(args, "GET", page));
    try {
      auto items = Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Array::Ptr>();
      for (std::size_t i = 0; i < items->size(); ++i) {
        all->add(items->get(static_cast<unsigned>(i)));
      }
    } catch (const Poco::Exception& e) {
      return UnavailableError("the collector's answer is not a JSON list: " + e.displayText());
    }
    cursor = reply.next_cursor;
  } while (!cursor.empty());
  return all;
}

std::string Stringify(const Poco::Dynamic::Var& v) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(v, out, 2);
  return out.str();
}

// A string field of a collector answer, made safe for a terminal (see terminal_text.h): every
// string in an answer is data that came from a laptop, a learner or another staff member.
std::string Shown(const Poco::JSON::Object::Ptr& object, const std::string& key) {
  return ForTerminal(object->getValue<std::string>(key));
}

std::string Time(std::int64_t ms) {
  if (ms <= 0) {
    return "never";
  }
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%d %H:%M UTC");
  return out.str();
}

int PolicyPush(const Args& args, Io& io) {
  const std::string file = args.positional(0);
  auto bundle = ReadWholeFile(file, policy::kMaxBundleBytes);
  if (!bundle) {
    return Fail(io, bundle.error());
  }
  const std::string group = *args.value("group");
  auto reply =
      Call(args, "POST", "/v1/staff/policy?group=" + group, *bundle, "application/x-protobuf");
  if (!reply) {
    return Fail(io, reply.error());
  }
  if (args.flag("json")) {
    io.out << reply->body;
    return kExitOk;
  }
  try {
    auto obj = Poco::JSON::Parser().parse(reply->body).extract<Poco::JSON::Object::Ptr>();
    io.out << "pushed policy version " << obj->getValue<std::uint64_t>("version") << " to " << group
           << "; online laptops pick it up within seconds\n";
  } catch (const Poco::Exception&) {
    io.out << "pushed\n";
  }
  return kExitOk;
}

int Devices(const Args& args, Io& io) {
  auto pages = CallJsonPages(args, "/v1/staff/devices?limit=1000");
  if (!pages) {
    return Fail(io, pages.error());
  }
  Poco::JSON::Array::Ptr arr = *pages;
  if (args.flag("json")) {
    io.out << Stringify(arr) << "\n";
    return kExitOk;
  }
  io.out << std::left << std::setw(38) << "DEVICE" << std::setw(20) << "GROUP" << std::setw(18)
         << "HOSTNAME" << std::setw(8) << "POLICY" << std::setw(9) << "MODE" << "LAST SEEN\n";
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto d = arr->getObject(static_cast<unsigned>(i));
    const std::string mode = d->optValue<std::string>("mode", "");
    io.out << std::setw(38) << Shown(d, "id") << std::setw(20) << Shown(d, "group") << std::setw(18)
           << Shown(d, "hostname") << std::setw(8) << d->getValue<std::uint64_t>("policy_version")
           << std::setw(9) << (mode.empty() ? "-" : ForTerminal(mode))
           << Time(d->getValue<std::int64_t>("last_seen_ms"))
           << (d->getValue<bool>("revoked") ? "  (revoked)" : "") << "\n";
    if (d->optValue<std::int64_t>("enrol_refused_ms", 0) > 0) {
      io.out << "    an enrolment with this laptop's machine id was refused at "
             << Time(d->getValue<std::int64_t>("enrol_refused_ms"))
             << "; if it is this laptop, let it in with: wardctl devices readmit " << Shown(d, "id")
             << "\n";
    }
    if (auto degraded = d->getArray("degraded"); degraded != nullptr) {
      for (std::size_t k = 0; k < degraded->size(); ++k) {
        io.out << "    not working: "
               << ForTerminal(degraded->getElement<std::string>(static_cast<unsigned>(k))) << "\n";
      }
    }
  }
  io.out << arr->size() << (arr->size() == 1 ? " device\n" : " devices\n");
  return kExitOk;
}

int DevicesReadmit(const Args& args, Io& io) {
  auto reply = Call(args, "POST", "/v1/staff/devices/" + args.positional(0) + "/readmit");
  if (!reply) {
    return Fail(io, reply.error());
  }
  io.out << "readmitted: the laptop's next enrolment takes this device again (once)\n";
  return kExitOk;
}

int EventsTail(const Args& args, Io& io) {
  std::int64_t after = 0;
  if (auto a = args.value("after")) {
    after = std::atoll(a->c_str());
  }
  const bool follow = args.flag("follow");
  while (true) {
    std::string path = "/v1/staff/events?after=" + std::to_string(after) +
                       "&limit=" + args.value("limit").value_or("100");
    auto v = CallJson(args, "GET", path);
    if (!v) {
      return Fail(io, v.error());
    }
    auto arr = v->extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < arr->size(); ++i) {
      auto e = arr->getObject(static_cast<unsigned>(i));
      after = std::max(after, e->getValue<std::int64_t>("seq"));
      if (args.flag("json")) {
        Poco::JSON::Stringifier::stringify(e, io.out);
        io.out << "\n";
        continue;
      }
      std::ostringstream event;
      Poco::JSON::Stringifier::stringify(e->get("event"), event);
      io.out << Time(e->getValue<std::int64_t>("received_ms")) << "  " << Shown(e, "device_id")
             << "  " << Shown(e, "kind") << "  " << ForTerminal(event.str()) << "\n";
    }
    io.out.flush();
    if (!follow) {
      return kExitOk;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

void PrintConcern(const Poco::JSON::Object::Ptr& c, Io& io) {
  io.out << Shown(c, "id") << "  " << Time(c->getValue<std::int64_t>("received_ms")) << "  "
         << Shown(c, "status") << "  group " << Shown(c, "group");
  if (c->getValue<bool>("redacted")) {
    io.out << "  (contents visible to the DSL only)\n";
    return;
  }
  io.out << "  ref " << Shown(c, "reference")
         << (c->getValue<bool>("in_danger") ? "  IN DANGER" : "") << "\n    "
         << ForTerminalLines(c->getValue<std::string>("text"), "    ") << "\n";
}

// --since: "7d", "12h", "30m" ago, or a UTC date "2026-12-01" / time "2026-12-01T09:30:00Z".
Result<std::int64_t> SinceMs(const std::string& text) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (!text.empty() && (text.back() == 'd' || text.back() == 'h' || text.back() == 'm')) {
    const std::string digits = text.substr(0, text.size() - 1);
    if (!digits.empty() && digits.size() < 7 &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
      const std::int64_t unit = text.back() == 'd'   ? 86400000
                                : text.back() == 'h' ? 3600000
                                                     : 60000;
      return now - std::stoll(digits) * unit;
    }
  }
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, text.size() == 10 ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ");
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) {
    return InvalidArgumentError(
        "--since takes 7d, 12h, 30m, 2026-12-01 or 2026-12-01T09:30:00Z, "
        "got '" +
        text + "'");
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

int ConcernsList(const Args& args, Io& io) {
  std::string path = "/v1/staff/concerns?limit=" + args.value("limit").value_or("500");
  if (auto status = args.value("status")) {
    path += "&status=" + *status;
  }
  if (auto since = args.value("since")) {
    auto ms = SinceMs(*since);
    if (!ms) {
      return Fail(io, ms.error());
    }
    path += "&since_ms=" + std::to_string(*ms);
  }
  auto v = CallJson(args, "GET", path);
  if (!v) {
    return Fail(io, v.error());
  }
  if (args.flag("json")) {
    io.out << Stringify(*v) << "\n";
    return kExitOk;
  }
  auto arr = v->extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < arr->size(); ++i) {
    PrintConcern(arr->getObject(static_cast<unsigned>(i)), io);
  }
  io.out << arr->size() << (arr->size() == 1 ? " concern\n" : " concerns\n");
  return kExitOk;
}

// Writes the concern's screenshot to a new file only the caller can read (it is evidence). The
// screenshot is its own call (GET .../screenshot, DSL only): no list or read carries it.
Status SaveScreenshot(const Args& args, const Poco::JSON::Object::Ptr& c, const std::string& file) {
  if (c->optValue<bool>("redacted", true)) {
    return PermissionDeniedError("screenshots are shown to the DSL only");
  }
  if (!c->optValue<bool>("has_screenshot", false)) {
    return NotFoundError("this concern has no screenshot");
  }
  WARD_ASSIGN_OR_RETURN(Reply reply, Call(args, "GET",
                                          "/v1/staff/concerns/" +
                                              c->optValue<std::string>("id", "") + "/screenshot"));
  return WriteNewFile(file, reply.body, 0600);
}

int ConcernsShow(const Args& args, Io& io) {
  auto v = CallJson(args, "GET", "/v1/staff/concerns/" + args.positional(0));
  if (!v) {
    return Fail(io, v.error());
  }
  if (auto file = args.value("save-screenshot")) {
    if (auto s = SaveScreenshot(args, v->extract<Poco::JSON::Object::Ptr>(), *file); !s) {
      return Fail(io, s.error());
    }
    io.err << "screenshot saved to " << *file << " (readable by you only)\n";
  }
  if (args.flag("json")) {
    io.out << Stringify(*v) << "\n";
    return kExitOk;
  }
  auto c = v->extract<Poco::JSON::Object::Ptr>();
  PrintConcern(c, io);
  if (!c->getValue<bool>("redacted")) {
    static constexpr std::array<std::string_view, 7> kCategories = {
        "not given",
        "bullying or harassment",
        "someone online made me uncomfortable",
        "upsetting or harmful content",
        "extremist content",
        "my account or laptop may be hacked",
        "something else"};
    const auto category = c->optValue<int>("category", 0);
    io.out << "    category: "
           << (category >= 0 && static_cast<std::size_t>(category) < kCategories.size()
                   ? kCategories[static_cast<std::size_t>(category)]
                   : "unknown")
           << "\n    from: "
           << (c->getValue<bool>("anonymous") ? "(the learner asked not to attach their name)"
                                              : Shown(c, "user"))
           << "  device " << Shown(c, "device_id") << "\n    screenshot: "
           << (c->getValue<bool>("has_screenshot") ? "yes (save it with --save-screenshot FILE)"
                                                   : "none")
           << "\n";
  }
  if (auto notes = c->getArray("notes"); !notes.isNull()) {
    for (std::size_t i = 0; i < notes->size(); ++i) {
      auto n = notes->getObject(static_cast<unsigned>(i));
      io.out << "    note " << Time(n->getValue<std::int64_t>("at_ms")) << " " << Shown(n, "author")
             << ": " << ForTerminalLines(n->getValue<std::string>("text"), "      ") << "\n";
    }
  }
  return kExitOk;
}

int ConcernsUpdate(const Args& args, Io& io, const std::string& action, const std::string& key) {
  Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
  body->set(key, args.positional(1));
  std::ostringstream text;
  body->stringify(text);
  auto reply =
      Call(args, "POST", "/v1/staff/concerns/" + args.positional(0) + "/" + action, text.str());
  if (!reply) {
    return Fail(io, reply.error());
  }
  io.out << (action == "status" ? "status set\n" : "note added\n");
  return kExitOk;
}

}  // namespace

Command PolicyPushCommand() {
  return Command{
      .name = "push",
      .summary = "send a signed bundle to a collector for one group",
      .description =
          "Sends a bundle from 'wardctl policy sign' to the collector, which checks "
          "its signature against the group's key and that its version is newer, then "
          "wakes every waiting laptop of the group. Needs an 'it' staff token.",
      .positionals = {{.name = "BUNDLE", .help = "the signed bundle"}},
      .options = StaffOptions({{.name = "group",
                                .value_name = "GROUP",
                                .help = "the device group, e.g. learners-under-18",
                                .required = true}}),
      .run = PolicyPush,
  };
}

Command DevicesCommand() {
  return Command{
      .name = "devices",
      .summary = "list enrolled laptops (or readmit one)",
      .options = StaffOptions(),
      .run = Devices,
      .subcommands = {Command{
          .name = "readmit",
          .summary = "let a laptop enrol again as this device (IT only; audited)",
          .description =
              "A revoked laptop, or one that enrolled again without its old credential (a "
              "reinstall), is refused until IT readmits its device. The laptop's next "
              "enrolment then takes the device id, once; its old credential stops working.",
          .positionals = {{.name = "ID", .help = "the device id, as `wardctl devices` shows"}},
          .options = StaffOptions(),
          .run = DevicesReadmit,
      }},
  };
}

Command EventsCommands() {
  return Command{
      .name = "events",
      .summary = "events uploaded by laptops",
      .subcommands = {Command{
          .name = "tail",
          .summary = "print events, oldest first (concern contents for the DSL only)",
          .options = StaffOptions({
              {.name = "after", .value_name = "SEQ", .help = "only events after this sequence"},
              {.name = "limit", .value_name = "N", .help = "at most N per request (default 100)"},
              {.name = "follow", .help = "keep printing new events until interrupted"},
          }),
          .run = EventsTail,
      }},
  };
}

Command ConcernsCommands() {
  return Command{
      .name = "concerns",
      .summary = "the concerns inbox and incident log (every read is audit-logged)",
      .subcommands =
          {
              Command{.name = "list",
                      .summary = "list concerns, newest first",
                      .options = StaffOptions({
                          {.name = "status",
                           .value_name = "STATUS",
                           .help = "only new, in-progress, referred or closed ones"},
                          {.name = "since",
                           .value_name = "WHEN",
                           .help = "only those received since 7d, 12h, 30m or a UTC date/time "
                                   "(2026-12-01, 2026-12-01T09:30:00Z)"},
                          {.name = "limit", .value_name = "N", .help = "at most N (default 500)"},
                      }),
                      .run = ConcernsList},
              Command{.name = "show",
                      .summary = "show one concern in full with its incident log",
                      .positionals = {{.name = "ID"}},
                      .options = StaffOptions({{.name = "save-screenshot",
                                                .value_name = "FILE",
                                                .help = "write the screenshot to a new file "
                                                        "(mode 0600; DSL only)"}}),
                      .run = ConcernsShow},
              Command{.name = "status",
                      .summary = "set a concern's status (DSL only; recorded in the log)",
                      .positionals = {{.name = "ID"},
                                      {.name = "STATUS",
                                       .help = "new, in-progress, referred or closed"}},
                      .options = StaffOptions(),
                      .run = [](const Args& a,
                                Io& io) { return ConcernsUpdate(a, io, "status", "status"); }},
              Command{.name = "note",
                      .summary = "add a note to the incident log (DSL only)",
                      .positionals = {{.name = "ID"}, {.name = "TEXT"}},
                      .options = StaffOptions(),
                      .run = [](const Args& a,
                                Io& io) { return ConcernsUpdate(a, io, "notes", "text"); }},
          },
  };
}

}  // namespace ward::ctl
