#pragma once
// What a TILLGATE_DB url names, for the commands that handle the database's files
// (serve's writer lock, backup) rather than open a Store.
#include <filesystem>
#include <optional>
#include <string>

#include "store/sqlite/file_safety.hpp"

namespace tillgate::store {

// The file of a "sqlite:PATH" url; nullopt for a PostgreSQL url. Throws StoreError for a
// sqlite url without a file path (empty, ":memory:", "file:...") and for any other url,
// with the same messages as open_store.
[[nodiscard]] std::optional<std::filesystem::path> sqlite_database_path(const std::string& url);

// The writer lock of the database the url names (sqlite::WriterLock), held by serve and
// demo for their lifetime; nullopt for PostgreSQL, where several nodes share one database.
// Throws sqlite::DatabaseInUse when another process holds it.
[[nodiscard]] std::optional<sqlite::WriterLock> lock_database(const std::string& url);

}  // namespace tillgate::store
