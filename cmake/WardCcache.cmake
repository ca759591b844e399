# SPDX-License-Identifier: Apache-2.0
# ccache for every preset. The cache lives under /var/cache (shared by every clone on the machine)
# and base_dir is this source tree, so a fresh clone in another folder hits the same entries:
# paths inside the tree are hashed relative to the build directory, and the build directory itself
# is not hashed (hash_dir off), so debug info keeps whichever clone compiled it first.
option(WARD_CCACHE "Compile through ccache when it is installed" ON)
set(WARD_CCACHE_DIR "/var/cache/ward/ccache" CACHE PATH "ccache's cache directory")
if(WARD_CCACHE)
  find_program(WARD_CCACHE_PROGRAM ccache)
  find_program(WARD_ENV_PROGRAM env)
  if(WARD_CCACHE_PROGRAM AND WARD_ENV_PROGRAM)
    set(launcher "${WARD_ENV_PROGRAM}" "CCACHE_DIR=${WARD_CCACHE_DIR}"
                 "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}" "CCACHE_NOHASHDIR=1" "CCACHE_MAXSIZE=8G"
                 "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
                 "${WARD_CCACHE_PROGRAM}")
    set(CMAKE_C_COMPILER_LAUNCHER "${launcher}")
    set(CMAKE_CXX_COMPILER_LAUNCHER "${launcher}")
    message(STATUS "ccache: ${WARD_CCACHE_PROGRAM} (cache ${WARD_CCACHE_DIR})")
  endif()
endif()
