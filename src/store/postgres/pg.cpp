#include "store/postgres/pg.hpp"

#include <fmt/format.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>

namespace tillgate::store::postgres {
namespace {

// The password in the URL ("" for none). A URL libpq cannot parse is refused here, with a
// message of our own: libpq's quotes the URL, password included.
std::string password_of(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  PQfreemem(error);
  if (options == nullptr) {
    throw PgError(
        "TILLGATE_DB: the postgresql URL is not a valid libpq connection URI (not shown: it may "
        "hold a password)",
        "", false);
  }
  std::string password;
  for (auto* option = options; option != nullptr && option->keyword != nullptr; ++option) {
    if (std::string_view{option->keyword} == "password" && option->val != nullptr) {
      password = option->val;
    }
  }
  PQconninfoFree(options);
  return password;
}

std::string trimmed(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// Whether the server has closed the connection while it was idle (a restart, an idle
// timeout, pg_terminate_backend): it then sent its reason and hung up, and reading that
// tells libpq, which otherwise learns it only from the next statement, which fails.
bool closed_while_idle(PGconn* conn) {
  pollfd socket{.fd = PQsocket(conn), .events = POLLIN | POLLRDHUP, .revents = 0};
  if (socket.fd < 0) {
    return true;
  }
  if (::poll(&socket, 1, 0) <= 0) {
    return false;  // nothing to read: as it was
  }
  // The server never shuts its side of a live connection.
  if ((socket.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
    return true;
  }
  return PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK;
}

}  // namespace

bool sqlstate_unavailable(std::string_view sqlstate) {
  return sqlstate.empty() || sqlstate.starts_with("08") || sqlstate.starts_with("53") ||
         sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "40001" ||
         sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014" || sqlstate == "25006";
}

std::chrono::milliseconds round_trip_deadline(const ConnectionOptions& options) {
  return 2 * options.statement_timeout;
}

std::vector<std::pair<std::string, std::string>> connection_defaults(
    const ConnectionOptions& options) {
  // Keepalive probes start after statement_timeout of quiet (whole seconds, at least 1),
  // then every third of that; tcp_user_timeout (milliseconds) closes the connection when
  // what was sent, probes included, stays unacknowledged for statement_timeout.
  constexpr int kKeepaliveProbes = 3;
  const auto idle = std::max<std::int64_t>(
      1, std::chrono::ceil<std::chrono::seconds>(options.statement_timeout).count());
  const auto interval = std::max<std::int64_t>(1, idle / kKeepaliveProbes);
  return {{"connect_timeout", std::to_string(options.connect_timeout.count())},
          {"application_name", "tillgate"},
          {"keepalives", "1"},
          {"keepalives_idle", std::to_string(idle)},
          {"keepalives_interval", std::to_string(interval)},
          {"keepalives_count", std::to_string(kKeepaliveProbes)},
          {"tcp_user_timeout", std::to_string(options.statement_timeout.count())}};
}

Connection::Connection(std::string url, ConnectionOptions options)
    : url_(std::move(url)), password_(password_of(url_)), options_(options) {
  connect("open");
}

Connection::~Connection() {
  PQfinish(conn_);
}

std::string Connection::redact(std::string text) const {
  if (password_.empty()) {
    return text;
  }
  for (auto at = text.find(password_); at != std::string::npos; at = text.find(password_)) {
    text.replace(at, password_.size(), "***");
  }
  return text;
}

void Connection::connect(std::string_view operation) {
  PQfinish(conn_);
  conn_ = nullptr;
  // Processed in order, the last value of a keyword winning: the URL's own settings
  // (expanded from dbname) override these defaults.
  const auto defaults = connection_defaults(options_);
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : defaults) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.insert(keywords.end(), {"dbname", nullptr});
  values.insert(values.end(), {url_.c_str(), nullptr});
  conn_ = PQconnectdbParams(keywords.data(), values.data(), 1);
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) {
    try {
      set_up_session(operation);
      ++generation_;
      backoff_ = std::chrono::milliseconds{0};
      return;
    } catch (const PgError& error) {
      back_off();
      throw PgError(error.what(), error.sqlstate(), true);
    }
  }
  const std::string message =
      redact(trimmed(conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory"));
  back_off();
  throw PgError(
      fmt::format("postgres store: {}: cannot connect to the database: {}", operation, message), "",
      true);
}

void Connection::back_off() {
  PQfinish(conn_);
  conn_ = nullptr;
  backoff_ = std::clamp(backoff_ * 2, options_.min_backoff, options_.max_backoff);
  retry_at_ = std::chrono::steady_clock::now() + backoff_;
}

void Connection::set_up_session(std::string_view operation) {
  // Every round trip polls the socket with a deadline, which blocking libpq calls cannot.
  if (PQsetnonblocking(conn_, 1) != 0) {
    fail(nullptr, operation, "non-blocking mode");
  }
  // NOTICEs ("relation ... already exists, skipping") are not the store's to print.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  // synchronous_commit on, whatever the server's default: a commit that returned is on
  // disk before anyone is told. A session left idle inside a transaction (its client gone
  // mid-batch, the write lock held) is ended by the server after statement_timeout too.
  const auto statement_timeout = options_.statement_timeout.count();
  std::string settings = fmt::format(
      "SET lock_timeout = {}; SET statement_timeout = {}; "
      "SET idle_in_transaction_session_timeout = {}; SET synchronous_commit = on",
      options_.lock_timeout.count(), statement_timeout, statement_timeout);
  if (!options_.node_id.empty()) {
    settings += "; SET tillgate.node_id = " + literal(options_.node_id, operation);
  }
  PGresult* result = round_trip(operation, "session settings", [&settings](PGconn* conn) {
    return PQsendQuery(conn, settings.c_str());
  });
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    fail(result, operation, "session settings");
  }
  PQclear(result);
}

PGresult* Connection::round_trip(std::string_view operation, std::string_view what,
                                 const std::function<int(PGconn*)>& send) {
  if (conn_ == nullptr || send(conn_) == 0) {
    fail(nullptr, operation, what);
  }
  const auto limit = round_trip_deadline(options_);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  PGresult* kept = nullptr;
  while (await_result(deadline)) {
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) {
      return kept;
    }
    // The last result (of several statements, the last one's), unless one failed before.
    if (kept != nullptr && PQresultStatus(kept) == PGRES_FATAL_ERROR) {
      PQclear(result);
    } else {
      PQclear(kept);
      kept = result;
    }
  }
  PQclear(kept);
  // Mid-protocol, the connection cannot be used again; closing it also tells a server that
  // is still there (which then rolls back whatever the call began).
  PQfinish(conn_);
  conn_ = nullptr;
  throw PgError(fmt::format("postgres store: {}: {}: no answer from the database within {} ms; "
                            "the connection was closed",
                            operation, what, limit.count()),
                "", true);
}

bool Connection::await_result(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const int unsent = PQflush(conn_);  // 0: all sent, 1: more to send, -1: failed
    if (unsent < 0 || PQstatus(conn_) != CONNECTION_OK || (unsent == 0 && PQisBusy(conn_) == 0)) {
      return true;
    }
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd socket{.fd = PQsocket(conn_),
                  .events = static_cast<short>(POLLIN | (unsent == 1 ? POLLOUT : 0)),
                  .revents = 0};
    const int ready = ::poll(&socket, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      return true;  // libpq's own wait reports the socket's failure
    }
    if (ready > 0 && (socket.revents & ~POLLOUT) != 0 && PQconsumeInput(conn_) == 0) {
      return true;  // the connection failed: PQgetResult answers that at once
    }
  }
}

PGconn* Connection::get(std::string_view operation) {
  // Outside a transaction a connection closed while idle is replaced before the call
  // rather than failing it; inside one its work is lost either way (below).
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK &&
      (transaction_open_ || !closed_while_idle(conn_))) {
    return conn_;
  }
  if (transaction_open_) {
    throw PgError(fmt::format("postgres store: {}: the connection to the database was lost "
                              "inside a transaction; nothing of it was committed",
                              operation),
                  "", true);
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < retry_at_) {
    throw PgError(
        fmt::format("postgres store: {}: the database is unreachable; next attempt in {} ms",
                    operation,
                    std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now).count()),
        "", true);
  }
  connect(operation);
  return conn_;
}

PGTransactionStatusType Connection::server_transaction_status() const noexcept {
  return conn_ != nullptr ? PQtransactionStatus(conn_) : PQTRANS_UNKNOWN;
}

void Connection::fail(PGresult* result, std::string_view operation, std::string_view what) {
  std::string sqlstate;
  std::string message;
  if (result != nullptr) {
    if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE)) {
      sqlstate = state;
    }
    // The primary message names constraints and columns; DETAIL would quote row values.
    message = trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
  }
  PQclear(result);
  const bool lost = conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
  if (message.empty()) {
    message = redact(trimmed(conn_ != nullptr ? PQerrorMessage(conn_) : "no connection"));
  }
  const bool unavailable = lost || sqlstate_unavailable(sqlstate);
  throw PgError(fmt::format("postgres store: {}: {}: {} (SQLSTATE {})", operation, what, message,
                            sqlstate.empty() ? "none" : sqlstate),
                sqlstate, unavailable);
}

std::string Connection::literal(std::string_view text, std::string_view operation) {
  char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
  if (quoted == nullptr) {
    fail(nullptr, operation, "quote a literal");
  }
  std::string result(quoted);
  PQfreemem(quoted);
  return result;
}

std::string Connection::exec(std::string_view sql, std::string_view operation,
                             std::string_view what) {
  static_cast<void>(get(operation));
  const std::string text{sql};
  PGresult* result = round_trip(operation, what,
                                [&text](PGconn* conn) { return PQsendQuery(conn, text.c_str()); });
  const auto status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail(result, operation, what);
  }
  std::string tag = PQcmdStatus(result);
  PQclear(result);
  return tag;
}

void Connection::begin(std::string_view operation, bool write_lock) {
  static_cast<void>(get(operation));  // (re)connects: not inside the transaction yet
  // Open from here on even if the lock fails after BEGIN: rollback() then ends it.
  transaction_open_ = true;
  try {
    if (write_lock) {
      exec(fmt::format("BEGIN; SELECT pg_advisory_xact_lock({})", kWriteLockKey), operation,
           "begin and write lock");
    } else {
      exec("BEGIN", operation, "begin");
    }
  } catch (...) {
    rollback();
    throw;
  }
}

void Connection::commit(std::string_view operation) {
  // COMMIT of a transaction in the failed state answers ROLLBACK, without an error.
  const std::string tag = exec("COMMIT", operation, "commit");
  transaction_open_ = false;
  if (tag != "COMMIT") {
    throw PgError(fmt::format("postgres store: {}: commit: the transaction was rolled back "
                              "after a failure; nothing of it was committed",
                              operation),
                  "", false);
  }
}

void Connection::rollback() noexcept {
  transaction_open_ = false;
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK ||
      PQtransactionStatus(conn_) == PQTRANS_IDLE) {
    return;
  }
  try {
    PQclear(round_trip("rollback", "rollback",
                       [](PGconn* conn) { return PQsendQuery(conn, "ROLLBACK"); }));
  } catch (const std::exception&) {
    // The connection is lost or closed: the server rolls the transaction back.
  }
}

// ---- statements ---------------------------------------------------------------------------

Statement::Statement(Connection& connection, std::string_view name, std::string_view sql)
    : connection_(connection), name_(name), sql_(sql) {}

Statement::Use Statement::use(std::string_view operation) {
  return Use{*this, operation};
}

PGconn* Statement::prepared(std::string_view operation) {
  PGconn* conn = connection_.get(operation);
  if (prepared_generation_ != connection_.generation()) {
    PGresult* result = connection_.round_trip(operation, name_, [this](PGconn* live) {
      return PQsendPrepare(live, name_.c_str(), sql_.c_str(), 0, nullptr);
    });
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      connection_.fail(result, operation, fmt::format("prepare {}", name_));
    }
    PQclear(result);
    prepared_generation_ = connection_.generation();
  }
  return conn;
}

Statement::Use::Use(Statement& statement, std::string_view operation)
    : statement_(statement), operation_(operation) {}

Statement::Use::~Use() {
  PQclear(result_);
}

void Statement::Use::execute() {
  static_cast<void>(statement_.prepared(operation_));
  std::vector<const char*> values;
  values.reserve(params_.size());
  for (const auto& param : params_) {
    // PostgreSQL's text cannot hold NUL, and a C string would end there: refused rather
    // than cut short (SQLite stores it).
    if (param && param->find('\0') != std::string::npos) {
      throw PgError(fmt::format("postgres store: {}: {}: a text value holds a NUL character, "
                                "which PostgreSQL cannot store",
                                operation_, statement_.name_),
                    "22021", false);
    }
    values.push_back(param ? param->c_str() : nullptr);
  }
  PQclear(result_);
  result_ = statement_.connection_.round_trip(operation_, statement_.name_, [&](PGconn* live) {
    return PQsendQueryPrepared(live, statement_.name_.c_str(), static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr, 0);
  });
  const auto status = PQresultStatus(result_);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    PGresult* failed = result_;
    result_ = nullptr;
    statement_.connection_.fail(failed, operation_, statement_.name_);
  }
  row_ = -1;
}

bool Statement::Use::step() {
  if (result_ == nullptr) {
    execute();
  }
  ++row_;
  return row_ < PQntuples(result_);
}

void Statement::Use::run() {
  execute();
  if (PQntuples(result_) > 0) {
    fail("statement returned a row where none was expected");
  }
}

int Statement::Use::changes() const noexcept {
  if (result_ == nullptr) {
    return 0;
  }
  const std::string_view tuples = PQcmdTuples(result_);
  int count = 0;
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), count);
  return count;
}

const char* Statement::Use::value(int column) const {
  if (result_ == nullptr || row_ < 0 || row_ >= PQntuples(result_) || column < 0 ||
      column >= PQnfields(result_)) {
    fail(fmt::format("column {} read without a row", column));
  }
  return PQgetvalue(result_, row_, column);
}

bool Statement::Use::is_null(int column) const {
  static_cast<void>(value(column));  // checks the row and column
  return PQgetisnull(result_, row_, column) == 1;
}

std::int64_t Statement::Use::int64(int column) const {
  if (is_null(column)) {
    fail(fmt::format("column {} is NULL where an integer was expected", column));
  }
  const std::string_view text = value(column);
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc{} || end != text.data() + text.size()) {
    fail(fmt::format("column {} is not an integer", column));
  }
  return number;
}

std::string Statement::Use::text(int column) const {
  if (is_null(column)) {
    fail(fmt::format("column {} is NULL where text was expected", column));
  }
  return std::string(value(column), static_cast<std::size_t>(PQgetlength(result_, row_, column)));
}

domain::Timestamp Statement::Use::timestamp(int column) const {
  return domain::Timestamp{std::chrono::milliseconds{int64(column)}};
}

bool Statement::Use::boolean(int column) const {
  if (is_null(column)) {
    fail(fmt::format("column {} is NULL where a boolean was expected", column));
  }
  const std::string_view text = value(column);
  if (text != "t" && text != "f") {
    fail(fmt::format("column {} is not a boolean", column));
  }
  return text == "t";
}

std::optional<std::string> Statement::Use::optional_text(int column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  return text(column);
}

std::optional<domain::Timestamp> Statement::Use::optional_timestamp(int column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  return timestamp(column);
}

void Statement::Use::fail(std::string_view what) const {
  throw PgError(fmt::format("postgres store: {}: {}: {}", operation_, statement_.name_, what),
                "XX001", false);  // data_corrupted
}

// ---- write transactions -------------------------------------------------------------------

WriteTransaction::WriteTransaction(Connection& connection, std::string_view operation, bool nested,
                                   bool* spoiled)
    : connection_(connection), operation_(operation), spoiled_(spoiled), nested_(nested) {
  if (spoiled_ != nullptr) {
    return;
  }
  if (nested_) {
    connection_.exec("SAVEPOINT tillgate_write", operation_, "savepoint");
    return;
  }
  connection_.begin(operation_, true);
}

WriteTransaction::~WriteTransaction() {
  if (!open_) {
    return;
  }
  if (spoiled_ != nullptr) {
    *spoiled_ = true;
    return;
  }
  if (!nested_) {
    connection_.rollback();
    return;
  }
  try {
    // ROLLBACK TO undoes the savepoint's writes (and clears a failed state) but keeps it;
    // RELEASE removes it, leaving the enclosing transaction as it was before.
    connection_.exec("ROLLBACK TO SAVEPOINT tillgate_write; RELEASE SAVEPOINT tillgate_write",
                     operation_, "rollback to savepoint");
  } catch (const StoreError&) {
    // The enclosing transaction is then failed or gone; its owner finds out at its end.
  }
}

void WriteTransaction::commit() {
  if (spoiled_ == nullptr) {
    if (nested_) {
      connection_.exec("RELEASE SAVEPOINT tillgate_write", operation_, "release savepoint");
    } else {
      connection_.commit(operation_);
    }
  }
  open_ = false;
}

}  // namespace tillgate::store::postgres
