#pragma once
// Thin RAII layer over the SQLite C API: the connection, prepared statements with typed
// bind/column helpers, and a write-transaction guard. Everything here throws SqliteError
// (a StoreError) carrying the operation, the statement's name and SQLite's own message;
// bound values never appear in a message, because some of them are secrets.
//
// Not thread-safe: a connection and its statements belong to one thread at a time.
#include <sqlite3.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "domain/time.hpp"
#include "store/store.hpp"

namespace tillgate::store::sqlite {

class SqliteError : public StoreError {
 public:
  SqliteError(const std::string& message, int code) : StoreError(message), code_(code) {}
  // The extended SQLite result code (SQLITE_BUSY, SQLITE_CONSTRAINT_UNIQUE, ...).
  [[nodiscard]] int code() const noexcept { return code_; }
  // SQLITE_FULL, SQLITE_IOERR_*, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY,
  // SQLITE_CANTOPEN, SQLITE_NOMEM, SQLITE_PROTOCOL: the database's condition, not the call's.
  [[nodiscard]] bool unavailable() const noexcept override;

 private:
  int code_;
};

// Throws SqliteError for a failed call on `db`: "sqlite store: OPERATION: WHAT: message".
[[noreturn]] void throw_error(sqlite3* db, int code, std::string_view operation,
                              std::string_view what);

// SQLite's process-wide settings, applied once, before the process's first connection
// opens (sqlite3_config is refused after SQLite initialized). Memory statistics are off:
// with them every sqlite3_malloc and sqlite3_free takes a process-wide mutex (about 450 of
// each a payment), for figures the gateway never reads (sqlite3_memory_used, sqlite3_status).
void configure_library();

class Connection {
 public:
  // Opens (creating) the database file. SQLITE_OPEN_NOMUTEX: the caller guarantees that
  // one thread at a time uses the connection, so SQLite's own locking is not needed.
  explicit Connection(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] sqlite3* get() const noexcept { return db_; }
  // Runs SQL text that may hold several statements and returns no rows (DDL, pragmas).
  void exec(std::string_view sql, std::string_view operation, std::string_view what);

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  class Use;

  // Prepared once with SQLITE_PREPARE_PERSISTENT: these statements live as long as the
  // connection and are reused for every call.
  Statement(sqlite3* db, std::string_view name, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // The only way to bind and step: the returned Use resets the statement when it goes
  // out of scope, so no statement stays mid-step (holding a read snapshot open) after an
  // early return or an exception.
  [[nodiscard]] Use use(std::string_view operation);

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string name_;
};

// Values that bind to a parameter: text, integers, booleans (0/1), timestamps (integer
// milliseconds since the Unix epoch), and optionals of those (NULL when empty).
template <typename T>
concept Bindable = std::convertible_to<T, std::string_view> || std::same_as<T, std::int64_t> ||
    std::same_as<T, bool> || std::same_as<T, domain::Timestamp> || std::same_as<T, std::nullptr_t>;

class Statement::Use {
 public:
  Use(sqlite3* db, sqlite3_stmt* stmt, std::string_view name, std::string_view operation);
  ~Use();
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  // Binds the arguments to parameters ?1, ?2, ... in order.
  template <typename... Args>
  Use& bind(const Args&... args) {
    int index = 0;
    (bind_one(++index, args), ...);
    return *this;
  }

  // True when a row is available, false when the statement is done.
  [[nodiscard]] bool step();
  // Steps a statement that returns no rows (INSERT, UPDATE, ...) to completion.
  void run();
  // Rows changed by the last run() of this connection.
  [[nodiscard]] int changes() const noexcept;

  [[nodiscard]] bool is_null(int column) const;
  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] domain::Timestamp timestamp(int column) const;
  [[nodiscard]] bool boolean(int column) const { return int64(column) != 0; }
  [[nodiscard]] std::optional<std::string> optional_text(int column) const;
  [[nodiscard]] std::optional<domain::Timestamp> optional_timestamp(int column) const;

  // For row decoding that finds impossible data (e.g. an unknown status name).
  [[noreturn]] void fail(std::string_view what) const;

 private:
  void bind_text(int index, std::string_view value);
  void bind_int64(int index, std::int64_t value);
  void bind_null(int index);

  template <typename T>
  void bind_one(int index, const std::optional<T>& value) {
    if (value) {
      bind_one(index, *value);
    } else {
      bind_null(index);
    }
  }

  template <typename T>
  requires Bindable<T>
  void bind_one(int index, const T& value) {
    if constexpr (std::same_as<T, std::nullptr_t>) {
      bind_null(index);
    } else if constexpr (std::same_as<T, bool>) {
      bind_int64(index, value ? 1 : 0);
    } else if constexpr (std::same_as<T, domain::Timestamp>) {
      bind_int64(index, value.time_since_epoch().count());
    } else if constexpr (std::same_as<T, std::int64_t>) {
      bind_int64(index, value);
    } else {
      bind_text(index, std::string_view{value});
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string_view name_;
  std::string_view operation_;
};

// BEGIN IMMEDIATE takes the write lock at once, so the reads inside the transaction see
// the state the writes are decided on (no other writer can slip in between). Rolls back
// in the destructor unless commit() succeeded.
//
// Nests: on a connection already inside a transaction (a group-commit batch, see
// Store::begin_batch) it is a savepoint instead (SAVEPOINT / RELEASE / ROLLBACK TO), so
// its writes are still all or nothing but become durable only when the enclosing
// transaction commits. The write lock is then the enclosing transaction's.
//
// In a shared group-commit batch (Store::BatchCalls::shared) `spoiled` is given: then it
// opens no savepoint (that is the point of a shared batch: no statement journal), and one
// that ends without commit() cannot undo its writes, so it sets *spoiled and the batch
// is rolled back whole, even when the caller caught the exception and went on.
class WriteTransaction {
 public:
  struct Statements {
    Statement& begin;        // BEGIN IMMEDIATE
    Statement& commit;       // COMMIT
    Statement& rollback;     // ROLLBACK
    Statement& savepoint;    // SAVEPOINT <name>
    Statement& release;      // RELEASE <name>
    Statement& rollback_to;  // ROLLBACK TO <name>
  };

  WriteTransaction(sqlite3* db, Statements statements, std::string_view operation,
                   bool* spoiled = nullptr);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  void commit();

 private:
  sqlite3* db_;
  Statements statements_;
  std::string_view operation_;
  bool* spoiled_;  // set: flat inside a shared batch (no savepoint of its own)
  bool nested_;    // a savepoint inside an enclosing transaction
  bool open_ = true;
};

}  // namespace tillgate::store::sqlite
