// The real gateway on PostgreSQL (scale-out.md, "Selecting the backend"): a payment end to
// end on TILLGATE_DB=postgresql://..., kept across a restart; a database that cannot be
// reached answers 503 STORE_UNAVAILABLE (and /readyz 503) until the gateway has reconnected
// by itself, as does one that stops answering (a TCP proxy in front of it that goes
// silent), within TILLGATE_DB_STATEMENT_TIMEOUT_MS's bound. (Several nodes on one
// database: multi_node_test.cpp.) The database is one of its own on the test cluster that
// the CTest fixture postgres_cluster starts (scripts/test-postgres).
#include <gmock/gmock.h>

#include <thread>

#include "../support/silenceable_proxy.hpp"
#include "../unit/store/store_test_support.hpp"
#include "store/postgres/pg.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
using store::testing::PgTestDatabase;
using store::testing::RawDb;
using tillgate::testing::SilenceableProxy;

json::Value without_timestamp(const json::Value& object) {
  json::Object out;
  for (const auto& member : object.as_object()) {
    if (member.key != "timestamp") {
      out.push_back(member);
    }
  }
  return json::Value(std::move(out));
}

class PostgresGatewayTest : public GatewayTest {
 protected:
  void SetUp() override {
    if (PgTestDatabase::skipped()) {
      GTEST_SKIP() << "TILLGATE_TEST_PG_SKIP=1 and no PostgreSQL test cluster";
    }
    database_ = std::make_unique<PgTestDatabase>();
    GatewayTest::SetUp();
  }
  void TearDown() override {
    GatewayTest::TearDown();
    database_.reset();
  }
  EnvMap gateway_env() override { return {{"TILLGATE_DB", database_->url()}}; }

  // Closes the gateway's database to every connection (its own are cut), as a database
  // server that is down; open() lets connections in again.
  void close_database() {
    RawDb admin = RawDb::postgres(database_->admin_url());
    ASSERT_EQ(admin.exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS false"), 0)
        << admin.last_error();
    ASSERT_EQ(admin.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = '" +
                         database_->name() + "'"),
              0)
        << admin.last_error();
  }
  void open_database() {
    RawDb admin = RawDb::postgres(database_->admin_url());
    ASSERT_EQ(admin.exec("ALTER DATABASE " + database_->name() + " ALLOW_CONNECTIONS true"), 0)
        << admin.last_error();
  }

  [[nodiscard]] std::string password() const { return database_->password(); }

  std::unique_ptr<PgTestDatabase> database_;
};

TEST_F(PostgresGatewayTest, APaymentRunsEndToEndAndSurvivesARestart) {
  const auto merchant = create_merchant("Postgres Shop");
  const auto device = create_device(merchant, "till-pg-1");
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  auto pending = pay_async(merchant, device.device_id, payment_body("12.34", "USD", "TXN-PG-1"));
  const auto request = read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-PG-1");
  EXPECT_EQ(string_at(request, "amount"), "12.34");
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-PG-1")));
  ASSERT_TRUE(ws->send_json(result_frame("TXN-PG-1", "SUCCESS", "AUTHPG0001")));
  const auto result_ack = read_frame(*ws, "payment.result.ack");
  EXPECT_EQ(string_at(result_ack, "transactionStatus"), "COMPLETED");
  const auto paid = await_response(pending, 10s);
  ASSERT_TRUE(paid.has_value());
  ASSERT_EQ(paid->status, 200) << paid->body;
  EXPECT_EQ(string_at(parse_json(paid->body), "status"), "SUCCESS");
  ws.reset();
  const auto before = get_transaction(merchant, "TXN-PG-1");
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(string_at(parse_json(before.body), "status"), "COMPLETED");

  gateway().restart();
  const auto after = get_transaction(merchant, "TXN-PG-1");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(json::serialize(without_timestamp(parse_json(after.body))),
            json::serialize(without_timestamp(parse_json(before.body))));
  // The URL, and the password in it, appear in no log line.
  const std::string url = database_->url();
  const std::string password = url.substr(url.rfind(':', url.find('@')) + 1,
                                          url.find('@') - url.rfind(':', url.find('@')) - 1);
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(gateway().stderr_text().find(password), std::string::npos);
  EXPECT_EQ(gateway().stderr_text().find("postgresql://"), std::string::npos);
}

// The replay cache is a table on PostgreSQL (scale-out.md, "Several nodes"): a signed write
// accepted by one gateway process is refused by the next one on the same database, which
// shares no memory with it, as a node behind the same load balancer would refuse it.
TEST_F(PostgresGatewayTest, ASignedWriteAcceptedByOneProcessIsAReplayForTheNext) {
  const auto merchant = create_merchant("Replay Shop");
  const std::string body = R"({"label":"replayed"})";
  const auto headers =
      client::sign_request(merchant.credentials, "POST", "/v1/devices/codes", body);
  auto client = http();
  const auto first = client.request("POST", "/v1/devices/codes", body, headers);
  ASSERT_EQ(first.status, 201) << first.body;
  remember_secrets_in(first);

  gateway().restart();
  auto next_client = http();
  expect_error(next_client.request("POST", "/v1/devices/codes", body, headers), 401,
               "REPLAYED_REQUEST");
}

TEST_F(PostgresGatewayTest, AnUnreachableDatabaseAnswers503UntilTheGatewayReconnects) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-pg-down");
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  ASSERT_EQ(plain_request("GET", "/readyz").status, 200);

  close_database();
  const std::string body = payment_body("56.78", "USD", "TXN-PG-DOWN");
  auto client = http(30s);
  const auto refused = client::send_signed(client, merchant.credentials, "POST",
                                           payments_path("till-pg-down"), body);
  expect_error(refused, 503, "STORE_UNAVAILABLE");
  EXPECT_TRUE(refused.header("Retry-After").has_value());
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms)) << "a payment not stored must not reach the terminal";
  expect_error(plain_request("GET", "/readyz"), 503, "STORE_UNAVAILABLE");

  open_database();
  EXPECT_TRUE(eventually([&] { return plain_request("GET", "/readyz").status == 200; }));
  // The same request, repeated as the Retry-After invites, now takes the payment.
  auto pending = pay_async(merchant, "till-pg-down", body);
  const auto request = read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-PG-DOWN");
  ASSERT_TRUE(ws->send_json(result_frame("TXN-PG-DOWN", "SUCCESS", "AUTHPG0002")));
  (void)read_frame(*ws, "payment.result.ack");
  const auto paid = await_response(pending, 10s);
  ASSERT_TRUE(paid.has_value());
  EXPECT_EQ(paid->status, 200) << paid->body;
  EXPECT_EQ(transaction_status(merchant, "TXN-PG-DOWN"), "COMPLETED");
  EXPECT_TRUE(gateway().running());
}

// The gateway reaches its database through a proxy that the test can silence: the server
// then neither answers nor hangs up, as behind a cut network or when stuck on I/O.
class SilentPostgresGatewayTest : public PostgresGatewayTest {
 protected:
  EnvMap gateway_env() override {
    if (!proxy_) {
      proxy_ = std::make_unique<SilenceableProxy>(SilenceableProxy::port_of(database_->url()));
    }
    // A connection attempt through the silent proxy waits connect_timeout: 2 s, not 5.
    const std::string url = proxy_->url_through(database_->url());
    const char* separator = url.find('?') == std::string::npos ? "?" : "&";
    return {{"TILLGATE_DB", url + separator + "connect_timeout=2"},
            {"TILLGATE_DB_STATEMENT_TIMEOUT_MS", std::to_string(kBound.count())}};
  }

  static constexpr std::chrono::milliseconds kBound{1000};
  std::unique_ptr<SilenceableProxy> proxy_;
};

TEST_F(SilentPostgresGatewayTest, ADatabaseThatStopsAnsweringAnswers503WithinTheBound) {
  const auto merchant = create_merchant();
  ASSERT_EQ(plain_request("GET", "/readyz").status, 200);

  proxy_->blackhole(true);
  const auto start = std::chrono::steady_clock::now();
  expect_error(plain_request("GET", "/readyz"), 503, "STORE_UNAVAILABLE");
  // Twice the bound for a round trip (and, should a call of the gateway's own have met the
  // silence first, a connection attempt's 2 s), far from the 15 s the client would wait.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10 * kBound);

  proxy_->blackhole(false);
  EXPECT_TRUE(eventually([&] { return plain_request("GET", "/readyz").status == 200; }, 20s));
  EXPECT_EQ(get_transaction(merchant, "TXN-NONE").status, 404);
  EXPECT_TRUE(gateway().running());
}

// TILLGATE_DB_POOL (scale-out.md): the store's connections, one writing and the others
// reading at the same time.
class PooledPostgresGatewayTest : public PostgresGatewayTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_DB", database_->url()},
            {"TILLGATE_DB_POOL", "3"},
            {"TILLGATE_PAYMENT_TIMEOUT_S", "30"}};
  }
  // The gateway's connections to its database: the store's, and the change listener's
  // (several nodes: it waits for the other nodes' notifications).
  std::string store_connections() {
    RawDb db = RawDb::postgres(database_->url());
    return db.query_text(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND "
        "application_name = 'tillgate' AND pid <> pg_backend_pid()");
  }
};

TEST_F(PooledPostgresGatewayTest, TheGatewayOpensItsPoolAndReadsWhileAWriteWaits) {
  // The pool of 3, and the listener (which connects on its own thread).
  EXPECT_TRUE(eventually([&] { return store_connections() == "4"; })) << store_connections();
  const auto merchant = create_merchant("Pool Shop");
  const auto device = create_device(merchant, "till-pool-1");
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);

  // Another session holds the database's write lock: every write of the gateway waits for
  // it (up to its 5 s lock_timeout).
  RawDb holder = RawDb::postgres(database_->url());
  ASSERT_EQ(holder.exec("SELECT pg_advisory_lock(" +
                        std::to_string(store::postgres::kWriteLockKey) + ")"),
            0)
      << holder.last_error();
  auto pending = pay_async(merchant, device.device_id, payment_body("5.00", "USD", "TXN-POOL-1"));
  // The payment's insert is waiting for the lock on the writer; a read runs on a reader
  // meanwhile (with one connection it would wait behind that batch until it failed).
  EXPECT_TRUE(eventually(
      [&] {
        RawDb db = RawDb::postgres(database_->url());
        return db.query_text(
                   "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = "
                   "current_database() AND wait_event_type = 'Lock'") == "1";
      },
      3s));
  const auto read = get_transaction(merchant, "TXN-POOL-NONE");
  EXPECT_EQ(read.status, 404) << read.body;
  EXPECT_EQ(pending.wait_for(0s), std::future_status::timeout);  // still waiting

  ASSERT_EQ(holder.exec("SELECT pg_advisory_unlock_all()"), 0) << holder.last_error();
  const auto request = read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-POOL-1");
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-POOL-1")));
  ASSERT_TRUE(ws->send_json(result_frame("TXN-POOL-1", "SUCCESS", "AUTHPOOL01")));
  const auto paid = await_response(pending, 10s);
  ASSERT_TRUE(paid.has_value());
  ASSERT_EQ(paid->status, 200) << paid->body;
  EXPECT_EQ(string_at(parse_json(paid->body), "status"), "SUCCESS");
  // The pool of 3, and the listener (which connects on its own thread).
  EXPECT_TRUE(eventually([&] { return store_connections() == "4"; })) << store_connections();
}

}  // namespace
}  // namespace tillgate::ft
