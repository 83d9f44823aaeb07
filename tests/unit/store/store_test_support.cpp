#include "store_test_support.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

#include "store/sqlite/migrations.hpp"

namespace tillgate::store::testing {

RawDb::RawDb(const std::filesystem::path& file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + file.string());
  }
}

RawDb RawDb::postgres(const std::string& url) {
  PGconn* connection = PQconnectdb(url.c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(connection);
    PQfinish(connection);
    throw std::runtime_error("cannot connect to the test database: " + message);
  }
  PQclear(PQexec(connection, "SET client_min_messages = warning"));
  return RawDb{connection};
}

RawDb::RawDb(RawDb&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      pg_(std::exchange(other.pg_, nullptr)),
      injected_table_(std::move(other.injected_table_)),
      last_error_(std::move(other.last_error_)) {}

RawDb::~RawDb() {
  sqlite3_close(db_);
  PQfinish(pg_);
}

int RawDb::inject_failure(const std::string& table, const std::string& condition,
                          const std::string& message) {
  injected_table_ = table;
  if (!is_postgres()) {
    return exec("CREATE TRIGGER inject BEFORE INSERT ON " + table + " WHEN " + condition +
                " BEGIN SELECT RAISE(ABORT, '" + message + "'); END");
  }
  return exec("CREATE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF " +
              condition + " THEN RAISE EXCEPTION '" + message +
              "'; END IF; RETURN NEW; END $$; CREATE TRIGGER inject BEFORE INSERT ON " + table +
              " FOR EACH ROW EXECUTE FUNCTION inject()");
}

int RawDb::remove_injected_failure() {
  if (!is_postgres()) {
    return exec("DROP TRIGGER inject");
  }
  return exec("DROP TRIGGER inject ON " + injected_table_ + "; DROP FUNCTION inject()");
}

int RawDb::exec(const std::string& sql) {
  if (is_postgres()) {
    PGresult* result = PQexec(pg_, sql.c_str());
    const auto status = PQresultStatus(result);
    int rc = SQLITE_OK;
    last_error_.clear();
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      rc = state != nullptr && std::string_view{state}.starts_with("23") ? SQLITE_CONSTRAINT
                                                                         : SQLITE_ERROR;
      last_error_ = PQresultErrorMessage(result);
    }
    PQclear(result);
    return rc;
  }
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  last_error_ = message != nullptr ? message : "";
  sqlite3_free(message);
  return rc;
}

int RawDb::migrate_to(int version) {
  int rc = exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
      "applied_at INTEGER NOT NULL) STRICT");
  for (const auto& migration : sqlite::migrations()) {
    if (rc != SQLITE_OK || migration.version > version) {
      break;
    }
    rc = exec(std::string(migration.sql));
    if (rc == SQLITE_OK) {
      rc = exec("INSERT INTO schema_migrations VALUES (" + std::to_string(migration.version) +
                ", 1)");
    }
  }
  return rc;
}

namespace {

// Runs a one-row, one-column query and hands the row to `read`.
template <typename Read>
auto query_one(sqlite3* db, const std::string& sql, Read read) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    throw std::runtime_error("prepare failed: " + sql + ": " + sqlite3_errmsg(db));
  }
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    sqlite3_finalize(stmt);
    throw std::runtime_error("no row: " + sql);
  }
  auto value = read(stmt);
  sqlite3_finalize(stmt);
  return value;
}

// The same for PostgreSQL: the one value as text (empty for NULL).
std::string pg_query_one(PGconn* connection, const std::string& sql) {
  PGresult* result = PQexec(connection, sql.c_str());
  if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) < 1) {
    const std::string message = PQresultErrorMessage(result);
    PQclear(result);
    throw std::runtime_error("no row: " + sql + ": " + message);
  }
  std::string value = PQgetvalue(result, 0, 0);
  PQclear(result);
  return value;
}

}  // namespace

std::int64_t RawDb::query_int(const std::string& sql) {
  if (is_postgres()) {
    const std::string value = pg_query_one(pg_, sql);
    // A boolean (SQLite answers comparisons as 0/1).
    if (value == "t" || value == "f") {
      return value == "t" ? 1 : 0;
    }
    return value.empty() ? 0 : std::stoll(value);
  }
  return query_one(db_, sql, [](sqlite3_stmt* stmt) { return sqlite3_column_int64(stmt, 0); });
}

std::string RawDb::query_text(const std::string& sql) {
  if (is_postgres()) {
    return pg_query_one(pg_, sql);
  }
  return query_one(db_, sql, [](sqlite3_stmt* stmt) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    return std::string(text != nullptr ? text : "");
  });
}

MerchantRecord make_merchant(const std::string& merchant_id) {
  return MerchantRecord{
      .merchant_id = merchant_id, .name = "Shop " + merchant_id, .created_at = ms(1'000)};
}

DeviceRecord make_device(const std::string& device_id, const std::string& merchant_id) {
  return DeviceRecord{.device_id = device_id,
                      .merchant_id = merchant_id,
                      .label = "Till " + device_id,
                      .secret_hash = std::string(64, 'a'),
                      .metadata_json = R"({"serialNumber":"SN-1"})",
                      .created_at = ms(2'000),
                      .revoked_at = std::nullopt};
}

TransactionRecord make_transaction(const std::string& merchant_id,
                                   const std::string& transaction_id, const std::string& device_id,
                                   std::int64_t created_at_ms) {
  return TransactionRecord{
      .merchant_id = merchant_id,
      .transaction_id = transaction_id,
      .device_id = device_id,
      .status = TransactionStatus::pending,
      .amount_minor = 9'999,
      .currency = "USD",
      .payment_method = domain::PaymentMethod::card,
      .webhook_mode = true,
      .request_json = R"({"amount":"99.99","currency":"USD","paymentMethod":"CARD"})",
      .request_fingerprint = std::string(64, 'f'),
      .outcome = std::nullopt,
      .created_at = ms(created_at_ms),
      .updated_at = ms(created_at_ms),
      .deadline = ms(created_at_ms + 90'000),
      .completed_at = std::nullopt,
      .voided_at = std::nullopt,
      .void_reason = std::nullopt,
      .cancel_requested_at = std::nullopt,
      .version = 1};
}

void expect_same(const MerchantRecord& expected, const MerchantRecord& actual) {
  EXPECT_EQ(expected.merchant_id, actual.merchant_id);
  EXPECT_EQ(expected.name, actual.name);
  EXPECT_EQ(expected.created_at, actual.created_at);
}

void expect_same(const ApiKeyRecord& expected, const ApiKeyRecord& actual) {
  EXPECT_EQ(expected.api_key, actual.api_key);
  EXPECT_EQ(expected.merchant_id, actual.merchant_id);
  EXPECT_EQ(expected.api_secret.reveal(), actual.api_secret.reveal());
  EXPECT_EQ(expected.created_at, actual.created_at);
  EXPECT_EQ(expected.revoked_at, actual.revoked_at);
}

void expect_same(const DeviceRecord& expected, const DeviceRecord& actual) {
  EXPECT_EQ(expected.device_id, actual.device_id);
  EXPECT_EQ(expected.merchant_id, actual.merchant_id);
  EXPECT_EQ(expected.label, actual.label);
  EXPECT_EQ(expected.secret_hash, actual.secret_hash);
  EXPECT_EQ(expected.metadata_json, actual.metadata_json);
  EXPECT_EQ(expected.created_at, actual.created_at);
  EXPECT_EQ(expected.revoked_at, actual.revoked_at);
}

void expect_same(const TransactionRecord& expected, const TransactionRecord& actual) {
  EXPECT_EQ(expected.merchant_id, actual.merchant_id);
  EXPECT_EQ(expected.transaction_id, actual.transaction_id);
  EXPECT_EQ(expected.device_id, actual.device_id);
  EXPECT_EQ(expected.status, actual.status);
  EXPECT_EQ(expected.amount_minor, actual.amount_minor);
  EXPECT_EQ(expected.currency, actual.currency);
  EXPECT_EQ(expected.payment_method, actual.payment_method);
  EXPECT_EQ(expected.webhook_mode, actual.webhook_mode);
  EXPECT_EQ(expected.request_json, actual.request_json);
  EXPECT_EQ(expected.request_fingerprint, actual.request_fingerprint);
  EXPECT_EQ(expected.outcome, actual.outcome);
  EXPECT_EQ(expected.created_at, actual.created_at);
  EXPECT_EQ(expected.updated_at, actual.updated_at);
  EXPECT_EQ(expected.deadline, actual.deadline);
  EXPECT_EQ(expected.completed_at, actual.completed_at);
  EXPECT_EQ(expected.voided_at, actual.voided_at);
  EXPECT_EQ(expected.void_reason, actual.void_reason);
  EXPECT_EQ(expected.cancel_requested_at, actual.cancel_requested_at);
  EXPECT_EQ(expected.version, actual.version);
}

void expect_same(const TransactionEventRecord& expected, const TransactionEventRecord& actual) {
  EXPECT_EQ(expected.sequence, actual.sequence);
  EXPECT_EQ(expected.merchant_id, actual.merchant_id);
  EXPECT_EQ(expected.transaction_id, actual.transaction_id);
  EXPECT_EQ(expected.from_status, actual.from_status);
  EXPECT_EQ(expected.to_status, actual.to_status);
  EXPECT_EQ(expected.cause, actual.cause);
  EXPECT_EQ(expected.at, actual.at);
}

void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::sqlite ? "sqlite" : "postgres");
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "Sqlite" : "Postgres";
}

#ifndef TILLGATE_TEST_PG_URL_FILE
#define TILLGATE_TEST_PG_URL_FILE ""
#endif

std::optional<std::string> PgTestDatabase::cluster_url() {
  if (const char* url = std::getenv("TILLGATE_TEST_PG_URL"); url != nullptr && *url != '\0') {
    return std::string(url);
  }
  std::ifstream file{TILLGATE_TEST_PG_URL_FILE};
  std::string url;
  if (file && std::getline(file, url) && !url.empty()) {
    return url;
  }
  return std::nullopt;
}

namespace {

// The URL with its database name replaced (postgresql://user:pw@host:port/NAME[?params]).
std::string with_database(const std::string& url, const std::string& name) {
  const auto query = url.find('?');
  const std::string base = url.substr(0, query);
  const auto scheme_end = base.find("://");
  const auto slash = base.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  const std::string host_part = slash == std::string::npos ? base : base.substr(0, slash);
  return host_part + "/" + name + (query == std::string::npos ? "" : url.substr(query));
}

void admin_exec(const std::string& admin_url, const std::string& sql) {
  RawDb admin = RawDb::postgres(admin_url);
  if (admin.exec(sql) != SQLITE_OK) {
    throw std::runtime_error("test cluster: " + sql + ": " + admin.last_error());
  }
}

}  // namespace

PgTestDatabase::PgTestDatabase() {
  auto url = cluster_url();
  if (!url) {
    throw std::runtime_error(
        "no PostgreSQL test cluster: run the tests through ctest (its fixture "
        "postgres_cluster starts one) or under scripts/test-postgres run -- ..., or set "
        "TILLGATE_TEST_PG_URL (TILLGATE_TEST_PG_SKIP=1 skips the PostgreSQL tests instead)");
  }
  static std::atomic<int> counter{0};
  admin_url_ = *url;
  name_ = "tillgate_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  admin_exec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  admin_exec(admin_url_, "CREATE DATABASE " + name_);
  url_ = with_database(admin_url_, name_);
}

PgTestDatabase::~PgTestDatabase() {
  try {
    admin_exec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // Left for the cluster's removal at the end of the run.
  }
}

bool PgTestDatabase::skipped() {
  const char* skip = std::getenv("TILLGATE_TEST_PG_SKIP");
  return skip != nullptr && std::string_view{skip} == "1" && !cluster_url();
}

void StoreTest::SetUp() {
  if (backend() == Backend::postgres) {
    if (PgTestDatabase::skipped()) {
      GTEST_SKIP() << "TILLGATE_TEST_PG_SKIP=1 and no PostgreSQL test cluster";
    }
    pg_ = std::make_unique<PgTestDatabase>();
  }
  store_ = open_store(db_url());
  store_->insert_merchant(make_merchant("m1"));
  ASSERT_TRUE(store_->insert_device(make_device("d1", "m1")));
  ASSERT_TRUE(store_->insert_device(make_device("d2", "m1")));
}

void StoreTest::TearDown() {
  store_.reset();
  pg_.reset();
}

std::string StoreTest::db_url() const {
  return pg_ ? pg_->url() : "sqlite:" + db_path().string();
}

RawDb StoreTest::raw_db() const {
  return pg_ ? RawDb::postgres(pg_->url()) : RawDb{db_path()};
}

void StoreTest::reopen() {
  store_.reset();
  store_ = open_store(db_url());
}

}  // namespace tillgate::store::testing
