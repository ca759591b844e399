# SPDX-License-Identifier: Apache-2.0
# Running the Windows build's tests on Linux: every test program runs under Wine through
# scripts/wine-session.sh, in a private Wine prefix and Xvfb display under the build tree. The
# ctest fixture `wine` starts that session (a persistent wineserver, warmed up with its streams on
# /dev/null, so Wine's helper processes never hold ctest's pipe) and stops it after the last test.
find_program(WARD_WINE_BIN wine REQUIRED)
find_program(WARD_XVFB_BIN Xvfb REQUIRED)
set(WARD_WINE_DIR "${CMAKE_BINARY_DIR}/wine" CACHE PATH
    "Private Wine prefix and Xvfb state for the Windows tests")
set(WARD_WINE_SESSION "${PROJECT_SOURCE_DIR}/scripts/wine-session.sh")
set(CMAKE_CROSSCOMPILING_EMULATOR bash "${WARD_WINE_SESSION}" run "${WARD_WINE_DIR}")

# ward_wine_test(<test name>): the test runs inside the Wine session.
function(ward_wine_test name)
  set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED wine)
endfunction()

if(WARD_BUILD_TESTS)
  add_test(NAME wine_session_start COMMAND bash "${WARD_WINE_SESSION}" start "${WARD_WINE_DIR}")
  add_test(NAME wine_session_stop COMMAND bash "${WARD_WINE_SESSION}" stop "${WARD_WINE_DIR}")
  # A fresh prefix takes ~20-60 s to make on a loaded machine.
  set_tests_properties(wine_session_start PROPERTIES FIXTURES_SETUP wine TIMEOUT 300 LABELS windows)
  set_tests_properties(wine_session_stop PROPERTIES FIXTURES_CLEANUP wine TIMEOUT 60 LABELS windows)
endif()
