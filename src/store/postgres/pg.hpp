#pragma once
// Thin RAII layer over libpq, shaped like the SQLite backend's (sqlite/statement.hpp) so
// that the two backends' method bodies read alike: the connection (with reconnection after
// a loss, under a bounded backoff; every exchange bounded in time, see round_trip), named
// prepared statements with typed bind/column helpers, and a write-transaction guard.
// Everything here throws PgError (a StoreError) carrying the operation, the statement's
// name and the server's primary message; bound values, the server's DETAIL (which quotes
// row values) and the connection URL (which may hold a password) never appear in a
// message.
//
// Not thread-safe: a connection and its statements belong to one thread at a time.
#include <libpq-fe.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/time.hpp"
#include "store/database_options.hpp"
#include "store/store.hpp"

namespace tillgate::store::postgres {

class PgError : public StoreError {
 public:
  PgError(const std::string& message, std::string sqlstate, bool unavailable)
      : StoreError(message), sqlstate_(std::move(sqlstate)), unavailable_(unavailable) {}
  // The five-character SQLSTATE ("23505", ...); empty when the server gave none (the
  // connection failed).
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
  // Connection lost or refused (class 08, no SQLSTATE), the server shutting down or
  // starting (57P01..57P03), out of resources (class 53), a serialization failure or
  // deadlock (40001, 40P01), a lock or statement timeout (55P03, 57014), a read-only
  // server (25006): the database's condition, not the call's.
  [[nodiscard]] bool unavailable() const noexcept override { return unavailable_; }

 private:
  std::string sqlstate_;
  bool unavailable_;
};

// Whether an SQLSTATE means "the database cannot take the call now" (PgError::unavailable).
[[nodiscard]] bool sqlstate_unavailable(std::string_view sqlstate);

struct ConnectionOptions {
  // After a failed connection attempt, calls fail at once (StoreUnavailable) until this
  // much time has passed; it doubles with every failure up to max_backoff.
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // libpq's connect_timeout, unless the URL sets one.
  std::chrono::seconds connect_timeout{5};
  // How long a write waits for another connection's write lock (lock_timeout) before
  // failing (StoreUnavailable), as SQLite's busy_timeout.
  std::chrono::milliseconds lock_timeout{5000};
  // The bound of one statement (store::DatabaseOptions, which the gateway sets from
  // TILLGATE_DB_STATEMENT_TIMEOUT_MS): the server's statement_timeout and
  // idle_in_transaction_session_timeout; the TCP keepalives and tcp_user_timeout, unless the
  // URL sets them (connection_defaults); and twice it, the round-trip deadline.
  std::chrono::milliseconds statement_timeout = DatabaseOptions{}.statement_timeout;
  // DatabaseOptions::node_id: the session setting tillgate.node_id (empty: not set).
  std::string node_id{};
};

// A round trip (a statement sent, every result back) not over by this much after it began
// is given up: the connection is closed and the call fails as unavailable. The server has
// had statement_timeout to cancel the statement and as long again for its answer to come
// back, so only a server or a network that has stopped answering gets here.
[[nodiscard]] std::chrono::milliseconds round_trip_deadline(const ConnectionOptions& options);

// The libpq keywords (and their values) the gateway gives every connection before the URL's
// own, which win: connect_timeout, application_name, TCP keepalives (an idle connection
// whose peer is gone is noticed within about twice statement_timeout) and tcp_user_timeout
// (data unacknowledged for statement_timeout fails the socket).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> connection_defaults(
    const ConnectionOptions& options);

class Connection {
 public:
  // Connects to the database the URL names (postgresql://... or postgres://...); throws
  // PgError (unavailable) when it cannot.
  Connection(std::string url, ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The live connection, reconnecting first when it was lost (but never inside an open
  // transaction: its writes are gone, and a new connection would run the transaction's
  // remaining statements on their own). Throws PgError (unavailable) when it cannot.
  [[nodiscard]] PGconn* get(std::string_view operation);
  // Incremented by every (re)connection: prepared statements are prepared again.
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

  // Runs SQL text without parameters, possibly several statements (DDL, BEGIN, ...);
  // answers the command tag of the last ("COMMIT", "ROLLBACK", ...).
  std::string exec(std::string_view sql, std::string_view operation, std::string_view what);

  // `text` as an SQL string literal, quoted and escaped for this connection (for SET and
  // other statements that take no parameters).
  [[nodiscard]] std::string literal(std::string_view text, std::string_view operation);

  // Transaction bookkeeping: BEGIN, COMMIT and ROLLBACK go through these so the
  // connection knows not to reconnect in the middle of one.
  // With write_lock, BEGIN and the write lock (kWriteLockKey) in one round trip.
  void begin(std::string_view operation, bool write_lock = false);
  void commit(std::string_view operation);
  // Never throws; a lost connection has rolled back anyway.
  void rollback() noexcept;
  [[nodiscard]] bool transaction_open() const noexcept { return transaction_open_; }
  // The server's view: PQTRANS_IDLE, PQTRANS_INTRANS, PQTRANS_INERROR, ... (UNKNOWN when
  // the connection is lost).
  [[nodiscard]] PGTransactionStatusType server_transaction_status() const noexcept;

  // Throws PgError for a failed result (clearing it): "postgres store: OPERATION: WHAT:
  // message (SQLSTATE x)".
  [[noreturn]] void fail(PGresult* result, std::string_view operation, std::string_view what);

  // One round trip on the live connection (get() first): `send` queues the command
  // (PQsendQuery, PQsendPrepare, PQsendQueryPrepared; 0 when it cannot), then every result
  // is read, the socket polled in non-blocking mode, within round_trip_deadline. Answers
  // the last result, or the first failed one (the caller clears it). Throws PgError when
  // the command cannot be sent (unavailable if the connection is lost), and (unavailable)
  // when the deadline passes, having closed the connection: its state mid-protocol is
  // unknown; the next call reconnects.
  [[nodiscard]] PGresult* round_trip(std::string_view operation, std::string_view what,
                                     const std::function<int(PGconn*)>& send);

 private:
  void connect(std::string_view operation);
  // After a failed connection attempt: no connection, and none tried before the backoff.
  void back_off();
  // Non-blocking mode and the session's settings (lock_timeout, statement_timeout, ...).
  void set_up_session(std::string_view operation);
  // Sends what libpq holds and reads until a result is ready (or the connection failed,
  // which PQgetResult then reports without waiting); false when the deadline passed first.
  [[nodiscard]] bool await_result(std::chrono::steady_clock::time_point deadline);
  [[nodiscard]] std::string redact(std::string text) const;

  std::string url_;
  std::string password_;  // only to cut it out of libpq's messages, should one quote it
  ConnectionOptions options_;
  PGconn* conn_ = nullptr;
  std::uint64_t generation_ = 0;
  bool transaction_open_ = false;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point retry_at_{};
};

// Values that bind to a parameter: text, integers, booleans, timestamps (integer
// milliseconds since the Unix epoch), and optionals of those (NULL when empty).
template <typename T>
concept Bindable = std::convertible_to<T, std::string_view> || std::same_as<T, std::int64_t> ||
    std::same_as<T, bool> || std::same_as<T, domain::Timestamp> || std::same_as<T, std::nullptr_t>;

class Statement {
 public:
  class Use;

  // Prepared on the server (PQsendPrepare) on first use on each connection, then reused.
  // Parameters are $1, $2, ...; every value travels as text, every column comes back as text.
  Statement(Connection& connection, std::string_view name, std::string_view sql);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  [[nodiscard]] Use use(std::string_view operation);

 private:
  friend class Use;
  [[nodiscard]] PGconn* prepared(std::string_view operation);

  Connection& connection_;
  std::string name_;
  std::string sql_;
  std::optional<std::uint64_t> prepared_generation_;
};

class Statement::Use {
 public:
  Use(Statement& statement, std::string_view operation);
  ~Use();
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  // Binds the arguments to parameters $1, $2, ... in order.
  template <typename... Args>
  Use& bind(const Args&... args) {
    (bind_one(args), ...);
    return *this;
  }

  // Executes on the first call; true while a row is available.
  [[nodiscard]] bool step();
  // Executes a statement that returns no rows (INSERT, UPDATE, ...).
  void run();
  // Rows changed by run().
  [[nodiscard]] int changes() const noexcept;

  [[nodiscard]] bool is_null(int column) const;
  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] domain::Timestamp timestamp(int column) const;
  [[nodiscard]] bool boolean(int column) const;
  [[nodiscard]] std::optional<std::string> optional_text(int column) const;
  [[nodiscard]] std::optional<domain::Timestamp> optional_timestamp(int column) const;

  // For row decoding that finds impossible data (e.g. an unknown status name).
  [[noreturn]] void fail(std::string_view what) const;

 private:
  void execute();
  [[nodiscard]] const char* value(int column) const;

  template <typename T>
  void bind_one(const std::optional<T>& value) {
    if (value) {
      bind_one(*value);
    } else {
      params_.emplace_back(std::nullopt);
    }
  }

  template <typename T>
  requires Bindable<T>
  void bind_one(const T& value) {
    if constexpr (std::same_as<T, std::nullptr_t>) {
      params_.emplace_back(std::nullopt);
    } else if constexpr (std::same_as<T, bool>) {
      params_.emplace_back(value ? "true" : "false");
    } else if constexpr (std::same_as<T, domain::Timestamp>) {
      params_.emplace_back(std::to_string(value.time_since_epoch().count()));
    } else if constexpr (std::same_as<T, std::int64_t>) {
      params_.emplace_back(std::to_string(value));
    } else {
      params_.emplace_back(std::string(std::string_view{value}));
    }
  }

  Statement& statement_;
  std::string_view operation_;
  std::vector<std::optional<std::string>> params_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

// The write lock every write transaction takes first (pg_advisory_xact_lock), held until
// its commit or rollback: writers on the database take turns, as SQLite's BEGIN IMMEDIATE
// makes them, so a check and the write decided on it see the same state, and the
// store-assigned sequences (MAX + 1) grow in commit order on every node.
inline constexpr std::int64_t kWriteLockKey = 0x74696c6c67617465;  // "tillgate"
// Held while migrating: of several gateways starting at once, one migrates.
inline constexpr std::int64_t kMigrationLockKey = 0x74696c6c6d696772;  // "tillmigr"

// BEGIN and the write lock; COMMIT, or ROLLBACK in the destructor. Nests like SQLite's
// (sqlite::WriteTransaction): inside a batch it is a savepoint, and in a shared batch it
// is flat, spoiling the batch (*spoiled) when it ends without commit().
class WriteTransaction {
 public:
  WriteTransaction(Connection& connection, std::string_view operation, bool nested,
                   bool* spoiled = nullptr);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  void commit();

 private:
  Connection& connection_;
  std::string_view operation_;
  bool* spoiled_;
  bool nested_;
  bool open_ = true;
};

}  // namespace tillgate::store::postgres
