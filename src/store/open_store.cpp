#include <fmt/format.h>

#include <string_view>

#include "store/database_lock.hpp"
#include "store/database_url.hpp"
#include "store/node_store.hpp"
#include "store/postgres/change_listener.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace tillgate::store {
namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";

[[nodiscard]] bool is_postgresql_url(std::string_view url) {
  // libpq accepts both scheme spellings.
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

}  // namespace

std::optional<std::filesystem::path> sqlite_database_path(const std::string& url) {
  const std::string_view text{url};
  if (text.starts_with(kSqlitePrefix)) {
    const std::string_view path = text.substr(kSqlitePrefix.size());
    if (path.empty()) {
      throw StoreError("TILLGATE_DB: sqlite: needs a file path, as in sqlite:./data/tillgate.db");
    }
    // An in-memory database would lose every payment at exit: durability is the point.
    if (path == ":memory:" || path.starts_with("file:")) {
      throw StoreError(
          "TILLGATE_DB: in-memory and URI-style SQLite databases are not supported; "
          "use sqlite:PATH with a file path");
    }
    return std::filesystem::path{path};
  }
  if (is_postgresql_url(text)) {
    return std::nullopt;
  }
  // The URL itself is not echoed: a postgresql URL with a typo could carry a password.
  throw StoreError(
      "TILLGATE_DB: unsupported database URL; expected sqlite:PATH or postgresql://...");
}

DatabaseLock lock_database(const std::string& url) {
  if (auto path = sqlite_database_path(url)) {
    return DatabaseLock{sqlite::WriterLock{*path}};
  }
  return DatabaseLock{};  // postgresql://: several nodes share it
}

std::unique_ptr<Store> open_store(const std::string& url, const DatabaseOptions& options) {
  if (auto path = sqlite_database_path(url)) {
    return std::make_unique<sqlite::SqliteStore>(*path);
  }
  // postgresql:// or postgres:// (sqlite_database_path refused anything else); the URL is
  // handed to libpq as it is and never echoed.
  return std::make_unique<postgres::PostgresStore>(
      url, postgres::ConnectionOptions{.statement_timeout = options.statement_timeout,
                                        .node_id = options.node_id});
}

std::vector<std::unique_ptr<Store>> open_store_readers(const std::string& url,
                                                       const DatabaseOptions& options) {
  std::vector<std::unique_ptr<Store>> readers;
  if (sqlite_database_path(url)) {
    return readers;
  }
  const std::size_t count = options.pool > 1 ? options.pool - 1 : 0;
  readers.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    readers.push_back(open_store(url, options));
  }
  return readers;
}

std::unique_ptr<ChangeListener> listen_for_changes(const std::string& url,
                                                   const DatabaseOptions& options,
                                                   std::function<void()> on_change) {
  if (sqlite_database_path(url)) {
    return nullptr;
  }
  return std::make_unique<postgres::PgChangeListener>(
      url,
      postgres::ConnectionOptions{.statement_timeout = options.statement_timeout,
                                  .node_id = options.node_id},
      std::move(on_change));
}

}  // namespace tillgate::store
