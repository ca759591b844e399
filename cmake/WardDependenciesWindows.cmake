# SPDX-License-Identifier: Apache-2.0
# Windows dependencies, all static, from the prefix that scripts/build-windows-deps.sh builds from
# Debian's source packages (WARD_WINDOWS_PREFIX, set by the mingw-w64 toolchain file). There is no
# Poco or PostgreSQL here: the collector and wardctl are Linux server tools.
if(NOT WARD_WINDOWS_PREFIX OR NOT EXISTS "${WARD_WINDOWS_PREFIX}/.ward-manifest")
  message(FATAL_ERROR
    "The Windows dependencies are missing (WARD_WINDOWS_PREFIX='${WARD_WINDOWS_PREFIX}'). "
    "Build them once with: sudo bash scripts/build-windows-deps.sh")
endif()

find_package(Threads REQUIRED)

set(OPENSSL_USE_STATIC_LIBS TRUE)
set(OPENSSL_ROOT_DIR "${WARD_WINDOWS_PREFIX}")
find_package(OpenSSL 3 REQUIRED)
# A static libcrypto needs Winsock and the CryptoAPI.
set_property(TARGET OpenSSL::Crypto APPEND PROPERTY INTERFACE_LINK_LIBRARIES ws2_32 crypt32)

# Module mode: the prefix's libprotobuf and headers, with the host's protoc (3.21.12 too) to
# generate code. The prefix has no protobuf::protoc of its own.
set(Protobuf_USE_STATIC_LIBS ON)
find_package(Protobuf MODULE REQUIRED)
if(NOT Protobuf_VERSION VERSION_EQUAL "3.21.12")
  message(FATAL_ERROR "protobuf ${Protobuf_VERSION} in ${WARD_WINDOWS_PREFIX}: 3.21.12 expected, "
                      "the version of Debian's protoc")
endif()

# SQLCipher 4 as an imported static library. Its pkg-config file lists -lcrypto before the
# library on static links (wrong order for a static link), so the link line is set here.
find_path(WARD_SQLCIPHER_INCLUDE_DIR sqlite3.h PATH_SUFFIXES sqlcipher REQUIRED)
find_library(WARD_SQLCIPHER_LIBRARY NAMES libsqlcipher.a REQUIRED)
add_library(SQLCipher::SQLCipher STATIC IMPORTED)
set_target_properties(SQLCipher::SQLCipher PROPERTIES
  IMPORTED_LOCATION "${WARD_SQLCIPHER_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${WARD_SQLCIPHER_INCLUDE_DIR}"
  INTERFACE_COMPILE_DEFINITIONS SQLITE_HAS_CODEC
  INTERFACE_LINK_LIBRARIES "OpenSSL::Crypto;ws2_32;crypt32;advapi32;user32;bcrypt")

find_path(WARD_LIBUSB_INCLUDE_DIR libusb.h PATH_SUFFIXES libusb-1.0 REQUIRED)
find_library(WARD_LIBUSB_LIBRARY NAMES libusb-1.0.a REQUIRED)
add_library(LibUSB::LibUSB STATIC IMPORTED)
set_target_properties(LibUSB::LibUSB PROPERTIES
  IMPORTED_LOCATION "${WARD_LIBUSB_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${WARD_LIBUSB_INCLUDE_DIR}")

# Qt 6.4.2 for Windows (shared: Qt6*.dll beside the program), with the host's moc/rcc/uic
# (QT_HOST_PATH from the toolchain file). Needed by the tray and by the Qt proof test.
option(WARD_WINDOWS_QT_TESTS "Build the test that Qt for Windows works (tests/windows)" ON)
if(WARD_BUILD_TRAY OR (WARD_BUILD_TESTS AND WARD_WINDOWS_QT_TESTS))
  set(ward_qt_components Core Gui Widgets Network)
  if(WARD_BUILD_TRAY)
    list(APPEND ward_qt_components Test LinguistTools)
  endif()
  find_package(Qt6 6.4 REQUIRED COMPONENTS ${ward_qt_components})
endif()

if(WARD_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
