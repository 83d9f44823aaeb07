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

// ---- migration 10: CHECK constraints without IN lists -----------------------------------

// The opcodes of `sql` as SQLite compiles it on a connection of its own to `file`,
// separated by spaces.
std::string program_of(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string program;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, ("EXPLAIN " + sql).c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        program += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
        program += ' ';
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return program;
}

// Each statement that writes a status or event type on a payment's path compiles to a
// program without a temporary table (OpenEphemeral): an IN list of three or more constants
// in a CHECK built one every time the statement ran.
TEST(SqliteMigration10, WritesOfStatusesBuildNoTemporaryTable) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  open_store("sqlite:" + file.string())->ping();
  for (const std::string& sql : {
           std::string("INSERT INTO transactions (merchant_id, transaction_id, seq, device_id, "
                       "status, amount_minor, currency, payment_method, webhook_mode, "
                       "request_json, request_fingerprint, created_at, updated_at, deadline) "
                       "VALUES ('m', 't', 1, 'd', 'PENDING', 1, 'NGN', 'CARD', 0, '{}', 'f', 1, "
                       "1, 2)"),
           std::string("UPDATE transactions SET status = 'COMPLETED' WHERE merchant_id = 'm'"),
           std::string("INSERT INTO transaction_events (merchant_id, transaction_id, "
                       "from_status, to_status, cause, at) VALUES ('m', 't', 'PENDING', "
                       "'COMPLETED', 'c', 1)"),
           std::string("INSERT INTO webhook_events (event_id, merchant_id, transaction_id, "
                       "event_type, payload, created_at) VALUES ('e', 'm', 't', "
                       "'payment.completed', '{}', 1)"),
           std::string("INSERT INTO webhook_deliveries (delivery_id, merchant_id, event_id, "
                       "endpoint_id, status, next_attempt_at, created_at, updated_at) VALUES "
                       "('d', 'm', 'e', 'w', 'pending', 1, 1, 1)"),
           std::string("UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL "
                       "WHERE seq = 1"),
       }) {
    const auto program = program_of(file, sql);
    EXPECT_THAT(program, HasSubstr("Halt")) << sql;  // the program was read at all
    EXPECT_THAT(program, Not(HasSubstr("OpenEphemeral"))) << sql;
  }
}

// A version 9 file keeps every row, and every constraint still refuses what it refused.
TEST(SqliteMigration10, AVersion9FileKeepsItsRowsAndItsConstraints) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  { std::ofstream create{file}; }
  {
    RawDb raw{file};
    ASSERT_EQ(raw.migrate_to(9), SQLITE_OK) << raw.last_error();
    const std::string rows = R"sql(
      INSERT INTO merchants (merchant_id, name, created_at) VALUES ('m1', 'Shop m1', 1000);
      INSERT INTO devices (device_id, merchant_id, label, secret_hash, created_at)
        VALUES ('d1', 'm1', 'Till d1', 'aaaa', 2000);
      INSERT INTO transactions (merchant_id, transaction_id, seq, device_id, status,
          amount_minor, currency, payment_method, webhook_mode, request_json,
          request_fingerprint, created_at, updated_at, deadline)
        VALUES ('m1', 'T1', 1, 'd1', 'PENDING', 9999, 'NGN', 'CARD', 0, '{}', 'ffff',
                99000, 99000, 189000);
      INSERT INTO transaction_events (merchant_id, transaction_id, from_status, to_status,
          cause, at) VALUES ('m1', 'T1', NULL, 'PENDING', 'created', 99000);
    )sql";
    ASSERT_EQ(raw.exec(rows), SQLITE_OK) << raw.last_error();
  }
  auto store = open_store("sqlite:" + file.string());
  ASSERT_TRUE(store->find_transaction("m1", "T1").has_value());
  EXPECT_EQ(store->find_transaction("m1", "T1")->amount_minor, 9999);
  EXPECT_EQ(store->list_events("m1", "T1").size(), 1U);

  RawDb raw{file};
  EXPECT_EQ(raw.query_text("PRAGMA integrity_check"), "ok");
  // The lists' constants, side by side, are gone from every CREATE statement.
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM sqlite_schema WHERE sql LIKE "
                          "'%''COMPLETED'', ''FAILED''%' OR sql LIKE "
                          "'%''payment.completed'', ''payment.failed''%' OR sql LIKE "
                          "'%''pending'', ''succeeded''%'"),
            0)
      << "a CHECK still tests an IN list of three or more constants";
  const auto refused = [&raw](const std::string& sql) {
    return raw.exec(sql) == SQLITE_CONSTRAINT &&
           raw.last_error().find("CHECK constraint failed") != std::string::npos;
  };
  EXPECT_TRUE(refused("UPDATE transactions SET status = 'APPROVED' WHERE transaction_id = 'T1'"));
  EXPECT_TRUE(refused("UPDATE transactions SET status = 'pending' WHERE transaction_id = 'T1'"));
  EXPECT_TRUE(
      refused("INSERT INTO transaction_events (merchant_id, transaction_id, "
              "from_status, to_status, cause, at) VALUES ('m1', 'T1', 'PENDING', "
              "'DONE', 'x', 1)"));
  EXPECT_TRUE(
      refused("INSERT INTO transaction_events (merchant_id, transaction_id, "
              "from_status, to_status, cause, at) VALUES ('m1', 'T1', 'NEW', "
              "'PENDING', 'x', 1)"));
  EXPECT_TRUE(
      refused("INSERT INTO webhook_events (event_id, merchant_id, transaction_id, "
              "event_type, payload, created_at) VALUES ('e1', 'm1', 'T1', "
              "'payment.approved', '{}', 1)"));
  // Every value the constraints name is still accepted (a NULL from_status too).
  EXPECT_EQ(raw.exec("INSERT INTO transaction_events (merchant_id, transaction_id, "
                     "from_status, to_status, cause, at) VALUES ('m1', 'T1', NULL, 'VOIDED', "
                     "'x', 1), ('m1', 'T1', 'AWAITING_RECONNECT', 'TIMEOUT', 'x', 2), "
                     "('m1', 'T1', 'CANCELLED', 'FAILED', 'x', 3)"),
            SQLITE_OK)
      << raw.last_error();
  // A second start finds version 10 applied and changes nothing.
  const auto cookie = raw.query_int("PRAGMA schema_version");
  store.reset();
  open_store("sqlite:" + file.string())->ping();
  EXPECT_EQ(raw.query_int("PRAGMA schema_version"), cookie);
}

}  // namespace
}  // namespace tillgate::store::testing
