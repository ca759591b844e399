// SPDX-License-Identifier: Apache-2.0
// Real fanotify, only ever on a tmpfs inside this test process's private mount namespace.
#include "ward/platform/exec_control.h"

#include <signal.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "private_tmpfs.h"
#include "ward/testing/require.h"

namespace ward::platform {
namespace {

namespace fs = std::filesystem;
using ward::testing::Spawn;
using ward::testing::WaitExit;

class ExecControlLinuxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WARD_REQUIRE_ROOT();
    const std::string failed = ward::testing::EnterPrivateTmpfs(dir_);
    ASSERT_EQ(failed, "");
    program_ = dir_ / "true";
    fs::copy_file("/bin/true", program_);
    loader_ = dir_ / "ld.so";
    ASSERT_FALSE(ward::testing::SystemLoader().empty());
    fs::copy_file(ward::testing::SystemLoader(), loader_);
    fs::permissions(loader_, fs::perms::owner_all, fs::perm_options::add);
  }

  void TearDown() override { ward::testing::LeavePrivateTmpfs(dir_); }

  std::unique_ptr<ExecControl> Create(ExecControlOptions options = {}) {
    options.mounts = {dir_};
    options.loaders = {loader_};
    auto control = CreateExecControl(options);
    EXPECT_TRUE(control.has_value()) << control.error().ToString();
    return control.has_value() ? *std::move(control) : nullptr;
  }

  // A copy of `true` whose PT_INTERP names the watched loader copy, so the kernel opens that
  // loader as its interpreter (the system loader's path and `loader_` have the same length).
  fs::path InterpretedByWatchedLoader() {
    std::ifstream in(program_, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::string image = bytes.str();
    const std::string original = ward::testing::SystemLoader().string();
    const std::size_t at = image.find(original + '\0');
    EXPECT_NE(at, std::string::npos);
    EXPECT_EQ(loader_.string().size(), original.size());
    if (at == std::string::npos || loader_.string().size() != original.size()) {
      return {};
    }
    image.replace(at, original.size(), loader_.string());
    const fs::path patched = dir_ / "ptrue";
    std::ofstream(patched, std::ios::binary) << image;
    fs::permissions(patched, fs::perms::owner_all);
    return patched;
  }

  // Answers the first request with AllowAndRemember (and keeps reading, so the kernel's opening
  // of a watched interpreter is answered too) and returns its file; the exec ran.
  std::optional<FileIdentity> RunRemembering(ExecControl& control, const fs::path& program) {
    const pid_t child = Spawn({program.string()});
    auto request = NextRequest(control);
    if (!request.has_value()) {
      return std::nullopt;
    }
    EXPECT_TRUE(control.AllowAndRemember(request->id).has_value());
    auto more = control.Next(std::chrono::milliseconds(300));
    EXPECT_TRUE(more.has_value() && !more->has_value()) << "one request only";
    EXPECT_EQ(WaitExit(child), 0);
    return request->file;
  }

  // Runs `argv` and answers every request with `verdict` until it exits; how many it raised.
  static int RunAnswering(ExecControl& control, const std::vector<std::string>& argv,
                          ExecVerdict verdict, int* exit_code) {
    const pid_t child = Spawn(argv);
    int requests = 0;
    for (;;) {
      auto next = control.Next(std::chrono::milliseconds(300));
      if (!next.has_value() || !next->has_value()) {
        break;
      }
      ++requests;
      EXPECT_TRUE(control.Respond((*next)->id, verdict).has_value());
    }
    *exit_code = WaitExit(child);
    return requests;
  }

  // `loader_ program` run by hand: a request flagged as a direct loader run; refused.
  void ExpectDirectLoaderRunFlagged(ExecControl& control, const fs::path& program) {
    const pid_t child = Spawn({loader_.string(), program.string()});
    auto request = NextRequest(control);
    ASSERT_TRUE(request.has_value());
    EXPECT_TRUE(request->direct_loader);
    ASSERT_TRUE(control.Respond(request->id, ExecVerdict::kDeny).has_value());
    EXPECT_EQ(WaitExit(child), 126);
  }

  // The next request, waiting at most 10 s.
  static std::optional<ExecRequest> NextRequest(ExecControl& control) {
    auto next = control.Next(std::chrono::seconds(10));
    EXPECT_TRUE(next.has_value()) << next.error().ToString();
    return next.has_value() ? *next : std::nullopt;
  }

  fs::path dir_;
  fs::path program_;
  fs::path loader_;
};

TEST_F(ExecControlLinuxTest, DeniedExecFailsWithPermissionError) {
  auto control = Create();
  ASSERT_NE(control, nullptr);
  const pid_t child = Spawn({program_.string()});
  auto request = NextRequest(*control);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->pid, child);
  EXPECT_EQ(request->path, "") << "filled only on request";
  ASSERT_TRUE(control->Describe(*request).has_value());
  EXPECT_EQ(request->path, program_.string());
  EXPECT_EQ(request->uid, ::getuid());
  EXPECT_FALSE(request->direct_loader);
  ASSERT_TRUE(control->Respond(request->id, ExecVerdict::kDeny).has_value());
  EXPECT_EQ(WaitExit(child), 126);
}

TEST_F(ExecControlLinuxTest, AllowedExecRunsAndHashIsOfTheContent) {
  auto control = Create();
  ASSERT_NE(control, nullptr);
  const pid_t child = Spawn({program_.string()});
  auto request = NextRequest(*control);
  ASSERT_TRUE(request.has_value());
  auto hash = control->Sha256(request->id);
  ASSERT_TRUE(hash.has_value()) << hash.error().ToString();
  ASSERT_TRUE(control->Respond(request->id, ExecVerdict::kAllow).has_value());
  EXPECT_EQ(WaitExit(child), 0);
  // Cross-check with coreutils.
  const fs::path out = dir_ / "sum";
  ASSERT_EQ(std::system(("sha256sum " + program_.string() + " > " + out.string()).c_str()), 0);
  std::ifstream in(out);
  std::string expected;
  in >> expected;
  EXPECT_EQ(*hash, expected);
  EXPECT_EQ(control->Sha256(request->id).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(control->Describe(*request).error().code(), ErrorCode::kNotFound);
}

TEST_F(ExecControlLinuxTest, RewrittenFileHasANewIdentity) {
  auto control = Create();
  ASSERT_NE(control, nullptr);
  pid_t child = Spawn({program_.string()});
  auto first = NextRequest(*control);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(control->Respond(first->id, ExecVerdict::kAllow).has_value());
  ASSERT_EQ(WaitExit(child), 0);
  {
    std::ofstream append(program_, std::ios::app | std::ios::binary);
    append << '\0';
  }
  child = Spawn({program_.string()});
  auto second = NextRequest(*control);
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(control->Respond(second->id, ExecVerdict::kAllow).has_value());
  EXPECT_EQ(WaitExit(child), 0);
  EXPECT_EQ(first->file.inode, second->file.inode);
  EXPECT_NE(first->file, second->file);
  EXPECT_EQ(second->file.size, first->file.size + 1);
}

TEST_F(ExecControlLinuxTest, UnansweredRequestGetsTheTimeoutVerdict) {
  ExecControlOptions options;
  options.answer_within = std::chrono::milliseconds(200);
  options.timeout_verdict = ExecVerdict::kDeny;
  auto control = Create(options);
  ASSERT_NE(control, nullptr);
  const pid_t child = Spawn({program_.string()});
  auto request = NextRequest(*control);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(WaitExit(child), 126);
  EXPECT_EQ(control->Stats().timed_out, 1u);
  EXPECT_EQ(control->Respond(request->id, ExecVerdict::kAllow).error().code(),
            ErrorCode::kDeadlineExceeded);
}

TEST_F(ExecControlLinuxTest, UnansweredRequestRightAfterAnAnsweredOneTimesOutToo) {
  ExecControlOptions options;
  options.answer_within = std::chrono::milliseconds(200);
  options.timeout_verdict = ExecVerdict::kDeny;
  auto control = Create(options);
  ASSERT_NE(control, nullptr);
  // The first keeps the deadline thread's timer armed instead of idle; the second, left
  // unanswered, must still get its verdict from that timer.
  for (int i = 0; i < 3; ++i) {
    const pid_t child = Spawn({program_.string()});
    auto request = NextRequest(*control);
    ASSERT_TRUE(request.has_value());
    ASSERT_TRUE(control->Respond(request->id, ExecVerdict::kAllow).has_value());
    ASSERT_EQ(WaitExit(child), 0);
  }
  const pid_t child = Spawn({program_.string()});
  auto request = NextRequest(*control);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(WaitExit(child), 126);  // only the timeout verdict refuses here
  EXPECT_EQ(control->Stats().timed_out, 1u);
}

TEST_F(ExecControlLinuxTest, ShutdownAnswersEveryPendingRequest) {
  ExecControlOptions options;
  options.shutdown_verdict = ExecVerdict::kAllow;
  auto control = Create(options);
  ASSERT_NE(control, nullptr);
  const pid_t child = Spawn({program_.string()});
  auto request = NextRequest(*control);
  ASSERT_TRUE(request.has_value());
  control->Shutdown();
  EXPECT_EQ(WaitExit(child), 0);
  EXPECT_EQ(control->Stats().shutdown_answered, 1u);
  // After shutdown nothing is held: a new exec is answered without a caller.
  EXPECT_EQ(WaitExit(Spawn({program_.string()})), 0);
}

TEST_F(ExecControlLinuxTest, DirectLoaderExecutionIsFlagged) {
  auto control = Create();
  ASSERT_NE(control, nullptr);
  const pid_t child = Spawn({loader_.string(), program_.string()});
  auto request = NextRequest(*control);
  ASSERT_TRUE(request.has_value());
  EXPECT_TRUE(request->direct_loader);
  ASSERT_TRUE(control->Describe(*request).has_value());
  EXPECT_EQ(request->path, loader_.string());
  ASSERT_TRUE(control->Respond(request->id, ExecVerdict::kDeny).has_value());
  EXPECT_EQ(WaitExit(child), 126);
}

TEST_F(ExecControlLinuxTest, TooManyPendingGetTheOverloadVerdict) {
  ExecControlOptions options;
  options.max_pending = 1;
  options.overload_verdict = ExecVerdict::kDeny;
  auto control = Create(options);
  ASSERT_NE(control, nullptr);
  const pid_t first = Spawn({program_.string()});
  auto held = NextRequest(*control);
  ASSERT_TRUE(held.has_value());
  const pid_t second = Spawn({program_.string()});
  // The second exec is answered inside Next() without being handed out.
  auto next = control->Next(std::chrono::milliseconds(500));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(WaitExit(second), 126);
  EXPECT_EQ(control->Stats().overloaded, 1u);
  ASSERT_TRUE(control->Respond(held->id, ExecVerdict::kAllow).has_value());
  EXPECT_EQ(WaitExit(first), 0);
}

TEST_F(ExecControlLinuxTest, TrustedOwnChildRunsUnjudgedButNotAGrandchild) {
  ExecControlOptions options;
  options.trust_own_children = true;
  options.answer_within = std::chrono::seconds(20);
  auto control = Create(options);
  ASSERT_NE(control, nullptr);
  // Our own child is let run inside Next(), which hands nothing out.
  const pid_t child = Spawn({program_.string()});
  auto next = control->Next(std::chrono::milliseconds(500));
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(WaitExit(child), 0);
  EXPECT_EQ(control->Stats().own_process, 1u);
  // A grandchild while we have a child (the shell): held for the caller.
  const pid_t shell = Spawn({"/bin/sh", "-c", program_.string() + "; exit $?"});
  auto request = NextRequest(*control);
  ASSERT_TRUE(request.has_value());
  EXPECT_NE(request->pid, shell);
  ASSERT_TRUE(control->Respond(request->id, ExecVerdict::kDeny).has_value());
  EXPECT_EQ(WaitExit(shell), 126);
  // An orphan while we have no child at all: held too.
  EXPECT_EQ(WaitExit(Spawn({"/bin/sh", "-c", "(sleep 0.3; " + program_.string() + ") &"})), 0);
  auto orphan = NextRequest(*control);
  ASSERT_TRUE(orphan.has_value());
  ASSERT_TRUE(control->Respond(orphan->id, ExecVerdict::kAllow).has_value());
  EXPECT_EQ(control->Stats().own_process, 1u);
  EXPECT_EQ(control->Stats().requests, 2u);
}

TEST_F(ExecControlLinuxTest, KilledListenerLeavesNoExecHanging) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t listener = ::fork();
  if (listener == 0) {
    ExecControlOptions options;
    options.mounts = {dir_};
    auto control = CreateExecControl(options);
    char byte = control.has_value() ? 'r' : 'e';
    (void)!::write(ready[1], &byte, 1);
    // Take the request and never answer it.
    if (control.has_value() && (*control)->Next(std::chrono::seconds(10)).has_value()) {
      byte = 'g';
      (void)!::write(ready[1], &byte, 1);
    }
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'r');
  const pid_t child = Spawn({program_.string()});
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'g');  // the exec is held by the listener now
  ::kill(listener, SIGKILL);
  EXPECT_EQ(WaitExit(child), 0);  // released by the kernel, not left hanging
  WaitExit(listener);
}

TEST_F(ExecControlLinuxTest, RememberedProgramRunsWithoutARequestUntilItIsWritten) {
  auto control = Create();
  ASSERT_NE(control, nullptr);
  ASSERT_TRUE(RunRemembering(*control, program_).has_value());
  EXPECT_EQ(control->Stats().remembered, 1u);
  int code = -1;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(RunAnswering(*control, {program_.string()}, ExecVerdict::kDeny, &code), 0);
    EXPECT_EQ(code, 0) << "the kernel answered from its ignore mark";
  }
  EXPECT_EQ(control->Stats().requests, 1u);
  // Any write drops what the kernel remembers: the next run is a request again.
  {
    std::ofstream append(program_, std::ios::app | std::ios::binary);
    append << '\0';
  }
  EXPECT_EQ(RunAnswering(*control, {program_.string()}, ExecVerdict::kDeny, &code), 1);
  EXPECT_EQ(code, 126);
}

TEST_F(ExecControlLinuxTest, ForgetRememberedMakesTheNextRunARequestAgain) {
  auto control = Create();
  ASSERT_NE(control, nullptr);
  ASSERT_TRUE(RunRemembering(*control, program_).has_value());
  control->ForgetRemembered();
  EXPECT_EQ(control->Stats().remembered_flushes, 1u);
  int code = -1;
  EXPECT_EQ(RunAnswering(*control, {program_.string()}, ExecVerdict::kDeny, &code), 1);
  EXPECT_EQ(code, 126);
  // The loader is still watched after the flush: a direct run of it is still seen and flagged.
  ExpectDirectLoaderRunFlagged(*control, program_);
}

TEST_F(ExecControlLinuxTest, ProgramALearnerCouldWriteIsNeverRemembered) {
  auto control = Create();
  ASSERT_NE(control, nullptr);
  fs::permissions(program_, fs::perms::others_write, fs::perm_options::add);
  ASSERT_TRUE(RunRemembering(*control, program_).has_value());
  fs::permissions(program_, fs::perms::others_write, fs::perm_options::remove);
  ASSERT_EQ(::chown(program_.c_str(), 65534, 65534), 0);
  ASSERT_TRUE(RunRemembering(*control, program_).has_value());
  EXPECT_EQ(control->Stats().remembered, 0u);
  EXPECT_EQ(control->Stats().requests, 2u);
}

TEST_F(ExecControlLinuxTest, KernelCacheOffIsAPlainAllow) {
  ExecControlOptions options;
  options.kernel_cache = false;
  auto control = Create(options);
  ASSERT_NE(control, nullptr);
  ASSERT_TRUE(RunRemembering(*control, program_).has_value());
  ASSERT_TRUE(RunRemembering(*control, program_).has_value());
  EXPECT_EQ(control->Stats().remembered, 0u);
  EXPECT_EQ(control->Stats().requests, 2u);
}

TEST_F(ExecControlLinuxTest, RememberedProgramsInterpreterIsStillToldFromADirectLoaderRun) {
  auto control = Create();
  ASSERT_NE(control, nullptr);
  const fs::path patched = InterpretedByWatchedLoader();
  ASSERT_FALSE(patched.empty());
  ASSERT_TRUE(RunRemembering(*control, patched).has_value());
  EXPECT_EQ(control->Stats().remembered, 1u);
  EXPECT_EQ(control->Stats().loader_as_interpreter, 1u);
  // Its next runs raise no request: the program's event is gone, and the loader's is answered
  // as its interpreter because the exec notification says who opened the remembered program.
  int code = -1;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(RunAnswering(*control, {patched.string()}, ExecVerdict::kDeny, &code), 0);
    EXPECT_EQ(code, 0);
  }
  EXPECT_EQ(control->Stats().loader_as_interpreter, 4u);
  EXPECT_EQ(control->Stats().requests, 1u);
  // Running the loader by hand is still a request flagged as such, with the remembered program
  // as its argument too.
  ExpectDirectLoaderRunFlagged(*control, program_);
  ExpectDirectLoaderRunFlagged(*control, patched);
}

TEST_F(ExecControlLinuxTest, FullKernelCacheForgetsEverythingAndRelearns) {
  ExecControlOptions options;
  options.kernel_cache_capacity = 1;
  auto control = Create(options);
  ASSERT_NE(control, nullptr);
  const fs::path other = dir_ / "false";
  fs::copy_file("/bin/false", other);
  ASSERT_TRUE(RunRemembering(*control, program_).has_value());
  const pid_t child = Spawn({other.string()});
  auto request = NextRequest(*control);
  ASSERT_TRUE(request.has_value());
  ASSERT_TRUE(control->AllowAndRemember(request->id).has_value());
  EXPECT_EQ(WaitExit(child), 1);
  EXPECT_EQ(control->Stats().remembered_flushes, 1u);
  // `true` was forgotten to make room; `false` is remembered.
  int code = -1;
  EXPECT_EQ(RunAnswering(*control, {program_.string()}, ExecVerdict::kAllow, &code), 1);
  EXPECT_EQ(RunAnswering(*control, {other.string()}, ExecVerdict::kDeny, &code), 0);
  EXPECT_EQ(code, 1);
}

}  // namespace
}  // namespace ward::platform
