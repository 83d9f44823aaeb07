#pragma once
// Shared fixtures for the store tests, on both backends: a fresh database per test (a file in
// a temporary directory, or a database of its own on the PostgreSQL test cluster), a raw
// connection to look at (and tamper with) the database behind the store's back, and records
// with every field filled.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "../../support/temp_dir.hpp"
#include "store/store.hpp"

namespace tillgate::store::testing {

[[nodiscard]] inline Timestamp ms(std::int64_t value) {
  return Timestamp{std::chrono::milliseconds{value}};
}

using tillgate::testing::TempDir;

// The backends every store test runs on.
enum class Backend { sqlite, postgres };
[[nodiscard]] std::string backend_name(const ::testing::TestParamInfo<Backend>& info);
void PrintTo(Backend backend, std::ostream* out);

// A database of its own on the PostgreSQL test cluster, dropped at destruction. The cluster
// is the one scripts/test-postgres started: its URL is TILLGATE_TEST_PG_URL, or else the
// file the CTest fixture `postgres_cluster` wrote. Without one, creating a database fails
// the test, unless TILLGATE_TEST_PG_SKIP=1 (a developer's quick run): then it is skipped.
class PgTestDatabase {
 public:
  PgTestDatabase();
  ~PgTestDatabase();
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  [[nodiscard]] const std::string& url() const { return url_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  // The password in url(), for tests that check it is never shown.
  [[nodiscard]] std::string password() const {
    const auto at = url_.find('@');
    const auto colon = url_.rfind(':', at);
    return url_.substr(colon + 1, at - colon - 1);
  }
  // The cluster's maintenance database (to create, drop or close this one).
  [[nodiscard]] const std::string& admin_url() const { return admin_url_; }
  // Whether TILLGATE_TEST_PG_SKIP=1 asks to skip the PostgreSQL tests for want of a cluster.
  [[nodiscard]] static bool skipped();
  // The cluster's maintenance database URL; nullopt when there is no cluster.
  [[nodiscard]] static std::optional<std::string> cluster_url();

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// A plain connection, independent of the store's: SQLite on a file, or libpq.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& file);
  // A PostgreSQL connection string (postgresql://...).
  static RawDb postgres(const std::string& url);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  RawDb(RawDb&& other) noexcept;
  RawDb& operator=(RawDb&&) = delete;

  [[nodiscard]] bool is_postgres() const { return pg_ != nullptr; }
  // SQLITE_OK or the failing code; the message of a failure is kept in last_error(). On
  // PostgreSQL: SQLITE_OK, SQLITE_CONSTRAINT for an integrity violation (SQLSTATE class
  // 23), SQLITE_ERROR for any other failure.
  [[nodiscard]] int exec(const std::string& sql);
  // Makes every insert into `table` whose row satisfies `condition` (an SQL expression over
  // NEW, the same text on both backends) fail with `message`; remove_injected_failure()
  // takes it away again.
  [[nodiscard]] int inject_failure(const std::string& table, const std::string& condition,
                                   const std::string& message = "injected failure");
  [[nodiscard]] int remove_injected_failure();
  [[nodiscard]] const std::string& last_error() const { return last_error_; }
  [[nodiscard]] std::int64_t query_int(const std::string& sql);
  [[nodiscard]] std::string query_text(const std::string& sql);
  // Makes an empty file what a tillgate of schema `version` leaves: its schema_migrations
  // table and migrations 1 to `version` (applied_at 1). SQLITE_OK or the failing code.
  [[nodiscard]] int migrate_to(int version);

 private:
  explicit RawDb(PGconn* connection) : pg_(connection) {}

  sqlite3* db_ = nullptr;
  PGconn* pg_ = nullptr;
  std::string injected_table_;
  std::string last_error_;
};

[[nodiscard]] MerchantRecord make_merchant(const std::string& merchant_id);
[[nodiscard]] DeviceRecord make_device(const std::string& device_id,
                                       const std::string& merchant_id);
// A PENDING transaction created at `created_at`, deadline 90 s later.
[[nodiscard]] TransactionRecord make_transaction(const std::string& merchant_id,
                                                 const std::string& transaction_id,
                                                 const std::string& device_id,
                                                 std::int64_t created_at_ms = 1'700'000'000'123);

void expect_same(const MerchantRecord& expected, const MerchantRecord& actual);
void expect_same(const ApiKeyRecord& expected, const ApiKeyRecord& actual);
void expect_same(const DeviceRecord& expected, const DeviceRecord& actual);
void expect_same(const TransactionRecord& expected, const TransactionRecord& actual);
void expect_same(const TransactionEventRecord& expected, const TransactionEventRecord& actual);

// Each test gets its own database (a file in its own temporary directory, or a database of
// its own on the PostgreSQL test cluster), with merchant "m1" and its devices "d1" and "d2"
// already present. The backend is the test's parameter: a suite runs on both with
// TILLGATE_STORE_BACKENDS(Suite), on SQLite only with TILLGATE_SQLITE_ONLY(Suite).
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  [[nodiscard]] Backend backend() const { return GetParam(); }
  // The SQLite file (SQLite only).
  [[nodiscard]] std::filesystem::path db_path() const { return dir_.path() / "tillgate.db"; }
  [[nodiscard]] std::string db_url() const;
  void reopen();  // destroys the store object, then opens the database again
  // A raw connection to this test's database.
  [[nodiscard]] RawDb raw_db() const;
  // What the backend's message of a unique-constraint violation says.
  [[nodiscard]] std::string unique_violation() const {
    return backend() == Backend::sqlite ? "UNIQUE constraint failed" : "violates unique constraint";
  }

  TempDir dir_;
  std::unique_ptr<PgTestDatabase> pg_;
  std::unique_ptr<Store> store_;
};

#define TILLGATE_STORE_BACKENDS(Suite)                                                       \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                  \
                           ::testing::Values(::tillgate::store::testing::Backend::sqlite,    \
                                             ::tillgate::store::testing::Backend::postgres), \
                           ::tillgate::store::testing::backend_name)
#define TILLGATE_SQLITE_ONLY(Suite)                                                        \
  INSTANTIATE_TEST_SUITE_P(Sqlite, Suite,                                                  \
                           ::testing::Values(::tillgate::store::testing::Backend::sqlite), \
                           ::tillgate::store::testing::backend_name)

}  // namespace tillgate::store::testing
