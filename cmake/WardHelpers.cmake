# SPDX-License-Identifier: Apache-2.0
# ward_add_library(<name> SOURCES ... [DEPS ...] [PUBLIC_DEPS ...])
#   One library per folder: target ward_<name>, alias ward::<name>, public headers in include/.
function(ward_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(ward_${name} STATIC ${ARG_SOURCES})
  add_library(ward::${name} ALIAS ward_${name})
  if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/include")
    target_include_directories(ward_${name} PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/include")
  endif()
  target_link_libraries(ward_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ward_warnings ${ARG_DEPS})
endfunction()

# ward_add_test(<name> SOURCES ... [DEPS ...] [LABELS ...] [ENVIRONMENT VAR=value])
#   One executable per module, registered test by test with gtest_discover_tests.
function(ward_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS;ENVIRONMENT" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ward_warnings ward::test_support GTest::gtest GTest::gmock
                                        GTest::gtest_main ${ARG_DEPS})
  # The checkout's paths come from ward::testing::SourceDir() and friends (ward/testing/paths.h),
  # never from compile definitions: those would make every test object miss ccache in a new clone.
  if(WIN32 AND CMAKE_CROSSCOMPILING)
    # One ctest per executable, run under Wine (cmake/WardWine.cmake): discovering tests would
    # run each program under Wine at build time, outside the Wine session.
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 600)
    if(ARG_ENVIRONMENT)
      set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ARG_ENVIRONMENT}")
    endif()
    ward_wine_test(${name})
    return()
  endif()
  # A GTEST_SKIP()ped test shows as skipped in ctest, not as passed.
  # One variable only: CMake 3.25's gtest_discover_tests splits list-valued properties (the same
  # is true of LABELS, so give each test executable a single label).
  set(env_property "")
  if(ARG_ENVIRONMENT)
    set(env_property ENVIRONMENT "${ARG_ENVIRONMENT}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${ARG_LABELS}" SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]"
                                  ${env_property})
endfunction()

# ward_test_binary(<test> <macro> <target>)
#   <test> runs what <target> builds: defines <macro> as that file's path relative to the build
#   directory (the same in every clone, so <test> still hits ccache; an absolute path would not)
#   and builds <target> first. The test finds it as ward::testing::BuiltFile(<macro>).
function(ward_test_binary test macro target)
  target_compile_definitions(${test} PRIVATE
    ${macro}="$<PATH:RELATIVE_PATH,$<TARGET_FILE:${target}>,${PROJECT_BINARY_DIR}>")
  add_dependencies(${test} ${target})
endfunction()

# ward_add_fuzzer(<name> SOURCES ... [DEPS ...] CORPUS <dir>)
#   A libFuzzer target plus a ctest (label fuzz_smoke) that runs it briefly on its seed corpus.
function(ward_add_fuzzer name)
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  if(NOT WARD_BUILD_FUZZERS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ward_warnings ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(seconds $ENV{WARD_FUZZ_SECONDS})
  if(NOT seconds)
    set(seconds 60)
  endif()
  set(work "${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus")
  # New inputs go to a scratch corpus in the build tree; the committed seeds are read-only.
  add_test(NAME ${name}_smoke
           COMMAND sh -c "mkdir -p '${work}' && exec \"$0\" -max_total_time=${seconds} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 '${work}' '${ARG_CORPUS}'"
                   $<TARGET_FILE:${name}>)
  set_tests_properties(${name}_smoke PROPERTIES LABELS fuzz_smoke TIMEOUT 600)
endfunction()

# Qt6::Test defines QT_TESTCASE_BUILDDIR and QT_TESTCASE_SOURCEDIR as the absolute directories of
# whichever target links it, for QFINDTESTDATA and QTEST_MAIN, neither of which Ward uses (the
# tray tests are GoogleTest programs that call QTest functions). ccache hashes compile definitions
# as they are, so those objects would miss the cache in every fresh clone: drop the two.
if(TARGET Qt6::Test)
  get_target_property(qt_test_defs Qt6::Test INTERFACE_COMPILE_DEFINITIONS)
  if(qt_test_defs)
    list(FILTER qt_test_defs EXCLUDE REGEX "^QT_TESTCASE_(BUILD|SOURCE)DIR=")
    set_property(TARGET Qt6::Test PROPERTY INTERFACE_COMPILE_DEFINITIONS "${qt_test_defs}")
  endif()
endif()
