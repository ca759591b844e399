# SPDX-License-Identifier: Apache-2.0
# Cross-compiling Ward for 64-bit Windows with Debian's mingw-w64 (GCC 12). The libraries come
# from the prefix that scripts/build-windows-deps.sh builds from Debian's source packages; the
# programs are linked with a static C/C++ runtime and run (tests) under Wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

# The "-posix" compilers: the default mingw-w64 ones (win32 threads) have no std::thread,
# std::mutex or std::condition_variable.
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

# The prefix is baked into its .pc and Qt CMake files: it lives at one fixed path.
set(WARD_WINDOWS_PREFIX "/var/cache/ward/windows/prefix" CACHE PATH
    "Prefix with the cross-built Windows dependencies (scripts/build-windows-deps.sh)")
set(CMAKE_FIND_ROOT_PATH "${WARD_WINDOWS_PREFIX}" /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER) # protoc, moc, rcc... are the host's
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static libgcc, libstdc++ and winpthread: a Ward .exe needs no MinGW DLL beside it.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Qt's host tools (moc, rcc, uic) are Debian's Qt 6.4.2, the version the prefix's Qt was built
# from.
set(QT_HOST_PATH "/usr" CACHE PATH "Host Qt for moc, rcc and uic")
set(QT_HOST_PATH_CMAKE_DIR "/usr/lib/x86_64-linux-gnu/cmake" CACHE PATH "Host Qt's CMake packages")

# Test programs run under Wine. Ward's own build replaces this with a wrapper that gives Wine a
# private prefix and an Xvfb display in the build tree (cmake/WardWine.cmake).
find_program(WARD_WINE_PROGRAM wine)
if(WARD_WINE_PROGRAM)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${WARD_WINE_PROGRAM}")
endif()
