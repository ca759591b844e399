// SPDX-License-Identifier: Apache-2.0
#include "ward/common/unique_handle_windows.h"

#include <windows.h>

namespace ward {

void UniqueHandle::Reset(void* handle) {
  if (valid()) {
    CloseHandle(handle_);
  }
  handle_ = handle;
}

}  // namespace ward
