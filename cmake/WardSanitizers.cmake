# SPDX-License-Identifier: Apache-2.0
# Sanitizer and fuzzer flags, applied to the whole build so every library is instrumented.
if(WARD_SANITIZE STREQUAL "")
  # no sanitizers
elseif(WARD_SANITIZE STREQUAL "address,undefined" OR WARD_SANITIZE STREQUAL "thread")
  if(MSVC)
    if(NOT WARD_SANITIZE STREQUAL "address,undefined")
      message(FATAL_ERROR "MSVC supports only WARD_SANITIZE=address,undefined (as /fsanitize=address)")
    endif()
    add_compile_options(/fsanitize=address)
  else()
    add_compile_options(-fsanitize=${WARD_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${WARD_SANITIZE})
  endif()
else()
  message(FATAL_ERROR "WARD_SANITIZE='${WARD_SANITIZE}': use '', 'address,undefined' or 'thread'")
endif()

if(WARD_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WARD_BUILD_FUZZERS needs clang (libFuzzer); use the 'fuzz' preset")
  endif()
  if(WARD_SANITIZE STREQUAL "thread")
    message(FATAL_ERROR "fuzzers run with address,undefined, not thread")
  endif()
  # Instrument everything for coverage; only fuzz targets link the libFuzzer main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
