// The life of a payment, end to end, against the real binary: merchant-api.md sections 4-6
// and terminal-protocol.md.
#include <csignal>
#include <regex>

#include "domain/time.hpp"
#include "sim/journal.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

json::Value without(const json::Value& object, std::string_view key) {
  json::Object out;
  for (const auto& member : object.as_object()) {
    if (member.key != key) {
      out.push_back(member);
    }
  }
  return json::Value(std::move(out));
}

class HappyPathTest : public GatewayTest {};

TEST_F(HappyPathTest, RawTerminalPaymentIsRecordedAndSurvivesRestart) {
  const auto merchant = create_merchant("Happy Shop");
  const auto device = create_device(merchant, "till-happy-1");
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto connection_id = string_at(hello_ok, "connectionId");
  EXPECT_EQ(connection_id.substr(0, 5), "conn_") << json::serialize(hello_ok);
  EXPECT_GT(int_at(hello_ok, "heartbeatSeconds").value_or(0), 0) << json::serialize(hello_ok);
  EXPECT_TRUE(IsIsoMs(hello_ok.find("serverTime")));

  const auto before = std::chrono::system_clock::now();
  auto pending = pay_async(merchant, device.device_id, payment_body("99.99", "USD", "TXN-HAPPY-1"));

  const auto request = read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-HAPPY-1");
  ASSERT_NE(request.find("amount"), nullptr);
  ASSERT_TRUE(request.find("amount")->is_string()) << "amount must be a string";
  EXPECT_EQ(string_at(request, "amount"), "99.99");
  EXPECT_EQ(string_at(request, "currency"), "USD");
  EXPECT_EQ(string_at(request, "paymentMethod"), "CARD");
  ASSERT_TRUE(IsIsoMs(request.find("deadline")));
  const auto deadline = domain::parse_iso8601(string_at(request, "deadline"));
  ASSERT_TRUE(deadline);
  // The default payment timeout is 90 s after creation.
  EXPECT_GT(*deadline, before + 60s);
  EXPECT_LT(*deadline, std::chrono::system_clock::now() + 120s);

  ASSERT_TRUE(ws->send_json(ack_frame("TXN-HAPPY-1")));
  ASSERT_TRUE(ws->send_json(result_frame("TXN-HAPPY-1", "SUCCESS", "AUTH123456")));
  const auto result_ack = read_frame(*ws, "payment.result.ack");
  EXPECT_EQ(string_at(result_ack, "transactionId"), "TXN-HAPPY-1");
  EXPECT_EQ(string_at(result_ack, "transactionStatus"), "COMPLETED");

  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  const auto res = pending.get();
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "transactionId"), "TXN-HAPPY-1");
  EXPECT_EQ(string_at(body, "status"), "SUCCESS");
  EXPECT_TRUE(IsIsoMs(body.find("timestamp")));
  const auto* payment = body.find("paymentResponse");
  ASSERT_TRUE(payment != nullptr && payment->is_object()) << res.body;
  EXPECT_EQ(string_at(*payment, "transactionId"), "TXN-HAPPY-1");
  EXPECT_EQ(string_at(*payment, "status"), "SUCCESS");
  EXPECT_EQ(string_at(*payment, "amount"), "99.99");
  EXPECT_EQ(string_at(*payment, "currency"), "USD");
  EXPECT_EQ(string_at(*payment, "paymentMethod"), "CARD");
  EXPECT_EQ(string_at(*payment, "authorizationCode"), "AUTH123456");
  EXPECT_EQ(string_at(*payment, "receiptData"), "functional test receipt");
  ASSERT_NE(payment->find("errorCode"), nullptr) << res.body;
  EXPECT_TRUE(payment->find("errorCode")->is_null());
  ASSERT_NE(payment->find("errorMessage"), nullptr) << res.body;
  EXPECT_TRUE(payment->find("errorMessage")->is_null());
  EXPECT_TRUE(IsIsoMs(payment->find("timestamp")));
  ASSERT_NE(payment->find("metadata"), nullptr) << res.body;
  EXPECT_TRUE(payment->find("metadata")->is_object());

  const auto txn_res = get_transaction(merchant, "TXN-HAPPY-1");
  ASSERT_EQ(txn_res.status, 200) << txn_res.body;
  const auto txn = parse_json(txn_res.body);
  EXPECT_EQ(string_at(txn, "transactionId"), "TXN-HAPPY-1");
  EXPECT_EQ(string_at(txn, "terminalId"), device.device_id);
  EXPECT_EQ(string_at(txn, "status"), "COMPLETED");
  ASSERT_NE(txn.find("request"), nullptr) << txn_res.body;
  EXPECT_TRUE(txn.find("request")->is_object()) << txn_res.body;
  ASSERT_NE(txn.find("response"), nullptr) << txn_res.body;
  EXPECT_TRUE(txn.find("response")->is_object()) << txn_res.body;
  EXPECT_TRUE(IsIsoMs(txn.find("createdAt")));
  EXPECT_TRUE(IsIsoMs(txn.find("updatedAt")));
  EXPECT_TRUE(IsIsoMs(txn.find("completedAt")));
  ASSERT_NE(txn.find("voidedAt"), nullptr) << txn_res.body;
  EXPECT_TRUE(txn.find("voidedAt")->is_null());
  ASSERT_NE(txn.find("voidReason"), nullptr) << txn_res.body;
  EXPECT_TRUE(txn.find("voidReason")->is_null());
  EXPECT_TRUE(IsIsoMs(txn.find("timestamp")));

  const auto terminals_res = signed_request(merchant, "GET", "/v1/terminals");
  ASSERT_EQ(terminals_res.status, 200) << terminals_res.body;
  const auto terminals = parse_json(terminals_res.body);
  const auto* list = terminals.find("terminals");
  ASSERT_TRUE(list != nullptr && list->is_array()) << terminals_res.body;
  ASSERT_EQ(list->as_array().size(), 1u) << terminals_res.body;
  const auto& terminal = list->as_array()[0];
  EXPECT_EQ(string_at(terminal, "terminalId"), device.device_id);
  EXPECT_EQ(string_at(terminal, "deviceId"), device.device_id);
  EXPECT_EQ(string_at(terminal, "status"), "online");
  EXPECT_EQ(string_at(terminal, "connectionId"), connection_id);
  EXPECT_TRUE(IsIsoMs(terminal.find("connectedAt")));
  EXPECT_EQ(int_at(terminals, "count").value_or(-1), 1) << terminals_res.body;
  EXPECT_TRUE(IsIsoMs(terminals.find("timestamp")));

  // Stopped and started again on the same database, the transaction reads the same.
  (void)gateway().stop();
  gateway().start();
  const auto again_res = get_transaction(merchant, "TXN-HAPPY-1");
  ASSERT_EQ(again_res.status, 200) << again_res.body;
  const auto again = parse_json(again_res.body);
  EXPECT_EQ(json::serialize(without(again, "timestamp")),
            json::serialize(without(txn, "timestamp")));
}

// Every change is persisted before anyone is told (merchant-api.md section 6): a payment
// the merchant saw complete survives kill -9 of the gateway.
TEST_F(HappyPathTest, CompletedPaymentSurvivesKill9) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  {
    SimulatedTerminal terminal(gateway(), device, "approve");
    ASSERT_TRUE(terminal.wait_online());
    auto client = http(30s);
    const auto res =
        client::send_signed(client, merchant.credentials, "POST", payments_path(device.device_id),
                            payment_body("3.10", "GBP", "TXN-KILL9"));
    ASSERT_EQ(res.status, 200) << res.body;
    gateway().kill9();
  }
  gateway().start();
  const auto res = get_transaction(merchant, "TXN-KILL9");
  ASSERT_EQ(res.status, 200) << res.body;
  const auto txn = parse_json(res.body);
  EXPECT_EQ(string_at(txn, "status"), "COMPLETED");
  EXPECT_TRUE(IsIsoMs(txn.find("completedAt")));
}

// operations.md: SIGTERM stops the gateway gracefully, closing terminal connections.
TEST_F(HappyPathTest, SigtermWithATerminalConnectedStopsCleanly) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto started = std::chrono::steady_clock::now();
  const int status = gateway().stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 11s) << "over the shutdown grace";
  EXPECT_EQ(exit_code_of(status), 0) << "SIGTERM should stop the gateway cleanly";
  const auto closed = ws->read(5s);
  EXPECT_EQ(closed.kind, WsEvent::Kind::closed);
}

// merchant-api.md section 4: a repeat while the first is unfinished joins the wait.
TEST_F(HappyPathTest, RepeatWhileUnfinishedJoinsTheWait) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(ws);
  const auto body = payment_body("15.00", "USD", "TXN-JOIN");
  auto first = pay_async(merchant, device.device_id, body);
  (void)read_frame(*ws, "payment.request");
  auto second = pay_async(merchant, device.device_id, body);
  EXPECT_EQ(ws->read(500ms).kind, WsEvent::Kind::timeout) << "pushed a second time";
  EXPECT_EQ(second.wait_for(0ms), std::future_status::timeout) << "the repeat did not wait";
  ASSERT_TRUE(ws->send_json(result_frame("TXN-JOIN", "SUCCESS", "AUTH555555")));
  (void)read_frame(*ws, "payment.result.ack");
  for (auto* pending : {&first, &second}) {
    ASSERT_EQ(pending->wait_for(10s), std::future_status::ready);
    const auto res = pending->get();
    ASSERT_EQ(res.status, 200) << res.body;
    const auto parsed = parse_json(res.body);
    EXPECT_EQ(string_at(parsed, "status"), "SUCCESS");
    const auto* payment = parsed.find("paymentResponse");
    ASSERT_NE(payment, nullptr) << res.body;
    EXPECT_EQ(string_at(*payment, "authorizationCode"), "AUTH555555");
  }
}

TEST_F(HappyPathTest, TerminalCommandApprovesAndJournalsOneCharge) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-cmd-approve");
  const auto journal = gateway().dir() / "approve.journal";
  ChildProcess terminal({TILLGATE_BINARY, "terminal", "--url", gateway().url(), "--device-id",
                         device.device_id, "--device-secret", device.device_secret, "--behavior",
                         "approve", "--journal", journal.string(), "--reconnect-delay-ms", "100"},
                        {}, gateway().dir(), gateway().dir() / "terminal.stderr");
  ASSERT_TRUE(eventually([&] {
    const auto res = signed_request(merchant, "GET", "/v1/terminals");
    return res.body.find("\"online\"") != std::string::npos;
  })) << "the terminal never came online; its output:\n"
      << terminal.stdout_text() << read_file(gateway().dir() / "terminal.stderr");

  auto client = http(30s);
  const auto res =
      client::send_signed(client, merchant.credentials, "POST", payments_path(device.device_id),
                          payment_body("12.34", "USD", "TXN-CMD-1"));
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "status"), "SUCCESS");
  const auto* payment = body.find("paymentResponse");
  ASSERT_NE(payment, nullptr);
  const auto auth = string_at(*payment, "authorizationCode");
  EXPECT_EQ(auth.size(), 6u) << auth;
  EXPECT_EQ(auth.find_first_not_of("0123456789"), std::string::npos) << auth;
  EXPECT_EQ(string_at(*payment, "amount"), "12.34");
  EXPECT_FALSE(string_at(*payment, "receiptData").empty());

  // The result was acknowledged, then the terminal stops cleanly on SIGTERM.
  EXPECT_TRUE(eventually([&] { return read_file(journal).find("\"acked\"") != std::string::npos; }))
      << read_file(journal);
  EXPECT_EQ(exit_code_of(terminal.terminate(10s)), 0) << terminal.stdout_text();
  const auto charges = sim::count_journal_charges(journal.string());
  ASSERT_EQ(charges.count("TXN-CMD-1"), 1u) << read_file(journal);
  EXPECT_EQ(charges.at("TXN-CMD-1"), 1);
}

TEST_F(HappyPathTest, TerminalCommandDeclinePassesTheErrorThrough) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-cmd-decline");
  ChildProcess terminal({TILLGATE_BINARY, "terminal", "--url", gateway().url(), "--device-id",
                         device.device_id, "--device-secret", device.device_secret, "--behavior",
                         "decline", "--journal", (gateway().dir() / "decline.journal").string()},
                        {}, gateway().dir(), gateway().dir() / "terminal.stderr");
  ASSERT_TRUE(eventually([&] {
    return signed_request(merchant, "GET", "/v1/terminals").body.find("\"online\"") !=
           std::string::npos;
  })) << terminal.stdout_text();

  auto client = http(30s);
  const auto res =
      client::send_signed(client, merchant.credentials, "POST", payments_path(device.device_id),
                          payment_body("5.00", "USD", "TXN-DECLINE-1"));
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "status"), "FAILED");
  const auto* payment = body.find("paymentResponse");
  ASSERT_NE(payment, nullptr);
  EXPECT_EQ(string_at(*payment, "status"), "FAILED");
  EXPECT_EQ(string_at(*payment, "errorCode"), "DECLINED");
  EXPECT_EQ(string_at(*payment, "errorMessage"), "Card declined");
  ASSERT_NE(payment->find("authorizationCode"), nullptr);
  EXPECT_TRUE(payment->find("authorizationCode")->is_null());

  const auto txn = parse_json(get_transaction(merchant, "TXN-DECLINE-1").body);
  EXPECT_EQ(string_at(txn, "status"), "FAILED");
}

TEST_F(HappyPathTest, PaymentAddressedByConnectionId) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-by-conn");
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  const auto connection_id = terminal.status().connection_id;
  ASSERT_EQ(connection_id.substr(0, 5), "conn_");

  auto client = http(30s);
  const auto res =
      client::send_signed(client, merchant.credentials, "POST", payments_path(connection_id),
                          payment_body("7.50", "EUR", "TXN-BY-CONN"));
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "status"), "SUCCESS");
  const auto txn = parse_json(get_transaction(merchant, "TXN-BY-CONN").body);
  EXPECT_EQ(string_at(txn, "terminalId"), device.device_id);
  EXPECT_EQ(string_at(txn, "status"), "COMPLETED");
}

TEST_F(HappyPathTest, GeneratedTransactionIdIsUuidV7) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  auto client = http(30s);
  const auto res =
      client::send_signed(client, merchant.credentials, "POST", payments_path(device.device_id),
                          payment_body("1000", "JPY"));
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = parse_json(res.body);
  const auto id = string_at(body, "transactionId");
  static const std::regex uuid_v7(
      "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(id, uuid_v7)) << id;
  const auto* payment = body.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << res.body;
  EXPECT_EQ(string_at(*payment, "amount"), "1000");
}

}  // namespace
}  // namespace tillgate::ft
