#pragma once
// The lock `serve` and `demo` hold on their database for their whole life. SQLite: one
// gateway per file, the writer lock (flock(2) on "<database>.lock", sqlite::WriterLock): two
// processes on one file would both run deadlines and deliver webhooks. PostgreSQL: none;
// several gateway nodes share one database and coordinate through it (node_store.hpp,
// docs/scale-out.md#several-nodes).
#include <optional>
#include <string>

#include "store/sqlite/file_safety.hpp"

namespace tillgate::store {

class DatabaseLock {
 public:
  DatabaseLock() = default;  // PostgreSQL: nothing to hold
  explicit DatabaseLock(sqlite::WriterLock lock) : lock_(std::move(lock)) {}

  // True when this process holds a lock on its database (SQLite).
  [[nodiscard]] bool held() const { return lock_.has_value(); }

 private:
  std::optional<sqlite::WriterLock> lock_;
};

// The lock of the database the url names, taken without waiting. Throws
// sqlite::DatabaseInUse (a StoreError) naming the file and the holder when another process
// holds it, StoreError for a url open_store refuses.
[[nodiscard]] DatabaseLock lock_database(const std::string& url);

}  // namespace tillgate::store
