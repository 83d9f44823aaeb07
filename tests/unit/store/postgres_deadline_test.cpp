// The bound of a PostgreSQL call (ConnectionOptions::statement_timeout): a statement the
// server runs too long is cancelled by the server, a call the server never answers (a
// silent network, a stuck server: here a TCP proxy on loopback that stops forwarding but
// keeps its sockets open) fails as unavailable within the bound and the store reconnects
// once the server answers again, and the TCP settings derived from the bound give way to
// the URL's own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "../../support/silenceable_proxy.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::tillgate::testing::SilenceableProxy;

constexpr milliseconds kBound{1000};

postgres::ConnectionOptions bounded() {
  return postgres::ConnectionOptions{.min_backoff = milliseconds{20},
                                     .max_backoff = milliseconds{40},
                                     .connect_timeout = std::chrono::seconds{2},
                                     .lock_timeout = milliseconds{500},
                                     .statement_timeout = kBound};
}

class PostgresDeadlineTest : public StoreTest {
 protected:
  // This test's database, reached through the proxy.
  [[nodiscard]] std::string proxied_url(const SilenceableProxy& proxy) const {
    return proxy.url_through(db_url());
  }

  // Runs `call`, which must fail as unavailable; answers how long it took.
  template <typename Call>
  static milliseconds fails_unavailable(Call call, const char* expected) {
    const auto start = steady_clock::now();
    try {
      call();
      ADD_FAILURE() << "a call the server did not answer succeeded";
    } catch (const StoreError& error) {
      EXPECT_TRUE(error.unavailable()) << error.what();
      EXPECT_THAT(error.what(), HasSubstr(expected));
    }
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  }
};

TEST_P(PostgresDeadlineTest, AStatementRunningPastTheBoundIsCancelledByTheServer) {
  postgres::Connection connection(db_url(), bounded());
  const auto generation = connection.generation();
  const auto start = steady_clock::now();
  try {
    connection.exec("SELECT pg_sleep(30)", "test", "sleep");
    FAIL() << "a statement running past statement_timeout was not cancelled";
  } catch (const postgres::PgError& error) {
    EXPECT_EQ(error.sqlstate(), "57014") << error.what();  // query_canceled
    EXPECT_TRUE(error.unavailable());
    EXPECT_THAT(error.what(), HasSubstr("statement timeout"));
  }
  // The server's cancel, not the client's deadline: before it, and the connection kept.
  EXPECT_LT(steady_clock::now() - start, postgres::round_trip_deadline(bounded()));
  EXPECT_GE(steady_clock::now() - start, kBound);
  EXPECT_EQ(connection.exec("SELECT 1", "test", "select"), "SELECT 1");
  EXPECT_EQ(connection.generation(), generation);
}

TEST_P(PostgresDeadlineTest, TheSessionCarriesTheBound) {
  postgres::Connection connection(db_url(), bounded());
  postgres::Statement show(connection, "show",
                           "SELECT current_setting('statement_timeout'), "
                           "current_setting('idle_in_transaction_session_timeout'), "
                           "current_setting('lock_timeout')");
  auto use = show.use("test");
  ASSERT_TRUE(use.step());
  EXPECT_EQ(use.text(0), "1s");
  EXPECT_EQ(use.text(1), "1s");
  EXPECT_EQ(use.text(2), "500ms");
}

TEST_P(PostgresDeadlineTest, ACallTheServerNeverAnswersFailsWithinTheBoundThenTheStoreReconnects) {
  SilenceableProxy proxy(SilenceableProxy::port_of(db_url()));
  store_ = std::make_unique<postgres::PostgresStore>(proxied_url(proxy), bounded());
  ASSERT_TRUE(store_->find_device("d1").has_value());
  ASSERT_EQ(proxy.accepted(), 1);

  proxy.blackhole(true);
  // A read, then a write: each fails, well within ten times the bound (the deadline is
  // twice it), rather than waiting for ever.
  auto took = fails_unavailable([this] { (void)store_->find_device("d1"); }, "no answer");
  EXPECT_GE(took, postgres::round_trip_deadline(bounded()));
  EXPECT_LT(took, 10 * kBound);
  // The next call connects again, through the silent proxy: connect_timeout bounds it.
  took = fails_unavailable(
      [this] { (void)store_->insert_transaction(make_transaction("m1", "T1", "d1")); },
      "cannot connect");
  EXPECT_LT(took, 10 * kBound);

  proxy.blackhole(false);
  std::this_thread::sleep_for(bounded().max_backoff);
  EXPECT_TRUE(store_->find_device("d1").has_value());
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  EXPECT_EQ(proxy.accepted(), 3);
}

TEST_P(PostgresDeadlineTest, ABatchWhoseServerFellSilentFailsWithinTheBoundAndCommitsNothing) {
  SilenceableProxy proxy(SilenceableProxy::port_of(db_url()));
  store_ = std::make_unique<postgres::PostgresStore>(proxied_url(proxy), bounded());
  store_->begin_batch(Store::BatchCalls::isolated);
  store_->begin_batch_call();
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_->end_batch_call(true));
  proxy.blackhole(true);
  const auto took = fails_unavailable(
      [this] {
        store_->begin_batch_call();
        (void)store_->insert_transaction(make_transaction("m1", "T2", "d2"));
      },
      "no answer");
  EXPECT_LT(took, 10 * kBound);
  // The batch's transaction went with its connection: it cannot go on, nor commit.
  EXPECT_THROW(store_->commit_batch(), StoreError);
  store_->rollback_batch();
  proxy.blackhole(false);
  std::this_thread::sleep_for(bounded().max_backoff);
  // What the proxy held back reaches the server after the store closed its connection:
  // the server ends that session, rolling its transaction back.
  EXPECT_FALSE(store_->find_transaction("m1", "T1").has_value());
  EXPECT_FALSE(store_->find_transaction("m1", "T2").has_value());
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
}

int socket_option(PGconn* conn, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  if (::getsockopt(PQsocket(conn), level, name, &value, &length) != 0) {
    return -1;
  }
  return value;
}

TEST_P(PostgresDeadlineTest, TcpKeepalivesAndUserTimeoutComeFromTheBoundUnlessTheUrlSetsThem) {
  auto options = bounded();
  options.statement_timeout = milliseconds{4500};
  postgres::Connection derived(db_url(), options);
  PGconn* conn = derived.get("test");
  EXPECT_EQ(socket_option(conn, SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(socket_option(conn, IPPROTO_TCP, TCP_USER_TIMEOUT), 4500);
  EXPECT_EQ(socket_option(conn, IPPROTO_TCP, TCP_KEEPIDLE), 5);  // whole seconds, rounded up
  EXPECT_EQ(socket_option(conn, IPPROTO_TCP, TCP_KEEPINTVL), 1);
  EXPECT_EQ(socket_option(conn, IPPROTO_TCP, TCP_KEEPCNT), 3);

  const std::string separator = db_url().find('?') == std::string::npos ? "?" : "&";
  postgres::Connection chosen(
      db_url() + separator + "tcp_user_timeout=7000&keepalives_idle=9&keepalives_count=5", options);
  conn = chosen.get("test");
  EXPECT_EQ(socket_option(conn, IPPROTO_TCP, TCP_USER_TIMEOUT), 7000);
  EXPECT_EQ(socket_option(conn, IPPROTO_TCP, TCP_KEEPIDLE), 9);
  EXPECT_EQ(socket_option(conn, IPPROTO_TCP, TCP_KEEPCNT), 5);
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresDeadlineTest,
                         ::testing::Values(::tillgate::store::testing::Backend::postgres),
                         ::tillgate::store::testing::backend_name);

}  // namespace
}  // namespace tillgate::store::testing
