// Group commit at the backend level: one write transaction per batch, a savepoint per call
// (isolated) or none (shared), WriteTransaction nesting inside it, and a batch the
// database rolled back mid-way.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::HasSubstr;

using BatchTest = StoreTest;

ApiKeyRecord api_key(const std::string& key) {
  return ApiKeyRecord{.api_key = key,
                      .merchant_id = "m1",
                      .api_secret = domain::Secret("secret-" + key),
                      .created_at = ms(1'700'000'000'000),
                      .revoked_at = std::nullopt};
}

TEST_P(BatchTest, CallsShareOneTransactionThatNobodyElseSeesBeforeTheCommit) {
  RawDb raw = raw_db();
  store_->begin_batch(Store::BatchCalls::isolated);
  store_->begin_batch_call();
  // insert_transaction opens a WriteTransaction of its own: it nests as a savepoint.
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  store_->end_batch_call(true);
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k1"));
  // A read in the batch sees the batch's own writes.
  EXPECT_TRUE(store_->find_transaction("m1", "T1").has_value());
  store_->end_batch_call(true);

  // Not committed yet: another connection sees none of it.
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM transactions"), 0);
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM api_keys"), 0);
  store_->commit_batch();
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM transactions"), 1);
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM api_keys"), 1);

  reopen();
  EXPECT_TRUE(store_->find_transaction("m1", "T1").has_value());
  EXPECT_EQ(store_->list_events("m1", "T1").size(), 1U);
  EXPECT_TRUE(store_->find_api_key("k1").has_value());
}

TEST_P(BatchTest, ACallUndoneAloneKeepsTheOthers) {
  RawDb raw = raw_db();
  // The event insert of T2 fails after its row was inserted, inside the nested savepoint.
  ASSERT_EQ(raw.inject_failure("transaction_events", "NEW.transaction_id = 'T2'"), SQLITE_OK)
      << raw.last_error();
  store_->begin_batch(Store::BatchCalls::isolated);

  store_->begin_batch_call();
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  store_->end_batch_call(true);

  store_->begin_batch_call();
  EXPECT_THROW((void)store_->insert_transaction(make_transaction("m1", "T2", "d2")), StoreError);
  store_->end_batch_call(false);

  // A call whose own writes all succeeded, undone because the call failed afterwards.
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k1"));
  ASSERT_TRUE(store_->revoke_device("m1", "d2", ms(1'700'000'000'500)));
  store_->end_batch_call(false);

  store_->begin_batch_call();
  store_->insert_api_key(api_key("k2"));
  store_->end_batch_call(true);
  store_->commit_batch();

  reopen();
  EXPECT_TRUE(store_->find_transaction("m1", "T1").has_value());
  EXPECT_FALSE(store_->find_transaction("m1", "T2").has_value());
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM transaction_events WHERE transaction_id = 'T2'"),
            0);
  EXPECT_FALSE(store_->find_api_key("k1").has_value());
  EXPECT_FALSE(store_->find_device("d2")->revoked_at.has_value());
  EXPECT_TRUE(store_->find_api_key("k2").has_value());
}

// A shared batch has no savepoints: a failed call, or a write a call left half done even
// if it caught the failure, spoils it, and only a rollback of the whole batch may follow.
TEST_P(BatchTest, ASharedBatchIsSpoiledByAFailedCallOrAHalfDoneWrite) {
  RawDb raw = raw_db();
  ASSERT_EQ(raw.inject_failure("transaction_events", "NEW.transaction_id = 'T2'"), SQLITE_OK)
      << raw.last_error();
  store_->begin_batch(Store::BatchCalls::shared);
  store_->begin_batch_call();
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  EXPECT_TRUE(store_->end_batch_call(true));
  store_->begin_batch_call();
  EXPECT_THROW((void)store_->insert_transaction(make_transaction("m1", "T2", "d2")), StoreError);
  EXPECT_FALSE(store_->end_batch_call(true));  // caught: still half done
  store_->rollback_batch();
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM transactions"), 0);

  store_->begin_batch(Store::BatchCalls::shared);  // a new batch starts unspoiled
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k1"));
  EXPECT_TRUE(store_->end_batch_call(true));
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k2"));
  EXPECT_FALSE(store_->end_batch_call(false));  // a call that failed after writing
  store_->rollback_batch();

  store_->begin_batch(Store::BatchCalls::shared);
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k3"));
  EXPECT_TRUE(store_->end_batch_call(true));
  store_->commit_batch();
  reopen();
  EXPECT_FALSE(store_->find_transaction("m1", "T1").has_value());
  EXPECT_FALSE(store_->find_api_key("k1").has_value());
  EXPECT_FALSE(store_->find_api_key("k2").has_value());
  EXPECT_TRUE(store_->find_api_key("k3").has_value());
}

// SQLite's RAISE(ROLLBACK), like SQLITE_FULL, ends the batch's transaction under it.
using BatchSqliteTest = StoreTest;

TEST_P(BatchSqliteTest, ABatchTheDatabaseRolledBackCommitsNothingAndRefusesToGoOn) {
  RawDb raw = raw_db();
  // RAISE(ROLLBACK) ends the whole transaction inside SQLite, as SQLITE_FULL may.
  ASSERT_EQ(raw.exec("CREATE TRIGGER inject BEFORE INSERT ON transaction_events "
                     "WHEN NEW.transaction_id = 'T2' "
                     "BEGIN SELECT RAISE(ROLLBACK, 'injected failure'); END"),
            SQLITE_OK);
  store_->begin_batch(Store::BatchCalls::isolated);
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k1"));
  store_->end_batch_call(true);

  store_->begin_batch_call();
  try {
    (void)store_->insert_transaction(make_transaction("m1", "T2", "d2"));
    FAIL() << "the injected failure was not reported";
  } catch (const StoreError& error) {
    EXPECT_THAT(error.what(), HasSubstr("injected failure"));
  }
  // The connection is back in autocommit mode: a write now would commit on its own, in
  // the middle of the batch. The commit hook refuses it.
  EXPECT_THROW(store_->insert_api_key(api_key("k2")), StoreError);
  try {
    store_->end_batch_call(false);
    FAIL() << "end_batch_call did not report the lost transaction";
  } catch (const StoreError& error) {
    EXPECT_THAT(error.what(), HasSubstr("rolled the batch's transaction back"));
  }
  EXPECT_THROW(store_->begin_batch_call(), StoreError);
  EXPECT_THROW(store_->commit_batch(), StoreError);
  store_->rollback_batch();

  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM api_keys"), 0);
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM transactions"), 0);

  // The next batch works, and outside a batch every write commits on its own again.
  ASSERT_EQ(raw.exec("DROP TRIGGER inject"), SQLITE_OK);
  store_->begin_batch(Store::BatchCalls::isolated);
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k3"));
  store_->end_batch_call(true);
  store_->commit_batch();
  store_->insert_api_key(api_key("k4"));
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM api_keys"), 2);
}

TEST_P(BatchTest, RollingTheBatchBackUndoesEveryCall) {
  RawDb raw = raw_db();
  store_->begin_batch(Store::BatchCalls::isolated);
  store_->begin_batch_call();
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  store_->end_batch_call(true);
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k1"));
  store_->end_batch_call(true);
  store_->rollback_batch();
  store_->rollback_batch();  // a second one does nothing

  reopen();
  EXPECT_FALSE(store_->find_transaction("m1", "T1").has_value());
  EXPECT_FALSE(store_->find_api_key("k1").has_value());
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM transaction_events"), 0);
}

TEST_P(BatchTest, BatchCallsNeedAnOpenBatch) {
  EXPECT_THROW(store_->begin_batch_call(), StoreError);
  EXPECT_THROW(store_->end_batch_call(true), StoreError);
  EXPECT_THROW(store_->commit_batch(), StoreError);
  store_->begin_batch(Store::BatchCalls::isolated);
  EXPECT_THROW(store_->begin_batch(Store::BatchCalls::isolated), StoreError);
  store_->rollback_batch();
}

TILLGATE_STORE_BACKENDS(BatchTest);
TILLGATE_SQLITE_ONLY(BatchSqliteTest);

}  // namespace
}  // namespace tillgate::store::testing
