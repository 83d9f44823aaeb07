// webhookMode (merchant-api.md section 4): 202 at once, and 400 NO_WEBHOOK_ENDPOINTS when
// the merchant has no active endpoint to deliver the result to.
//
// Endpoints are written straight into the gateway's SQLite file here; the endpoints API
// (webhooks.md) replaces that once it exists.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class WebhookModeTest : public GatewayTest {
 protected:
  void add_endpoint(const Merchant& merchant, std::string_view endpoint_id, std::string_view status,
                    bool deleted = false) {
    sqlite3* db = nullptr;
    const auto path = (gateway().dir() / "tillgate.db").string();
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const std::string sql =
        "INSERT INTO webhook_endpoints (endpoint_id, merchant_id, url, secret, status, "
        "created_at, updated_at, deleted_at) VALUES ('" +
        std::string(endpoint_id) + "', '" + merchant.merchant_id +
        "', 'https://merchant.example/hooks', 'whsec_test', '" + std::string(status) + "', 1, 1, " +
        (deleted ? "2" : "NULL") + ")";
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    const std::string error = message != nullptr ? message : "";
    sqlite3_free(message);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << error;
  }

  std::string webhook_body(std::string_view transaction_id, std::string_view amount = "8.00") {
    return R"({"amount":")" + std::string(amount) +
           R"(","currency":"USD","paymentMethod":"CARD","webhookMode":true,"transactionId":")" +
           std::string(transaction_id) + R"("})";
  }
};

TEST_F(WebhookModeTest, WithoutAnActiveEndpointIsRefusedAndNothingIsPushed) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto hello = connect_terminal(device);
  const auto path = payments_path(device.device_id);
  expect_error(signed_request(merchant, "POST", path, webhook_body("TXN-W0")), 400,
               "NO_WEBHOOK_ENDPOINTS");
  add_endpoint(merchant, "wh_disabled", "disabled");
  add_endpoint(merchant, "wh_deleted", "active", /*deleted=*/true);
  expect_error(signed_request(merchant, "POST", path, webhook_body("TXN-W0")), 400,
               "NO_WEBHOOK_ENDPOINTS");
  // Another merchant's endpoint does not count either.
  const auto other = create_merchant("Other Shop");
  add_endpoint(other, "wh_other", "active");
  expect_error(signed_request(merchant, "POST", path, webhook_body("TXN-W0")), 400,
               "NO_WEBHOOK_ENDPOINTS");
  EXPECT_EQ(hello.ws->read(300ms).kind, WsEvent::Kind::timeout);
  expect_error(get_transaction(merchant, "TXN-W0"), 404, "TRANSACTION_NOT_FOUND");
}

TEST_F(WebhookModeTest, AnswersAcceptedAtOnceAndTheResultIsRecorded) {
  const auto merchant = create_merchant();
  add_endpoint(merchant, "wh_1", "active");
  const auto device = create_device(merchant);
  auto hello = connect_terminal(device);
  const auto started = std::chrono::steady_clock::now();
  const auto res =
      signed_request(merchant, "POST", payments_path(device.device_id), webhook_body("TXN-W1"));
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "transactionId"), "TXN-W1");
  EXPECT_EQ(string_at(body, "status"), "PENDING");
  EXPECT_TRUE(IsIsoMs(body.find("timestamp")));

  EXPECT_EQ(string_at(read_frame(*hello.ws, "payment.request"), "transactionId"), "TXN-W1");
  ASSERT_TRUE(hello.ws->send_json(result_frame("TXN-W1", "SUCCESS", "AUTH246810")));
  EXPECT_EQ(string_at(read_frame(*hello.ws, "payment.result.ack"), "transactionStatus"),
            "COMPLETED");
  const auto stored = parse_json(get_transaction(merchant, "TXN-W1").body);
  EXPECT_EQ(string_at(stored, "status"), "COMPLETED");
}

TEST_F(WebhookModeTest, RepeatsAnswer202UntilFinalThenTheResultWithoutASecondPush) {
  const auto merchant = create_merchant();
  add_endpoint(merchant, "wh_1", "active");
  const auto device = create_device(merchant);
  auto hello = connect_terminal(device);
  const auto path = payments_path(device.device_id);
  ASSERT_EQ(signed_request(merchant, "POST", path, webhook_body("TXN-W2")).status, 202);
  (void)read_frame(*hello.ws, "payment.request");
  const auto repeat = signed_request(merchant, "POST", path, webhook_body("TXN-W2"));
  ASSERT_EQ(repeat.status, 202) << repeat.body;
  EXPECT_EQ(string_at(parse_json(repeat.body), "transactionId"), "TXN-W2");
  EXPECT_EQ(hello.ws->read(300ms).kind, WsEvent::Kind::timeout);  // no second push

  expect_error(signed_request(merchant, "POST", path, webhook_body("TXN-W2", "9.00")), 409,
               "DUPLICATE_TRANSACTION");

  ASSERT_TRUE(hello.ws->send_json(result_frame("TXN-W2", "FAILED", "", "DECLINED", "Declined")));
  (void)read_frame(*hello.ws, "payment.result.ack");
  const auto after = signed_request(merchant, "POST", path, webhook_body("TXN-W2"));
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(string_at(parse_json(after.body), "status"), "FAILED");
  EXPECT_EQ(hello.ws->read(300ms).kind, WsEvent::Kind::timeout);
}

}  // namespace
}  // namespace tillgate::ft
