#pragma once
// The SQLite schema as an ordered list of migrations compiled into the binary. A
// migration, once released, never changes: a schema change is a new migration appended
// to the list.
#include <span>
#include <string_view>

#include "domain/time.hpp"
#include "store/sqlite/statement.hpp"

namespace tillgate::store::sqlite {

struct Migration {
  int version;                   // 1, 2, 3, ...: increasing in list order (a gap is allowed)
  std::string_view description;  // for humans reading schema_migrations' history
  std::string_view sql;          // may hold several statements
  // The sql edits CREATE statements in sqlite_schema itself (writable_schema), which SQLite
  // does not notice: the runner then bumps the schema cookie, so that every connection to
  // the file reloads the schema, and reloads this connection's.
  bool rewrites_schema_text = false;
};

[[nodiscard]] std::span<const Migration> migrations();
[[nodiscard]] int latest_schema_version();

// Applies every migration the database has not seen yet, each inside its own BEGIN
// IMMEDIATE transaction together with its schema_migrations row, so that a crash leaves
// the schema at a whole version and two processes opening the same file at once apply
// each migration once. Throws StoreError when the database is newer than this binary.
void migrate(Connection& connection, domain::Timestamp now);

}  // namespace tillgate::store::sqlite
