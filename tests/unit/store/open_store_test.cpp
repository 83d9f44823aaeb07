// Opening: URLs, pragmas, migrations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The message of the StoreError that `open_store(url)` throws ("" if none is thrown).
std::string open_error(const std::string& url) {
  try {
    auto store = open_store(url);
  } catch (const StoreError& error) {
    return error.what();
  }
  ADD_FAILURE() << "open_store did not throw for " << url;
  return "";
}

TEST(OpenStore, CreatesMissingParentDirectories) {
  TempDir dir;
  const auto file = dir.path() / "a" / "b" / "c" / "tillgate.db";
  auto store = open_store("sqlite:" + file.string());
  store->ping();
  EXPECT_TRUE(std::filesystem::is_regular_file(file));
}

TEST(OpenStore, PragmasAreInEffect) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  auto store = open_store("sqlite:" + file.string());

  // journal_mode=WAL is a property of the file: any other connection sees it.
  RawDb raw{file};
  EXPECT_EQ(raw.query_text("PRAGMA journal_mode"), "wal");

  // synchronous and foreign_keys belong to a connection; a separate connection reports
  // only its own defaults, so these are read through the store's own connection...
  auto* sqlite_store = dynamic_cast<sqlite::SqliteStore*>(store.get());
  ASSERT_NE(sqlite_store, nullptr);
  EXPECT_EQ(sqlite_store->pragma_int("synchronous"), 2);  // FULL
  EXPECT_EQ(sqlite_store->pragma_int("foreign_keys"), 1);
  EXPECT_EQ(sqlite_store->pragma_int("busy_timeout"), 5000);
  // ...and foreign keys are shown to work: a key for an unknown merchant is refused.
  EXPECT_THROW(store->insert_api_key(ApiKeyRecord{.api_key = "k",
                                                  .merchant_id = "nobody",
                                                  .api_secret = domain::Secret("s"),
                                                  .created_at = ms(1),
                                                  .revoked_at = std::nullopt}),
               StoreError);
}

TEST(OpenStore, PragmaNamesAreValidated) {
  TempDir dir;
  sqlite::SqliteStore store{dir.path() / "tillgate.db"};
  EXPECT_THROW((void)store.pragma_int("user_version; DROP TABLE merchants"), StoreError);
  EXPECT_THROW((void)store.pragma_int(""), StoreError);
}

// Increasing from 1; a gap is allowed (two changes developed side by side take the next
// numbers, and either may be merged first).
TEST(OpenStore, MigrationVersionsIncreaseFromOne) {
  int previous = 0;
  for (const auto& migration : sqlite::migrations()) {
    EXPECT_GT(migration.version, previous);
    previous = migration.version;
    EXPECT_FALSE(migration.sql.empty());
  }
  EXPECT_EQ(sqlite::migrations().front().version, 1);
  EXPECT_EQ(sqlite::latest_schema_version(), previous);
}

TEST(OpenStore, MigrationsRunOnceAndReopeningIsANoOp) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  const std::string url = "sqlite:" + file.string();
  open_store(url)->insert_merchant(make_merchant("m1"));

  RawDb raw{file};
  const auto applied_at =
      raw.query_int("SELECT applied_at FROM schema_migrations WHERE version = 1");
  EXPECT_GT(applied_at, 1'600'000'000'000);  // milliseconds since the epoch, not seconds

  for (int i = 0; i < 3; ++i) {
    auto store = open_store(url);
    EXPECT_TRUE(store->find_merchant("m1").has_value());
  }
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM schema_migrations"),
            static_cast<std::int64_t>(sqlite::migrations().size()));
  EXPECT_EQ(raw.query_int("SELECT MAX(version) FROM schema_migrations"),
            sqlite::latest_schema_version());
  EXPECT_EQ(raw.query_int("SELECT applied_at FROM schema_migrations WHERE version = 1"),
            applied_at);
}

// A database that has a later migration but lacks an earlier one (5 merged after 6 was
// applied) gets the missing one at the next start.
TEST(OpenStore, AMissingMigrationBelowTheLatestIsApplied) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  const std::string url = "sqlite:" + file.string();
  open_store(url)->ping();
  {
    RawDb raw{file};
    // No index reads nomba_payload since migration 9, so the column can go.
    ASSERT_EQ(raw.exec("DROP TABLE server_secrets; DROP TABLE refresh_tokens; "
                       "ALTER TABLE webhook_events DROP COLUMN nomba_payload; "
                       "DELETE FROM schema_migrations WHERE version = 4"),
              SQLITE_OK)
        << raw.last_error();
  }
  open_store(url)->ping();
  RawDb raw{file};
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM schema_migrations WHERE version = 4"), 1);
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'server_secrets'"), 1);
}

TEST(OpenStore, NewerSchemaIsRefused) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  const std::string url = "sqlite:" + file.string();
  open_store(url)->ping();
  const int newer = sqlite::latest_schema_version() + 1;
  {
    RawDb raw{file};
    ASSERT_EQ(raw.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                       std::to_string(newer) + ", 0)"),
              SQLITE_OK);
  }
  EXPECT_EQ(open_error(url),
            "database schema version " + std::to_string(newer) + " is newer than this tillgate (" +
                std::to_string(sqlite::latest_schema_version()) + "); upgrade tillgate");
}

TEST(OpenStore, BadUrlsAreRefused) {
  for (const std::string url : {"", "tillgate.db", "/var/lib/tillgate.db", "mysql://db/tillgate",
                                "sqlite", "SQLITE:x.db"}) {
    SCOPED_TRACE(url);
    const auto message = open_error(url);
    EXPECT_THAT(message, HasSubstr("sqlite:PATH"));
    EXPECT_THAT(message, HasSubstr("postgresql://"));
  }
  EXPECT_THAT(open_error("sqlite:"), HasSubstr("needs a file path"));
}

TEST(OpenStore, InMemoryDatabasesAreRefused) {
  EXPECT_THAT(open_error("sqlite::memory:"), HasSubstr("in-memory"));
  EXPECT_THAT(open_error("sqlite:file::memory:?cache=shared"), HasSubstr("in-memory"));
}

// Both spellings open the PostgreSQL backend; nothing listens on port 1 of loopback, so the
// server is unavailable, and neither the password nor the URL is shown.
TEST(OpenStore, PostgresqlUrlsOpenThePostgresqlBackendWithoutShowingThem) {
  for (const std::string url : {"postgresql://user:hunter2@127.0.0.1:1/tillgate",
                                "postgres://user:hunter2@127.0.0.1:1/tillgate"}) {
    try {
      (void)open_store(url);
      FAIL() << "nothing listens on port 1, yet the store opened";
    } catch (const StoreError& error) {
      const std::string message = error.what();
      EXPECT_TRUE(error.unavailable()) << message;
      EXPECT_THAT(message, HasSubstr("postgres store: open: cannot connect"));
      EXPECT_THAT(message, Not(HasSubstr("hunter2")));
      EXPECT_THAT(message, Not(HasSubstr("user:")));
    }
  }
}

// libpq's own message for a URL it cannot parse quotes the URL, password included.
TEST(OpenStore, AMalformedPostgresqlUrlIsRefusedWithoutQuotingIt) {
  for (const std::string url : {"postgresql://user:hun%zzter2@127.0.0.1:1/tillgate",
                                "postgresql://user:hunter2@[::1/tillgate",
                                "postgres://user:hunter2@127.0.0.1:1/tillgate?bogus=1"}) {
    try {
      (void)open_store(url);
      FAIL() << "a malformed URL was accepted";
    } catch (const StoreError& error) {
      const std::string message = error.what();
      EXPECT_FALSE(error.unavailable()) << message;  // a setting to fix, not to wait for
      EXPECT_THAT(message, HasSubstr("not a valid libpq connection URI"));
      EXPECT_THAT(message, Not(HasSubstr("hun")));
    }
  }
}

TEST(OpenStore, AFileThatIsNotADatabaseIsRefused) {
  TempDir dir;
  const auto file = dir.path() / "notes.txt";
  std::ofstream{file} << "this is not an SQLite database, only a long enough line of text\n";
  EXPECT_THAT(open_error("sqlite:" + file.string()), HasSubstr("not a database"));
}

TEST(OpenStore, ADirectoryIsRefused) {
  TempDir dir;
  EXPECT_THAT(open_error("sqlite:" + dir.path().string()), HasSubstr("sqlite store: "));
}

}  // namespace
}  // namespace tillgate::store::testing
