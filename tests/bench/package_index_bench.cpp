// SPDX-License-Identifier: Apache-2.0
// Package provenance costs on this machine's real dpkg database (read only): building the index
// of every package and of the few a policy names (against just reading the files), its memory,
// a lookup, and the MD5 a package rule needs against the SHA-256 a hash rule needs. Run:
// build/ci/tests/bench/ward_package_index_bench (see docs/benchmarks.md). WARD_BENCH_DPKG_ROOT
// picks another root (default /).
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ward/platform/package_database.h"

namespace {

namespace fs = std::filesystem;
using ward::platform::PackageIndex;
using ward::platform::PackageSelection;

fs::path Root() {
  const char* root = std::getenv("WARD_BENCH_DPKG_ROOT");
  return root != nullptr ? fs::path(root) : fs::path("/");
}

std::unique_ptr<ward::platform::PackageDatabase> Database() {
  ward::platform::PackageDatabaseOptions options;
  options.root = Root();
  auto database = ward::platform::CreatePackageDatabase(options);
  if (!database.has_value()) {
    std::fprintf(stderr, "%s\n", database.error().ToString().c_str());
    std::exit(1);
  }
  return *std::move(database);
}

std::shared_ptr<const PackageIndex> LoadOnce() {
  static const std::shared_ptr<const PackageIndex> index = [] {
    auto loaded = Database()->Load(PackageSelection::All());
    if (!loaded.has_value()) {
      std::fprintf(stderr, "%s\n", loaded.error().ToString().c_str());
      std::exit(1);
    }
    return *loaded;
  }();
  return index;
}

std::size_t ReadAll(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  static char buffer[64 * 1024];
  std::size_t total = 0;
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) {
    total += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return total;
}

// The baseline: only reading the bytes Load() reads (status, every .list and .md5sums).
void BM_ReadDatabaseFilesOnly(benchmark::State& state) {
  const fs::path admindir = Root() / "var/lib/dpkg";
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = ReadAll(admindir / "status");
    for (const auto& entry : fs::directory_iterator(admindir / "info")) {
      const auto ext = entry.path().extension();
      if (ext == ".list" || ext == ".md5sums") {
        bytes += ReadAll(entry.path());
      }
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ReadDatabaseFilesOnly)->Unit(benchmark::kMillisecond);

// What the agent does at start and after each dpkg run, for the packages the policy names.
void LoadIndex(benchmark::State& state, const PackageSelection& selection) {
  auto database = Database();
  std::shared_ptr<const PackageIndex> index;
  std::size_t heap = 0;
  for (auto _ : state) {
    index.reset();
    const std::size_t before = mallinfo2().uordblks;
    auto loaded = database->Load(selection);
    if (!loaded.has_value()) {
      state.SkipWithError(loaded.error().ToString().c_str());
      return;
    }
    index = *std::move(loaded);
    heap = mallinfo2().uordblks - before;  // what stays allocated while the index lives
  }
  const auto& s = index->stats();
  state.counters["packages"] = static_cast<double>(s.packages);
  state.counters["not_read"] = static_cast<double>(s.packages_not_selected);
  state.counters["files"] = static_cast<double>(s.files);
  state.counters["conffiles"] = static_cast<double>(s.conffiles);
  state.counters["aliased"] = static_cast<double>(s.aliased);
  state.counters["diverted"] = static_cast<double>(s.diverted);
  state.counters["no_md5sums"] = static_cast<double>(s.packages_without_md5sums);
  state.counters["index_KiB"] = static_cast<double>(s.bytes) / 1024.0;
  state.counters["heap_KiB"] = static_cast<double>(heap) / 1024.0;
}

// Every installed package: what the agent read before it read only the policy's packages.
void BM_LoadIndexAll(benchmark::State& state) { LoadIndex(state, PackageSelection::All()); }
BENCHMARK(BM_LoadIndexAll)->Unit(benchmark::kMillisecond);

// A policy naming two packages (as one allowing firefox-esr and libreoffice-core would).
void BM_LoadIndexOf2(benchmark::State& state) {
  LoadIndex(state, PackageSelection::Only({"coreutils", "bash"}));
}
BENCHMARK(BM_LoadIndexOf2)->Unit(benchmark::kMillisecond);

// A policy naming twenty, big ones among them (a compiler, git, cmake).
void BM_LoadIndexOf20(benchmark::State& state) {
  LoadIndex(state, PackageSelection::Only({"coreutils",  "bash",
                                           "dpkg",       "apt",
                                           "tar",        "gzip",
                                           "grep",       "sed",
                                           "findutils",  "diffutils",
                                           "util-linux", "procps",
                                           "perl-base",  "python3.11-minimal",
                                           "git",        "cmake",
                                           "gcc-12",     "g++-12",
                                           "make",       "openssl"}));
}
BENCHMARK(BM_LoadIndexOf20)->Unit(benchmark::kMillisecond);

// Every regular file in /usr/bin and /usr/sbin as the kernel would report it (symlinks
// resolved): mostly packaged programs, some not.
std::vector<std::string> Programs() {
  std::vector<std::string> out;
  for (const char* dir : {"usr/bin", "usr/sbin"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(Root() / dir, ec)) {
      const fs::path real = fs::canonical(entry.path(), ec);
      if (!ec && fs::is_regular_file(real)) {
        std::string text = real.string();
        out.push_back(Root() == "/" ? text : text.substr(Root().string().size()));
      }
    }
  }
  return out;
}

void BM_LookupProgram(benchmark::State& state) {
  const auto index = LoadOnce();
  const std::vector<std::string> programs = Programs();
  std::size_t i = 0;
  std::size_t found = 0;
  for (auto _ : state) {
    const auto owners = index->Lookup(programs[i]);
    found += owners.empty() ? 0U : 1U;
    benchmark::DoNotOptimize(owners);
    i = i + 1 == programs.size() ? 0 : i + 1;
  }
  state.counters["programs"] = static_cast<double>(programs.size());
  state.counters["owned_share"] =
      static_cast<double>(found) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LookupProgram);

void BM_LookupUnpackagedDirectory(benchmark::State& state) {
  const auto index = LoadOnce();
  const std::string path = "/home/learner/Downloads/game";
  for (auto _ : state) {
    benchmark::DoNotOptimize(index->Lookup(path));
  }
}
BENCHMARK(BM_LookupUnpackagedDirectory);

// One digest of a typical program, as ExecControl computes it (pread of 64 KiB blocks).
void Digest(benchmark::State& state, const EVP_MD* md) {
  const fs::path file = fs::canonical(Root() / "usr/bin/bash");
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  static unsigned char buffer[64 * 1024];
  off_t size = 0;
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, md, nullptr);
    off_t offset = 0;
    for (ssize_t n; (n = ::pread(fd, buffer, sizeof(buffer), offset)) > 0; offset += n) {
      EVP_DigestUpdate(ctx, buffer, static_cast<std::size_t>(n));
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    EVP_DigestFinal_ex(ctx, out, &length);
    EVP_MD_CTX_free(ctx);
    benchmark::DoNotOptimize(out);
    size = offset;
  }
  ::close(fd);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * size);
}
void BM_Md5OfBash(benchmark::State& state) { Digest(state, EVP_md5()); }
void BM_Sha256OfBash(benchmark::State& state) { Digest(state, EVP_sha256()); }
BENCHMARK(BM_Md5OfBash)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sha256OfBash)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
