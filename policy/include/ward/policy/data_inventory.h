// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ward/v1/policy.pb.h"

// Ward's data inventory, in one place: every table and column Ward keeps on the laptop and at
// the collector, with why, on what lawful basis, for how long and who can see it (for the
// provider's DPIA), and what the learner is told about it (the tray's "What Ward records about
// me"). docs/privacy.md's inventory is generated from it (a test compares them), and tests fail
// when a store has a column the inventory does not name. Pure; thread-safe.
namespace ward::policy {

enum class DataHolder { kLaptop, kCollector };

// One kind of data and the columns that hold it. Every column of every table is named by
// exactly one entry, as "table.column".
struct InventoryEntry {
  DataHolder holder = DataHolder::kCollector;
  std::string_view data;  // what it is, in a few words
  std::vector<std::string_view> columns;
  std::string_view purpose;
  // Suggested to the provider, who as controller confirms it in its DPIA.
  std::string_view lawful_basis;
  std::string_view retention;
  std::string_view who_sees;
};

std::span<const InventoryEntry> DataInventory();

// What the learner is told about one kind of record, in words a 13-year-old can read.
struct LearnerRecordText {
  std::string what;
  std::string how_long;
  std::string who_sees;
};

// The records the laptop's agent makes under `policy` (settings changes only when a setting is
// locked, the agreement only when there is one), then what Ward never records.
std::vector<LearnerRecordText> DescribeKeptData(const ward::v1::Policy& policy);

// Every learner text there is, whatever the policy (MONITOR and ENFORCE wording both), for
// docs/privacy.md.
std::vector<LearnerRecordText> AllLearnerRecordTexts();

// docs/privacy.md's generated part: the inventory tables and the learner's words, in Markdown.
std::string InventoryMarkdown();

// The "table.column" names the inventory gives for `holder`, sorted.
std::vector<std::string> InventoryColumns(DataHolder holder);

}  // namespace ward::policy
