# SPDX-License-Identifier: Apache-2.0
# One place for warnings: every Ward target links ward_warnings.
add_library(ward_warnings INTERFACE)
if(MSVC)
  target_compile_options(ward_warnings INTERFACE /W4 /permissive- /utf-8 /Zc:__cplusplus)
  if(WARD_WARNINGS_AS_ERRORS)
    target_compile_options(ward_warnings INTERFACE /WX)
  endif()
else()
  target_compile_options(ward_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Wimplicit-fallthrough)
  if(WARD_WARNINGS_AS_ERRORS)
    target_compile_options(ward_warnings INTERFACE -Werror)
  endif()
endif()
