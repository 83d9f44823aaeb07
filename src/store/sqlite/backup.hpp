#pragma once
// `tillgate backup`: a consistent copy of a live SQLite database, with SQLite's online
// backup API, while the gateway keeps writing it.
#include <chrono>
#include <cstdint>
#include <filesystem>

#include "store/store.hpp"

namespace tillgate::store::sqlite {

struct BackupOptions {
  // Pages copied per sqlite3_backup_step, and the pause after each step: the copy reads
  // one snapshot (a read transaction held throughout, which never blocks a WAL writer),
  // and the pause leaves the disk and the CPU to the gateway between steps.
  int pages_per_step = 256;
  std::chrono::milliseconds step_pause{5};
  // Replace an existing file at the target (refused otherwise).
  bool force = false;
};

struct BackupResult {
  std::uintmax_t bytes = 0;       // size of the backup file
  std::int64_t transactions = 0;  // rows of `transactions` in it
  std::int64_t steps = 0;         // sqlite3_backup_step calls
};

// A refused or failed backup; its message says what to do. Nothing is left at the target,
// nor a temporary file beside it.
class BackupError : public StoreError {
 public:
  using StoreError::StoreError;
};

// Copies the database `source` (which must exist; it is never created) to `target`: into
// a temporary file of mode 0600 in the target's directory, which must exist, then
// `PRAGMA integrity_check` on the copy, fsync, and an atomic rename to `target` (which
// refuses an existing file unless options.force). Refuses a target that is the source or
// one of its -wal, -shm, -journal or .lock files. The copy is a self-contained file
// (rollback journal mode; a gateway started on it switches it to WAL).
BackupResult backup_database(const std::filesystem::path& source,
                             const std::filesystem::path& target, const BackupOptions& options);

}  // namespace tillgate::store::sqlite
