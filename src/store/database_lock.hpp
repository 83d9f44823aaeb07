#pragma once
// The lock `serve` and `demo` hold on their database for their whole life, whichever the
// backend: one gateway per database (operations.md, scale-out.md). SQLite: the writer lock,
// flock(2) on "<database>.lock" (sqlite::WriterLock). PostgreSQL: the serve lock, a
// session-level advisory lock on a connection of its own (postgres::ServeLock), which a
// watch keeps: a lost connection loses the lock, so the watch takes it again, and says so
// when another process took it meanwhile.
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "store/postgres/serve_lock.hpp"
#include "store/sqlite/file_safety.hpp"

namespace tillgate::store {

class DatabaseLock {
 public:
  // What the watch saw happen to the lock.
  struct Event {
    enum class Kind {
      lost,     // its connection ended and no new one could be opened yet (said once)
      retaken,  // held again on a new connection
      taken,    // another process holds it now: this one must stop (the last event)
    };
    Kind kind;
    std::string message;
  };
  using Listener = std::function<void(const Event&)>;

  explicit DatabaseLock(sqlite::WriterLock lock);
  explicit DatabaseLock(std::unique_ptr<postgres::ServeLock> lock);
  // Stops the watch; then the lock goes with its holder.
  ~DatabaseLock();
  DatabaseLock(DatabaseLock&&) noexcept;
  DatabaseLock& operator=(DatabaseLock&&) = delete;
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

  // Starts the watch: on PostgreSQL a thread of its own that looks at the lock every
  // check interval (ServeLock::check, which blocks while it connects again) and calls
  // `listener` on that thread with each event; on SQLite nothing (a flock is not lost while
  // its process lives). At most once.
  void watch(Listener listener);
  // Stops the watch and waits for its thread (at most one connection attempt); no event
  // is reported after it returns. Idempotent.
  void stop_watch();

  // The PostgreSQL serve lock, or null on SQLite.
  [[nodiscard]] postgres::ServeLock* serve_lock() const;

 private:
  struct Watch;

  // Member order matters: the watch looks at the lock.
  std::variant<sqlite::WriterLock, std::unique_ptr<postgres::ServeLock>> lock_;
  std::unique_ptr<Watch> watch_;
};

// The lock of the database the url names, taken without waiting. Throws
// sqlite::DatabaseInUse or postgres::DatabaseInUse (both StoreErrors) naming the database
// and the holder when another process holds it, StoreError for a url open_store refuses
// or a database that cannot be reached.
[[nodiscard]] DatabaseLock lock_database(const std::string& url,
                                         const postgres::ServeLockOptions& options = {});

}  // namespace tillgate::store
