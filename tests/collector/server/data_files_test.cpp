// SPDX-License-Identifier: Apache-2.0
// The collector's data is for its own user only (issue 14, finding 7): the store and its -wal
// and -shm files are 0600 however the process was started, and the real ward-collector refuses
// to start, saying what to run, when its data directory or store files are open to others.
#include "ward/collector/server/data_files.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "ward/collector/storage/storage.h"
#include "ward/testing/child_process.h"
#include "ward/testing/collector_support.h"
#include "ward/testing/paths.h"

namespace ward::collector {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

unsigned ModeOf(const fs::path& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the real ward-collector with `args` under the umask most shells have (022), so the
// modes the test sees are the binary's own doing.
pid_t StartCollector(const std::vector<std::string>& args, const fs::path& output) {
  std::vector<std::string> argv = {ward::testing::BuiltFile(WARD_COLLECTOR_BINARY).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const mode_t old = ::umask(022);
  const pid_t pid = testing::Spawn(argv, output.string());
  ::umask(old);
  return pid;
}

// Runs it to the end (bounded); its exit code, or -1 when it had to be killed.
int RunCollector(const std::vector<std::string>& args, const fs::path& output) {
  const pid_t pid = StartCollector(args, output);
  EXPECT_GT(pid, 0);
  auto status = testing::WaitForExit(pid, 60s);
  if (!status.has_value()) {
    testing::Reap(pid, SIGKILL);
    return -1;
  }
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

class DataFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "collector";
    out_ = dir_.path() / "out.txt";
    ASSERT_EQ(RunCollector({"init", "--data-dir", data_.string(), "--listen", "127.0.0.1:0"}, out_),
              0)
        << ReadText(out_);
  }

  // Serves until the store's -wal and -shm files exist, checks it is up, then stops it with
  // SIGTERM. SQLite creates -shm after -wal, so waiting for -wal alone can stat a missing -shm.
  void ServeOnce() {
    const pid_t pid =
        StartCollector({"--data-dir", data_.string(), "--log-level", "warning"}, out_);
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(testing::WaitUntil(
        [&] {
          return fs::exists(data_ / "collector.db-wal") && fs::exists(data_ / "collector.db-shm") &&
                 ::kill(pid, 0) == 0;
        },
        30s))
        << ReadText(out_);
    served_modes_ = {ModeOf(data_), ModeOf(data_ / "collector.db"),
                     ModeOf(data_ / "collector.db-wal"), ModeOf(data_ / "collector.db-shm"),
                     ModeOf(data_ / "collector.conf")};
    const int status = testing::Reap(pid, SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadText(out_);
  }

  testing::TempDir dir_;
  fs::path data_;
  fs::path out_;
  std::vector<unsigned> served_modes_;
};

TEST_F(DataFilesTest, InitAndServeKeepTheDirectoryAndEveryStoreFilePrivate) {
  ASSERT_NO_FATAL_FAILURE(ServeOnce());
  EXPECT_EQ(served_modes_, (std::vector<unsigned>{0700, 0600, 0600, 0600, 0600}));
  EXPECT_EQ(ModeOf(data_ / "server.key"), 0600u);
  EXPECT_EQ(ModeOf(data_ / "ca.key"), 0600u);
}

TEST_F(DataFilesTest, Regression_Issue14_RefusesToStartWithADataDirectoryOthersCanRead) {
  ASSERT_EQ(::chmod(data_.c_str(), 0755), 0);
  EXPECT_EQ(RunCollector({"--data-dir", data_.string()}, out_), 1);
  const std::string said = ReadText(out_);
  EXPECT_NE(said.find("refusing to start"), std::string::npos) << said;
  EXPECT_NE(said.find(data_.string() + " (mode 0755)"), std::string::npos) << said;
  EXPECT_NE(said.find("chmod 700 " + data_.string()), std::string::npos) << said;
  // The admin commands open the same store and refuse it too.
  EXPECT_EQ(
      RunCollector(
          {"token", "create", "--data-dir", data_.string(), "--role", "dsl", "--name", "x"}, out_),
      1);
  ASSERT_EQ(::chmod(data_.c_str(), 0700), 0);
  ASSERT_NO_FATAL_FAILURE(ServeOnce());
}

TEST_F(DataFilesTest, Regression_Issue14_RefusesToStartWithStoreFilesOthersCanRead) {
  ASSERT_NO_FATAL_FAILURE(ServeOnce());
  const fs::path db = data_ / "collector.db";
  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);
  // A clean stop removes -wal and -shm; a collector killed by an old release leaves them behind.
  std::ofstream(db.string() + "-wal").close();
  ASSERT_EQ(::chmod((db.string() + "-wal").c_str(), 0640), 0);
  EXPECT_EQ(RunCollector({"--data-dir", data_.string()}, out_), 1);
  const std::string said = ReadText(out_);
  EXPECT_NE(said.find(db.string() + " (mode 0644)"), std::string::npos) << said;
  EXPECT_NE(said.find(db.string() + "-wal (mode 0640)"), std::string::npos) << said;
  EXPECT_NE(said.find("chmod 600 " + db.string() + " " + db.string() + "-wal"), std::string::npos)
      << said;
}

TEST(DataIsPrivateTest, ChecksTheDataDirectoryTheStoreDirectoryAndTheStoreFiles) {
  testing::TempDir dir;  // 0700
  const fs::path db = dir.path() / "store" / "c.db";
  fs::create_directories(db.parent_path());
  ASSERT_EQ(::chmod(db.parent_path().c_str(), 0700), 0);
  {
    const mode_t old = ::umask(022);  // the store must not depend on the caller's umask
    auto store = OpenSqliteStorage(db.string());
    ::umask(old);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    ASSERT_TRUE((*store)->CreateGroup({"g", std::string(64, 'a')}).has_value());
    EXPECT_EQ(ModeOf(db), 0600u);
    EXPECT_EQ(ModeOf(db.string() + "-wal"), 0600u);
    EXPECT_TRUE(CheckDataIsPrivate(dir.path(), "sqlite:" + db.string()).has_value());
  }
  ASSERT_EQ(::chmod(db.parent_path().c_str(), 0710), 0);
  auto refused = CheckDataIsPrivate(dir.path(), "sqlite:" + db.string());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find(db.parent_path().string() + " (mode 0710)"),
            std::string::npos)
      << refused.error().message();
  // A PostgreSQL store's files belong to the database server; the data directory still counts.
  EXPECT_TRUE(CheckDataIsPrivate(dir.path(), "postgresql:host=db dbname=ward").has_value());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0701), 0);
  EXPECT_FALSE(CheckDataIsPrivate(dir.path(), "postgresql:host=db dbname=ward").has_value());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  // A data directory that is not there is an error, not a pass.
  auto missing = CheckDataIsPrivate(dir.path() / "nope", "");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace ward::collector
