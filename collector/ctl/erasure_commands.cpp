// SPDX-License-Identifier: Apache-2.0
// wardctl hold set|lift|list and wardctl subject erase|erasures: safeguarding holds and the
// right to erasure (docs/wardctl.md, "Holds and erasure"). DSL only (the collector refuses
// everyone else).
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

#include "internal/staff_call.h"
#include "ward/ctl/cli.h"
#include "ward/ctl/commands.h"
#include "ward/ctl/terminal_text.h"

namespace ward::ctl {
namespace {

using namespace internal;

std::string Body(const Poco::JSON::Object::Ptr& o) {
  std::ostringstream text;
  o->stringify(text);
  return text.str();
}

void PrintHold(const Poco::JSON::Object::Ptr& h, Io& io) {
  const std::string concern = h->getValue<std::string>("concern_id");
  io.out << "hold " << h->getValue<std::int64_t>("id") << " on "
         << (concern.empty() ? "account " + Shown(h, "account_hash").substr(0, 16) + "…"
                             : "concern " + ForTerminal(concern))
         << ": " << Shown(h, "reason") << " (set by " << Shown(h, "set_by") << ", "
         << Time(h->getValue<std::int64_t>("set_ms")) << ")";
  if (h->getValue<std::int64_t>("lifted_ms") > 0) {
    io.out << "; lifted by " << Shown(h, "lifted_by") << ", "
           << Time(h->getValue<std::int64_t>("lifted_ms")) << ": " << Shown(h, "lift_reason");
  }
  io.out << "\n";
}

// Prints the answer of a call that returns one hold.
int HoldAnswer(const Args& args, Io& io, const Result<Poco::Dynamic::Var>& v,
               std::string_view done) {
  if (!v) {
    return Fail(io, v.error());
  }
  if (args.flag("json")) {
    io.out << Stringify(*v) << "\n";
    return kExitOk;
  }
  io.out << done << "\n";
  PrintHold(v->extract<Poco::JSON::Object::Ptr>(), io);
  return kExitOk;
}

int HoldSet(const Args& args, Io& io) {
  const auto concern = args.value("concern");
  const auto account = args.value("account");
  if (concern.has_value() == account.has_value()) {
    return Fail(io, "say what to hold: --concern ID or --account NAME (one of them)");
  }
  Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
  body->set(concern ? "concern_id" : "account", concern ? *concern : *account);
  body->set("reason", *args.value("reason"));
  return HoldAnswer(args, io, CallJson(args, "POST", "/v1/staff/holds", Body(body)),
                    "Hold set. Nothing it covers can be erased, by request or by age, until it is "
                    "lifted.");
}

int HoldLift(const Args& args, Io& io) {
  Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
  body->set("reason", *args.value("reason"));
  return HoldAnswer(
      args, io,
      CallJson(args, "POST", "/v1/staff/holds/" + args.positional(0) + "/lift", Body(body)),
      "Hold lifted (it stays on record).");
}

int HoldList(const Args& args, Io& io) {
  auto v = CallJson(args, "GET", args.flag("all") ? "/v1/staff/holds?all=1" : "/v1/staff/holds");
  if (!v) {
    return Fail(io, v.error());
  }
  if (args.flag("json")) {
    io.out << Stringify(*v) << "\n";
    return kExitOk;
  }
  auto holds = v->extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < holds->size(); ++i) {
    PrintHold(holds->getObject(static_cast<unsigned>(i)), io);
  }
  io.out << holds->size() << (holds->size() == 1 ? " hold\n" : " holds\n");
  return kExitOk;
}

void PrintReport(const Poco::JSON::Object::Ptr& r, Io& io) {
  const bool dry = r->getValue<bool>("dry_run");
  io.out << (dry ? "Dry run: nothing was deleted. The erasure would remove:\n"
                 : "Erased (erasure " + Shown(r, "erasure_id") + "):\n");
  auto kinds = r->getObject("events_by_kind");
  io.out << "  events:";
  if (kinds->size() == 0) {
    io.out << " none";
  }
  for (const auto& [kind, count] : *kinds) {
    io.out << " " << ForTerminal(kind) << " " << count.convert<std::uint64_t>();
  }
  io.out << "\n  concerns: " << r->getArray("concerns_erased")->size() << " ("
         << r->getValue<std::uint64_t>("incident_entries_erased") << " incident-log entries, "
         << r->getValue<std::uint64_t>("screenshots_erased") << " screenshots)\n";
  auto kept = r->getArray("concerns_kept");
  io.out << (dry ? "It would keep" : "Kept") << " " << kept->size()
         << (kept->size() == 1 ? " concern" : " concerns") << (kept->size() > 0 ? ":\n" : "\n");
  for (std::size_t i = 0; i < kept->size(); ++i) {
    auto k = kept->getObject(static_cast<unsigned>(i));
    io.out << "  " << Shown(k, "concern_id") << ": " << Shown(k, "why") << "\n";
  }
  const std::size_t laptops = r->getArray("devices")->size();
  io.out << (dry ? "Laptops it would tell" : "Laptops told")
         << " to delete their copies: " << laptops
         << (dry ? "\n" : " (see 'wardctl subject erasures')\n");
}

int SubjectErase(const Args& args, Io& io) {
  Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
  body->set("account", *args.value("account"));
  body->set("device_id", args.value("device").value_or(""));
  body->set("reason", *args.value("reason"));
  body->set("dry_run", args.flag("dry-run"));
  auto v = CallJson(args, "POST", "/v1/staff/erasures", Body(body));
  if (!v) {
    return Fail(io, v.error());
  }
  if (args.flag("json")) {
    io.out << Stringify(*v) << "\n";
    return kExitOk;
  }
  PrintReport(v->extract<Poco::JSON::Object::Ptr>(), io);
  return kExitOk;
}

int SubjectErasures(const Args& args, Io& io) {
  auto v = CallJson(args, "GET", "/v1/staff/erasures?limit=" + args.value("limit").value_or("50"));
  if (!v) {
    return Fail(io, v.error());
  }
  if (args.flag("json")) {
    io.out << Stringify(*v) << "\n";
    return kExitOk;
  }
  auto list = v->extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto e = list->getObject(static_cast<unsigned>(i));
    io.out << Shown(e, "id") << "  " << Time(e->getValue<std::int64_t>("requested_ms")) << "  by "
           << Shown(e, "requested_by") << "\n";
    auto targets = e->getArray("targets");
    for (std::size_t k = 0; k < targets->size(); ++k) {
      auto t = targets->getObject(static_cast<unsigned>(k));
      io.out << "  " << Shown(t, "hostname") << " (" << Shown(t, "device_id") << "): ";
      if (const auto at = t->getValue<std::int64_t>("confirmed_ms"); at > 0) {
        io.out << "confirmed " << Time(at) << "\n";
      } else {
        io.out << "waiting; last seen " << Time(t->getValue<std::int64_t>("last_seen_ms"))
               << ", agent " << Shown(t, "agent_version") << "\n";
      }
    }
  }
  io.out << list->size() << (list->size() == 1 ? " erasure\n" : " erasures\n");
  return kExitOk;
}

}  // namespace

Command HoldCommands() {
  const Option reason{.name = "reason", .value_name = "TEXT", .help = "why", .required = true};
  return Command{
      .name = "hold",
      .summary = "safeguarding holds: keep records from erasure and from deletion by age (DSL)",
      .subcommands =
          {
              Command{.name = "set",
                      .summary = "hold one concern, or every concern of an account",
                      .options = StaffOptions(
                          {{.name = "concern", .value_name = "ID", .help = "the concern to hold"},
                           {.name = "account",
                            .value_name = "NAME",
                            .help = "the learner's account on the laptops"},
                           reason}),
                      .run = HoldSet},
              Command{.name = "lift",
                      .summary = "lift a hold (it stays on record)",
                      .positionals = {{.name = "HOLD", .help = "the hold's number"}},
                      .options = StaffOptions({reason}),
                      .run = HoldLift},
              Command{.name = "list",
                      .summary = "list the holds that apply",
                      .options = StaffOptions({{.name = "all", .help = "lifted ones too"}}),
                      .run = HoldList},
          },
  };
}

std::vector<Command> SubjectErasureCommands() {
  return {
      Command{.name = "erase",
              .summary = "erase a learner's records, on the collector and the laptops (DSL)",
              .options = StaffOptions({
                  {.name = "account",
                   .value_name = "NAME",
                   .help = "the learner's account on the laptops",
                   .required = true},
                  {.name = "device",
                   .value_name = "ID",
                   .help = "only this laptop's records, and only this laptop is told"},
                  {.name = "reason", .value_name = "TEXT", .help = "why", .required = true},
                  {.name = "dry-run",
                   .help = "show what would go and what would stay; change "
                           "nothing"},
              }),
              .run = SubjectErase},
      Command{.name = "erasures",
              .summary = "erasures, and which laptops have confirmed them (DSL)",
              .options = StaffOptions(
                  {{.name = "limit", .value_name = "N", .help = "at most N (default 50)"}}),
              .run = SubjectErasures},
  };
}

}  // namespace ward::ctl
