// What survives: reopening the file, append-only history, and failures in the middle of a
// write (injected through a second connection) that must leave nothing half-written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain/terminal_outcome.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::HasSubstr;

using DurabilityTest = StoreTest;

TEST_P(DurabilityTest, EverythingReadsBackExactlyAfterReopening) {
  const ApiKeyRecord key{.api_key = "k1",
                         .merchant_id = "m1",
                         .api_secret = domain::Secret("s3cr3t"),
                         .created_at = ms(1'700'000'000'001),
                         .revoked_at = std::nullopt};
  store_->insert_api_key(key);
  store_->insert_api_key(ApiKeyRecord{.api_key = "k2",
                                      .merchant_id = "m1",
                                      .api_secret = domain::Secret("other"),
                                      .created_at = ms(1'700'000'000'002),
                                      .revoked_at = std::nullopt});
  ASSERT_TRUE(store_->revoke_api_key("m1", "k2", ms(1'700'000'000'999)));
  ASSERT_TRUE(store_->revoke_device("m1", "d2", ms(1'700'000'001'007)));

  auto record = make_transaction("m1", "T1", "d1", 1'700'000'000'123);
  record.webhook_mode = false;
  record.amount_minor = 9'007'199'254'740'993;  // beyond a double's exact integers
  ASSERT_EQ(store_->insert_transaction(record), InsertOutcome::inserted);
  const auto completed = store_->change_status(
      StatusChange{.merchant_id = "m1",
                   .transaction_id = "T1",
                   .expected = TransactionStatus::pending,
                   .next = TransactionStatus::timeout,
                   .cause = "grace_expired",
                   .at = ms(1'700'000'090'124),
                   .outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success,
                                                      .receipt_data = "line 1\nline 2 \xC3\xA9"},
                   .completed_at = ms(1'700'000'090'125),
                   .voided_at = ms(1'700'000'090'126),
                   .void_reason = "reported after TIMEOUT"});
  ASSERT_TRUE(completed.has_value() && completed->applied);
  const auto events = store_->list_events("m1", "T1");

  reopen();

  expect_same(make_merchant("m1"), *store_->find_merchant("m1"));
  expect_same(key, *store_->find_api_key("k1"));
  EXPECT_EQ(store_->find_api_key("k2")->revoked_at, ms(1'700'000'000'999));
  expect_same(make_device("d1", "m1"), *store_->find_device("d1"));
  EXPECT_EQ(store_->find_device("d2")->revoked_at, ms(1'700'000'001'007));
  expect_same(completed->transaction, *store_->find_transaction("m1", "T1"));
  EXPECT_EQ(store_->find_transaction("m1", "T1")->amount_minor, 9'007'199'254'740'993);
  const auto reread = store_->list_events("m1", "T1");
  ASSERT_EQ(reread.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    expect_same(events[i], reread[i]);
  }
}

TEST_P(DurabilityTest, EventsAreAppendOnly) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  RawDb raw = raw_db();
  EXPECT_NE(raw.exec("UPDATE transaction_events SET cause = 'rewritten'"), SQLITE_OK);
  EXPECT_THAT(raw.last_error(), HasSubstr("append-only"));
  EXPECT_NE(raw.exec("DELETE FROM transaction_events"), SQLITE_OK);
  EXPECT_THAT(raw.last_error(), HasSubstr("append-only"));
  const auto events = store_->list_events("m1", "T1");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].cause, "created");
}

TEST_P(DurabilityTest, FailedInsertLeavesNoHalfWrittenTransaction) {
  RawDb raw = raw_db();
  // The event insert fails after the row insert succeeded, inside one transaction.
  ASSERT_EQ(raw.inject_failure("transaction_events", "TRUE"), SQLITE_OK) << raw.last_error();
  try {
    (void)store_->insert_transaction(make_transaction("m1", "T1", "d1"));
    FAIL() << "the injected failure was not reported";
  } catch (const StoreError& error) {
    EXPECT_THAT(error.what(), HasSubstr("insert_transaction"));
    EXPECT_THAT(error.what(), HasSubstr("injected failure"));
  }
  ASSERT_EQ(raw.remove_injected_failure(), SQLITE_OK) << raw.last_error();

  EXPECT_FALSE(store_->find_transaction("m1", "T1").has_value());
  EXPECT_FALSE(store_->find_unfinished_for_device("d1").has_value());
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM transactions"), 0);
  // The store is usable afterwards: the transaction was rolled back, not left open.
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
}

TEST_P(DurabilityTest, FailedChangeLeavesTheTransactionAsItWas) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  RawDb raw = raw_db();
  // RAISE(ROLLBACK) ends the whole transaction inside SQLite; the guard must cope. On
  // PostgreSQL the failed statement leaves the transaction failed until its rollback.
  if (raw.is_postgres()) {
    ASSERT_EQ(raw.inject_failure("transaction_events", "TRUE"), SQLITE_OK) << raw.last_error();
  } else {
    ASSERT_EQ(raw.exec("CREATE TRIGGER inject BEFORE INSERT ON transaction_events "
                       "BEGIN SELECT RAISE(ROLLBACK, 'injected failure'); END"),
              SQLITE_OK);
  }
  const StatusChange change{
      .merchant_id = "m1",
      .transaction_id = "T1",
      .expected = TransactionStatus::pending,
      .next = TransactionStatus::completed,
      .cause = "terminal_succeeded",
      .at = ms(1'700'000'010'000),
      .outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success},
      .completed_at = ms(1'700'000'010'000),
      .voided_at = std::nullopt,
      .void_reason = std::nullopt};
  EXPECT_THROW((void)store_->change_status(change), StoreError);
  ASSERT_EQ(raw.remove_injected_failure(), SQLITE_OK) << raw.last_error();

  expect_same(make_transaction("m1", "T1", "d1"), *store_->find_transaction("m1", "T1"));
  EXPECT_EQ(store_->list_events("m1", "T1").size(), 1U);
  EXPECT_TRUE(store_->change_status(change)->applied);
}

using DurabilitySqliteTest = StoreTest;

TEST_P(DurabilitySqliteTest, AWriteLockHeldElsewhereFailsAfterTheBusyTimeout) {
  store_.reset();
  sqlite::SqliteStore store{db_path(),
                            sqlite::SqliteOptions{.busy_timeout = std::chrono::milliseconds{50}}};
  RawDb raw = raw_db();
  ASSERT_EQ(raw.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  try {
    (void)store.insert_transaction(make_transaction("m1", "T1", "d1"));
    FAIL() << "a held write lock did not make the insert fail";
  } catch (const StoreError& error) {
    EXPECT_THAT(error.what(), HasSubstr("insert_transaction"));
    EXPECT_THAT(error.what(), HasSubstr("database is locked"));
  }
  // Reads still work under WAL while another connection writes.
  EXPECT_TRUE(store.find_device("d1").has_value());
  ASSERT_EQ(raw.exec("ROLLBACK"), SQLITE_OK);
  EXPECT_EQ(store.insert_transaction(make_transaction("m1", "T1", "d1")), InsertOutcome::inserted);
}

TILLGATE_STORE_BACKENDS(DurabilityTest);
TILLGATE_SQLITE_ONLY(DurabilitySqliteTest);

}  // namespace
}  // namespace tillgate::store::testing
