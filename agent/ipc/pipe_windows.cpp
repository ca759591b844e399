// SPDX-License-Identifier: Apache-2.0
#include <windows.h>

#include <string>

#include "internal/pipe_windows.h"
#include "ward/agent/ipc/endpoint.h"
#include "ward/common/error_windows.h"

namespace ward::agent::ipc {

std::filesystem::path DefaultEndpoint() { return LR"(\\.\pipe\ward-agent)"; }

namespace internal {

static_assert(kClientPipeAccess == (FILE_GENERIC_READ | FILE_WRITE_DATA));

Result<std::wstring> LocalPipeName(const std::filesystem::path& endpoint) {
  constexpr std::wstring_view kPrefix = LR"(\\.\pipe\)";
  const std::wstring& name = endpoint.native();
  const std::wstring_view rest =
      std::wstring_view(name).substr(name.size() >= kPrefix.size() ? kPrefix.size() : name.size());
  if (!name.starts_with(kPrefix) || rest.empty() || rest.find(L'\\') != std::wstring_view::npos ||
      name.size() > 256) {
    return InvalidArgumentError("\"" + PathUtf8(endpoint) +
                                "\" is not a local pipe name such as \\\\.\\pipe\\ward-agent");
  }
  return name;
}

}  // namespace internal
}  // namespace ward::agent::ipc
