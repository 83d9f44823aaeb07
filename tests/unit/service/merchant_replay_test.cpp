// Merchant HMAC authentication with the replay cache shared by several nodes (PostgreSQL,
// docs/scale-out.md): two authenticators, each with its own store on one database, as two
// gateway nodes behind a load balancer. A signed request accepted by one is refused as a
// replay by the other; a store that cannot answer the replay check fails the request (the
// router's 503), never accepts it. On one node (SQLite) the cache stays in memory.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "../store/store_test_support.hpp"
#include "api/merchant_authenticator.hpp"
#include "api/replay_guard.hpp"
#include "crypto/crypto.hpp"
#include "store/async_store.hpp"

namespace tillgate::store::testing {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::chrono::seconds kSkew{300};
constexpr const char* kSecret = "tgs_replay-test-secret";

// A gateway node: its own store connection, replay guard and authenticator.
struct Node {
  Node(const std::string& url, std::chrono::milliseconds statement_timeout, bool shared)
      : store(open_store(url, DatabaseOptions{.statement_timeout = statement_timeout}), 1'000,
              StoreBatchSettings{.max_calls = 16, .max_wait = {}}),
        replay(shared ? std::unique_ptr<api::ReplayGuard>(
                            std::make_unique<api::StoreReplayGuard>(store, 16))
                      : std::make_unique<api::MemoryReplayGuard>(1'000)),
        auth(store, clock, kSkew, *replay) {}

  // Authenticates on this node's own io_context, as its network thread would.
  api::AuthOutcome authenticate(const api::AuthInput& input) {
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::optional<api::AuthOutcome> outcome;
    std::exception_ptr failure;
    asio::co_spawn(io, auth.authenticate(input),
                   [&](std::exception_ptr error, api::AuthOutcome answer) {
                     failure = error;
                     outcome = std::move(answer);
                     work.reset();
                   });
    io.run();
    if (failure) {
      std::rethrow_exception(failure);
    }
    return std::move(*outcome);
  }

  domain::SystemClock clock;
  AsyncStore store;
  std::unique_ptr<api::ReplayGuard> replay;
  api::MerchantAuthenticator auth;
};

// A request signed as merchant-api.md section 1 says, at `signed_at`.
struct SignedRequest {
  SignedRequest(std::string request_method, std::string body_text, domain::Timestamp signed_at)
      : method(std::move(request_method)), body(std::move(body_text)) {
    const std::string timestamp = domain::format_iso8601(signed_at);
    const std::string signature = crypto::base64_encode(
        crypto::hmac_sha256(kSecret, api::string_to_sign(method, target, timestamp, body)));
    headers = {{"x-api-key", "tgk_replay"}, {"x-timestamp", timestamp}, {"x-signature", signature}};
  }
  [[nodiscard]] api::AuthInput input() const {
    return api::AuthInput(method, target, headers, body, "127.0.0.1");
  }

  std::string method;
  std::string target = "/v1/payments";
  std::string body;
  api::Headers headers;
};

class MerchantReplayTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) {
      return;
    }
    store_->insert_api_key(ApiKeyRecord{.api_key = "tgk_replay",
                                        .merchant_id = "m1",
                                        .api_secret = domain::Secret(kSecret),
                                        .created_at = domain::SystemClock{}.now(),
                                        .revoked_at = std::nullopt});
  }

  [[nodiscard]] std::unique_ptr<Node> node(std::chrono::milliseconds statement_timeout = 10s) {
    return std::make_unique<Node>(db_url(), statement_timeout, backend() == Backend::postgres);
  }
};

TEST_P(MerchantReplayTest, ARequestAcceptedByOneNodeIsAReplayOnAnother) {
  auto first = node();
  auto second = node();
  const SignedRequest payment("POST", R"({"amount":"1.00"})", domain::SystemClock{}.now());
  const auto accepted = first->authenticate(payment.input());
  ASSERT_TRUE(accepted.accepted());
  EXPECT_EQ(accepted.merchant_id, "m1");
  const auto replayed = second->authenticate(payment.input());
  ASSERT_FALSE(replayed.accepted());
  EXPECT_EQ(replayed.refusal->code, views::ErrorCode::replayed_request);
  EXPECT_FALSE(first->authenticate(payment.input()).accepted());

  // Another signature is another request; a signed read may be repeated anywhere.
  const SignedRequest next("POST", R"({"amount":"2.00"})", domain::SystemClock{}.now());
  EXPECT_TRUE(second->authenticate(next.input()).accepted());
  const SignedRequest read("GET", "", domain::SystemClock{}.now());
  EXPECT_TRUE(first->authenticate(read.input()).accepted());
  EXPECT_TRUE(second->authenticate(read.input()).accepted());
}

TEST_P(MerchantReplayTest, AReplayCheckTheStoreCannotAnswerFailsTheRequest) {
  auto gateway = node(300ms);
  // Another session holds the table: the node's insert waits past its statement timeout.
  RawDb raw = raw_db();
  ASSERT_EQ(raw.exec("BEGIN; LOCK TABLE replay_signatures IN ACCESS EXCLUSIVE MODE"), SQLITE_OK)
      << raw.last_error();
  const SignedRequest payment("POST", R"({"amount":"1.00"})", domain::SystemClock{}.now());
  try {
    (void)gateway->authenticate(payment.input());
    FAIL() << "accepted without the replay check";
  } catch (const StoreError& error) {
    EXPECT_TRUE(error.unavailable()) << error.what();  // the router's 503 STORE_UNAVAILABLE
  }
  ASSERT_EQ(raw.exec("ROLLBACK"), SQLITE_OK);
  // Nothing was remembered: the same request is accepted once the store answers.
  EXPECT_TRUE(gateway->authenticate(payment.input()).accepted());
}

INSTANTIATE_TEST_SUITE_P(Postgres, MerchantReplayTest, ::testing::Values(Backend::postgres),
                         backend_name);

// One node on SQLite: the same authenticator with the replay cache in memory.
using OneNodeMerchantReplayTest = MerchantReplayTest;

TEST_P(OneNodeMerchantReplayTest, ARequestIsAcceptedOnce) {
  auto gateway = node();
  const SignedRequest payment("POST", R"({"amount":"1.00"})", domain::SystemClock{}.now());
  EXPECT_TRUE(gateway->authenticate(payment.input()).accepted());
  const auto replayed = gateway->authenticate(payment.input());
  ASSERT_FALSE(replayed.accepted());
  EXPECT_EQ(replayed.refusal->code, views::ErrorCode::replayed_request);
}

TILLGATE_SQLITE_ONLY(OneNodeMerchantReplayTest);

}  // namespace
}  // namespace tillgate::store::testing
