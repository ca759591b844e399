// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string_view>

#include "ward/common/result.h"

namespace ward::collector {

// Refuses to go on when group or others may use the collector's data: the data directory
// (`data_dir`, may be empty) and, for a SQLite store (`storage_url` "sqlite:<file>"), the
// directory holding the database and the database's files (the database, -wal, -shm and
// -journal, those that exist). Any group or other permission bit counts. kPermissionDenied names
// the path, its mode and the chmod that fixes it; kUnavailable when a path cannot be examined.
// A PostgreSQL store's files are the database server's business (nothing checked).
Status CheckDataIsPrivate(const std::filesystem::path& data_dir, std::string_view storage_url);

}  // namespace ward::collector
