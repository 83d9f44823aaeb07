#pragma once
#include <filesystem>

#include "app/config.hpp"
#include "store/sqlite/backup.hpp"

namespace tillgate::app {

// `tillgate backup --to PATH`: copies the SQLite database that `config.database_url` names
// (the same TILLGATE_DB, --config and --db that serve reads) to PATH while the gateway
// serves, and prints one line with the copy's size and transaction count. Returns the exit
// code: 0, or 1 with the reason on stderr.
int run_backup(const Config& config, const std::filesystem::path& to,
               const store::sqlite::BackupOptions& options);

}  // namespace tillgate::app
