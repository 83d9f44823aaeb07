// webhookMode (merchant-api.md section 4): 202 at once, and 400 NO_WEBHOOK_ENDPOINTS when
// the merchant has no active endpoint to deliver the result to. Endpoints are made with the
// endpoints API (webhooks.md) against a local receiver.
#include <gtest/gtest.h>

#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class WebhookModeTest : public WebhookTest {
 protected:
  enum class State { active, disabled, deleted };

  void add_endpoint(const Merchant& merchant, State state = State::active) {
    const auto endpoint = create_endpoint(merchant, receiver_.url());
    const auto path = "/v1/webhooks/endpoints/" + endpoint.endpoint_id;
    if (state == State::disabled) {
      ASSERT_EQ(signed_request(merchant, "PUT", path, R"({"status":"disabled"})").status, 200);
    } else if (state == State::deleted) {
      ASSERT_EQ(signed_request(merchant, "DELETE", path).status, 204);
    }
  }

  std::string webhook_body(std::string_view transaction_id, std::string_view amount = "8.00") {
    return R"({"amount":")" + std::string(amount) +
           R"(","currency":"USD","paymentMethod":"CARD","webhookMode":true,"transactionId":")" +
           std::string(transaction_id) + R"("})";
  }

  WebhookReceiver receiver_;
};

TEST_F(WebhookModeTest, WithoutAnActiveEndpointIsRefusedAndNothingIsPushed) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto hello = connect_terminal(device);
  const auto path = payments_path(device.device_id);
  expect_error(signed_request(merchant, "POST", path, webhook_body("TXN-W0")), 400,
               "NO_WEBHOOK_ENDPOINTS");
  add_endpoint(merchant, State::disabled);
  add_endpoint(merchant, State::deleted);
  expect_error(signed_request(merchant, "POST", path, webhook_body("TXN-W0")), 400,
               "NO_WEBHOOK_ENDPOINTS");
  // Another merchant's endpoint does not count either.
  const auto other = create_merchant("Other Shop");
  add_endpoint(other);
  expect_error(signed_request(merchant, "POST", path, webhook_body("TXN-W0")), 400,
               "NO_WEBHOOK_ENDPOINTS");
  EXPECT_EQ(hello.ws->read(300ms).kind, WsEvent::Kind::timeout);
  expect_error(get_transaction(merchant, "TXN-W0"), 404, "TRANSACTION_NOT_FOUND");
}

TEST_F(WebhookModeTest, AnswersAcceptedAtOnceAndTheResultIsRecorded) {
  const auto merchant = create_merchant();
  add_endpoint(merchant);
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
  add_endpoint(merchant);
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
