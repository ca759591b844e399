// SPDX-License-Identifier: Apache-2.0
// Linux only: the store file is unreadable by the sqlite3 and sqlcipher command-line tools without
// the key and readable with it, and no store binary links plain SQLite (which would silently
// ignore PRAGMA key and write clear text). The portable part is encryption_test.cpp.
#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "process_util.h"
#include "store_test_util.h"
#include "ward/agent/store/event_store.h"
#include "ward/common/hex.h"
#include "ward/testing/elf_needed.h"
#include "ward/testing/paths.h"

namespace ward::agent::store {
namespace {

using testing::FixedKey;
using testing::kPlainMarker;
using testing::kSecretMarker;
using testing::OptionsIn;
using testing::RunShell;
using testing::ShellQuote;
using testing::TempDir;
using ward::testing::BuiltFile;
namespace fs = std::filesystem;

bool HaveTool(const std::string& tool) { return RunShell("command -v " + tool).exit_code == 0; }

class StoreEncryptionCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(HaveTool("sqlite3")) << "sqlite3 CLI missing (scripts/setup-debian.sh installs it)";
    ASSERT_TRUE(HaveTool("sqlcipher")) << "sqlcipher CLI missing (scripts/setup-debian.sh)";
    platform::FakeKeyProvider keys(FixedKey());
    testing::WriteMarkedStore(OptionsIn(dir_.path()), keys);
    db_ = dir_.path() / "events.db";
  }

  // Runs `sql` through `tool` on a copy of the store (the CLIs may create -wal/-shm files).
  testing::CommandResult Query(const std::string& tool, const std::string& sql) {
    fs::path copy_dir = dir_.path() / ("copy-" + std::to_string(++copies_));
    fs::create_directory(copy_dir);
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      if (entry.is_regular_file()) {
        fs::copy_file(entry.path(), copy_dir / entry.path().filename());
      }
    }
    fs::path script = copy_dir / "script.sql";
    std::ofstream(script) << sql << "\n";
    return RunShell(tool + " -batch " + ShellQuote((copy_dir / "events.db").string()) + " < " +
                    ShellQuote(script.string()));
  }

  TempDir dir_;
  fs::path db_;
  int copies_ = 0;
};

TEST_F(StoreEncryptionCliTest, PlainSqliteCliCannotReadIt) {
  auto r = Query("sqlite3", "SELECT count(*) FROM events;");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not a database"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(kPlainMarker), std::string::npos);
}

TEST_F(StoreEncryptionCliTest, SqlCipherCliCannotReadItWithoutTheKey) {
  auto r = Query("sqlcipher", "SELECT count(*) FROM events;");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not a database"), std::string::npos) << r.output;
}

TEST_F(StoreEncryptionCliTest, SqlCipherCliCannotReadItWithAnotherKey) {
  auto r = Query("sqlcipher", testing::KeyPragma(99) + "\nSELECT count(*) FROM events;");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find(kPlainMarker), std::string::npos);
}

TEST_F(StoreEncryptionCliTest, SqlCipherCliReadsItWithTheRawKey) {
  auto r = Query("sqlcipher", testing::KeyPragma() +
                                  "\nSELECT count(*) FROM events;\n"
                                  "SELECT value FROM state WHERE key = 'device.credential';");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\n20\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(kSecretMarker), std::string::npos) << r.output;
}

struct Binary {
  fs::path path;
  bool links_store;  // must need libsqlcipher; every binary must not need libsqlite3
};

std::vector<Binary> AgentBinaries() {
  std::vector<Binary> out = {{fs::read_symlink("/proc/self/exe"), true},
                             {BuiltFile(WARD_STORE_CRASH_CHILD), true}};
#ifdef WARD_AGENT_BINARY
  out.push_back({BuiltFile(WARD_AGENT_BINARY), false});
#endif
#ifdef WARD_SYNC_AGENT_CHILD_BINARY
  out.push_back({BuiltFile(WARD_SYNC_AGENT_CHILD_BINARY), true});
  out.push_back({BuiltFile(WARD_SYNC_TESTS_BINARY), true});
#endif
  return out;
}

TEST(StoreLinkageTest, AgentBinariesNeverNeedPlainSqlite) {
  for (const auto& [binary, links_store] : AgentBinaries()) {
    ASSERT_TRUE(fs::exists(binary)) << binary;
    auto needed = ward::testing::ElfNeeded(binary);
    ASSERT_FALSE(needed.empty()) << binary;  // readelf ran and found the dynamic section
    bool cipher = false;
    for (const auto& lib : needed) {
      EXPECT_FALSE(lib.starts_with("libsqlite3.so")) << binary << " needs " << lib;
      cipher = cipher || lib.starts_with("libsqlcipher.so");
    }
    if (links_store) {
      EXPECT_TRUE(cipher) << binary << " does not link libsqlcipher";
    }
    // Nothing it loads pulls plain SQLite in indirectly either.
    auto ldd = ward::testing::RunToolOn("ldd", binary);
    ASSERT_EQ(ldd.exit_code, 0) << ldd.output;
    EXPECT_EQ(ldd.output.find("libsqlite3.so"), std::string::npos) << binary << ":\n" << ldd.output;
  }
}

TEST(StoreLinkageTest, CheckSeesPlainSqliteWhereItIsLinked) {
  // "" when store_bench_sqlite is not built.
  const std::string_view relative = WARD_PLAIN_SQLITE_BINARY;
  const fs::path plain = relative.empty() ? fs::path() : BuiltFile(relative);
  if (plain.empty() || !fs::exists(plain)) {
    GTEST_SKIP() << "store_bench_sqlite is not built in this configuration";
  }
  auto needed = ward::testing::ElfNeeded(plain);
  EXPECT_NE(std::find(needed.begin(), needed.end(), "libsqlite3.so.0"), needed.end());
}

}  // namespace
}  // namespace ward::agent::store
