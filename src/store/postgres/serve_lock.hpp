#pragma once
// One `serve` per PostgreSQL database (scale-out.md): until several nodes coordinate the
// work they hold in memory (payment deadlines and graces, webhook attempts), a second
// gateway on the same database would run them twice. The serve lock is PostgreSQL's
// counterpart of SQLite's WriterLock: a session-level advisory lock (pg_try_advisory_lock,
// kServeLockKey) on a connection of its own, held for the life of the process. The server
// drops it when that session ends: the process died (even by kill -9), or the connection
// was cut (a restart of the server, pg_terminate_backend). check() finds a lost session
// and takes the lock again on a new one, unless another process took it meanwhile.
//
// Not thread-safe: one thread at a time (the starting thread, then the watch's).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace tillgate::store::postgres {

class Connection;
struct ServeLockStatements;

// The serve lock's key, distinct from the write lock's and the migrations' (pg.hpp).
inline constexpr std::int64_t kServeLockKey = 0x74696c6c73657276;  // "tillserv"

// Another session holds the database's serve lock.
class DatabaseInUse : public StoreError {
 public:
  using StoreError::StoreError;
};

struct ServeLockOptions {
  // How often the watch looks at the lock's connection (DatabaseLock::watch); after a loss
  // also how often it tries to connect again. The connection's TCP keepalives probe at
  // this pace too, so a server that went away silently is noticed in a few of these.
  std::chrono::milliseconds check_interval{1000};
};

class ServeLock {
 public:
  // Connects (a connection of its own, its application_name "tillgate serve pid P on
  // HOST"), then takes the lock without waiting. Throws DatabaseInUse naming the database
  // (name, host, port; never the password) and the holder (its application_name, client
  // address and backend pid), PgError when the database cannot be reached.
  ServeLock(const std::string& url, const ServeLockOptions& options);
  ~ServeLock();
  ServeLock(const ServeLock&) = delete;
  ServeLock& operator=(const ServeLock&) = delete;

  enum class State {
    held,     // the session that took the lock is alive: it holds it
    lost,     // that session ended and no new one could be opened: nobody may hold it
    retaken,  // that session ended; a new one took the lock again
    taken,    // that session ended and another session holds the lock now: for good
  };
  struct Check {
    State state;
    std::string message;  // what happened, for the log (empty when held)
  };
  // One look (blocking while it connects again, at most libpq's connect timeout). After
  // `taken` every further look answers `taken` again without connecting.
  [[nodiscard]] Check check();

  // "database NAME on HOST:PORT", for messages.
  [[nodiscard]] const std::string& database() const { return database_; }
  // The backend pid of the lock's session.
  [[nodiscard]] int backend_pid() const { return backend_pid_; }
  [[nodiscard]] const ServeLockOptions& options() const { return options_; }

 private:
  // Takes the lock on the connection as it is now; false when another session holds it.
  [[nodiscard]] bool try_take(std::string_view operation);
  // Who holds the lock, from pg_locks and pg_stat_activity.
  [[nodiscard]] std::string holder(std::string_view operation);
  [[nodiscard]] std::string in_use_message(std::string_view operation);

  ServeLockOptions options_;
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<ServeLockStatements> statements_;  // they refer to the connection
  std::uint64_t held_generation_ = 0;  // the connection's generation that holds the lock
  bool taken_ = false;
  std::string taken_message_;
  std::string database_;
  int backend_pid_ = 0;
};

}  // namespace tillgate::store::postgres
