// Error answers of the payment routes (merchant-api.md section 2) and idempotency (section 4).
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class PaymentErrorsTest : public GatewayTest {
 protected:
  client::HttpResponse pay(const Merchant& merchant, std::string_view terminal,
                           const std::string& body) {
    auto client = http(30s);
    return client::send_signed(client, merchant.credentials, "POST", payments_path(terminal), body);
  }

  // A raw terminal takes a payment and approves it; returns the merchant's 200 body.
  json::Value complete_payment(const Merchant& merchant, const Device& device, WsTestClient& ws,
                               const std::string& body, std::string_view transaction_id) {
    auto pending = pay_async(merchant, device.device_id, body);
    const auto request = read_frame(ws, "payment.request");
    EXPECT_EQ(string_at(request, "transactionId"), transaction_id);
    EXPECT_TRUE(ws.send_json(ack_frame(transaction_id)));
    EXPECT_TRUE(ws.send_json(result_frame(transaction_id, "SUCCESS", "AUTH777777")));
    (void)read_frame(ws, "payment.result.ack");
    if (pending.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "the merchant's request never finished";
      return json::Value();
    }
    const auto res = pending.get();
    EXPECT_EQ(res.status, 200) << res.body;
    return parse_json(res.body);
  }
};

TEST_F(PaymentErrorsTest, UnknownTerminalIsNotFound) {
  const auto merchant = create_merchant();
  expect_error(pay(merchant, "no-such-till", payment_body("1.00", "USD")), 404,
               "TERMINAL_NOT_FOUND");
  expect_error(pay(merchant, "conn_doesnotexist", payment_body("1.00", "USD")), 404,
               "TERMINAL_NOT_FOUND");
}

TEST_F(PaymentErrorsTest, AnotherMerchantsTerminalIsNotFound) {
  const auto owner = create_merchant("Owner");
  const auto other = create_merchant("Other");
  const auto device = create_device(owner, "till-owned");
  // Offline: the owner is told so, the other merchant learns nothing.
  expect_error(pay(owner, device.device_id, payment_body("1.00", "USD")), 503, "TERMINAL_OFFLINE");
  expect_error(pay(other, device.device_id, payment_body("1.00", "USD")), 404,
               "TERMINAL_NOT_FOUND");
  // Online, addressed by deviceId and by connectionId.
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  expect_error(pay(other, device.device_id, payment_body("1.00", "USD")), 404,
               "TERMINAL_NOT_FOUND");
  expect_error(pay(other, string_at(hello_ok, "connectionId"), payment_body("1.00", "USD")), 404,
               "TERMINAL_NOT_FOUND");
  EXPECT_EQ(ws->read(300ms).kind, WsEvent::Kind::timeout) << "no payment may reach the terminal";
  // And the other merchant's terminal list does not show it.
  const auto list = signed_request(other, "GET", "/v1/terminals");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.find(device.device_id), std::string::npos) << list.body;
}

TEST_F(PaymentErrorsTest, TerminalNeverConnectedIsOffline) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  expect_error(pay(merchant, device.device_id, payment_body("10.00", "USD", "TXN-OFFLINE")), 503,
               "TERMINAL_OFFLINE");
}

TEST_F(PaymentErrorsTest, UnknownTransactionIsNotFound) {
  const auto merchant = create_merchant();
  expect_error(get_transaction(merchant, "TXN-NOPE"), 404, "TRANSACTION_NOT_FOUND");
}

TEST_F(PaymentErrorsTest, AnotherMerchantsTransactionIsNotFound) {
  const auto owner = create_merchant("Owner");
  const auto other = create_merchant("Other");
  const auto device = create_device(owner);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto body =
      complete_payment(owner, device, *ws, payment_body("3.00", "USD", "TXN-OWNED"), "TXN-OWNED");
  EXPECT_EQ(string_at(body, "status"), "SUCCESS");
  EXPECT_EQ(get_transaction(owner, "TXN-OWNED").status, 200);
  expect_error(get_transaction(other, "TXN-OWNED"), 404, "TRANSACTION_NOT_FOUND");
}

TEST_F(PaymentErrorsTest, SecondPaymentWhileOneIsUnfinishedIsInProgress) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  auto first = pay_async(merchant, device.device_id, payment_body("1.00", "USD", "TXN-FIRST"));
  const auto request = read_frame(*ws, "payment.request");
  ASSERT_EQ(string_at(request, "transactionId"), "TXN-FIRST");

  expect_error(pay(merchant, device.device_id, payment_body("2.00", "USD", "TXN-SECOND")), 409,
               "PAYMENT_IN_PROGRESS");
  EXPECT_EQ(ws->read(300ms).kind, WsEvent::Kind::timeout) << "the second payment was pushed";

  ASSERT_TRUE(ws->send_json(result_frame("TXN-FIRST", "SUCCESS", "AUTH000001")));
  (void)read_frame(*ws, "payment.result.ack");
  ASSERT_EQ(first.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(first.get().status, 200);
}

TEST_F(PaymentErrorsTest, BodyOverTheLimitIsTooLarge) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  const std::string body = R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD",)"
                           R"("metadata":{"note":")" +
                           std::string(65 * 1024, 'x') + R"("}})";
  expect_error(pay(merchant, device.device_id, body), 413, "PAYLOAD_TOO_LARGE");
  // The gateway still serves.
  EXPECT_EQ(signed_request(merchant, "GET", "/v1/terminals").status, 200);
}

TEST_F(PaymentErrorsTest, FinishedPaymentRepeatedAnswersTheStoredResult) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto body = payment_body("25.00", "USD", "TXN-IDEM-1");
  const auto first = complete_payment(merchant, device, *ws, body, "TXN-IDEM-1");
  ASSERT_TRUE(first.is_object());

  const auto started = std::chrono::steady_clock::now();
  const auto again = pay(merchant, device.device_id, body);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_EQ(again.status, 200) << again.body;
  const auto repeated = parse_json(again.body);
  EXPECT_EQ(string_at(repeated, "transactionId"), "TXN-IDEM-1");
  EXPECT_EQ(string_at(repeated, "status"), "SUCCESS");
  const auto* payment = repeated.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << again.body;
  EXPECT_EQ(string_at(*payment, "authorizationCode"), "AUTH777777");
  EXPECT_EQ(string_at(*payment, "amount"), "25.00");
  EXPECT_EQ(json::serialize(*payment), json_at(first, "paymentResponse"));
  EXPECT_EQ(ws->read(300ms).kind, WsEvent::Kind::timeout)
      << "a repeated finished payment must not reach the terminal again";

  const auto different =
      pay(merchant, device.device_id, payment_body("26.00", "USD", "TXN-IDEM-1"));
  const auto error = expect_error(different, 409, "DUPLICATE_TRANSACTION");
  EXPECT_EQ(string_at(error, "transactionId"), "TXN-IDEM-1") << different.body;
  EXPECT_EQ(ws->read(300ms).kind, WsEvent::Kind::timeout);
}

class PaymentTimeoutTest : public PaymentErrorsTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_PAYMENT_TIMEOUT_S", "2"}}; }
};

TEST_F(PaymentTimeoutTest, HungTerminalAnswersTimeoutWithTheTransactionId) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  SimulatedTerminal terminal(gateway(), device, "ignore");
  ASSERT_TRUE(terminal.wait_online());
  const auto started = std::chrono::steady_clock::now();
  const auto res = pay(merchant, device.device_id, payment_body("9.99", "USD", "TXN-HUNG"));
  const auto waited = std::chrono::steady_clock::now() - started;
  const auto body = expect_error(res, 504, "TIMEOUT");
  EXPECT_EQ(string_at(body, "transactionId"), "TXN-HUNG") << res.body;
  EXPECT_GE(waited, 1500ms);
  EXPECT_LT(waited, 10s);
  // The transaction goes on (section 6): it exists and is not final-successful.
  const auto txn_res = get_transaction(merchant, "TXN-HUNG");
  ASSERT_EQ(txn_res.status, 200) << txn_res.body;
  const auto status = string_at(parse_json(txn_res.body), "status");
  EXPECT_TRUE(status == "PENDING" || status == "TIMEOUT") << status;
}

}  // namespace
}  // namespace tillgate::ft
