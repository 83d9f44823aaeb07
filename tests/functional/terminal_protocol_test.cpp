// The terminal WebSocket protocol as a terminal maker reads terminal-protocol.md.
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class TerminalProtocolTest : public GatewayTest {
 protected:
  std::unique_ptr<WsTestClient> open_socket() {
    auto ws = std::make_unique<WsTestClient>(gateway().host(), gateway().port());
    ws->connect();
    return ws;
  }

  // An `error` frame with `code`, then a close with `close_code`.
  void expect_error_then_close(WsTestClient& ws, std::string_view code, int close_code) {
    const auto error = read_frame(ws, "error");
    EXPECT_EQ(string_at(error, "code"), code);
    EXPECT_FALSE(string_at(error, "message").empty());
    const auto closed = ws.read(5s);
    EXPECT_EQ(closed.kind, WsEvent::Kind::closed) << closed.text;
    EXPECT_EQ(closed.close_code, close_code) << closed.detail;
  }

  void expect_close(WsTestClient& ws, int close_code, std::chrono::milliseconds timeout = 5s) {
    const auto event = ws.read(timeout);
    ASSERT_EQ(event.kind, WsEvent::Kind::closed)
        << (event.kind == WsEvent::Kind::timeout ? "no close in time" : event.text);
    EXPECT_EQ(event.close_code, close_code) << event.detail;
  }

  void expect_protocol_error(WsTestClient& ws) {
    const auto error = read_frame(ws, "error");
    EXPECT_EQ(string_at(error, "code"), "PROTOCOL_ERROR") << json::serialize(error);
  }
};

TEST_F(TerminalProtocolTest, WrongSecretIsRefusedWith4001) {
  const auto merchant = create_merchant();
  auto device = create_device(merchant);
  device.device_secret += "x";
  auto ws = open_socket();
  ASSERT_TRUE(ws->send_json(hello_frame(device)));
  expect_error_then_close(*ws, "UNAUTHORIZED", 4001);
}

TEST_F(TerminalProtocolTest, UnknownDeviceIsRefusedWith4001) {
  auto ws = open_socket();
  ASSERT_TRUE(ws->send_json(hello_frame({"no-such-device", "tds_whatever", ""})));
  expect_error_then_close(*ws, "UNAUTHORIZED", 4001);
}

TEST_F(TerminalProtocolTest, FirstFrameOtherThanHelloIsRefusedWith4001) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto ws = open_socket();
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-1")));
  expect_error_then_close(*ws, "UNAUTHORIZED", 4001);
  // The device itself is fine: a proper hello works.
  auto [good, hello_ok] = connect_terminal(device);
  EXPECT_TRUE(good && good->is_open());
}

TEST_F(TerminalProtocolTest, InvalidJsonFrameClosesWith1007) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  ASSERT_TRUE(ws->send_text("{\"type\":\"payment.ack\","));
  expect_close(*ws, 1007);
}

TEST_F(TerminalProtocolTest, FrameOver64KiBClosesWith1009) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const std::string big =
      R"({"type":"payment.ack","transactionId":")" + std::string(64 * 1024 + 16, 'x') + R"("})";
  (void)ws->send_text(big);  // the gateway may close before reading all of it
  expect_close(*ws, 1009);
}

class HelloTimeoutTest : public TerminalProtocolTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_HELLO_TIMEOUT_S", "1"}}; }
};

TEST_F(HelloTimeoutTest, SilentConnectionIsClosedWith4001) {
  auto ws = open_socket();
  const auto started = std::chrono::steady_clock::now();
  auto event = ws->read(5s);
  if (event.kind == WsEvent::Kind::message) {
    const auto frame = parse_json(event.text);
    EXPECT_EQ(string_at(frame, "type"), "error") << event.text;
    EXPECT_EQ(string_at(frame, "code"), "UNAUTHORIZED") << event.text;
    event = ws->read(5s);
  }
  ASSERT_EQ(event.kind, WsEvent::Kind::closed);
  EXPECT_EQ(event.close_code, 4001) << event.detail;
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 800ms);
  EXPECT_LT(waited, 4s);
}

TEST_F(TerminalProtocolTest, SecondConnectionReplacesTheFirstWith4002) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [first, first_ok] = connect_terminal(device);
  ASSERT_TRUE(first);
  auto [second, second_ok] = connect_terminal(device);
  ASSERT_TRUE(second);
  EXPECT_NE(string_at(first_ok, "connectionId"), string_at(second_ok, "connectionId"));
  expect_close(*first, 4002);

  auto pending = pay_async(merchant, device.device_id, payment_body("4.00", "USD", "TXN-2ND"));
  const auto request = read_frame(*second, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-2ND");
  ASSERT_TRUE(second->send_json(result_frame("TXN-2ND", "SUCCESS", "AUTH222222")));
  (void)read_frame(*second, "payment.result.ack");
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  const auto res = pending.get();
  EXPECT_EQ(res.status, 200) << res.body;

  const auto terminals = parse_json(signed_request(merchant, "GET", "/v1/terminals").body);
  const auto* list = terminals.find("terminals");
  ASSERT_TRUE(list != nullptr && list->is_array() && list->as_array().size() == 1)
      << json::serialize(terminals);
  EXPECT_EQ(string_at(list->as_array()[0], "connectionId"), string_at(second_ok, "connectionId"));
}

TEST_F(TerminalProtocolTest, FramesNamingAnUnknownTransactionAreProtocolErrors) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  ASSERT_TRUE(ws->send_json(result_frame("TXN-UNKNOWN", "SUCCESS", "AUTH1")));
  expect_protocol_error(*ws);
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-UNKNOWN")));
  expect_protocol_error(*ws);
  expect_error(get_transaction(merchant, "TXN-UNKNOWN"), 404, "TRANSACTION_NOT_FOUND");

  // The connection stayed open and still works.
  auto pending = pay_async(merchant, device.device_id, payment_body("1.00", "USD", "TXN-AFTER"));
  const auto request = read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-AFTER");
  ASSERT_TRUE(ws->send_json(result_frame("TXN-AFTER", "SUCCESS", "AUTH333333")));
  (void)read_frame(*ws, "payment.result.ack");
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(pending.get().status, 200);
}

TEST_F(TerminalProtocolTest, FramesNamingAnotherTerminalsTransactionAreProtocolErrors) {
  const auto merchant = create_merchant();
  const auto stranger_merchant = create_merchant("Stranger");
  const auto device_a = create_device(merchant, "till-a");
  const auto device_b = create_device(merchant, "till-b");
  const auto device_c = create_device(stranger_merchant, "till-c");
  auto [ws_a, ok_a] = connect_terminal(device_a);
  auto [ws_b, ok_b] = connect_terminal(device_b);
  auto [ws_c, ok_c] = connect_terminal(device_c);
  ASSERT_TRUE(ws_a && ws_b && ws_c);

  auto pending = pay_async(merchant, device_a.device_id, payment_body("8.00", "USD", "TXN-OF-A"));
  (void)read_frame(*ws_a, "payment.request");
  for (auto* other : {ws_b.get(), ws_c.get()}) {
    ASSERT_TRUE(other->send_json(ack_frame("TXN-OF-A")));
    expect_protocol_error(*other);
    ASSERT_TRUE(other->send_json(result_frame("TXN-OF-A", "SUCCESS", "STOLEN")));
    expect_protocol_error(*other);
    EXPECT_TRUE(other->is_open());
  }
  EXPECT_EQ(pending.wait_for(200ms), std::future_status::timeout)
      << "another terminal's result must change nothing";

  ASSERT_TRUE(ws_a->send_json(result_frame("TXN-OF-A", "FAILED", "", "DECLINED", "No funds")));
  const auto ack = read_frame(*ws_a, "payment.result.ack");
  EXPECT_EQ(string_at(ack, "transactionStatus"), "FAILED");
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  const auto res = pending.get();
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "status"), "FAILED");
  const auto* payment = body.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << res.body;
  EXPECT_EQ(string_at(*payment, "errorCode"), "DECLINED");
}

TEST_F(TerminalProtocolTest, DuplicateResultIsAcknowledgedAndChangesNothing) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  auto pending = pay_async(merchant, device.device_id, payment_body("6.00", "USD", "TXN-DUP"));
  (void)read_frame(*ws, "payment.request");
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-DUP")));
  ASSERT_TRUE(ws->send_json(result_frame("TXN-DUP", "SUCCESS", "AUTH444444")));
  EXPECT_EQ(string_at(read_frame(*ws, "payment.result.ack"), "transactionStatus"), "COMPLETED");
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(pending.get().status, 200);
  const auto before = parse_json(get_transaction(merchant, "TXN-DUP").body);

  // The same result again, then a contradicting one: both acknowledged as COMPLETED.
  ASSERT_TRUE(ws->send_json(result_frame("TXN-DUP", "SUCCESS", "AUTH444444")));
  auto ack = read_frame(*ws, "payment.result.ack");
  EXPECT_EQ(string_at(ack, "transactionId"), "TXN-DUP");
  EXPECT_EQ(string_at(ack, "transactionStatus"), "COMPLETED");
  ASSERT_TRUE(ws->send_json(result_frame("TXN-DUP", "FAILED", "", "DECLINED", "Card declined")));
  ack = read_frame(*ws, "payment.result.ack");
  EXPECT_EQ(string_at(ack, "transactionStatus"), "COMPLETED");

  const auto after = parse_json(get_transaction(merchant, "TXN-DUP").body);
  EXPECT_EQ(string_at(after, "status"), "COMPLETED");
  EXPECT_EQ(json_at(after, "response"), json_at(before, "response"));
  EXPECT_EQ(string_at(after, "completedAt"), string_at(before, "completedAt"));
}

}  // namespace
}  // namespace tillgate::ft
