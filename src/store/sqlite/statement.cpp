#include "store/sqlite/statement.hpp"

#include <fmt/format.h>

#include <cassert>
#include <mutex>

namespace tillgate::store::sqlite {

void throw_error(sqlite3* db, int code, std::string_view operation, std::string_view what) {
  // sqlite3_errmsg describes the most recent failure on this connection (e.g. "UNIQUE
  // constraint failed: devices.device_id"); it names columns, never bound values.
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw SqliteError(
      fmt::format("sqlite store: {}: {}: {} (sqlite code {})", operation, what, message, code),
      code);
}

bool SqliteError::unavailable() const noexcept {
  switch (code_ & 0xff) {  // the primary result code
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

void configure_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Refused (SQLITE_MISUSE) only once SQLite is initialized, when the setting stays as it
    // was: a slower allocator, nothing less correct.
    static_cast<void>(sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0));
  });
}

Connection::Connection(const std::string& path) {
  configure_library();
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    // Even a failed open may allocate a handle; take its message, then release it.
    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(fmt::format("sqlite store: open: cannot open database file {}: {} "
                                  "(sqlite code {})",
                                  path, message, rc),
                      rc);
  }
  // Extended codes tell SQLITE_CONSTRAINT_UNIQUE from SQLITE_CONSTRAINT_FOREIGNKEY, etc.
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  // Every Statement is finalized before its connection is destroyed (member order in the
  // owner), so a plain close succeeds; close_v2 would hide a leak instead.
  [[maybe_unused]] const int rc = sqlite3_close(db_);
  assert(rc == SQLITE_OK);
}

void Connection::exec(std::string_view sql, std::string_view operation, std::string_view what) {
  const std::string text{sql};  // sqlite3_exec needs a NUL-terminated string
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    throw_error(db_, rc, operation, what);
  }
}

Statement::Statement(sqlite3* db, std::string_view name, std::string_view sql)
    : db_(db), name_(name) {
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    throw_error(db_, rc, "prepare", name_);
  }
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement::Use Statement::use(std::string_view operation) {
  return Use{db_, stmt_, name_, operation};
}

Statement::Use::Use(sqlite3* db, sqlite3_stmt* stmt, std::string_view name,
                    std::string_view operation)
    : db_(db), stmt_(stmt), name_(name), operation_(operation) {}

Statement::Use::~Use() {
  // reset() repeats the last step's error code, which was already thrown; ignore it here.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::Use::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  throw_error(db_, rc, operation_, name_);
}

void Statement::Use::run() {
  if (step()) {
    fail("statement returned a row where none was expected");
  }
}

int Statement::Use::changes() const noexcept {
  return sqlite3_changes(db_);
}

bool Statement::Use::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::Use::int64(int column) const {
  if (is_null(column)) {
    fail(fmt::format("column {} is NULL where an integer was expected", column));
  }
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::Use::text(int column) const {
  if (is_null(column)) {
    fail(fmt::format("column {} is NULL where text was expected", column));
  }
  // column_text before column_bytes: the documented order that yields the UTF-8 length.
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) {
    throw_error(db_, sqlite3_errcode(db_), operation_, name_);  // out of memory
  }
  return std::string(data, static_cast<std::size_t>(size));
}

domain::Timestamp Statement::Use::timestamp(int column) const {
  return domain::Timestamp{std::chrono::milliseconds{int64(column)}};
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
  throw SqliteError(fmt::format("sqlite store: {}: {}: {}", operation_, name_, what),
                    SQLITE_CORRUPT);
}

void Statement::Use::bind_text(int index, std::string_view value) {
  // An empty string_view may carry a null pointer, which SQLite would bind as NULL; an
  // empty string must stay an empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc =
      sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) {
    throw_error(db_, rc, operation_, name_);
  }
}

void Statement::Use::bind_int64(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) {
    throw_error(db_, rc, operation_, name_);
  }
}

void Statement::Use::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) {
    throw_error(db_, rc, operation_, name_);
  }
}

WriteTransaction::WriteTransaction(sqlite3* db, Statements statements, std::string_view operation,
                                   bool* spoiled)
    : db_(db),
      statements_(statements),
      operation_(operation),
      spoiled_(spoiled),
      nested_(sqlite3_get_autocommit(db) == 0) {
  if (spoiled_ != nullptr) {
    return;
  }
  (nested_ ? statements_.savepoint : statements_.begin).use(operation_).run();
}

WriteTransaction::~WriteTransaction() {
  // Some failures (SQLITE_FULL, SQLITE_IOERR, RAISE(ROLLBACK), ...) already rolled the
  // whole transaction back, the enclosing one too when nested; a second rollback would
  // only fail. A rollback that fails otherwise cannot be reported from a destructor, and
  // SQLite then rolls back at close (or the enclosing transaction's owner does).
  if (!open_) {
    return;
  }
  if (spoiled_ != nullptr) {
    *spoiled_ = true;
    return;
  }
  if (sqlite3_get_autocommit(db_) != 0) {
    return;
  }
  try {
    if (nested_) {
      // ROLLBACK TO undoes the savepoint's writes but keeps it on the stack; RELEASE
      // removes it, leaving the enclosing transaction as it was before the savepoint.
      statements_.rollback_to.use(operation_).run();
      statements_.release.use(operation_).run();
    } else {
      statements_.rollback.use(operation_).run();
    }
  } catch (const StoreError&) {
  }
}

void WriteTransaction::commit() {
  if (spoiled_ == nullptr) {
    (nested_ ? statements_.release : statements_.commit).use(operation_).run();
  }
  open_ = false;
}

}  // namespace tillgate::store::sqlite
