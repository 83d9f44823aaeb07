// Idempotency of POST /v1/terminals/{id}/payments in standard mode (merchant-api.md
// section 4): a transactionId is unique per merchant; a repeat with the same body never
// pushes a second payment (it joins the wait, or answers the final result at once); the
// same id with a different body is 409 DUPLICATE_TRANSACTION.
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class IdempotencyTest : public GatewayTest {
 protected:
  // Long enough that nothing here times out; no test waits for it.
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "20"}, {"TILLGATE_RECONNECT_GRACE_S", "2"}};
  }

  client::HttpResponse pay(const Merchant& merchant, std::string_view terminal,
                           const std::string& body) {
    return signed_request(merchant, "POST", payments_path(terminal), body);
  }

  // Sends a payment.result and returns the transactionStatus of its payment.result.ack.
  std::string report(WsTestClient& ws, std::string_view transaction_id, std::string_view status,
                     std::string_view authorization_code = {}) {
    json::Value frame = status == "FAILED"
                            ? result_frame(transaction_id, status, "", "DECLINED", "Card declined")
                            : result_frame(transaction_id, status, authorization_code);
    EXPECT_TRUE(ws.send_json(frame));
    const auto ack = read_frame(ws, "payment.result.ack");
    EXPECT_EQ(string_at(ack, "transactionId"), transaction_id);
    return string_at(ack, "transactionStatus");
  }

  static client::HttpResponse answer(std::future<client::HttpResponse>& pending,
                                     std::chrono::milliseconds timeout = 10s) {
    const auto res = await_response(pending, timeout);
    if (!res) {
      ADD_FAILURE() << "the merchant's request never answered";
      return {};
    }
    return *res;
  }
};

TEST_F(IdempotencyTest, ConcurrentIdenticalRequestsPushOnceAndGetTheSameResult) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto body = payment_body("15.00", "USD", "TXN-TWIN");
  auto one = pay_async(merchant, device.device_id, body);
  auto two = pay_async(merchant, device.device_id, body);

  // Exactly one payment.request reaches the terminal.
  const auto request = read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-TWIN");
  EXPECT_TRUE(NoFrameWithin(*ws, 600ms)) << "a second payment.request was pushed";
  EXPECT_EQ(one.wait_for(0s), std::future_status::timeout) << "the first did not wait";
  EXPECT_EQ(two.wait_for(0s), std::future_status::timeout) << "the second did not join the wait";

  ASSERT_TRUE(ws->send_json(ack_frame("TXN-TWIN")));
  EXPECT_EQ(report(*ws, "TXN-TWIN", "SUCCESS", "AUTH-TWIN"), "COMPLETED");
  const auto first = answer(one);
  const auto second = answer(two);
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(second.status, 200) << second.body;
  const auto first_body = parse_json(first.body);
  const auto second_body = parse_json(second.body);
  for (const auto* key : {"transactionId", "status", "paymentResponse"}) {
    EXPECT_EQ(json_at(first_body, key), json_at(second_body, key)) << key;
  }
  EXPECT_EQ(string_at(first_body, "status"), "SUCCESS");
  const auto* payment = first_body.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << first.body;
  EXPECT_EQ(string_at(*payment, "authorizationCode"), "AUTH-TWIN");

  // Later: the stored final result at once, without a push.
  const auto started = std::chrono::steady_clock::now();
  const auto later = pay(merchant, device.device_id, body);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  ASSERT_EQ(later.status, 200) << later.body;
  const auto later_body = parse_json(later.body);
  EXPECT_EQ(json_at(later_body, "status"), json_at(first_body, "status"));
  EXPECT_EQ(json_at(later_body, "paymentResponse"), json_at(first_body, "paymentResponse"));
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms)) << "a finished payment was pushed again";

  // One transaction only.
  const auto list = signed_request(merchant, "GET", "/v1/transactions");
  ASSERT_EQ(list.status, 200) << list.body;
  const auto listed = parse_json(list.body);
  const auto* items = listed.find("transactions");
  ASSERT_TRUE(items && items->is_array()) << list.body;
  EXPECT_EQ(items->as_array().size(), 1u) << list.body;
}

TEST_F(IdempotencyTest, RepeatOfAFinishedPaymentAnswersAtOnceEvenWithTheTerminalGone) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto body = payment_body("4.20", "USD", "TXN-DECLINE");
  auto pending = pay_async(merchant, device.device_id, body);
  (void)read_frame(*ws, "payment.request");
  EXPECT_EQ(report(*ws, "TXN-DECLINE", "FAILED"), "FAILED");
  const auto first = answer(pending);
  ASSERT_EQ(first.status, 200) << first.body;
  const auto first_body = parse_json(first.body);
  EXPECT_EQ(string_at(first_body, "status"), "FAILED");

  // The terminal leaves for good (past its grace): a new payment would be 503, but the
  // repeat of a finished one answers its stored result.
  ws->close();
  ASSERT_TRUE(
      eventually([&] { return terminal_status(merchant, device.device_id) == "offline"; }, 6s))
      << terminal_status(merchant, device.device_id);
  expect_error(pay(merchant, device.device_id, payment_body("1.00", "USD")), 503,
               "TERMINAL_OFFLINE");
  const auto started = std::chrono::steady_clock::now();
  const auto again = pay(merchant, device.device_id, body);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  ASSERT_EQ(again.status, 200) << again.body;
  const auto again_body = parse_json(again.body);
  EXPECT_EQ(string_at(again_body, "status"), "FAILED");
  EXPECT_EQ(json_at(again_body, "paymentResponse"), json_at(first_body, "paymentResponse"));
}

TEST_F(IdempotencyTest, SameIdWithADifferentBodyOrTerminalIsDuplicate) {
  const auto merchant = create_merchant();
  const auto till = create_device(merchant, "till-a");
  const auto other_till = create_device(merchant, "till-b");
  auto [ws, hello_ok] = connect_terminal(till);
  auto [other_ws, other_hello_ok] = connect_terminal(other_till);
  ASSERT_TRUE(ws && other_ws);
  const auto body = payment_body("10.00", "USD", "TXN-ONE");
  auto pending = pay_async(merchant, till.device_id, body);
  (void)read_frame(*ws, "payment.request");

  const auto expect_duplicate = [&](std::string_view terminal, const std::string& different) {
    const auto res = pay(merchant, terminal, different);
    const auto error = expect_error(res, 409, "DUPLICATE_TRANSACTION");
    EXPECT_EQ(string_at(error, "transactionId"), "TXN-ONE") << res.body;
  };
  // While the first is unfinished...
  expect_duplicate(till.device_id, payment_body("10.01", "USD", "TXN-ONE"));
  expect_duplicate(till.device_id, payment_body("10.00", "EUR", "TXN-ONE"));
  expect_duplicate(till.device_id, payment_body("10.00", "USD", "TXN-ONE", "CASH"));
  expect_duplicate(other_till.device_id, body);
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms)) << "a duplicate reached the terminal";
  EXPECT_TRUE(NoFrameWithin(*other_ws, 100ms)) << "a duplicate reached the other terminal";
  EXPECT_EQ(pending.wait_for(0s), std::future_status::timeout) << "the first must be undisturbed";

  ASSERT_TRUE(ws->send_json(ack_frame("TXN-ONE")));
  EXPECT_EQ(report(*ws, "TXN-ONE", "SUCCESS", "AUTH-ONE"), "COMPLETED");
  const auto res = answer(pending);
  ASSERT_EQ(res.status, 200) << res.body;

  // ...and once it is final.
  expect_duplicate(till.device_id, payment_body("10.01", "USD", "TXN-ONE"));
  expect_duplicate(other_till.device_id, body);
  EXPECT_TRUE(NoFrameWithin(*other_ws, 300ms));

  const auto txn = parse_json(get_transaction(merchant, "TXN-ONE").body);
  EXPECT_EQ(string_at(txn, "terminalId"), till.device_id);
  EXPECT_EQ(string_at(txn, "status"), "COMPLETED");
  const auto* response = txn.find("response");
  ASSERT_TRUE(response && response->is_object()) << json::serialize(txn);
  EXPECT_EQ(string_at(*response, "amount"), "10.00");
}

TEST_F(IdempotencyTest, RetryAfterTheMerchantsConnectionDroppedJoinsTheSamePayment) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto body = payment_body("60.00", "USD", "TXN-FLAKY");
  // The merchant's HTTP client gives up after half a second.
  auto dropped = pay_async(merchant, device.device_id, body, 500ms);
  (void)read_frame(*ws, "payment.request");
  ASSERT_EQ(dropped.wait_for(5s), std::future_status::ready);
  EXPECT_THROW((void)dropped.get(), client::HttpError);

  auto retry = pay_async(merchant, device.device_id, body);
  EXPECT_TRUE(NoFrameWithin(*ws, 500ms)) << "the retry pushed a second payment";
  EXPECT_EQ(retry.wait_for(0s), std::future_status::timeout) << "the retry did not wait";
  EXPECT_EQ(report(*ws, "TXN-FLAKY", "SUCCESS", "AUTH-FLAKY"), "COMPLETED");
  const auto res = answer(retry);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "SUCCESS");
}

TEST_F(IdempotencyTest, SameIdForAnotherMerchantIsAnIndependentTransaction) {
  const auto alice = create_merchant("Alice's");
  const auto bob = create_merchant("Bob's");
  const auto alice_till = create_device(alice);
  const auto bob_till = create_device(bob);
  auto [alice_ws, alice_hello] = connect_terminal(alice_till);
  auto [bob_ws, bob_hello] = connect_terminal(bob_till);
  ASSERT_TRUE(alice_ws && bob_ws);

  auto alice_pay =
      pay_async(alice, alice_till.device_id, payment_body("1.00", "USD", "TXN-SHARED"));
  const auto alice_request = read_frame(*alice_ws, "payment.request");
  EXPECT_EQ(string_at(alice_request, "amount"), "1.00");
  // Same id, different body, while Alice's is unfinished: no 409, a payment of its own.
  auto bob_pay = pay_async(bob, bob_till.device_id, payment_body("2.00", "USD", "TXN-SHARED"));
  const auto bob_request = read_frame(*bob_ws, "payment.request");
  EXPECT_EQ(string_at(bob_request, "transactionId"), "TXN-SHARED");
  EXPECT_EQ(string_at(bob_request, "amount"), "2.00");
  EXPECT_TRUE(NoFrameWithin(*alice_ws, 200ms));

  EXPECT_EQ(report(*bob_ws, "TXN-SHARED", "FAILED"), "FAILED");
  EXPECT_EQ(report(*alice_ws, "TXN-SHARED", "SUCCESS", "AUTH-ALICE"), "COMPLETED");
  const auto alice_res = answer(alice_pay);
  const auto bob_res = answer(bob_pay);
  ASSERT_EQ(alice_res.status, 200) << alice_res.body;
  ASSERT_EQ(bob_res.status, 200) << bob_res.body;
  EXPECT_EQ(string_at(parse_json(alice_res.body), "status"), "SUCCESS");
  EXPECT_EQ(string_at(parse_json(bob_res.body), "status"), "FAILED");

  // Each sees only its own.
  const auto alice_txn = parse_json(get_transaction(alice, "TXN-SHARED").body);
  const auto bob_txn = parse_json(get_transaction(bob, "TXN-SHARED").body);
  EXPECT_EQ(string_at(alice_txn, "terminalId"), alice_till.device_id);
  EXPECT_EQ(string_at(alice_txn, "status"), "COMPLETED");
  EXPECT_EQ(string_at(bob_txn, "terminalId"), bob_till.device_id);
  EXPECT_EQ(string_at(bob_txn, "status"), "FAILED");
  for (const auto* merchant : {&alice, &bob}) {
    const auto list = signed_request(*merchant, "GET", "/v1/transactions");
    ASSERT_EQ(list.status, 200) << list.body;
    const auto listed = parse_json(list.body);
    const auto* items = listed.find("transactions");
    ASSERT_TRUE(items && items->is_array()) << list.body;
    ASSERT_EQ(items->as_array().size(), 1u) << list.body;
    EXPECT_EQ(string_at(items->as_array().front(), "terminalId"),
              merchant == &alice ? alice_till.device_id : bob_till.device_id);
  }
  // A repeat answers each merchant its own stored result.
  const auto alice_again =
      pay(alice, alice_till.device_id, payment_body("1.00", "USD", "TXN-SHARED"));
  ASSERT_EQ(alice_again.status, 200) << alice_again.body;
  EXPECT_EQ(string_at(parse_json(alice_again.body), "status"), "SUCCESS");
  const auto bob_again = pay(bob, bob_till.device_id, payment_body("2.00", "USD", "TXN-SHARED"));
  ASSERT_EQ(bob_again.status, 200) << bob_again.body;
  EXPECT_EQ(string_at(parse_json(bob_again.body), "status"), "FAILED");
}

// A retry after a 504 while the transaction goes on (T = 1 s, G = 3 s).
class IdempotencyAfterTimeoutTest : public IdempotencyTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "1"}, {"TILLGATE_RECONNECT_GRACE_S", "3"}};
  }
};

TEST_F(IdempotencyAfterTimeoutTest, RetryAfter504JoinsTheWaitAndGetsTheFinalAnswer) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto body = payment_body("88.00", "USD", "TXN-RETRY");
  auto first = pay_async(merchant, device.device_id, body);
  (void)read_frame(*ws, "payment.request");
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-RETRY")));
  const auto cancel = read_frame(*ws, "payment.cancel", 5s);
  EXPECT_EQ(string_at(cancel, "reason"), "TIMEOUT");
  const auto timed_out = answer(first);
  EXPECT_EQ(string_at(expect_error(timed_out, 504, "TIMEOUT"), "transactionId"), "TXN-RETRY");

  // The transaction goes on (its grace runs 3 s from the cancel). Section 4: a repeat of an
  // unfinished transaction "joins the wait", so a timed-out request can be retried safely.
  // A retry after the deadline waits a payment timeout of its own, not the passed deadline.
  auto retry = pay_async(merchant, device.device_id, body);
  EXPECT_TRUE(NoFrameWithin(*ws, 400ms)) << "the retry pushed the payment again";
  EXPECT_EQ(retry.wait_for(0s), std::future_status::timeout)
      << "the retry did not join the wait (it answered at once)";
  EXPECT_EQ(report(*ws, "TXN-RETRY", "SUCCESS", "AUTH-RETRY"), "COMPLETED");
  const auto res = answer(retry);
  ASSERT_EQ(res.status, 200) << res.body;
  const auto res_body = parse_json(res.body);
  EXPECT_EQ(string_at(res_body, "status"), "SUCCESS");
  const auto* payment = res_body.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << res.body;
  EXPECT_EQ(string_at(*payment, "authorizationCode"), "AUTH-RETRY");
}

}  // namespace
}  // namespace tillgate::ft
