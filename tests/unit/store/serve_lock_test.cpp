// The serve lock of a PostgreSQL database (postgres::ServeLock) and the lock serve holds on
// either backend (DatabaseLock), against a real database on the test cluster: a second
// holder is refused naming the database and the holder; the lock goes with its session; a
// lost session is replaced and the lock taken again, unless another session took it
// meanwhile; and the watch reports what happened.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "store/database_lock.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/serve_lock.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using postgres::DatabaseInUse;
using postgres::kServeLockKey;
using postgres::ServeLock;
using postgres::ServeLockOptions;
using ::testing::HasSubstr;
using ::testing::Not;
using State = postgres::ServeLock::State;
using namespace std::chrono_literals;

ServeLockOptions quick() {
  return ServeLockOptions{.check_interval = 40ms};
}

class ServeLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PgTestDatabase::skipped()) {
      GTEST_SKIP() << "TILLGATE_TEST_PG_SKIP=1 and no PostgreSQL test cluster";
    }
    database_ = std::make_unique<PgTestDatabase>();
  }

  [[nodiscard]] RawDb raw() const { return RawDb::postgres(database_->url()); }
  // A connection to the cluster's maintenance database: it works while this test's
  // database refuses connections.
  [[nodiscard]] RawDb admin() const { return RawDb::postgres(database_->admin_url()); }
  // The backend pid holding this database's serve lock, or 0.
  [[nodiscard]] std::int64_t holder_pid() {
    RawDb db = admin();
    return db.query_int(
        "SELECT COALESCE(MAX(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND objsubid = 1 AND classid = " +
        std::to_string(kServeLockKey >> 32) +
        " AND objid = " + std::to_string(kServeLockKey & 0xffffffff) +
        " AND database = (SELECT oid FROM pg_database WHERE datname = '" + database_->name() +
        "')");
  }
  // Ends a session's server process, as a server restart or a cut network would, and
  // waits until it is gone (pg_terminate_backend only signals it).
  void end_session(int pid) {
    RawDb db = admin();
    const std::string gone =
        "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid);
    ASSERT_EQ(db.query_int("SELECT COUNT(pg_terminate_backend(" + std::to_string(pid) + "))"), 1);
    for (int i = 0; i < 500 && db.query_int(gone) > 0; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(db.query_int(gone), 0);
    std::this_thread::sleep_for(100ms);  // its entry goes before its socket is closed
  }
  [[nodiscard]] std::string password() const { return database_->password(); }

  std::unique_ptr<PgTestDatabase> database_;
};

TEST_F(ServeLockTest, ASecondHolderIsRefusedNamingTheDatabaseAndTheHolder) {
  const ServeLock first{database_->url(), quick()};
  EXPECT_EQ(holder_pid(), first.backend_pid());
  try {
    const ServeLock second{database_->url(), quick()};
    FAIL() << "a second serve lock was taken";
  } catch (const DatabaseInUse& error) {
    const std::string message = error.what();
    EXPECT_THAT(message, HasSubstr("database " + database_->name() + " on 127.0.0.1:"));
    EXPECT_THAT(message, HasSubstr("in use by another tillgate serve"));
    EXPECT_THAT(message,
                HasSubstr("application_name 'tillgate serve pid " + std::to_string(::getpid())));
    EXPECT_THAT(message, HasSubstr("client 127.0.0.1"));
    EXPECT_THAT(message, HasSubstr("backend pid " + std::to_string(first.backend_pid())));
    ASSERT_FALSE(password().empty());
    EXPECT_THAT(message, Not(HasSubstr(password())));
    EXPECT_THAT(message, Not(HasSubstr("postgresql://")));
  }
  EXPECT_EQ(holder_pid(), first.backend_pid());  // the refused one took nothing
}

TEST_F(ServeLockTest, GoesWithItsHolder) {
  { const ServeLock first{database_->url(), quick()}; }
  const ServeLock again{database_->url(), quick()};
  EXPECT_EQ(holder_pid(), again.backend_pid());
}

// The write lock and the migrations' lock are other keys: a serve holding its lock opens,
// migrates and writes its store, and a session holding either of them does not block it.
TEST_F(ServeLockTest, IsDistinctFromTheWriteAndMigrationLocks) {
  RawDb other = raw();
  ASSERT_EQ(other.exec("SELECT pg_advisory_lock(" + std::to_string(postgres::kWriteLockKey) +
                       "), pg_advisory_lock(" + std::to_string(postgres::kMigrationLockKey) + ")"),
            0)
      << other.last_error();
  const ServeLock lock{database_->url(), quick()};
  ASSERT_EQ(other.exec("SELECT pg_advisory_unlock_all()"), 0) << other.last_error();
  postgres::PostgresStore store{database_->url(), postgres::ConnectionOptions{}};
  store.insert_merchant(make_merchant("m1"));
  EXPECT_TRUE(store.find_merchant("m1").has_value());
  EXPECT_EQ(holder_pid(), lock.backend_pid());
}

TEST_F(ServeLockTest, ALostSessionIsReplacedAndTheLockTakenAgain) {
  ServeLock lock{database_->url(), quick()};
  EXPECT_EQ(lock.check().state, State::held);
  const int first_pid = lock.backend_pid();
  end_session(first_pid);
  EXPECT_EQ(holder_pid(), 0);
  const auto check = lock.check();
  EXPECT_EQ(check.state, State::retaken) << check.message;
  EXPECT_THAT(check.message, HasSubstr("database " + database_->name()));
  EXPECT_NE(lock.backend_pid(), first_pid);
  EXPECT_EQ(holder_pid(), lock.backend_pid());
  EXPECT_EQ(lock.check().state, State::held);
}

TEST_F(ServeLockTest, WhileTheDatabaseCannotBeReachedItIsLostThenTakenAgain) {
  ServeLock lock{database_->url(), quick()};
  RawDb admin_db = admin();
  ASSERT_EQ(admin_db.exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS false"), 0)
      << admin_db.last_error();
  end_session(lock.backend_pid());
  const auto lost = lock.check();
  EXPECT_EQ(lost.state, State::lost) << lost.message;
  EXPECT_THAT(lost.message, HasSubstr("cannot be taken again yet"));
  EXPECT_THAT(lost.message, Not(HasSubstr(password())));
  ASSERT_EQ(admin_db.exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS true"), 0)
      << admin_db.last_error();
  std::this_thread::sleep_for(quick().check_interval);  // the connection's backoff
  const auto back = lock.check();
  EXPECT_EQ(back.state, State::retaken) << back.message;
  EXPECT_EQ(holder_pid(), lock.backend_pid());
}

TEST_F(ServeLockTest, AnotherSessionThatTookItMeanwhileKeepsIt) {
  ServeLock lock{database_->url(), quick()};
  // Another session waits for the lock: it has it the moment the holder's session ends,
  // before the holder can connect again.
  RawDb other = raw();
  const auto other_pid = other.query_int("SELECT pg_backend_pid()");
  std::thread waiter([&other] {
    static_cast<void>(other.exec("SELECT pg_advisory_lock(" + std::to_string(kServeLockKey) + ")"));
  });
  RawDb look = raw();
  for (int i = 0; i < 500 && look.query_int("SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND "
                                            "pid = " +
                                            std::to_string(other_pid)) == 0;
       ++i) {
    std::this_thread::sleep_for(10ms);
  }
  end_session(lock.backend_pid());
  waiter.join();
  EXPECT_EQ(holder_pid(), other_pid);
  const auto check = lock.check();
  EXPECT_EQ(check.state, State::taken) << check.message;
  EXPECT_THAT(check.message, HasSubstr("another process took it meanwhile"));
  EXPECT_THAT(check.message, HasSubstr("backend pid " + std::to_string(other_pid)));
  EXPECT_EQ(lock.check().state, State::taken);  // for good
  EXPECT_EQ(holder_pid(), other_pid);
}

TEST_F(ServeLockTest, AnUnreachableDatabaseIsAStoreErrorWithoutThePassword) {
  RawDb admin_db = admin();
  ASSERT_EQ(admin_db.exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS false"), 0)
      << admin_db.last_error();
  try {
    const ServeLock lock{database_->url(), quick()};
    FAIL() << "taken on a database that refuses connections";
  } catch (const DatabaseInUse& error) {
    FAIL() << error.what();
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.unavailable()) << error.what();
    EXPECT_THAT(error.what(), Not(HasSubstr(password())));
  }
  ASSERT_EQ(admin_db.exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS true"), 0)
      << admin_db.last_error();
}

// The watch of DatabaseLock: each event once, on its own thread, until stop_watch().
TEST_F(ServeLockTest, TheWatchReportsALossAndTheLockTakenAgain) {
  DatabaseLock lock = lock_database(database_->url(), quick());
  ASSERT_NE(lock.serve_lock(), nullptr);
  std::mutex mutex;
  std::vector<DatabaseLock::Event::Kind> events;
  lock.watch([&](const DatabaseLock::Event& event) {
    const std::lock_guard guard(mutex);
    events.push_back(event.kind);
  });
  const auto seen = [&] {
    const std::lock_guard guard(mutex);
    return events;
  };
  const int first_pid = lock.serve_lock()->backend_pid();
  RawDb admin_db = admin();
  ASSERT_EQ(admin_db.exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS false"), 0);
  end_session(first_pid);
  std::this_thread::sleep_for(10 * quick().check_interval);  // several failed attempts
  ASSERT_EQ(admin_db.exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS true"), 0);
  for (int i = 0; i < 500 && seen().size() < 2; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  lock.stop_watch();
  using Kind = DatabaseLock::Event::Kind;
  EXPECT_EQ(seen(), (std::vector<Kind>{Kind::lost, Kind::retaken}));
  EXPECT_EQ(holder_pid(), lock.serve_lock()->backend_pid());
  EXPECT_NE(lock.serve_lock()->backend_pid(), first_pid);
}

}  // namespace
}  // namespace tillgate::store::testing
