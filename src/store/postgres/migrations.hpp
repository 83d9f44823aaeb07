#pragma once
// The PostgreSQL schema, as numbered migrations applied in order. Its numbering is its own:
// version 1 is the whole schema of the SQLite backend's version 9 (sqlite/migrations.cpp),
// with the same tables, columns, constraints and indexes; later changes add versions to
// both backends.
#include <span>
#include <string_view>

#include "domain/time.hpp"
#include "store/postgres/pg.hpp"

namespace tillgate::store::postgres {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

[[nodiscard]] std::span<const Migration> migrations();
[[nodiscard]] int latest_schema_version();

// Applies every migration the database lacks, in one transaction under an advisory lock
// (pg_advisory_xact_lock): of several gateways starting at once, one migrates and the
// others wait, then find nothing left to do. Throws StoreError for a database whose schema
// is newer than this build.
void migrate(Connection& connection, domain::Timestamp now);

}  // namespace tillgate::store::postgres
