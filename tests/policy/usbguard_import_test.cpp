// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/usbguard_import.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ward/policy/loader.h"
#include "ward/testing/paths.h"

namespace ward::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(ward::testing::TestdataDir().string() + "/usbguard/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Imports text expected to be valid and returns its rules; fails the test otherwise.
std::vector<v1::UsbRule> ImportOk(std::string_view text) {
  auto rules = ImportUsbGuardRules(text);
  EXPECT_TRUE(rules.has_value()) << (rules ? "" : rules.error().ToString());
  return rules ? *rules : std::vector<v1::UsbRule>{};
}

v1::UsbRule ImportOne(std::string_view text) {
  auto rules = ImportOk(text);
  EXPECT_EQ(rules.size(), 1u);
  return rules.empty() ? v1::UsbRule{} : rules[0];
}

// Imports text expected to fail and returns the error.
Error ImportError(std::string_view text, const UsbGuardImportLimits& limits = {}) {
  auto rules = ImportUsbGuardRules(text, limits);
  EXPECT_FALSE(rules.has_value()) << "imported " << text;
  return rules ? Error(ErrorCode::kInternal, "no error") : rules.error();
}

std::vector<std::string> Values(const v1::StringSet& set) {
  return {set.values().begin(), set.values().end()};
}

TEST(UsbGuardImportTest, ImportsWhatGeneratePolicyEmits) {
  const std::string text = ReadTestdata("generate-policy.conf");
  ASSERT_FALSE(text.empty());
  const auto rules = ImportOk(text);
  ASSERT_EQ(rules.size(), 9u);

  const v1::UsbRule& hub = rules[0];
  EXPECT_EQ(hub.id(), "usbguard-line-1");
  EXPECT_EQ(hub.action(), v1::USB_ACTION_ALLOW);
  EXPECT_EQ(hub.scope(), v1::USB_RULE_SCOPE_DEVICE);
  EXPECT_THAT(Values(hub.device_id()), ElementsAre("1d6b:0002"));
  EXPECT_THAT(Values(hub.serial()), ElementsAre("0000:00:14.0"));
  EXPECT_THAT(Values(hub.name()), ElementsAre("xHCI Host Controller"));
  EXPECT_THAT(Values(hub.hash()), ElementsAre("v1nWpFZPn0mWTvN385jjXH2iQT6deSyX39u8lofOirw="));
  EXPECT_EQ(hub.parent_hash().values_size(), 1);
  EXPECT_THAT(Values(hub.with_interface()), ElementsAre("09:00:00"));
  // generate-policy writes an empty connect type for root hubs; Ward has no such value, and the
  // hash still pins the device, so the constraint is dropped.
  EXPECT_FALSE(hub.has_with_connect_type());
  EXPECT_EQ(hub.via_port().values_size(), 0);

  const v1::UsbRule& bluetooth = rules[2];
  EXPECT_THAT(Values(bluetooth.serial()), ElementsAre(""));
  EXPECT_THAT(Values(bluetooth.via_port()), ElementsAre("1-7"));
  EXPECT_EQ(bluetooth.with_interface().values_size(), 7);
  EXPECT_EQ(bluetooth.with_interface().op(), v1::SET_OPERATOR_EQUALS);
  EXPECT_THAT(Values(bluetooth.with_connect_type()), ElementsAre("hardwired"));

  const v1::UsbRule& stick = rules[5];
  EXPECT_EQ(stick.id(), "usbguard-line-6");
  EXPECT_THAT(Values(stick.name()), ElementsAre(" SanDisk 3.2Gen1"));
  EXPECT_THAT(Values(stick.with_interface()), ElementsAre("08:06:50"));
  EXPECT_THAT(Values(stick.with_connect_type()), ElementsAre("hotplug"));

  // Product strings padded with spaces are kept exactly; repeated interface types are kept.
  EXPECT_THAT(Values(rules[6].name()), ElementsAre("USB2.0 Hub             "));
  EXPECT_THAT(Values(rules[7].with_connect_type()), ElementsAre("not used"));
  EXPECT_EQ(rules[7].with_interface().values_size(), 8);
  EXPECT_THAT(Values(rules[8].with_interface()),
              ElementsAre("ff:cc:00", "07:01:04", "07:01:02", "ff:04:01", "07:01:04", "ff:04:01",
                          "07:01:04"));
  EXPECT_THAT(Values(rules[8].via_port()), ElementsAre("1-1.2"));
}

TEST(UsbGuardImportTest, ImportsTheCommittedCollegeRules) {
  const auto rules = ImportOk(ReadTestdata("college-rules.conf"));
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].id(), "college-memory-sticks");
  EXPECT_EQ(rules[1].id(), "class-hours-keyboards");
  EXPECT_EQ(rules[1].when().local_time(), "08:00-18:00");
  EXPECT_EQ(rules[2].id(), "usbguard-line-9");
  EXPECT_EQ(rules[2].action(), v1::USB_ACTION_REJECT);
  EXPECT_EQ(rules[4].id(), "usbguard-line-12");
  EXPECT_EQ(rules[4].action(), v1::USB_ACTION_BLOCK);
}

// What the importer produces is a policy Ward accepts: the sample policy with its USB rules
// replaced by imported ones passes validation.
TEST(UsbGuardImportTest, ImportedRulesPassPolicyValidation) {
  std::ifstream in(ward::testing::TestdataDir().string() + "/policy/sample-under18.json");
  std::stringstream json;
  json << in.rdbuf();
  auto policy = LoadPolicyJson(json.str());
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  for (const char* file : {"generate-policy.conf", "college-rules.conf"}) {
    const auto rules = ImportOk(ReadTestdata(file));
    ASSERT_FALSE(rules.empty()) << file;
    policy->mutable_usb()->clear_rules();
    for (const auto& rule : rules) {
      *policy->mutable_usb()->add_rules() = rule;
    }
    EXPECT_EQ(FormatIssues(ValidatePolicy(*policy)), "") << file;
  }
}

TEST(UsbGuardImportTest, MapsTheThreeTargets) {
  const auto rules = ImportOk("allow\nblock\nreject\n");
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].action(), v1::USB_ACTION_ALLOW);
  EXPECT_EQ(rules[1].action(), v1::USB_ACTION_BLOCK);
  EXPECT_EQ(rules[2].action(), v1::USB_ACTION_REJECT);
  // A rule with only a target matches every device: no attribute is set.
  EXPECT_FALSE(rules[0].has_device_id());
  EXPECT_FALSE(rules[0].has_when());
}

TEST(UsbGuardImportTest, AcceptsTheDeviceIdRightAfterTheTarget) {
  // Example 2 of usbguard-rules.conf(5).
  const auto rule =
      ImportOne(R"(allow 1050:0011 name "Yubico Yubikey II" serial "0001234567" via-port "1-2" )"
                R"(hash "044b5e168d40ee0245478416caf3d998")");
  EXPECT_THAT(Values(rule.device_id()), ElementsAre("1050:0011"));
  EXPECT_EQ(rule.device_id().op(), v1::SET_OPERATOR_EQUALS);
  EXPECT_THAT(Values(rule.name()), ElementsAre("Yubico Yubikey II"));
  EXPECT_THAT(Values(rule.via_port()), ElementsAre("1-2"));
}

TEST(UsbGuardImportTest, MapsEverySetOperator) {
  const struct {
    const char* name;
    v1::SetOperator op;
  } kCases[] = {
      {"all-of", v1::SET_OPERATOR_ALL_OF},
      {"one-of", v1::SET_OPERATOR_ONE_OF},
      {"none-of", v1::SET_OPERATOR_NONE_OF},
      {"equals", v1::SET_OPERATOR_EQUALS},
      {"equals-ordered", v1::SET_OPERATOR_EQUALS_ORDERED},
      {"match-all", v1::SET_OPERATOR_MATCH_ALL},
  };
  for (const auto& c : kCases) {
    const auto rule = ImportOne(std::string("allow with-interface ") + c.name +
                                " { 08:*:* 03:01:01 } serial " + c.name + R"( { "a" "b" })");
    EXPECT_EQ(rule.with_interface().op(), c.op) << c.name;
    EXPECT_THAT(Values(rule.with_interface()), ElementsAre("08:*:*", "03:01:01"));
    EXPECT_EQ(rule.serial().op(), c.op) << c.name;
    EXPECT_THAT(Values(rule.serial()), ElementsAre("a", "b"));
  }
}

TEST(UsbGuardImportTest, MissingOperatorIsWrittenAsEqualsLikeUsbGuardMeansIt) {
  const auto rule = ImportOne(R"(allow with-interface { 08:*:* 03:*:* } serial "x")");
  EXPECT_EQ(rule.with_interface().op(), v1::SET_OPERATOR_EQUALS);
  EXPECT_EQ(rule.serial().op(), v1::SET_OPERATOR_EQUALS);
}

TEST(UsbGuardImportTest, ImportsEveryAttribute) {
  const auto rule = ImportOne(
      R"(block id { 0781:* 1234:5678 } serial "S1" name "Stick" hash "h" parent-hash "p" )"
      R"(via-port { "1-2" "1-3.1" } with-interface 08:06:50 with-connect-type "hotplug" )"
      R"(label "Lab A")");
  EXPECT_THAT(Values(rule.device_id()), ElementsAre("0781:*", "1234:5678"));
  EXPECT_THAT(Values(rule.serial()), ElementsAre("S1"));
  EXPECT_THAT(Values(rule.name()), ElementsAre("Stick"));
  EXPECT_THAT(Values(rule.hash()), ElementsAre("h"));
  EXPECT_THAT(Values(rule.parent_hash()), ElementsAre("p"));
  EXPECT_THAT(Values(rule.via_port()), ElementsAre("1-2", "1-3.1"));
  EXPECT_THAT(Values(rule.with_interface()), ElementsAre("08:06:50"));
  EXPECT_THAT(Values(rule.with_connect_type()), ElementsAre("hotplug"));
  EXPECT_THAT(Values(rule.label()), ElementsAre("Lab A"));
  EXPECT_EQ(rule.id(), "lab-a");
}

TEST(UsbGuardImportTest, LowerCasesHexAndKeepsWildcards) {
  const auto rule = ImportOne("allow id 0A5C:21E8 with-interface { E0:01:01 FF:*:* 03:01:* }");
  EXPECT_THAT(Values(rule.device_id()), ElementsAre("0a5c:21e8"));
  EXPECT_THAT(Values(rule.with_interface()), ElementsAre("e0:01:01", "ff:*:*", "03:01:*"));
  EXPECT_THAT(Values(ImportOne("allow id *:*").device_id()), ElementsAre("*:*"));
}

TEST(UsbGuardImportTest, RejectsMalformedDeviceIds) {
  for (const char* id : {"12G4:0001", "123:0001", "1234:", "*:1234", "12345:0001", "1234-5678"}) {
    const Error error = ImportError(std::string("allow id ") + id);
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << id;
    EXPECT_THAT(error.message(), StartsWith("line 1, column 10: expected a device id")) << id;
  }
}

TEST(UsbGuardImportTest, RejectsMalformedInterfaceTypes) {
  // A '*' subclass with a specific protocol is not allowed (usbguard-rules.conf(5)), nor is a
  // wildcard class.
  for (const char* type : {"08:*:50", "*:00:00", "8:06:50", "08:06", "08:06:50:01", "0g:00:00"}) {
    const Error error = ImportError(std::string("allow with-interface ") + type);
    EXPECT_THAT(error.message(), StartsWith("line 1, column 22: expected an interface type"))
        << type;
  }
}

TEST(UsbGuardImportTest, DecodesUsbGuardEscapes) {
  const auto rule = ImportOne(R"(allow name "say \"hi\" \\ \x41\x42 caf\xc3\xa9")");
  EXPECT_THAT(Values(rule.name()), ElementsAre("say \"hi\" \\ AB caf\xc3\xa9"));
}

TEST(UsbGuardImportTest, RejectsEscapesUsbGuardDoesNotKnow) {
  const Error error = ImportError(R"(allow name "a\nb")");
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.message(),
            R"(line 1, column 14: unknown escape sequence '\n' (USBGuard strings know \", \\ )"
            R"(and \xHH))");
}

TEST(UsbGuardImportTest, RejectsShortHexEscape) {
  EXPECT_EQ(ImportError(R"(allow serial "\x4")").message(),
            R"(line 1, column 15: '\x' must be followed by two hex digits)");
}

TEST(UsbGuardImportTest, RejectsStringsThatAreNotUtf8OnceUnescaped) {
  const Error error = ImportError(R"(allow name "\xff\xfe")");
  EXPECT_THAT(error.message(), StartsWith("line 1, column 12: this string is not valid UTF-8"));
  // An overlong encoding and a lone surrogate are not UTF-8 either.
  EXPECT_FALSE(ImportUsbGuardRules(R"(allow name "\xc0\xaf")").has_value());
  EXPECT_FALSE(ImportUsbGuardRules(R"(allow name "\xed\xa0\x80")").has_value());
}

TEST(UsbGuardImportTest, RejectsUnterminatedString) {
  const Error error = ImportError("allow\nallow serial \"abc\nblock\n");
  EXPECT_EQ(error.message(),
            "line 2, column 14: this string is not closed: the closing '\"' is missing on this "
            "line");
}

TEST(UsbGuardImportTest, RejectsRawControlCharactersInStrings) {
  EXPECT_THAT(ImportError("allow name \"a\x01\"").message(),
              StartsWith("line 1, column 14: control character inside a string"));
}

TEST(UsbGuardImportTest, ExpectsAQuotedStringAfterSerial) {
  EXPECT_EQ(ImportError("allow\n\n\nallow id 1234:5678 serial abc").message(),
            "line 4, column 27: expected a quoted string after 'serial', found 'abc'");
  EXPECT_EQ(ImportError("allow serial").message(),
            "line 1, column 13: expected a quoted string after 'serial', found the end of the "
            "file");
  EXPECT_EQ(ImportError("allow serial { \"a\" b }").message(),
            "line 1, column 20: expected a quoted string in the set after 'serial', found 'b'");
}

TEST(UsbGuardImportTest, SkipsCommentsBlankLinesAndWindowsLineEndings) {
  const auto rules = ImportOk(
      "# a comment\r\n"
      "\r\n"
      "   \t \n"
      "allow id 1234:5678 # trailing comment with \"quotes\" and { braces\r\n"
      "  block\t# indented\n"
      "# last line without newline");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].id(), "usbguard-line-4");
  EXPECT_EQ(rules[1].id(), "usbguard-line-5");
  EXPECT_TRUE(ImportOk("").empty());
  EXPECT_TRUE(ImportOk("\n\n# only comments\n").empty());
}

TEST(UsbGuardImportTest, MapsLocaltimeToWhen) {
  EXPECT_EQ(ImportOne("allow if localtime(08:30-16:00)").when().local_time(), "08:30-16:00");
  // Windows may wrap midnight; whole-minute seconds are accepted and dropped.
  EXPECT_EQ(ImportOne("block if localtime(22:00:00-06:00:00)").when().local_time(), "22:00-06:00");
}

TEST(UsbGuardImportTest, RejectsMalformedTimeRanges) {
  EXPECT_EQ(ImportError("allow if localtime(25:00-16:00)").message(),
            "line 1, column 20: '25:00' is not a time of day HH:MM");
  EXPECT_EQ(ImportError("allow if localtime(08:60-16:00)").message(),
            "line 1, column 20: '08:60' is not a time of day HH:MM");
  EXPECT_EQ(ImportError("allow if localtime(8:00-16:00)").message(),
            "line 1, column 20: '8:00' is not a time of day HH:MM");
  EXPECT_THAT(ImportError("allow if localtime(08:00-08:00)").message(),
              HasSubstr("is empty: it starts and ends at the same minute"));
  EXPECT_EQ(ImportError("allow if localtime (08:00-09:00)").message(),
            "line 1, column 20: expected a time range right after 'localtime', as in "
            "localtime(08:30-16:00)");
  EXPECT_THAT(ImportError("allow if localtime(08:00-09:00").message(),
              StartsWith("line 1, column 19: the ')' closing this '(' is missing"));

  const Error seconds = ImportError("allow if localtime(08:00:30-09:00)");
  EXPECT_EQ(seconds.code(), ErrorCode::kUnsupported);
  EXPECT_THAT(seconds.message(), HasSubstr("seconds in localtime() are not supported"));
  const Error single = ImportError("allow if localtime(08:00)");
  EXPECT_EQ(single.code(), ErrorCode::kUnsupported);
  EXPECT_THAT(single.message(), HasSubstr("single time is not supported"));
}

TEST(UsbGuardImportTest, RejectsEveryOtherConditionAsNotSupported) {
  const char* const kConditions[] = {
      "allowed-matches(with-interface one-of { 03:00:01 03:01:01 })",
      "rule-applied",
      "rule-applied(00:10:00)",
      "rule-evaluated",
      "rule-evaluated(30)",
      "random",
      "random(0.1666)",
      "true",
      "false",
  };
  for (const char* condition : kConditions) {
    const Error error = ImportError(std::string("allow with-interface 03:00:01 if ") + condition);
    EXPECT_EQ(error.code(), ErrorCode::kUnsupported) << condition;
    EXPECT_THAT(error.message(), StartsWith("line 1, column 34: the condition '")) << condition;
    EXPECT_THAT(error.message(), HasSubstr("is not supported; Ward imports only 'if "
                                           "localtime(HH:MM-HH:MM)'"))
        << condition;
  }
}

TEST(UsbGuardImportTest, RejectsNegatedConditionsAndConditionSets) {
  const Error negated = ImportError("allow if !localtime(08:00-09:00)");
  EXPECT_EQ(negated.code(), ErrorCode::kUnsupported);
  EXPECT_THAT(negated.message(),
              StartsWith("line 1, column 10: negated conditions ('!') are not supported"));
  for (const char* set :
       {"{ true false }", "all-of { localtime(08:00-09:00) }", "one-of { rule-applied random }"}) {
    const Error error = ImportError(std::string("allow if ") + set);
    EXPECT_EQ(error.code(), ErrorCode::kUnsupported) << set;
    EXPECT_THAT(error.message(), StartsWith("line 1, column 10: condition sets are not supported"))
        << set;
  }
}

TEST(UsbGuardImportTest, RejectsUnknownAndRepeatedConditions) {
  EXPECT_EQ(ImportError("allow if moon-phase(full)").message(),
            "line 1, column 10: unknown condition 'moon-phase'");
  EXPECT_EQ(ImportError("allow if localtime(08:00-09:00) if localtime(10:00-11:00)").message(),
            "line 1, column 33: a rule can have only one 'if'");
  EXPECT_EQ(ImportError("allow if").message(),
            "line 1, column 9: expected a condition after 'if', found the end of the file");
}

TEST(UsbGuardImportTest, RejectsUnknownTargetsAndInternalOnes) {
  EXPECT_EQ(ImportError("permit id 1234:5678").message(),
            "line 1, column 1: a rule starts with allow, block or reject, found 'permit'");
  EXPECT_EQ(ImportError("allow\n  { }").message(),
            "line 2, column 3: a rule starts with allow, block or reject, found '{'");
  const Error device = ImportError("device id 1234:5678");
  EXPECT_EQ(device.code(), ErrorCode::kUnsupported);
  EXPECT_THAT(device.message(), StartsWith("line 1, column 1: the target 'device' is not"));
  EXPECT_EQ(ImportError("match").code(), ErrorCode::kUnsupported);
}

TEST(UsbGuardImportTest, RejectsUnknownAndRepeatedAttributes) {
  EXPECT_EQ(ImportError("allow colour \"red\"").message(),
            "line 1, column 7: unknown attribute 'colour'");
  EXPECT_EQ(ImportError("allow serial \"a\" name \"b\" serial \"c\"").message(),
            "line 1, column 27: 'serial' is given twice in one rule");
  EXPECT_EQ(ImportError("allow 1234:5678 id 1234:5678").message(),
            "line 1, column 17: 'id' is given twice in one rule");
  EXPECT_EQ(ImportError("allow serial \"a\" 1234:5678").message(),
            "line 1, column 18: a bare device id may only follow the target; write 'id "
            "1234:5678'");
  EXPECT_EQ(ImportError("allow \"stray\"").message(),
            "line 1, column 7: expected an attribute name (id, serial, name, hash, parent-hash, "
            "via-port, with-interface, with-connect-type, label or if), found a quoted string");
}

TEST(UsbGuardImportTest, RejectsBadSets) {
  EXPECT_EQ(ImportError("allow with-interface any-of { 08:*:* }").message(),
            "line 1, column 22: unknown set operator 'any-of' (use all-of, one-of, none-of, "
            "equals, equals-ordered or match-all)");
  EXPECT_EQ(ImportError("allow with-interface one-of 08:*:*").message(),
            "line 1, column 29: expected '{' after the set operator, found '08:*:*'");
  EXPECT_EQ(ImportError("allow with-interface { }").message(),
            "line 1, column 22: an empty set { } after 'with-interface'; give at least one value");
  EXPECT_EQ(ImportError("allow with-interface { 08:*:* 03:00:01\nblock").message(),
            "line 1, column 22: this set is not closed: '}' is missing before the end of the "
            "line");
  EXPECT_EQ(ImportError("allow id { 1234:5678 { 1234:5679 } }").message(),
            "line 1, column 22: expected a device id vvvv:pppp (hex, or * for any) in the set "
            "after 'id', found '{'");
}

TEST(UsbGuardImportTest, RejectsStrayCharacters) {
  // The ASCII "caf" lexes as a word first, so the parser reports it.
  EXPECT_EQ(ImportError("allow name \"caf\xc3\xa9\" caf\xc3\xa9").message(),
            "line 1, column 19: unknown attribute 'caf'");
  EXPECT_EQ(ImportError("allow )").message(),
            "line 1, column 7: unexpected ')' without a matching '('");
  EXPECT_EQ(ImportError("allow\x01").message(),
            "line 1, column 6: unexpected control character 0x01");
  EXPECT_EQ(ImportError("allow \xc3\xa9").message(),
            "line 1, column 7: unexpected byte 0xC3; text other than ASCII belongs inside quotes");
}

TEST(UsbGuardImportTest, CountsColumnsInCharactersNotBytes) {
  // "é" is two bytes but one column.
  EXPECT_EQ(ImportError("allow name \"\xc3\xa9\" serial x").message(),
            "line 1, column 23: expected a quoted string after 'serial', found 'x'");
}

TEST(UsbGuardImportTest, RejectsNulBytes) {
  const std::string text("allow\nallow na\0me", 17);
  EXPECT_EQ(ImportError(text).message(),
            "line 2, column 9: NUL byte in the rules text; this is not a text file");
}

TEST(UsbGuardImportTest, GivesUniqueIdsFromLabels) {
  const auto rules = ImportOk(
      "allow label \"Lab A\"\n"
      "allow label \"lab a!\"\n"
      "allow label \"***\"\n"
      "allow label \"usbguard line 5\"\n"
      "allow\n");
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].id(), "lab-a");
  EXPECT_EQ(rules[1].id(), "lab-a-line-2");
  EXPECT_EQ(rules[2].id(), "usbguard-line-3");  // nothing usable in the label
  EXPECT_EQ(rules[3].id(), "usbguard-line-5-line-4");
  EXPECT_EQ(rules[4].id(), "usbguard-line-5");
  // The label itself is kept as written.
  EXPECT_THAT(Values(rules[1].label()), ElementsAre("lab a!"));
}

TEST(UsbGuardImportTest, EnforcesInputLimits) {
  UsbGuardImportLimits limits;
  limits.max_input_bytes = 10;
  EXPECT_THAT(ImportError("allow\nallow\nallow\n", limits).message(),
              HasSubstr("at most 10 are accepted"));

  limits = {};
  limits.max_rules = 2;
  EXPECT_EQ(ImportError("allow\nallow\n\nallow\n", limits).message(),
            "line 4, column 1: more than 2 rules; split the file");

  limits = {};
  limits.max_line_bytes = 16;
  EXPECT_EQ(ImportError("allow\nallow serial \"12345\"\n", limits).message(),
            "line 2, column 1: this line is longer than 16 bytes; one rule per line is expected");

  limits = {};
  limits.max_set_values = 2;
  EXPECT_EQ(ImportError("allow serial { \"a\" \"b\" \"c\" }", limits).message(),
            "line 1, column 24: more than 2 values in one set");

  limits = {};
  limits.max_string_bytes = 3;
  EXPECT_EQ(ImportError("allow serial \"abcd\"", limits).message(),
            "line 1, column 14: this string is longer than 3 bytes");
}

TEST(UsbGuardImportTest, DefaultLimitsRejectHugeInputQuickly) {
  const std::string huge((std::size_t{4} << 20) + 1, 'a');
  EXPECT_EQ(ImportError(huge).code(), ErrorCode::kInvalidArgument);
  const std::string long_line(std::size_t{64} << 10 | 1, ' ');
  EXPECT_THAT(ImportError(long_line).message(), StartsWith("line 1, column 1: this line is"));
}

TEST(UsbGuardImportTest, ErrorsKeepHostileWordsShort) {
  const std::string word(5000, 'z');
  const Error error = ImportError("allow " + word);
  EXPECT_LT(error.message().size(), 120u);
  EXPECT_THAT(error.message(), HasSubstr("...'"));
}

}  // namespace
}  // namespace ward::policy
