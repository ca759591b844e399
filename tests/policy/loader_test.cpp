// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_test_util.h"

namespace ward::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::LoadError;
using testing::MinimalPolicyJson;
using testing::MustLoad;

// Validates the minimal policy after `mutate`; returns the issues as "path: why" lines.
template <typename F>
std::vector<std::string> IssuesAfter(F mutate) {
  ward::v1::Policy policy = MustLoad(MinimalPolicyJson());
  mutate(policy);
  std::vector<std::string> lines;
  for (const PolicyIssue& issue : ValidatePolicy(policy)) {
    lines.push_back(issue.ToString());
  }
  return lines;
}

// " (line L, column C)" of the first `needle` in `json` (columns count characters from 1).
std::string At(const std::string& json, const std::string& needle) {
  const auto offset = json.find(needle);
  EXPECT_NE(offset, std::string::npos) << needle;
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (json[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
}

// Loads MinimalPolicyJson(extra) and expects exactly `issue` followed by the location of
// `needle`.
void ExpectShapeIssue(const std::string& extra, const std::string& issue,
                      const std::string& needle) {
  const std::string json = MinimalPolicyJson(extra);
  EXPECT_EQ(LoadError(json), issue + At(json, needle));
}

TEST(LoadPolicyJsonTest, LoadsMinimalPolicy) {
  const auto policy = MustLoad(MinimalPolicyJson());
  EXPECT_EQ(policy.version(), 1u);
  EXPECT_EQ(policy.mode(), ward::v1::MODE_ENFORCE);
}

TEST(LoadPolicyJsonTest, AcceptsCamelCaseNamesAndQuotedIntegers) {
  const auto policy = MustLoad(
      MinimalPolicyJson(R"(, "store": {"maxBytes": "1024"}, "issuedAt": "2026-09-01T08:00:00Z")"));
  EXPECT_EQ(policy.store().max_bytes(), 1024u);
  EXPECT_EQ(policy.issued_at().seconds(), 1788249600);
}

TEST(LoadPolicyJsonTest, ReportsSyntaxErrorWithLineAndColumn) {
  EXPECT_EQ(LoadError("{\n  \"version\": 1\n  \"mode\": 1}"),
            "line 3, column 3: invalid JSON: expected ',' or '}' after a field but found this "
            "character");
  EXPECT_EQ(LoadError("{\"version\": 1,"),
            "line 1, column 15: invalid JSON: expected a field name in double quotes but found "
            "the end of the text");
  EXPECT_EQ(LoadError("{\"name\": \"a\nb\"}"),
            "line 1, column 12: invalid JSON: control character inside a string (write \\n, \\t "
            "... instead)");
  EXPECT_EQ(LoadError("{\"version\": 01}"),
            "line 1, column 14: invalid JSON: numbers may not start with 0");
  EXPECT_EQ(LoadError("{\"version\": 1} x"),
            "line 1, column 16: invalid JSON: unexpected text after the end of the policy object");
}

TEST(LoadPolicyJsonTest, RejectsInvalidUtf8AndLoneSurrogates) {
  EXPECT_EQ(LoadError("{\"name\": \"ab\xff\"}"),
            "line 1, column 13: invalid JSON: a string is not valid UTF-8 (save the file as "
            "UTF-8)");
  EXPECT_EQ(LoadError("{\"name\": \"\xed\xa0\x80\"}"),  // an encoded surrogate
            "line 1, column 11: invalid JSON: a string is not valid UTF-8 (save the file as "
            "UTF-8)");
  EXPECT_EQ(LoadError(R"({"name": "\ud800"})"),
            "line 1, column 17: invalid JSON: \\u escape of a high surrogate must be followed by "
            "a low one");
  EXPECT_EQ(LoadError(R"({"name": "\udc00"})"),
            "line 1, column 17: invalid JSON: \\u escape of a lone low surrogate "
            "(\\uDC00-\\uDFFF)");
  // Well-formed text, escaped or not, is fine.
  const auto policy =
      MustLoad(MinimalPolicyJson(", \"name\": \"caf\\u00e9 \\ud83d\\ude00 \xc3\xa9\""));
  EXPECT_EQ(policy.name(), "caf\xc3\xa9 \xf0\x9f\x98\x80 \xc3\xa9");
}

TEST(LoadPolicyJsonTest, RejectsOversizedText) {
  const std::string huge(kMaxPolicyJsonBytes + 1, ' ');
  EXPECT_EQ(LoadError(huge), "policy: the text is " + std::to_string(huge.size()) +
                                 " bytes; a policy may be at most " +
                                 std::to_string(kMaxPolicyJsonBytes));
}

TEST(LoadPolicyJsonTest, RejectsEmptyTextAndNonObjects) {
  EXPECT_EQ(LoadError("  "), "policy: the text is empty: expected a JSON object {...}");
  EXPECT_EQ(LoadError("[1]"), "policy: must be a JSON object {...} (line 1, column 1)");
}

TEST(LoadPolicyJsonTest, RejectsUnknownFieldsWithSuggestion) {
  ExpectShapeIssue(R"(, "verison": 2)", "verison: unknown field (did you mean \"version\"?)",
                   "\"verison\"");
  ExpectShapeIssue(R"(, "usb": {"rules": [{"id": "a", "colour": 1}]})",
                   "usb.rules[0].colour: unknown field", "\"colour\"");
}

TEST(LoadPolicyJsonTest, ReportsEveryShapeIssueWithItsOwnLocation) {
  EXPECT_EQ(LoadError("{\"colour\": 1,\n  \"size\": 2,\n\"name\": 3}"),
            "colour: unknown field (line 1, column 2)\n"
            "size: unknown field (line 2, column 3)\n"
            "name: must be a string, not a number (line 3, column 9)");
}

TEST(LoadPolicyJsonTest, RejectsWrongTypes) {
  ExpectShapeIssue(R"(, "name": 5)", "name: must be a string, not a number", "5}");
  ExpectShapeIssue(R"(, "usb": {"rules": {"id": "a"}})",
                   "usb.rules: must be a list [...], not an object {...}", "{\"id\"");
  ExpectShapeIssue(R"(, "name": ["a"])", "name: takes a single value, not a list [...]", "[\"a");
  ExpectShapeIssue(
      R"(, "settings": {"settings": [{"name": "software.install", "bool_value": "no"}]})",
      "settings.settings[0].bool_value: must be true or false, not a string", "\"no\"");
  ExpectShapeIssue(R"(, "store": {"max_bytes": 1.5})",
                   "store.max_bytes: must be a whole number (no decimal point or exponent)", "1.5");
  ExpectShapeIssue(R"(, "store": {"max_bytes": 1e3})",
                   "store.max_bytes: must be a whole number (no decimal point or exponent)", "1e3");
  ExpectShapeIssue(R"(, "store": {"max_bytes": -1})", "store.max_bytes: must not be negative",
                   "-1");
  ExpectShapeIssue(R"(, "issued_at": 5)",
                   "issued_at: must be a time as a string such as \"2026-09-01T08:00:00Z\", not "
                   "a number",
                   "5}");
}

TEST(LoadPolicyJsonTest, RejectsUnknownEnumNames) {
  EXPECT_EQ(LoadError(R"({"version": 1, "mode": "ENFORCE"})"),
            "mode: \"ENFORCE\" is not one of MODE_MONITOR, MODE_ENFORCE (line 1, column 24)");
}

TEST(LoadPolicyJsonTest, RejectsDuplicateKeysAndTwoMatchers) {
  EXPECT_EQ(LoadError(R"({"version": 1, "version": 2})"),
            "version: is given twice (line 1, column 16)");
  const std::string both_spellings =
      R"({"issued_at": "2026-09-01T08:00:00Z", "issuedAt": "2026-09-01T08:00:00Z"})";
  EXPECT_EQ(LoadError(both_spellings),
            "issued_at: is given twice" + At(both_spellings, "\"issuedAt\""));
  const std::string two_matchers =
      R"({"apps": {"rules": [{"id": "a", "sha256": "x", "path": "/bin/ls"}]}})";
  EXPECT_EQ(LoadError(two_matchers),
            "apps.rules[0].path: cannot be set together with sha256 (set only one of sha256, "
            "path, signer, package, directory)" +
                At(two_matchers, "\"path\""));
}

TEST(LoadPolicyJsonTest, RejectsNullListItemsButAcceptsNullFields) {
  ExpectShapeIssue(R"(, "usb": {"rules": [null]})", "usb.rules[0]: a list item may not be null",
                   "null");
  ExpectShapeIssue(
      R"(, "usb": {"rules": [{"id": "a", "device_id": {"values": ["0781:*", null]}}]})",
      "usb.rules[0].device_id.values[1]: a list item may not be null", "null");
  // A null field is the same as leaving it out, also for one member of a oneof.
  const auto policy = MustLoad(MinimalPolicyJson(
      R"(, "name": null, "apps": {"rules": [{"id": "a", "action": "APP_ACTION_ALLOW",
          "sha256": null, "path": "/usr/bin/ls"}]})"));
  EXPECT_EQ(policy.apps().rules(0).path(), "/usr/bin/ls");
}

TEST(LoadPolicyJsonTest, TranslatesProtobufRangeAndTimeErrors) {
  EXPECT_EQ(
      LoadError(MinimalPolicyJson(
          R"(, "settings": {"settings": [{"name": "a", "int_value": "9223372036854775808"}]})")),
      "settings.settings[0].int_value: \"9223372036854775808\" is out of range "
      "(-9223372036854775808 to 9223372036854775807)");
  EXPECT_EQ(LoadError(MinimalPolicyJson(R"(, "store": {"max_age_days_low": 99999999999})")),
            "store.max_age_days_low: 99999999999 is out of range (0 to 4294967295)");
  EXPECT_EQ(LoadError(MinimalPolicyJson(R"(, "issued_at": "yesterday")")),
            "issued_at: \"yesterday\" is not a time such as \"2026-09-01T08:00:00Z\" (RFC 3339)");
}

TEST(LoadPolicyJsonTest, ListsEveryIssueOnePerLine) {
  const std::string message = LoadError(R"({"version": 0, "usb": {"rules": [
      {"id": "a", "action": "USB_ACTION_ALLOW", "device_id": {"values": ["12G4:0001"]}}]}})");
  EXPECT_EQ(message,
            "version: must be 1 or more (an agent only accepts a version greater than the one it "
            "runs)\n"
            "mode: missing: set MODE_MONITOR or MODE_ENFORCE\n"
            "audience: missing: set AUDIENCE_UNDER_18 or AUDIENCE_ADULT\n"
            "usb.rules[0].device_id: \"12G4:0001\" is not vvvv:pppp (4 hex digits or *)");
}

TEST(ValidatePolicyTest, RejectsUnknownEnumNumbers) {
  EXPECT_THAT(IssuesAfter([](auto& p) { p.set_mode(static_cast<ward::v1::Mode>(7)); }),
              ElementsAre("mode: 7 is not MODE_MONITOR or MODE_ENFORCE"));
}

TEST(ValidatePolicyTest, RequiresRuleIdsUniqueAcrossThePolicy) {
  EXPECT_THAT(IssuesAfter([](auto& p) {
                auto* a = p.mutable_usb()->add_rules();
                a->set_action(ward::v1::USB_ACTION_ALLOW);
                auto* b = p.mutable_usb()->add_rules();
                b->set_id("same");
                b->set_action(ward::v1::USB_ACTION_ALLOW);
                b->mutable_serial()->add_values("S1");
                auto* c = p.mutable_apps()->add_rules();
                c->set_id("same");
                c->set_action(ward::v1::APP_ACTION_ALLOW);
                c->set_path("/usr/bin/ls");
                auto* d = p.mutable_apps()->add_rules();
                d->set_id("bad id!");
                d->set_action(ward::v1::APP_ACTION_ALLOW);
                d->set_path("/usr/bin/cat");
              }),
              ElementsAre("usb.rules[0].id: missing: every rule needs an id, unique in the policy",
                          "apps.rules[0].id: \"same\" is already used by usb.rules[1]",
                          "apps.rules[1].id: \"bad id!\" may only use letters, digits, '.', '_' "
                          "and '-' (at most 64)"));
}

TEST(ValidatePolicyTest, RejectsDuplicateAndContradictoryUsbRules) {
  EXPECT_THAT(IssuesAfter([](auto& p) {
                for (auto [id, action] : {std::pair{"a", ward::v1::USB_ACTION_ALLOW},
                                          std::pair{"b", ward::v1::USB_ACTION_ALLOW},
                                          std::pair{"c", ward::v1::USB_ACTION_BLOCK}}) {
                  auto* r = p.mutable_usb()->add_rules();
                  r->set_id(id);
                  r->set_action(action);
                  r->mutable_device_id()->add_values("0781:5583");
                  r->set_message(std::string("rule ") + id);  // messages do not make rules differ
                }
              }),
              ElementsAre("usb.rules[1]: duplicates usb.rules[0] (\"a\"): same devices and "
                          "action; remove one",
                          "usb.rules[2]: contradicts usb.rules[0] (\"a\"): same devices but "
                          "USB_ACTION_BLOCK instead of USB_ACTION_ALLOW; the first rule always "
                          "wins, so remove one"));
}

TEST(ValidatePolicyTest, RejectsMalformedUsbMatchers) {
  EXPECT_THAT(
      IssuesAfter([](auto& p) {
        auto* r = p.mutable_usb()->add_rules();
        r->set_id("r");
        r->mutable_device_id()->add_values("0781");
        r->mutable_with_interface()->add_values("8:06:50");
        r->mutable_with_connect_type()->add_values("wireless");
        r->mutable_serial()->set_op(ward::v1::SET_OPERATOR_ONE_OF);
        r->mutable_when()->set_local_time("8:00-16:00");
        r->set_url("http://example.org/usb");
      }),
      ElementsAre(
          "usb.rules[0].action: missing: set USB_ACTION_ALLOW, USB_ACTION_BLOCK or "
          "USB_ACTION_REJECT",
          "usb.rules[0].device_id: \"0781\" is not vvvv:pppp (4 hex digits or *)",
          "usb.rules[0].serial: has an operator but no values",
          "usb.rules[0].with_interface: \"8:06:50\" is not cc:ss:pp (2 hex digits or * each)",
          "usb.rules[0].with_connect_type: \"wireless\" is not one of \"hotplug\", "
          "\"hardwired\", \"direct\", \"not used\", \"unknown\"",
          "usb.rules[0].when.local_time: \"8:00-16:00\" is not HH:MM-HH:MM (24-hour clock, start "
          "and end different)",
          "usb.rules[0].url: \"http://example.org/usb\" is not an https:// URL"));
}

TEST(ValidatePolicyTest, RejectsBadTimeWindows) {
  for (const char* window : {"24:00-06:00", "08:60-09:00", "08:00-08:00", "08:00 - 09:00"}) {
    EXPECT_THAT(IssuesAfter([&](auto& p) {
                  auto* r = p.mutable_usb()->add_rules();
                  r->set_id("r");
                  r->set_action(ward::v1::USB_ACTION_ALLOW);
                  r->mutable_when()->set_local_time(window);
                }),
                ElementsAre(std::string("usb.rules[0].when.local_time: \"") + window +
                            "\" is not HH:MM-HH:MM (24-hour clock, start and end different)"));
  }
  EXPECT_THAT(IssuesAfter([](auto& p) {
                auto* r = p.mutable_usb()->add_rules();
                r->set_id("r");
                r->set_action(ward::v1::USB_ACTION_ALLOW);
                r->mutable_when();
              }),
              ElementsAre("usb.rules[0].when.local_time: missing: write the daily window as "
                          "HH:MM-HH:MM"));
}

TEST(ValidatePolicyTest, ChecksInterfaceScopedRules) {
  EXPECT_THAT(IssuesAfter([](auto& p) {
                auto* a = p.mutable_usb()->add_rules();
                a->set_id("a");
                a->set_action(ward::v1::USB_ACTION_BLOCK);
                a->set_scope(ward::v1::USB_RULE_SCOPE_INTERFACE);
                auto* b = p.mutable_usb()->add_rules();
                b->set_id("b");
                b->set_action(ward::v1::USB_ACTION_BLOCK);
                b->set_scope(ward::v1::USB_RULE_SCOPE_INTERFACE);
                b->mutable_with_interface()->set_op(ward::v1::SET_OPERATOR_ALL_OF);
                b->mutable_with_interface()->add_values("08:*:*");
              }),
              ElementsAre("usb.rules[0].with_interface: missing: an interface-scoped rule needs "
                          "the interface classes it applies to",
                          "usb.rules[1].with_interface.op: an interface-scoped rule takes "
                          "SET_OPERATOR_ONE_OF or SET_OPERATOR_NONE_OF: it looks at one interface "
                          "at a time"));
}

TEST(ValidatePolicyTest, EnrolledDevicesMustBeExact) {
  EXPECT_THAT(IssuesAfter([](auto& p) {
                p.mutable_usb()->add_enrolled_devices()->set_device_id("046d:*");
                p.mutable_usb()->add_enrolled_devices()->set_name("camera");
              }),
              ElementsAre("usb.enrolled_devices[0].device_id: \"046d:*\" must name one device: no "
                          "* in an enrolled device id",
                          "usb.enrolled_devices[1].device_id: missing: an enrolled device needs "
                          "its vvvv:pppp id"));
}

TEST(ValidatePolicyTest, ChecksLearnerMessages) {
  EXPECT_THAT(IssuesAfter([](auto& p) {
                p.mutable_usb()->set_default_message(std::string(201, 'a'));
                p.mutable_apps()->set_default_message("two\nlines");
              }),
              ElementsAre("usb.default_message: is 201 characters long; learner messages may be "
                          "at most 200",
                          "apps.default_message: has a control character (learner messages are "
                          "one line of plain text)"));
  // Length counts characters, not bytes: 200 accented letters are fine.
  std::string accented;
  for (int i = 0; i < 200; ++i) {
    accented += "\xc3\xa9";
  }
  EXPECT_THAT(IssuesAfter([&](auto& p) { p.mutable_usb()->set_default_message(accented); }),
              ElementsAre());
}

TEST(ValidatePolicyTest, ChecksAppRules) {
  EXPECT_THAT(
      IssuesAfter([](auto& p) {
        auto add = [&](const char* id) {
          auto* r = p.mutable_apps()->add_rules();
          r->set_id(id);
          r->set_action(ward::v1::APP_ACTION_ALLOW);
          return r;
        };
        add("no-matcher");
        add("bad-hash")->set_sha256("ABCDEF");
        add("relative")->set_path("bin/ls");
        add("dots")->set_directory("/usr/../home");
        add("pkg")->set_package("Firefox ESR");
        add("signer")->set_signer("");
        auto* no_action = p.mutable_apps()->add_rules();
        no_action->set_id("no-action");
        no_action->set_path("/usr/bin/true");
        add("dir-a")->set_directory("/opt/tools");
        auto* b = add("dir-b");
        b->set_directory("/opt/tools/");
        b->set_action(ward::v1::APP_ACTION_BLOCK);
        p.mutable_apps()->add_restricted_interpreters("python3");
        p.mutable_apps()->add_restricted_interpreters("bin/perl");
        p.mutable_apps()->add_restricted_interpreters("python3");
      }),
      ElementsAre(
          "apps.rules[0]: has no matcher: set one of sha256, path, signer, package, directory",
          "apps.rules[1].sha256: \"ABCDEF\" is not 64 lower-case hex digits",
          "apps.rules[2].path: \"bin/ls\" is not an absolute path (no . or .. parts)",
          "apps.rules[3].directory: \"/usr/../home\" is not an absolute path (no . or .. parts)",
          "apps.rules[4].package: \"Firefox ESR\" is not a package name (lower-case letters, "
          "digits, '+', '-' and '.')",
          "apps.rules[5].signer: is empty",
          "apps.rules[6].action: missing: set APP_ACTION_ALLOW or APP_ACTION_BLOCK",
          "apps.rules[8]: contradicts apps.rules[7] (\"dir-a\"): same programs but "
          "APP_ACTION_BLOCK instead of APP_ACTION_ALLOW; the first rule always wins, so remove "
          "one",
          "apps.restricted_interpreters[1]: \"bin/perl\" is neither a program name (\"python3\") "
          "nor an absolute path",
          "apps.restricted_interpreters[2]: \"python3\" is already listed at "
          "apps.restricted_interpreters[0]"));
}

TEST(ValidatePolicyTest, ChecksSettingsAgainstTheCatalogue) {
  EXPECT_THAT(
      IssuesAfter([](auto& p) {
        auto* s = p.mutable_settings();
        s->add_settings()->set_name("desktop.wallpaper_locked");
        auto* a = s->add_settings();
        a->set_name("screensaver.enabled");
        a->set_int_value(1);
        auto* b = s->add_settings();
        b->set_name("screensaver.idle_delay_seconds");
        b->set_int_value(5);
        auto* c = s->add_settings();
        c->set_name("desktop.wallpaper");
        c->set_string_value("wall.png");
        s->add_settings()->set_name("software.install");
        auto* d = s->add_settings();
        d->set_name("screensaver.enabled");
        d->set_bool_value(true);
      }),
      ElementsAre("settings.settings[0].name: \"desktop.wallpaper_locked\" is not a known "
                  "setting (known: datetime.change, desktop.command_line, "
                  "desktop.user_switching, desktop.wallpaper, network.configure, "
                  "screensaver.enabled, screensaver.idle_delay_seconds, "
                  "screensaver.lock_enabled, software.install)",
                  "settings.settings[1].int_value: screensaver.enabled takes true or false "
                  "(bool_value)",
                  "settings.settings[2].int_value: 5 is outside 30..7200 for "
                  "screensaver.idle_delay_seconds",
                  "settings.settings[3].string_value: \"wall.png\" is not an absolute path",
                  "settings.settings[4]: has no value: software.install takes true or false "
                  "(bool_value)",
                  "settings.settings[5].name: \"screensaver.enabled\" is already set by "
                  "settings.settings[1]"));
}

TEST(ValidatePolicyTest, RequiresTheAupForTheAudience) {
  EXPECT_THAT(IssuesAfter([](auto& p) { p.set_audience(ward::v1::AUDIENCE_UNDER_18); }),
              ElementsAre("aup.text_under_18: missing: the policy is for learners under 18, who "
                          "must be shown the acceptable-use agreement written for them"));
  EXPECT_THAT(IssuesAfter([](auto& p) { p.mutable_aup()->clear_text_adult(); }),
              ElementsAre("aup.text_adult: missing: the policy is for adults, who must be shown "
                          "the adult acceptable-use agreement"));
  EXPECT_THAT(IssuesAfter([](auto& p) { p.mutable_aup()->set_version(0); }),
              ElementsAre("aup.version: must be 1 or more (raise it when the text changes)"));
}

TEST(ValidatePolicyTest, ChecksDslEmail) {
  EXPECT_THAT(IssuesAfter([](auto& p) { p.mutable_contacts()->set_dsl_email("sam at college"); }),
              ElementsAre("contacts.dsl_email: \"sam at college\" is not an email address"));
}

TEST(SamplePolicyTest, SampleUnder18Loads) {
  const auto policy = MustLoad(testing::ReadTestdata("policy/sample-under18.json"));
  EXPECT_EQ(policy.mode(), ward::v1::MODE_ENFORCE);
  EXPECT_EQ(policy.audience(), ward::v1::AUDIENCE_UNDER_18);
  EXPECT_FALSE(policy.aup().text_under_18().empty());
  EXPECT_FALSE(policy.contacts().dsl_name().empty());
}

}  // namespace
}  // namespace ward::policy

namespace ward::policy {
namespace {

// Every ```json block of docs/policy.md.
std::vector<std::string> JsonBlocksOfPolicyDoc() {
  const std::string doc = testing::ReadTestdata("../../docs/policy.md");
  std::vector<std::string> blocks;
  constexpr std::string_view kOpen = "```json\n";
  for (auto start = doc.find(kOpen); start != std::string::npos; start = doc.find(kOpen, start)) {
    start += kOpen.size();
    const auto end = doc.find("```", start);
    blocks.push_back(doc.substr(start, end - start));
    start = end;
  }
  return blocks;
}

TEST(DocsPolicyTest, ExamplesInPolicyDocLoadAndMatchTheirFiles) {
  const auto blocks = JsonBlocksOfPolicyDoc();
  ASSERT_EQ(blocks.size(), 2u);
  const char* files[] = {"policy/sample-under18.json", "policy/example-adult.json"};
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto from_doc = testing::MustLoad(blocks[i]);
    const auto from_file = testing::MustLoad(testing::ReadTestdata(files[i]));
    EXPECT_EQ(from_doc.SerializeAsString(), from_file.SerializeAsString()) << files[i];
  }
  EXPECT_EQ(testing::MustLoad(blocks[1]).audience(), ward::v1::AUDIENCE_ADULT);
}

}  // namespace
}  // namespace ward::policy
