// SPDX-License-Identifier: Apache-2.0
// The Windows dependencies cross-built from Debian's sources (scripts/build-windows-deps.sh) work
// in a Ward program: OpenSSL, SQLCipher (with the Windows VFS and encryption on), libusb and
// protobuf. Run under Wine in CI.
#include <libusb.h>
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ward/common/hex.h"
#include "ward/testing/temp_dir.h"
#include "ward/v1/policy.pb.h"

namespace ward {
namespace {

std::string Utf8(const std::filesystem::path& path) {
  const std::u8string text = path.u8string();
  return std::string(text.begin(), text.end());
}

TEST(WindowsDepsTest, OpenSslHashesAndDrawsRandomBytes) {
  EXPECT_GE(OpenSSL_version_num(), 0x30000000UL);
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  ASSERT_EQ(EVP_Digest("abc", 3, digest.data(), &length, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(HexEncode(std::span<const std::uint8_t>(digest.data(), length)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::array<unsigned char, 32> a{};
  std::array<unsigned char, 32> b{};
  ASSERT_EQ(RAND_bytes(a.data(), static_cast<int>(a.size())), 1);
  ASSERT_EQ(RAND_bytes(b.data(), static_cast<int>(b.size())), 1);
  EXPECT_NE(a, b);
}

// Runs one statement and returns the first column of its first row ("" when none).
std::string QueryOne(sqlite3* db, const char* sql, int* rc_out = nullptr) {
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &statement, nullptr);
  std::string value;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, 0);
      value = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(statement);
  if (rc_out != nullptr) {
    *rc_out = rc;
  }
  return value;
}

constexpr char kRawKey[] =
    "PRAGMA key = \"x'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'\"";

TEST(WindowsDepsTest, SqlCipherEncryptsWithTheWindowsVfs) {
  // The autoconf trap: without config_TARGET_EXEEXT=.exe the library is built with the Unix VFS.
  ASSERT_NE(sqlite3_vfs_find(nullptr), nullptr);
  EXPECT_STREQ(sqlite3_vfs_find(nullptr)->zName, "win32");

  ward::testing::TempDir dir;
  const std::filesystem::path path = dir.path() / "store.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Utf8(path).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kRawKey, nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_FALSE(QueryOne(db, "PRAGMA cipher_version").empty()) << "not SQLCipher";
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE t(v TEXT); INSERT INTO t VALUES('a secret') "
                         "ON CONFLICT DO NOTHING RETURNING v",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  std::ifstream file(path, std::ios::binary);
  std::string head(16, '\0');
  file.read(head.data(), static_cast<std::streamsize>(head.size()));
  EXPECT_NE(head, std::string("SQLite format 3\0", 16)) << "the file is not encrypted";

  ASSERT_EQ(sqlite3_open(Utf8(path).c_str(), &db), SQLITE_OK);
  int rc = SQLITE_OK;
  QueryOne(db, "SELECT count(*) FROM sqlite_master", &rc);
  EXPECT_EQ(rc, SQLITE_NOTADB) << "readable without the key";
  sqlite3_close(db);

  ASSERT_EQ(sqlite3_open(Utf8(path).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kRawKey, nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(QueryOne(db, "SELECT v FROM t", &rc), "a secret");
  EXPECT_EQ(rc, SQLITE_OK);
  sqlite3_close(db);
}

TEST(WindowsDepsTest, LibusbStartsAndLists) {
  const libusb_version* version = libusb_get_version();
  EXPECT_EQ(version->major, 1);
  EXPECT_EQ(version->minor, 0);
  EXPECT_EQ(version->micro, 26);
  libusb_context* context = nullptr;
  ASSERT_EQ(libusb_init(&context), LIBUSB_SUCCESS);
  libusb_device** devices = nullptr;
  const ssize_t count = libusb_get_device_list(context, &devices);
  EXPECT_GE(count, 0);  // Wine shows no USB devices; a real laptop shows its hubs
  if (count >= 0) {
    libusb_free_device_list(devices, 1);
  }
  libusb_exit(context);
}

TEST(WindowsDepsTest, ProtobufRoundTripsWardMessages) {
  EXPECT_EQ(GOOGLE_PROTOBUF_VERSION, 3021012);
  v1::Policy policy;
  policy.set_version(7);
  policy.set_name("Learners under 18");
  policy.mutable_usb()->set_default_action(v1::USB_ACTION_BLOCK);
  v1::Policy again;
  ASSERT_TRUE(again.ParseFromString(policy.SerializeAsString()));
  EXPECT_EQ(again.version(), 7u);
  EXPECT_EQ(again.name(), "Learners under 18");
  EXPECT_EQ(again.usb().default_action(), v1::USB_ACTION_BLOCK);
}

}  // namespace
}  // namespace ward
