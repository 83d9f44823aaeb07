#pragma once
// What a TILLGATE_DB url names, for the commands that handle the database's files
// (serve's writer lock, backup) rather than open a Store. The lock serve and demo hold is
// database_lock.hpp's.
#include <filesystem>
#include <optional>
#include <string>

#include "store/store.hpp"

namespace tillgate::store {

// The file of a "sqlite:PATH" url; nullopt for a PostgreSQL url. Throws StoreError for a
// sqlite url without a file path (empty, ":memory:", "file:...") and for any other url,
// with the same messages as open_store.
[[nodiscard]] std::optional<std::filesystem::path> sqlite_database_path(const std::string& url);

}  // namespace tillgate::store
