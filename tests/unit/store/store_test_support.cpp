#include "store_test_support.hpp"

#include <stdlib.h>

#include <stdexcept>

#include "store/sqlite/migrations.hpp"

namespace tillgate::store::testing {

RawDb::RawDb(const std::filesystem::path& file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + file.string());
  }
}

RawDb::~RawDb() {
  sqlite3_close(db_);
}

int RawDb::exec(const std::string& sql) {
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

}  // namespace

std::int64_t RawDb::query_int(const std::string& sql) {
  return query_one(db_, sql, [](sqlite3_stmt* stmt) { return sqlite3_column_int64(stmt, 0); });
}

std::string RawDb::query_text(const std::string& sql) {
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

void StoreTest::SetUp() {
  store_ = open_store(db_url());
  store_->insert_merchant(make_merchant("m1"));
  ASSERT_TRUE(store_->insert_device(make_device("d1", "m1")));
  ASSERT_TRUE(store_->insert_device(make_device("d2", "m1")));
}

void StoreTest::reopen() {
  store_.reset();
  store_ = open_store(db_url());
}

}  // namespace tillgate::store::testing
