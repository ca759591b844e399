# SPDX-License-Identifier: Apache-2.0
# Linux: every dependency comes from Debian 12 packages (scripts/setup-debian.sh installs them).
# Windows: from the prefix scripts/build-windows-deps.sh cross-builds from Debian's source
# packages (cmake/toolchains/mingw-w64-x86_64.cmake points the search there).
# Either way: SQLCipher::SQLCipher and LibUSB::LibUSB name the two pkg-config libraries.
if(WIN32)
  include(WardDependenciesWindows)
  return()
endif()

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Protobuf REQUIRED)
# Boost.Beast and Asio (header-only) for the collector's HTTP layer (docs/adr/0006).
find_package(Boost 1.81 REQUIRED CONFIG)

# Poco's DataPostgreSQL config names PostgreSQL::client, which nothing defines.
find_package(PostgreSQL REQUIRED)
if(NOT TARGET PostgreSQL::client)
  add_library(PostgreSQL::client ALIAS PostgreSQL::PostgreSQL)
endif()
find_package(Poco REQUIRED COMPONENTS Foundation Util Net NetSSL Crypto JSON Data DataSQLite
                                      DataPostgreSQL Zip)

# sqlcipher.pc carries the SQLite version: 3.46 is SQLCipher 4.6 (bookworm-backports); the
# 3.15 of bookworm's SQLCipher 3.4.1 is refused here.
pkg_check_modules(SQLCIPHER REQUIRED IMPORTED_TARGET sqlcipher>=3.40)
pkg_check_modules(LIBUSB REQUIRED IMPORTED_TARGET libusb-1.0)
add_library(SQLCipher::SQLCipher ALIAS PkgConfig::SQLCIPHER)
add_library(LibUSB::LibUSB ALIAS PkgConfig::LIBUSB)
pkg_check_modules(LIBUDEV REQUIRED IMPORTED_TARGET libudev)

if(WARD_BUILD_TRAY)
  find_package(Qt6 REQUIRED COMPONENTS Core Gui Widgets Network Test LinguistTools)
endif()

if(WARD_BUILD_TESTS)
  find_package(GTest REQUIRED)
  pkg_check_modules(UMOCKDEV IMPORTED_TARGET umockdev-1.0)
endif()
if(WARD_BUILD_BENCH)
  find_package(benchmark REQUIRED)
  find_package(SQLite3 REQUIRED) # plain SQLite, only for the store-vs-SQLite benchmark binary
endif()
