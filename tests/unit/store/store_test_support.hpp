#pragma once
// Shared fixtures for the store tests: a fresh temporary directory per test, a raw SQLite
// connection to look at (and tamper with) the file behind the store's back, and records
// with every field filled.
#include <gtest/gtest.h>
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

// A plain sqlite3 connection, independent of the store's.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& file);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // SQLITE_OK or the failing code; the message of a failure is kept in last_error().
  [[nodiscard]] int exec(const std::string& sql);
  [[nodiscard]] const std::string& last_error() const { return last_error_; }
  [[nodiscard]] std::int64_t query_int(const std::string& sql);
  [[nodiscard]] std::string query_text(const std::string& sql);
  // Makes an empty file what a tillgate of schema `version` leaves: its schema_migrations
  // table and migrations 1 to `version` (applied_at 1). SQLITE_OK or the failing code.
  [[nodiscard]] int migrate_to(int version);

 private:
  sqlite3* db_ = nullptr;
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

// Each test gets its own database file in its own temporary directory, with merchant
// "m1" and its devices "d1" and "d2" already present.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override;

  [[nodiscard]] std::filesystem::path db_path() const { return dir_.path() / "tillgate.db"; }
  [[nodiscard]] std::string db_url() const { return "sqlite:" + db_path().string(); }
  void reopen();  // destroys the store object, then opens the file again

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace tillgate::store::testing
