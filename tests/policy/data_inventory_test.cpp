// SPDX-License-Identifier: Apache-2.0
#include "ward/policy/data_inventory.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_test_util.h"

namespace ward::policy {
namespace {

using testing::MinimalPolicyJson;
using testing::MustLoad;

std::vector<std::string> Whats(const std::vector<LearnerRecordText>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) {
    out.push_back(r.what);
  }
  return out;
}

TEST(DataInventoryTest, SamplePolicyTellsTheLearnerWhatHowLongAndWho) {
  const auto kept = DescribeKeptData(MustLoad(testing::ReadTestdata("policy/sample-under18.json")));
  EXPECT_THAT(
      Whats(kept),
      ::testing::ElementsAre(
          "Which USB devices are plugged in, and whether Ward allowed them.",
          "Programs Ward blocked, and when.",
          "When a locked setting was changed and Ward put it back.",
          "When you agreed to the rules for using this laptop.",
          "Concerns you report, and what the safeguarding team does about them.",
          "Ward does not record your screen, what you type, your messages or the websites you "
          "visit."));
  ASSERT_EQ(kept.size(), 6u);
  EXPECT_EQ(kept[0].how_long,
            "Deleted from this laptop once it reaches the college. The college keeps it for 90 "
            "days. If it can't be sent, it is deleted from this laptop after 30 days.");
  EXPECT_EQ(kept[3].how_long,
            "Deleted from this laptop once it reaches the college. The college keeps it until a "
            "year after you last use the laptop. If it can't be sent, it is deleted from this "
            "laptop after 30 days.");
  EXPECT_EQ(kept[0].who_sees, "The IT team and the safeguarding team.");
  EXPECT_EQ(kept[4].who_sees,
            "Only the safeguarding team can read them. IT can see that a report was sent from "
            "this laptop, but not what it says or who sent it.");
  EXPECT_EQ(kept[5].how_long, "");
  EXPECT_EQ(kept[5].who_sees, "");
}

TEST(DataInventoryTest, FollowsThePolicy) {
  const auto monitor = DescribeKeptData(MustLoad(MinimalPolicyJson("", "MODE_MONITOR")));
  EXPECT_THAT(Whats(monitor), ::testing::Contains("Programs Ward would have blocked."));
  // Nothing locked: nothing about settings. No store limits: no "after N days".
  const auto plain = DescribeKeptData(MustLoad(MinimalPolicyJson()));
  EXPECT_THAT(Whats(plain), ::testing::Not(::testing::Contains(
                                "When a locked setting was changed and Ward put it back.")));
  EXPECT_EQ(plain[0].how_long.find("can't be sent"), std::string::npos);
}

TEST(DataInventoryTest, LearnerSentencesAreShortAndWhole) {
  for (const LearnerRecordText& t : AllLearnerRecordTexts()) {
    for (const std::string& s : {t.what, t.how_long, t.who_sees}) {
      if (s.empty()) {
        continue;
      }
      EXPECT_LE(s.size(), 160u) << s;
      EXPECT_TRUE(s.ends_with('.')) << s;
    }
  }
}

TEST(DataInventoryTest, EveryColumnIsNamedOnceAndEveryEntryIsComplete) {
  for (DataHolder holder : {DataHolder::kLaptop, DataHolder::kCollector}) {
    const std::vector<std::string> columns = InventoryColumns(holder);
    const std::set<std::string> unique(columns.begin(), columns.end());
    EXPECT_EQ(unique.size(), columns.size()) << "a column is named by two entries";
  }
  for (const InventoryEntry& e : DataInventory()) {
    EXPECT_FALSE(e.columns.empty()) << e.data;
    for (std::string_view cell : {e.data, e.purpose, e.lawful_basis, e.retention, e.who_sees}) {
      EXPECT_FALSE(cell.empty()) << e.data;
    }
    for (std::string_view column : e.columns) {
      EXPECT_NE(column.find('.'), std::string_view::npos) << column;
    }
  }
}

// docs/privacy.md carries the generated inventory between two markers. After changing the
// inventory, regenerate it with WARD_UPDATE_DOCS=1 and this test.
TEST(DataInventoryTest, PrivacyDocIsTheGeneratedInventory) {
  const auto path = ward::testing::SourceDir() / "docs" / "privacy.md";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path;
  std::ostringstream text;
  text << in.rdbuf();
  std::string doc = text.str();
  const std::string begin = "<!-- inventory:begin -->\n";
  const std::string end = "<!-- inventory:end -->";
  const auto from = doc.find(begin);
  const auto to = doc.find(end);
  ASSERT_NE(from, std::string::npos) << "docs/privacy.md has no " << begin;
  ASSERT_NE(to, std::string::npos) << "docs/privacy.md has no " << end;
  ASSERT_LT(from, to);
  const std::string generated = InventoryMarkdown();
  const std::string current = doc.substr(from + begin.size(), to - from - begin.size());
  if (current != generated && std::getenv("WARD_UPDATE_DOCS") != nullptr) {
    doc.replace(from + begin.size(), to - from - begin.size(), generated);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << doc;
    GTEST_SKIP() << "docs/privacy.md regenerated; run again without WARD_UPDATE_DOCS";
  }
  EXPECT_EQ(current, generated) << "docs/privacy.md's inventory is out of date: run this test "
                                   "with WARD_UPDATE_DOCS=1 to regenerate it";
}

}  // namespace
}  // namespace ward::policy
