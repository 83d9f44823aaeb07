// POST /v1/transactions/{id}/cancel (merchant-api.md sections 5 and 6): the gateway asks the
// terminal to abandon the payment and the terminal's answer decides.
#include <gtest/gtest.h>

#include <map>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class MerchantCancelTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "30"}, {"TILLGATE_RECONNECT_GRACE_S", "3"}};
  }

  client::HttpResponse cancel(const Merchant& merchant, std::string_view transaction_id) {
    return signed_request(merchant, "POST",
                          "/v1/transactions/" + std::string(transaction_id) + "/cancel");
  }

  std::string status_of(const Merchant& merchant, std::string_view transaction_id) {
    return string_at(parse_json(get_transaction(merchant, transaction_id).body), "status");
  }

  // A payment on screen: the terminal has it and acknowledged it.
  struct OnScreen {
    Merchant merchant;
    Device device;
    std::unique_ptr<WsTestClient> ws;
    std::future<client::HttpResponse> long_poll;
  };
  OnScreen payment_on_screen(std::string_view transaction_id) {
    OnScreen on_screen{create_merchant(), {}, nullptr, {}};
    on_screen.device = create_device(on_screen.merchant);
    auto hello = connect_terminal(on_screen.device);
    on_screen.ws = std::move(hello.ws);
    on_screen.long_poll = pay_async(on_screen.merchant, on_screen.device.device_id,
                                    payment_body("12.50", "USD", transaction_id));
    EXPECT_EQ(string_at(read_frame(*on_screen.ws, "payment.request"), "transactionId"),
              transaction_id);
    EXPECT_TRUE(on_screen.ws->send_json(ack_frame(transaction_id)));
    return on_screen;
  }
};

TEST_F(MerchantCancelTest, TerminalConfirmsAndTheTransactionEndsCancelled) {
  auto p = payment_on_screen("TXN-C1");
  const auto res = cancel(p.merchant, "TXN-C1");
  ASSERT_EQ(res.status, 202) << res.body;
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "transactionId"), "TXN-C1");
  EXPECT_EQ(string_at(body, "status"), "PENDING");  // the terminal's answer decides
  EXPECT_EQ(string_at(body, "terminalId"), p.device.device_id);
  EXPECT_TRUE(IsIsoMs(body.find("timestamp")));

  const auto cancel_frame = read_frame(*p.ws, "payment.cancel");
  EXPECT_EQ(string_at(cancel_frame, "transactionId"), "TXN-C1");
  EXPECT_EQ(string_at(cancel_frame, "reason"), "MERCHANT");
  ASSERT_TRUE(p.ws->send_json(result_frame("TXN-C1", "CANCELLED", "", "CANCELLED", "Cancelled")));
  EXPECT_EQ(string_at(read_frame(*p.ws, "payment.result.ack"), "transactionStatus"), "CANCELLED");

  ASSERT_EQ(p.long_poll.wait_for(10s), std::future_status::ready);
  const auto answer = p.long_poll.get();
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(string_at(parse_json(answer.body), "status"), "CANCELLED");
  EXPECT_EQ(status_of(p.merchant, "TXN-C1"), "CANCELLED");
}

TEST_F(MerchantCancelTest, SuccessThatRacedTheCancelEndsCompleted) {
  auto p = payment_on_screen("TXN-C2");
  ASSERT_EQ(cancel(p.merchant, "TXN-C2").status, 202);
  (void)read_frame(*p.ws, "payment.cancel");
  // The customer had already paid: the terminal reports the success instead.
  ASSERT_TRUE(p.ws->send_json(result_frame("TXN-C2", "SUCCESS", "AUTH777777")));
  EXPECT_EQ(string_at(read_frame(*p.ws, "payment.result.ack"), "transactionStatus"), "COMPLETED");
  ASSERT_EQ(p.long_poll.wait_for(10s), std::future_status::ready);
  const auto answer = parse_json(p.long_poll.get().body);
  EXPECT_EQ(string_at(answer, "status"), "SUCCESS");
  const auto* response = answer.find("paymentResponse");
  ASSERT_NE(response, nullptr);
  EXPECT_EQ(string_at(*response, "authorizationCode"), "AUTH777777");
}

TEST_F(MerchantCancelTest, FinalTransactionIsTransactionFinal) {
  auto p = payment_on_screen("TXN-C3");
  ASSERT_TRUE(p.ws->send_json(result_frame("TXN-C3", "SUCCESS", "AUTH123123")));
  (void)read_frame(*p.ws, "payment.result.ack");
  ASSERT_EQ(p.long_poll.wait_for(10s), std::future_status::ready);
  const auto res = cancel(p.merchant, "TXN-C3");
  const auto body = expect_error(res, 409, "TRANSACTION_FINAL");
  EXPECT_EQ(string_at(body, "transactionId"), "TXN-C3");
  EXPECT_EQ(status_of(p.merchant, "TXN-C3"), "COMPLETED");
  // Nothing was sent to the terminal.
  EXPECT_EQ(p.ws->read(300ms).kind, WsEvent::Kind::timeout);
}

TEST_F(MerchantCancelTest, UnknownOrAnotherMerchantsTransactionIsNotFound) {
  auto p = payment_on_screen("TXN-C4");
  expect_error(cancel(p.merchant, "TXN-NOPE"), 404, "TRANSACTION_NOT_FOUND");
  const auto other = create_merchant("Other Shop");
  expect_error(cancel(other, "TXN-C4"), 404, "TRANSACTION_NOT_FOUND");
  // The other merchant's attempt changed nothing and reached no terminal.
  EXPECT_EQ(p.ws->read(300ms).kind, WsEvent::Kind::timeout);
  EXPECT_EQ(status_of(p.merchant, "TXN-C4"), "PENDING");
  ASSERT_TRUE(p.ws->send_json(result_frame("TXN-C4", "SUCCESS", "AUTH444444")));
  EXPECT_EQ(p.long_poll.wait_for(10s), std::future_status::ready);
}

TEST_F(MerchantCancelTest, NoAnswerWithinTheGraceEndsTimeoutAndALateSuccessIsVoided) {
  auto p = payment_on_screen("TXN-C5");
  ASSERT_EQ(cancel(p.merchant, "TXN-C5").status, 202);
  (void)read_frame(*p.ws, "payment.cancel");
  // The terminal stays silent past the 3 s grace.
  ASSERT_TRUE(eventually([&] { return status_of(p.merchant, "TXN-C5") == "TIMEOUT"; }, 10s));
  ASSERT_EQ(p.long_poll.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(string_at(parse_json(p.long_poll.get().body), "status"), "TIMEOUT");
  // It had charged the card after all: the gateway voids it.
  ASSERT_TRUE(p.ws->send_json(result_frame("TXN-C5", "SUCCESS", "AUTH555555")));
  // Two frames, in either order: the acknowledgement (VOIDED) and the order to reverse.
  std::map<std::string, json::Value> frames;
  for (int i = 0; i < 2; ++i) {
    const auto event = p.ws->read(5s);
    ASSERT_EQ(event.kind, WsEvent::Kind::message);
    auto frame = parse_json(event.text);
    frames.emplace(string_at(frame, "type"), std::move(frame));
  }
  ASSERT_TRUE(frames.contains("payment.result.ack") && frames.contains("payment.void"));
  EXPECT_EQ(string_at(frames["payment.result.ack"], "transactionStatus"), "VOIDED");
  EXPECT_EQ(string_at(frames["payment.void"], "transactionId"), "TXN-C5");
  EXPECT_EQ(status_of(p.merchant, "TXN-C5"), "VOIDED");
}

TEST_F(MerchantCancelTest, RepeatedCancelIsAcceptedAndSentAgain) {
  auto p = payment_on_screen("TXN-C6");
  ASSERT_EQ(cancel(p.merchant, "TXN-C6").status, 202);
  (void)read_frame(*p.ws, "payment.cancel");
  ASSERT_EQ(cancel(p.merchant, "TXN-C6").status, 202);
  EXPECT_EQ(string_at(read_frame(*p.ws, "payment.cancel"), "reason"), "MERCHANT");
  ASSERT_TRUE(p.ws->send_json(result_frame("TXN-C6", "CANCELLED")));
  EXPECT_EQ(string_at(read_frame(*p.ws, "payment.result.ack"), "transactionStatus"), "CANCELLED");
}

TEST_F(MerchantCancelTest, CancelWhileTheTerminalIsAwayReachesItOnReconnect) {
  auto p = payment_on_screen("TXN-C7");
  p.ws->drop();
  ASSERT_TRUE(
      eventually([&] { return status_of(p.merchant, "TXN-C7") == "AWAITING_RECONNECT"; }, 5s));
  const auto res = cancel(p.merchant, "TXN-C7");
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "AWAITING_RECONNECT");

  // Back within the grace: told to cancel, not sent the request again.
  auto back = connect_terminal(p.device);
  const auto frame = read_frame(*back.ws, "payment.cancel");
  EXPECT_EQ(string_at(frame, "transactionId"), "TXN-C7");
  EXPECT_EQ(string_at(frame, "reason"), "MERCHANT");
  ASSERT_TRUE(back.ws->send_json(result_frame("TXN-C7", "CANCELLED")));
  EXPECT_EQ(string_at(read_frame(*back.ws, "payment.result.ack"), "transactionStatus"),
            "CANCELLED");
}

class MerchantCancelRestartTest : public MerchantCancelTest {
 protected:
  // Long enough for a restart to fit inside the cancel's grace.
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "60"}, {"TILLGATE_RECONNECT_GRACE_S", "20"}};
  }
};

TEST_F(MerchantCancelRestartTest, CancelRequestSurvivesARestart) {
  auto p = payment_on_screen("TXN-C8");
  ASSERT_EQ(cancel(p.merchant, "TXN-C8").status, 202);
  (void)read_frame(*p.ws, "payment.cancel");
  p.ws.reset();
  gateway().restart();
  auto back = connect_terminal(p.device);
  EXPECT_EQ(string_at(read_frame(*back.ws, "payment.cancel"), "reason"), "MERCHANT");
  ASSERT_TRUE(back.ws->send_json(result_frame("TXN-C8", "CANCELLED")));
  EXPECT_EQ(string_at(read_frame(*back.ws, "payment.result.ack"), "transactionStatus"),
            "CANCELLED");
}

}  // namespace
}  // namespace tillgate::ft
