// The merchant POS WebSocket API (docs/pos-websocket.md) as a POS client written for
// Modulus's WebSocket API drives it: handshake authentication, actions, errors and the
// notifications pushed from the event seam.
#include "client/request_signer.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

class PosWebSocketTest : public GatewayTest {
 protected:
  std::optional<WsRefused> try_open(WsTestClient& ws, std::string_view target,
                                    const Headers& headers) {
    return ws.try_connect(target, headers);
  }

  // A POS connection with the merchant's API key in the header.
  std::unique_ptr<WsTestClient> open_pos(const Merchant& merchant, Headers extra = {}) {
    auto ws = std::make_unique<WsTestClient>(gateway().host(), gateway().port());
    extra.emplace_back("x-api-key", merchant.credentials.api_key);
    const auto refused = ws->try_connect("/v1", extra);
    EXPECT_FALSE(refused) << "HTTP " << refused->status << " " << refused->body;
    return ws;
  }

  // The refusal of an upgrade to `target` with `headers`.
  WsRefused refusal(std::string_view target, const Headers& headers) {
    WsTestClient ws(gateway().host(), gateway().port());
    const auto refused = ws.try_connect(target, headers);
    EXPECT_TRUE(refused) << "the upgrade was accepted";
    return refused.value_or(WsRefused{});
  }

  // The next frame, asserting its action.
  json::Value read_action(WsTestClient& ws, std::string_view action,
                          std::chrono::milliseconds timeout = 5s) {
    const auto event = ws.read(timeout);
    if (event.kind != WsEvent::Kind::message) {
      ADD_FAILURE() << "expected '" << action << "', got "
                    << (event.kind == WsEvent::Kind::timeout
                            ? std::string("nothing")
                            : "close " + std::to_string(event.close_code));
      return json::Value();
    }
    auto frame = parse_json(event.text);
    EXPECT_EQ(frame.find_string("action").value_or("(none)"), action) << event.text;
    return frame;
  }

  // An error frame with `code` and `error`, echoing `request_id` when given.
  json::Value expect_error_frame(WsTestClient& ws, std::string_view error, std::string_view code,
                                 std::string_view request_id = {}) {
    auto frame = read_action(ws, "error");
    EXPECT_EQ(string_at(frame, "error"), error) << json::serialize(frame);
    EXPECT_EQ(string_at(frame, "code"), code) << json::serialize(frame);
    EXPECT_FALSE(string_at(frame, "message").empty());
    EXPECT_TRUE(IsIsoMs(frame.find("timestamp")));
    if (!request_id.empty()) {
      EXPECT_EQ(string_at(frame, "requestId"), request_id);
    }
    return frame;
  }

  void expect_close(WsTestClient& ws, int code) {
    const auto event = ws.read(5s);
    ASSERT_EQ(event.kind, WsEvent::Kind::closed) << event.text;
    EXPECT_EQ(event.close_code, code) << event.detail;
  }

  static json::Value pay_action(std::string_view terminal_id, std::string_view transaction_id,
                                std::string_view request_id = "req-pay") {
    json::Object action{
        {"action", json::Value("payment")},
        {"terminalId", json::Value(terminal_id)},
        {"paymentRequest", parse_json(payment_body("12.50", "USD", transaction_id))}};
    if (!request_id.empty()) {
      action.push_back({"requestId", json::Value(request_id)});
    }
    return json::Value(std::move(action));
  }

  static void expect_notification(const json::Value& frame, const Merchant& merchant) {
    EXPECT_EQ(string_at(frame, "groupId"), merchant.merchant_id);
    EXPECT_EQ(string_at(frame, "version"), "v1");
    EXPECT_TRUE(IsIsoMs(frame.find("timestamp")));
  }
};

TEST_F(PosWebSocketTest, UnknownOrMissingKeyIsRefusedWith401AndTheErrorBody) {
  for (const auto& headers : {Headers{{"x-api-key", "tk_no_such_key"}}, Headers{}}) {
    const auto refused = refusal("/v1", headers);
    EXPECT_EQ(refused.status, 401);
    const auto body = parse_json(refused.body);
    EXPECT_EQ(string_at(body, "code"), "UNAUTHORIZED") << refused.body;
    EXPECT_FALSE(string_at(body, "message").empty());
  }
  EXPECT_EQ(refusal("/v1?x-api-key=tk_no_such_key", {}).status, 401);
}

TEST_F(PosWebSocketTest, KeyInTheQueryIsAcceptedAndPingIsAnswered) {
  const auto merchant = create_merchant();
  WsTestClient ws(gateway().host(), gateway().port());
  const auto refused = ws.try_connect(
      "/v1?x-api-key=" + merchant.credentials.api_key + "&x-group-id=" + merchant.merchant_id, {});
  ASSERT_FALSE(refused) << refused->body;
  ASSERT_TRUE(ws.send_json(json::object({{"action", "ping"}, {"requestId", "r-1"}})));
  const auto pong = read_action(ws, "pong");
  EXPECT_EQ(string_at(pong, "requestId"), "r-1");
  EXPECT_TRUE(IsIsoMs(pong.find("timestamp")));
  ASSERT_TRUE(ws.send_json(json::object({{"action", "ping"}})));
  EXPECT_EQ(json_at(read_action(ws, "pong"), "requestId"), "(absent)");
}

TEST_F(PosWebSocketTest, KeyInTheQueryIsNeverLogged) {
  const auto merchant = create_merchant();
  {
    WsTestClient ws(gateway().host(), gateway().port());
    ASSERT_FALSE(ws.try_connect("/v1?x-api-key=" + merchant.credentials.api_key, {}));
    ASSERT_TRUE(ws.send_json(json::object({{"action", "ping"}})));
    (void)read_action(ws, "pong");
  }
  EXPECT_EQ(refusal("/v1?x-api-key=tk_guessed_key_12345", {}).status, 401);
  // The gateway logs at debug level in tests: no query, no key that came in one (the
  // merchant's key itself is logged, as a public id, when the admin creates it).
  const auto log = gateway().stderr_text();
  EXPECT_EQ(log.find("x-api-key="), std::string::npos);
  EXPECT_EQ(log.find("tk_guessed_key_12345"), std::string::npos);
}

TEST_F(PosWebSocketTest, GroupOtherThanTheKeysMerchantIsRefusedWith403) {
  const auto merchant = create_merchant();
  const auto other = create_merchant("Other Shop");
  const auto refused = refusal(
      "/v1", {{"x-api-key", merchant.credentials.api_key}, {"x-group-id", other.merchant_id}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(string_at(parse_json(refused.body), "code"), "GROUP_MISMATCH") << refused.body;
  auto ws = open_pos(merchant, {{"x-group-id", merchant.merchant_id}});
  ASSERT_TRUE(ws->send_json(json::object({{"action", "ping"}})));
  (void)read_action(*ws, "pong");
}

TEST_F(PosWebSocketTest, SignedHandshakeIsVerified) {
  const auto merchant = create_merchant();
  auto headers = client::sign_request(merchant.credentials, "GET", "/v1", "");
  auto ws = std::make_unique<WsTestClient>(gateway().host(), gateway().port());
  ASSERT_FALSE(ws->try_connect("/v1", Headers(headers.begin(), headers.end())));
  headers = client::sign_request(merchant.credentials, "GET", "/v1", "");
  for (auto& [name, value] : headers) {
    if (name == "x-signature") {
      value = "AAAA" + value.substr(4);
    }
  }
  const auto refused = refusal("/v1", Headers(headers.begin(), headers.end()));
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(string_at(parse_json(refused.body), "code"), "INVALID_SIGNATURE") << refused.body;
}

class SignedPosWebSocketTest : public PosWebSocketTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_POS_WS_AUTH", "signed"}}; }
};

TEST_F(SignedPosWebSocketTest, KeyAloneIsRefusedWhenSignaturesAreRequired) {
  const auto merchant = create_merchant();
  EXPECT_EQ(refusal("/v1", {{"x-api-key", merchant.credentials.api_key}}).status, 401);
  const auto headers = client::sign_request(merchant.credentials, "GET", "/v1", "");
  WsTestClient ws(gateway().host(), gateway().port());
  EXPECT_FALSE(ws.try_connect("/v1", Headers(headers.begin(), headers.end())));
}

TEST_F(PosWebSocketTest, NewConnectionWithTheSameKeyForceDisconnectsTheOlder) {
  const auto merchant = create_merchant();
  auto first = open_pos(merchant);
  auto second = open_pos(merchant);
  const auto notice = read_action(*first, "forceDisconnect");
  EXPECT_EQ(string_at(notice, "reason"), "NEW_CONNECTION");
  EXPECT_FALSE(string_at(notice, "message").empty());
  EXPECT_TRUE(IsIsoMs(notice.find("timestamp")));
  expect_close(*first, 4002);
  ASSERT_TRUE(second->send_json(json::object({{"action", "ping"}})));
  (void)read_action(*second, "pong");
}

TEST_F(PosWebSocketTest, InvalidJsonClosesWith1007) {
  const auto merchant = create_merchant();
  auto ws = open_pos(merchant);
  ASSERT_TRUE(ws->send_text("{\"action\":"));
  expect_close(*ws, 1007);
}

TEST_F(PosWebSocketTest, FrameOver64KiBClosesWith1009) {
  const auto merchant = create_merchant();
  auto ws = open_pos(merchant);
  (void)ws->send_text(R"({"action":"ping","requestId":")" + std::string(64 * 1024 + 16, 'x') +
                      R"("})");
  expect_close(*ws, 1009);
}

TEST_F(PosWebSocketTest, BadActionsAreErrorFramesAndTheConnectionStaysOpen) {
  const auto merchant = create_merchant();
  const auto offline = create_device(merchant, "till-offline");
  auto ws = open_pos(merchant);
  ASSERT_TRUE(ws->send_json(json::object({{"action", "dance"}, {"requestId", "r-a"}})));
  expect_error_frame(*ws, "Bad Request", "VALIDATION_ERROR", "r-a");
  ASSERT_TRUE(ws->send_text("[1,2]"));
  expect_error_frame(*ws, "Bad Request", "VALIDATION_ERROR");
  ASSERT_TRUE(ws->send_json(
      json::object({{"action", "ping"}, {"requestId", json::Value(std::string(65, 'r'))}})));
  expect_error_frame(*ws, "Bad Request", "VALIDATION_ERROR");

  ASSERT_TRUE(ws->send_json(json::object({{"action", "payment"}, {"requestId", "r-b"}})));
  EXPECT_EQ(string_at(expect_error_frame(*ws, "Bad Request", "VALIDATION_ERROR", "r-b"), "message"),
            "terminalId is required");
  ASSERT_TRUE(ws->send_json(json::object({{"action", "payment"}, {"terminalId", "till-x"}})));
  EXPECT_EQ(string_at(expect_error_frame(*ws, "Bad Request", "VALIDATION_ERROR"), "message"),
            "paymentRequest is required");
  ASSERT_TRUE(ws->send_json(
      json::object({{"action", "payment"},
                    {"terminalId", "till-x"},
                    {"requestId", "r-c"},
                    {"paymentRequest", json::object({{"amount", "-1"}, {"currency", "USD"}})}})));
  const auto invalid = expect_error_frame(*ws, "Bad Request", "VALIDATION_ERROR", "r-c");
  EXPECT_NE(json_at(invalid, "details"), "(absent)");

  ASSERT_TRUE(ws->send_json(pay_action("no-such-till", "TXN-NF", "r-d")));
  EXPECT_EQ(string_at(expect_error_frame(*ws, "Not Found", "TERMINAL_NOT_FOUND", "r-d"), "message"),
            "Terminal connection not found");
  ASSERT_TRUE(ws->send_json(pay_action(offline.device_id, "TXN-OFF", "r-e")));
  expect_error_frame(*ws, "Service Unavailable", "TERMINAL_OFFLINE", "r-e");

  ASSERT_TRUE(
      ws->send_json(json::object({{"action", "cancelPayment"}, {"transactionId", "TXN-NO"}})));
  expect_error_frame(*ws, "Not Found", "TRANSACTION_NOT_FOUND");
  ASSERT_TRUE(ws->send_json(json::object({{"action", "getTransaction"}, {"requestId", "r-f"}})));
  expect_error_frame(*ws, "Bad Request", "VALIDATION_ERROR", "r-f");
  ASSERT_TRUE(ws->send_json(json::object(
      {{"action", "getTransaction"}, {"transactionId", "TXN-NO"}, {"requestId", "r-g"}})));
  expect_error_frame(*ws, "Not Found", "TRANSACTION_NOT_FOUND", "r-g");

  ASSERT_TRUE(ws->send_json(json::object({{"action", "ping"}})));
  (void)read_action(*ws, "pong");
}

TEST_F(PosWebSocketTest, PaymentIsAcceptedThenItsResultPushed) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-pos");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto ws = open_pos(merchant);

  ASSERT_TRUE(ws->send_json(json::object({{"action", "getTerminals"}, {"requestId", "r-t"}})));
  const auto listed = read_action(*ws, "terminalsResponse");
  EXPECT_EQ(string_at(listed, "requestId"), "r-t");
  EXPECT_EQ(int_at(listed, "count"), 1);
  const auto* terminals = listed.find("terminals");
  ASSERT_TRUE(terminals != nullptr && terminals->is_array() && terminals->as_array().size() == 1);
  const auto& item = terminals->as_array()[0];
  EXPECT_EQ(string_at(item, "terminalId"), "till-pos");
  EXPECT_EQ(string_at(item, "status"), "online");
  EXPECT_EQ(string_at(item, "connectionId"), string_at(hello_ok, "connectionId"));

  ASSERT_TRUE(ws->send_json(pay_action(device.device_id, "TXN-POS-1", "r-p")));
  const auto accepted = read_action(*ws, "paymentAccepted");
  EXPECT_EQ(string_at(accepted, "requestId"), "r-p");
  EXPECT_EQ(string_at(accepted, "transactionId"), "TXN-POS-1");
  EXPECT_EQ(string_at(accepted, "status"), "PENDING");

  (void)read_frame(*terminal, "payment.request");
  ASSERT_TRUE(terminal->send_json(ack_frame("TXN-POS-1")));
  ASSERT_TRUE(terminal->send_json(result_frame("TXN-POS-1", "SUCCESS", "AUTH123456")));
  (void)read_frame(*terminal, "payment.result.ack");

  const auto complete = read_action(*ws, "paymentComplete");
  expect_notification(complete, merchant);
  EXPECT_EQ(string_at(complete, "transactionId"), "TXN-POS-1");
  EXPECT_EQ(string_at(complete, "terminalId"), "till-pos");
  EXPECT_EQ(string_at(complete, "status"), "SUCCESS");
  EXPECT_TRUE(string_at(complete, "eventId").starts_with("evt_")) << json::serialize(complete);
  const auto* response = complete.find("paymentResponse");
  ASSERT_NE(response, nullptr);
  EXPECT_EQ(string_at(*response, "authorizationCode"), "AUTH123456");

  ASSERT_TRUE(ws->send_json(json::object(
      {{"action", "getTransaction"}, {"transactionId", "TXN-POS-1"}, {"requestId", "r-g"}})));
  const auto read_back = read_action(*ws, "transactionResponse");
  EXPECT_EQ(string_at(read_back, "requestId"), "r-g");
  const auto* transaction = read_back.find("transaction");
  ASSERT_NE(transaction, nullptr);
  EXPECT_EQ(string_at(*transaction, "status"), "COMPLETED");

  // Final: a cancel is a Conflict.
  ASSERT_TRUE(ws->send_json(json::object(
      {{"action", "cancelPayment"}, {"transactionId", "TXN-POS-1"}, {"requestId", "r-c"}})));
  const auto conflict = expect_error_frame(*ws, "Conflict", "TRANSACTION_FINAL", "r-c");
  EXPECT_EQ(string_at(conflict, "transactionId"), "TXN-POS-1");
  // Repeating the payment (same transactionId, same request) is idempotent.
  ASSERT_TRUE(ws->send_json(pay_action(device.device_id, "TXN-POS-1", "r-p2")));
  EXPECT_EQ(string_at(read_action(*ws, "paymentAccepted"), "transactionId"), "TXN-POS-1");
}

TEST_F(PosWebSocketTest, PaymentWithoutRequestIdHasNoDirectAnswer) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-quiet");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto ws = open_pos(merchant);
  ASSERT_TRUE(ws->send_json(pay_action(device.device_id, "TXN-QUIET", "")));
  (void)read_frame(*terminal, "payment.request");
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms));
  ASSERT_TRUE(terminal->send_json(result_frame("TXN-QUIET", "FAILED", "", "DECLINED", "No")));
  const auto complete = read_action(*ws, "paymentComplete");
  EXPECT_EQ(string_at(complete, "status"), "FAILED");
}

TEST_F(PosWebSocketTest, CancelIsAcceptedAndTheCancellationPushed) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-cancel");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto ws = open_pos(merchant);
  ASSERT_TRUE(ws->send_json(pay_action(device.device_id, "TXN-POS-C")));
  (void)read_action(*ws, "paymentAccepted");
  (void)read_frame(*terminal, "payment.request");
  ASSERT_TRUE(ws->send_json(json::object(
      {{"action", "cancelPayment"}, {"transactionId", "TXN-POS-C"}, {"requestId", "r-x"}})));
  const auto accepted = read_action(*ws, "cancelAccepted");
  EXPECT_EQ(string_at(accepted, "transactionId"), "TXN-POS-C");
  EXPECT_EQ(string_at(accepted, "requestId"), "r-x");
  EXPECT_FALSE(string_at(accepted, "status").empty());
  (void)read_frame(*terminal, "payment.cancel");
  ASSERT_TRUE(
      terminal->send_json(result_frame("TXN-POS-C", "CANCELLED", "", "CANCELLED", "Cancelled")));
  EXPECT_EQ(string_at(read_action(*ws, "paymentComplete"), "status"), "CANCELLED");
}

TEST_F(PosWebSocketTest, PaymentsStartedOverHttpArePushedOnlyToTheirMerchant) {
  const auto merchant = create_merchant();
  const auto stranger = create_merchant("Stranger");
  const auto device = create_device(merchant, "till-http");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto ws = open_pos(merchant);
  auto stranger_ws = open_pos(stranger);
  auto pending = pay_async(merchant, device.device_id, payment_body("3.00", "USD", "TXN-HTTP"));
  (void)read_frame(*terminal, "payment.request");
  ASSERT_TRUE(terminal->send_json(result_frame("TXN-HTTP", "SUCCESS", "AUTH777777")));
  const auto complete = read_action(*ws, "paymentComplete");
  EXPECT_EQ(string_at(complete, "transactionId"), "TXN-HTTP");
  ASSERT_TRUE(await_response(pending, 10s));
  EXPECT_TRUE(NoFrameWithin(*stranger_ws, 300ms));
}

TEST_F(PosWebSocketTest, TerminalPresenceIsPushed) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-presence");
  auto ws = open_pos(merchant);
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  const auto connected = read_action(*ws, "terminalStatusUpdate");
  expect_notification(connected, merchant);
  EXPECT_EQ(string_at(connected, "terminalId"), "till-presence");
  EXPECT_EQ(string_at(connected, "deviceId"), "till-presence");
  EXPECT_EQ(string_at(connected, "status"), "connected");
  EXPECT_EQ(string_at(connected, "connectionId"), string_at(hello_ok, "connectionId"));
  const auto* info = connected.find("terminalInfo");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(string_at(*info, "terminalId"), "till-presence");

  terminal->drop();
  const auto dropped = read_action(*ws, "terminalStatusUpdate");
  EXPECT_EQ(string_at(dropped, "status"), "reconnecting");
  EXPECT_EQ(json_at(dropped, "connectionId"), "(absent)");
  EXPECT_EQ(json_at(dropped, "terminalInfo"), "(absent)");
}

// The cross-merchant walk over the POS API: another merchant's terminals and payments
// answer exactly as ids that do not exist, and nothing of them is pushed.
TEST_F(PosWebSocketTest, AnotherMerchantsTerminalsAndPaymentsAreInvisible) {
  const auto owner = create_merchant("Owner");
  const auto stranger = create_merchant("Stranger");
  const auto device = create_device(owner, "till-owned");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto pending = pay_async(owner, device.device_id, payment_body("4.00", "USD", "TXN-OWNED"));
  (void)read_frame(*terminal, "payment.request");

  auto ws = open_pos(stranger);
  ASSERT_TRUE(ws->send_json(json::object({{"action", "getTerminals"}, {"requestId", "r-1"}})));
  const auto listed = read_action(*ws, "terminalsResponse");
  EXPECT_EQ(int_at(listed, "count"), 0) << json::serialize(listed);
  ASSERT_TRUE(ws->send_json(pay_action(device.device_id, "TXN-STRANGER", "r-2")));
  EXPECT_EQ(string_at(expect_error_frame(*ws, "Not Found", "TERMINAL_NOT_FOUND", "r-2"), "message"),
            "Terminal connection not found");
  ASSERT_TRUE(ws->send_json(json::object(
      {{"action", "getTransaction"}, {"transactionId", "TXN-OWNED"}, {"requestId", "r-3"}})));
  expect_error_frame(*ws, "Not Found", "TRANSACTION_NOT_FOUND", "r-3");
  ASSERT_TRUE(ws->send_json(json::object(
      {{"action", "cancelPayment"}, {"transactionId", "TXN-OWNED"}, {"requestId", "r-4"}})));
  expect_error_frame(*ws, "Not Found", "TRANSACTION_NOT_FOUND", "r-4");
  EXPECT_TRUE(NoFrameWithin(*terminal, 300ms)) << "the stranger's cancel reached the terminal";

  ASSERT_TRUE(terminal->send_json(result_frame("TXN-OWNED", "SUCCESS", "AUTH424242")));
  ASSERT_TRUE(await_response(pending, 10s));
  terminal->drop();
  EXPECT_TRUE(NoFrameWithin(*ws, 500ms)) << "another merchant's payment or terminal was pushed";
  EXPECT_EQ(transaction_status(owner, "TXN-OWNED"), "COMPLETED");
}

class PosGraceTest : public PosWebSocketTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_RECONNECT_GRACE_S", "1"}}; }
};

// The three forms of terminalStatusUpdate in order: connected, reconnecting while the grace
// runs, disconnected once it is over and the terminal did not come back.
TEST_F(PosGraceTest, ATerminalGoneAfterItsGraceIsPushedAsDisconnected) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-gone");
  auto ws = open_pos(merchant);
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  EXPECT_EQ(string_at(read_action(*ws, "terminalStatusUpdate"), "status"), "connected");
  terminal->drop();
  EXPECT_EQ(string_at(read_action(*ws, "terminalStatusUpdate"), "status"), "reconnecting");
  const auto gone = read_action(*ws, "terminalStatusUpdate", 5s);
  expect_notification(gone, merchant);
  EXPECT_EQ(string_at(gone, "status"), "disconnected");
  EXPECT_EQ(string_at(gone, "terminalId"), "till-gone");
  EXPECT_EQ(json_at(gone, "connectionId"), "(absent)");
  EXPECT_EQ(json_at(gone, "terminalInfo"), "(absent)");

  ASSERT_TRUE(ws->send_json(json::object({{"action", "getTerminals"}})));
  const auto listed = read_action(*ws, "terminalsResponse");
  const auto* terminals = listed.find("terminals");
  ASSERT_TRUE(terminals != nullptr && terminals->is_array() && terminals->as_array().size() == 1);
  EXPECT_EQ(string_at(terminals->as_array()[0], "status"), "offline");
}

class PosRateLimitTest : public PosWebSocketTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_RATE_LIMIT_RPS", "1"}}; }
};

TEST_F(PosRateLimitTest, ActionsOverTheMerchantsRateAreRateLimited) {
  const auto merchant = create_merchant();
  auto ws = open_pos(merchant);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(
        ws->send_json(json::object({{"action", "ping"}, {"requestId", std::to_string(i)}})));
  }
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    const auto event = ws->read(5s);
    ASSERT_EQ(event.kind, WsEvent::Kind::message);
    const auto frame = parse_json(event.text);
    EXPECT_EQ(string_at(frame, "requestId"), std::to_string(i));
    if (string_at(frame, "action") == "error") {
      EXPECT_EQ(string_at(frame, "code"), "RATE_LIMITED") << event.text;
      EXPECT_EQ(string_at(frame, "error"), "Too Many Requests");
      ++limited;
    }
  }
  EXPECT_GE(limited, 3);  // a burst of twice the rate, then one a second
  EXPECT_TRUE(ws->is_open());
}

class PosTimeoutTest : public PosWebSocketTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "1"}, {"TILLGATE_RECONNECT_GRACE_S", "1"}};
  }
};

TEST_F(PosTimeoutTest, SuccessAfterTimeoutIsPushedAsPaymentVoided) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-late");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto ws = open_pos(merchant);
  ASSERT_TRUE(ws->send_json(pay_action(device.device_id, "TXN-LATE")));
  (void)read_action(*ws, "paymentAccepted");
  (void)read_frame(*terminal, "payment.request");
  // The deadline asks the terminal to cancel; its silence through the grace ends TIMEOUT.
  (void)read_frame(*terminal, "payment.cancel");
  const auto timed_out = read_action(*ws, "paymentComplete", 10s);
  EXPECT_EQ(string_at(timed_out, "status"), "TIMEOUT");
  ASSERT_TRUE(terminal->send_json(result_frame("TXN-LATE", "SUCCESS", "AUTH999999")));
  const auto voided = read_action(*ws, "paymentVoided");
  expect_notification(voided, merchant);
  EXPECT_EQ(string_at(voided, "transactionId"), "TXN-LATE");
  EXPECT_EQ(string_at(voided, "terminalId"), "till-late");
  EXPECT_FALSE(string_at(voided, "reason").empty());
  EXPECT_NE(string_at(voided, "eventId"), string_at(timed_out, "eventId"));
  EXPECT_NE(voided.find("paymentResponse"), nullptr);
}

}  // namespace
}  // namespace tillgate::ft
