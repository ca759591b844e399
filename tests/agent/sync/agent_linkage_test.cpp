// SPDX-License-Identifier: Apache-2.0
// ward-agent links no Poco library: the agent's sync client is written on OpenSSL, and Poco's
// shared libraries cost the agent several MB of resident pages (docs/sync.md).
#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "ward/testing/elf_needed.h"
#include "ward/testing/paths.h"

namespace ward::agent::sync {
namespace {

namespace fs = std::filesystem;
using ward::testing::ElfNeeded;

TEST(AgentLinkageTest, WardAgentNeedsNoPocoLibraryDirectlyOrIndirectly) {
  const fs::path agent = ward::testing::BuiltFile(WARD_AGENT_BINARY);
  ASSERT_TRUE(fs::exists(agent)) << agent;
  const auto needed = ElfNeeded(agent);
  ASSERT_FALSE(needed.empty()) << agent;
  for (const auto& lib : needed) {
    EXPECT_FALSE(lib.starts_with("libPoco")) << agent << " needs " << lib;
  }
  EXPECT_TRUE(std::any_of(needed.begin(), needed.end(),
                          [](const std::string& lib) { return lib.starts_with("libssl.so"); }))
      << agent << " should need libssl (its HTTPS client)";
  // Nor through any library it loads.
  const auto ldd = ward::testing::RunToolOn("ldd", agent);
  ASSERT_EQ(ldd.exit_code, 0) << ldd.output;
  EXPECT_EQ(ldd.output.find("libPoco"), std::string::npos) << ldd.output;
}

TEST(AgentLinkageTest, CheckSeesPocoWhereItIsLinked) {
  // The test collector is built on Poco: the same check must find it there.
  const auto needed = ElfNeeded(ward::testing::BuiltFile(WARD_SYNC_TEST_COLLECTOR));
  ASSERT_FALSE(needed.empty());
  EXPECT_TRUE(std::any_of(needed.begin(), needed.end(),
                          [](const std::string& lib) { return lib.starts_with("libPoco"); }));
}

}  // namespace
}  // namespace ward::agent::sync
