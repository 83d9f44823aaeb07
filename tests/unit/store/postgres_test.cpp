// What only the PostgreSQL backend has: the connection (lost, refused, reconnected), the
// write lock other connections hold, migrations raced by several gateways starting at once,
// and URLs whose password must never be shown. The store's answers themselves are tested
// on both backends by the other store tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/postgres/migrations.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using PostgresTest = StoreTest;

ApiKeyRecord api_key(const std::string& key) {
  return ApiKeyRecord{.api_key = key,
                      .merchant_id = "m1",
                      .api_secret = domain::Secret("secret-" + key),
                      .created_at = ms(1'700'000'000'000),
                      .revoked_at = std::nullopt};
}

// Ends the store's own server process, as a server restart or a network cut would, and
// waits until it is gone (pg_terminate_backend only signals it).
void cut_the_store_off(RawDb& raw) {
  const std::string store_backends =
      "FROM pg_stat_activity WHERE application_name = 'tillgate' AND datname = "
      "current_database()";
  ASSERT_EQ(raw.query_int("SELECT COUNT(pg_terminate_backend(pid)) " + store_backends), 1);
  for (int i = 0; i < 500 && raw.query_int("SELECT COUNT(*) " + store_backends) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  ASSERT_EQ(raw.query_int("SELECT COUNT(*) " + store_backends), 0);
  // Its activity entry goes before its process has closed the socket.
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
}

// Options with a short backoff, so that a test need not wait long for the reconnection.
postgres::ConnectionOptions quick() {
  return postgres::ConnectionOptions{.min_backoff = std::chrono::milliseconds{20},
                                     .max_backoff = std::chrono::milliseconds{40},
                                     .connect_timeout = std::chrono::seconds{2},
                                     .lock_timeout = std::chrono::milliseconds{50}};
}

TEST_P(PostgresTest, AConnectionClosedWhileIdleIsReplacedBeforeTheNextCall) {
  store_ = std::make_unique<postgres::PostgresStore>(db_url(), quick());
  ASSERT_TRUE(store_->find_device("d1").has_value());
  RawDb raw = raw_db();
  cut_the_store_off(raw);  // a server restart or an idle timeout, between two calls
  EXPECT_TRUE(store_->find_device("d1").has_value());
  // The prepared statements are prepared again on the new connection, writes too.
  store_->insert_api_key(api_key("k1"));
  EXPECT_TRUE(store_->find_api_key("k1").has_value());
}

TEST_P(PostgresTest, AConnectionLostDuringACallFailsItAsUnavailableAndTheNextCallReconnects) {
  auto options = quick();
  options.lock_timeout = std::chrono::seconds{10};
  store_ = std::make_unique<postgres::PostgresStore>(db_url(), options);
  RawDb raw = raw_db();
  // The insert waits for the write lock, held here, while its connection is cut.
  ASSERT_EQ(raw.exec("BEGIN; SELECT pg_advisory_xact_lock(" +
                     std::to_string(postgres::kWriteLockKey) + ")"),
            SQLITE_OK)
      << raw.last_error();
  std::thread cut([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds{300});
    RawDb other = raw_db();
    cut_the_store_off(other);
  });
  try {
    (void)store_->insert_transaction(make_transaction("m1", "T1", "d1"));
    ADD_FAILURE() << "an insert whose connection was cut succeeded";
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.unavailable()) << error.what();
    EXPECT_THAT(error.what(), HasSubstr("insert_transaction"));
  }
  cut.join();
  ASSERT_EQ(raw.exec("ROLLBACK"), SQLITE_OK);
  EXPECT_FALSE(store_->find_transaction("m1", "T1").has_value());
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
}

TEST_P(PostgresTest, ABatchWhoseConnectionWasLostCommitsNothingAndRefusesToGoOn) {
  store_ = std::make_unique<postgres::PostgresStore>(db_url(), quick());
  RawDb raw = raw_db();
  store_->begin_batch(Store::BatchCalls::isolated);
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k1"));
  store_->end_batch_call(true);
  cut_the_store_off(raw);
  std::this_thread::sleep_for(std::chrono::milliseconds{60});
  // A write now must not reconnect and commit on its own in the middle of the batch.
  try {
    store_->insert_api_key(api_key("k2"));
    FAIL() << "a write after the batch's connection was lost succeeded";
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.unavailable()) << error.what();
  }
  try {
    store_->begin_batch_call();
    FAIL() << "begin_batch_call did not report the lost transaction";
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.unavailable());
    EXPECT_THAT(error.what(), HasSubstr("the batch's transaction is gone"));
  }
  EXPECT_THROW(store_->commit_batch(), StoreError);
  store_->rollback_batch();
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM api_keys"), 0);

  // The next batch reconnects and commits; outside a batch writes commit on their own.
  store_->begin_batch(Store::BatchCalls::isolated);
  store_->begin_batch_call();
  store_->insert_api_key(api_key("k3"));
  store_->end_batch_call(true);
  store_->commit_batch();
  store_->insert_api_key(api_key("k4"));
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM api_keys"), 2);
}

TEST_P(PostgresTest, AWriteLockHeldElsewhereFailsAfterTheLockTimeout) {
  store_ = std::make_unique<postgres::PostgresStore>(db_url(), quick());
  RawDb raw = raw_db();
  ASSERT_EQ(raw.exec("BEGIN; SELECT pg_advisory_xact_lock(" +
                     std::to_string(postgres::kWriteLockKey) + ")"),
            SQLITE_OK)
      << raw.last_error();
  try {
    (void)store_->insert_transaction(make_transaction("m1", "T1", "d1"));
    FAIL() << "a held write lock did not make the insert fail";
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.unavailable()) << error.what();
    EXPECT_THAT(error.what(), HasSubstr("insert_transaction"));
    EXPECT_THAT(error.what(), HasSubstr("lock timeout"));
  }
  // Reads do not take the write lock.
  EXPECT_TRUE(store_->find_device("d1").has_value());
  ASSERT_EQ(raw.exec("ROLLBACK"), SQLITE_OK);
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
}

TEST_P(PostgresTest, GatewaysStartingAtOnceMigrateOnce) {
  store_.reset();
  RawDb raw = raw_db();
  ASSERT_EQ(raw.exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public"), SQLITE_OK)
      << raw.last_error();
  std::vector<std::thread> starts;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    starts.emplace_back([this, &opened] {
      try {
        (void)open_store(db_url());
        ++opened;
      } catch (const StoreError&) {
      }
    });
  }
  for (auto& start : starts) {
    start.join();
  }
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM schema_migrations"),
            static_cast<std::int64_t>(postgres::migrations().size()));
  EXPECT_EQ(raw.query_int("SELECT MAX(version) FROM schema_migrations"),
            postgres::latest_schema_version());
}

TEST_P(PostgresTest, ADatabaseOfANewerSchemaIsRefused) {
  store_.reset();
  RawDb raw = raw_db();
  const int newer = postgres::latest_schema_version() + 1;
  ASSERT_EQ(raw.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                     std::to_string(newer) + ", 1)"),
            SQLITE_OK);
  try {
    (void)open_store(db_url());
    FAIL() << "a newer schema was opened";
  } catch (const StoreError& error) {
    EXPECT_THAT(error.what(), HasSubstr("is newer than this tillgate"));
  }
}

TEST_P(PostgresTest, UniqueViolationsAreErrorsThatNameTheConstraintButNoValue) {
  store_->insert_api_key(api_key("k1"));
  auto duplicate = api_key("k1");
  duplicate.api_secret = domain::Secret("hunter2-very-secret");
  try {
    store_->insert_api_key(duplicate);
    FAIL() << "a duplicate api key was accepted";
  } catch (const StoreError& error) {
    EXPECT_FALSE(error.unavailable());
    EXPECT_THAT(error.what(), HasSubstr("api_keys_pkey"));
    EXPECT_THAT(error.what(), HasSubstr("23505"));
    EXPECT_THAT(error.what(), Not(HasSubstr("hunter2")));
    EXPECT_THAT(error.what(), Not(HasSubstr("(k1)")));  // the server's DETAIL quotes the key
  }
}

TEST_P(PostgresTest, AWrongPasswordIsRefusedWithoutShowingIt) {
  // This database's URL with another password: postgresql://tillgate:PASSWORD@host...
  const std::string good = db_url();
  const auto at = good.find('@');
  ASSERT_NE(at, std::string::npos);
  const auto colon = good.rfind(':', at);
  const std::string url = good.substr(0, colon + 1) + "not-the-pa55word" + good.substr(at);
  try {
    (void)open_store(url);
    FAIL() << "a wrong password was accepted";
  } catch (const StoreError& error) {
    EXPECT_THAT(error.what(), HasSubstr("password authentication failed"));
    EXPECT_THAT(error.what(), Not(HasSubstr("not-the-pa55word")));
  }
}

// PostgreSQL's text cannot hold NUL (SQLite's can): such a value is refused, never cut short
// at the NUL.
TEST_P(PostgresTest, TextWithANulCharacterIsRefusedNotCutShort) {
  auto device = make_device("d-nul", "m1");
  device.label = std::string("till\0 hidden", 12);
  try {
    (void)store_->insert_device(device);
    FAIL() << "a label with a NUL character was stored";
  } catch (const StoreError& error) {
    EXPECT_FALSE(error.unavailable());
    EXPECT_THAT(error.what(), HasSubstr("NUL character"));
  }
  EXPECT_FALSE(store_->find_device("d-nul").has_value());
}

// Which server errors mean "not now" (503, retry) rather than a bug or bad data.
TEST(PostgresErrors, TheDatabasesConditionIsUnavailableTheCallsIsNot) {
  for (const char* state : {"", "08000", "08006", "08001", "57P01", "57P02", "57P03", "53100",
                            "53200", "53300", "40001", "40P01", "55P03", "57014", "25006"}) {
    EXPECT_TRUE(postgres::sqlstate_unavailable(state)) << state;
  }
  for (const char* state :
       {"23505", "23503", "23514", "42601", "42P01", "22P02", "25P02", "XX001", "P0001"}) {
    EXPECT_FALSE(postgres::sqlstate_unavailable(state)) << state;
  }
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresTest,
                         ::testing::Values(::tillgate::store::testing::Backend::postgres),
                         ::tillgate::store::testing::backend_name);

}  // namespace
}  // namespace tillgate::store::testing
