// Transaction status and timing (merchant-api.md section 6) and the terminal's side of it
// (terminal-protocol.md: payment.cancel, payment.result.ack, payment.void, re-sends after
// hello.ok), against the real binary with payment timeouts and graces of a few seconds.
//
// Each suite picks its timing (TILLGATE_PAYMENT_TIMEOUT_S = T, TILLGATE_RECONNECT_GRACE_S = G)
// so that the interesting instants are ordered without long sleeps: tests wait on frames,
// on the merchant's long-poll, or poll with `eventually`.
#include "domain/time.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

Instant wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// The instant of an ISO 8601 member; records a failure and returns the epoch when absent.
Instant instant_at(const json::Value& value, std::string_view key) {
  const auto parsed = domain::parse_iso8601(string_at(value, key));
  if (!parsed) {
    ADD_FAILURE() << key << " is not an ISO 8601 timestamp: " << json_at(value, key);
    return Instant{};
  }
  return *parsed;
}

class PaymentLifecycleTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    merchant_ = create_merchant();
    device_ = create_device(merchant_);
  }

  // A raw terminal connects; the merchant starts a standard-mode payment on it; the terminal
  // reads the payment.request and puts it on screen (payment.ack). Returns the request.
  json::Value start_payment(WsTestClient& ws, std::string_view transaction_id,
                            std::string_view amount = "12.34") {
    pending_ =
        pay_async(merchant_, device_.device_id, payment_body(amount, "USD", transaction_id), 30s);
    started_ = std::chrono::steady_clock::now();
    auto request = read_frame(ws, "payment.request");
    EXPECT_EQ(string_at(request, "transactionId"), transaction_id);
    EXPECT_EQ(string_at(request, "amount"), amount);
    EXPECT_TRUE(ws.send_json(ack_frame(transaction_id)));
    return request;
  }

  // The merchant's long-poll answer (a failure is recorded if it never comes).
  client::HttpResponse merchant_answer(std::chrono::milliseconds timeout = 10s) {
    const auto res = await_response(pending_, timeout);
    if (!res) {
      ADD_FAILURE() << "the merchant's long-poll never answered";
      return {};
    }
    return *res;
  }

  // Sends a payment.result and reads its payment.result.ack; returns transactionStatus.
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

  // The payment.void and payment.result.ack that a success after TIMEOUT brings, in either
  // order; nullopt for one that did not come.
  static std::pair<std::optional<json::Value>, std::optional<json::Value>> void_and_ack(
      WsTestClient& ws) {
    std::optional<json::Value> ack;
    std::optional<json::Value> void_frame;
    for (int i = 0; i < 2; ++i) {
      const auto event = ws.read(5s);
      if (event.kind != WsEvent::Kind::message) {
        ADD_FAILURE() << "expected payment.void and the ack";
        break;
      }
      auto frame = parse_json(event.text);
      const auto type = string_at(frame, "type");
      if (type == "payment.result.ack") {
        ack = std::move(frame);
      } else if (type == "payment.void") {
        void_frame = std::move(frame);
      } else {
        ADD_FAILURE() << "unexpected frame " << event.text;
      }
    }
    return {std::move(ack), std::move(void_frame)};
  }

  std::string status_of(std::string_view transaction_id) {
    return transaction_status(merchant_, transaction_id);
  }

  bool status_becomes(std::string_view transaction_id, std::string_view status,
                      std::chrono::milliseconds timeout = 8s) {
    std::string last;
    const bool reached = eventually(
        [&] {
          last = status_of(transaction_id);
          return last == status;
        },
        timeout);
    if (!reached) {
      ADD_FAILURE() << transaction_id << " never became " << status << "; last seen " << last;
    }
    return reached;
  }

  std::string terminal_state() { return terminal_status(merchant_, device_.device_id); }

  Merchant merchant_;
  Device device_;
  std::future<client::HttpResponse> pending_;
  std::chrono::steady_clock::time_point started_;
};

// ---- At the deadline, with the terminal connected (T = 1 s, G = 2 s) ----

class PaymentLifecycleDeadlineTest : public PaymentLifecycleTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "1"}, {"TILLGATE_RECONNECT_GRACE_S", "2"}};
  }
};

TEST_F(PaymentLifecycleDeadlineTest, DeadlineCancelsOnTheTerminalAndAConfirmedAbandonIsTimeout) {
  auto [ws, hello_ok] = connect_terminal(device_);
  ASSERT_TRUE(ws);
  const auto request = start_payment(*ws, "TXN-DEADLINE");

  // At the deadline: payment.cancel {transactionId, reason TIMEOUT}.
  const auto cancel = read_frame(*ws, "payment.cancel", 5s);
  EXPECT_GE(std::chrono::steady_clock::now() - started_, 800ms) << "cancelled before the deadline";
  EXPECT_EQ(string_at(cancel, "transactionId"), "TXN-DEADLINE");
  EXPECT_EQ(string_at(cancel, "reason"), "TIMEOUT");

  // The merchant's long-poll: 504 TIMEOUT naming the transaction.
  const auto res = merchant_answer();
  const auto error = expect_error(res, 504, "TIMEOUT");
  EXPECT_EQ(string_at(error, "transactionId"), "TXN-DEADLINE") << res.body;

  // The answer is awaited: still PENDING, and still so well inside the grace.
  EXPECT_EQ(status_of("TXN-DEADLINE"), "PENDING");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(status_of("TXN-DEADLINE"), "PENDING");

  // The terminal confirms the abandon. Section 6: "a confirmed abandon ends TIMEOUT" (the
  // customer did not cancel; the gateway gave up), not CANCELLED.
  EXPECT_EQ(report(*ws, "TXN-DEADLINE", "CANCELLED"), "TIMEOUT");
  const auto txn = parse_json(get_transaction(merchant_, "TXN-DEADLINE").body);
  EXPECT_EQ(string_at(txn, "status"), "TIMEOUT") << json::serialize(txn);
  EXPECT_TRUE(IsIsoMs(txn.find("completedAt"))) << json::serialize(txn);
  EXPECT_EQ(json_at(txn, "voidedAt"), "null");
}

TEST_F(PaymentLifecycleDeadlineTest, NoAnswerWithinTheGraceAfterTheCancelIsTimeout) {
  auto [ws, hello_ok] = connect_terminal(device_);
  ASSERT_TRUE(ws);
  (void)start_payment(*ws, "TXN-SILENT");
  (void)read_frame(*ws, "payment.cancel", 5s);
  const auto cancelled_at = wall_now();
  expect_error(merchant_answer(), 504, "TIMEOUT");
  EXPECT_EQ(status_of("TXN-SILENT"), "PENDING");

  ASSERT_TRUE(status_becomes("TXN-SILENT", "TIMEOUT"));
  const auto txn = parse_json(get_transaction(merchant_, "TXN-SILENT").body);
  // The grace is counted from the cancel.
  const auto completed_at = instant_at(txn, "completedAt");
  EXPECT_GE(completed_at - cancelled_at, 1500ms) << json::serialize(txn);
  EXPECT_LT(completed_at - cancelled_at, 4s) << json::serialize(txn);
  EXPECT_EQ(json_at(txn, "voidedAt"), "null");

  // A late abandon changes nothing: acknowledged with the recorded status.
  EXPECT_EQ(report(*ws, "TXN-SILENT", "CANCELLED"), "TIMEOUT");
  EXPECT_EQ(status_of("TXN-SILENT"), "TIMEOUT");

  // A repeat of the merchant's request answers the final result at once, without a push.
  const auto before = std::chrono::steady_clock::now();
  const auto again = signed_request(merchant_, "POST", payments_path(device_.device_id),
                                    payment_body("12.34", "USD", "TXN-SILENT"));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 900ms);
  ASSERT_EQ(again.status, 200) << again.body;
  const auto body = parse_json(again.body);
  EXPECT_EQ(string_at(body, "status"), "TIMEOUT") << again.body;
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms));
}

TEST_F(PaymentLifecycleDeadlineTest, SuccessRacingTheCancelInsideTheGraceCompletes) {
  auto [ws, hello_ok] = connect_terminal(device_);
  ASSERT_TRUE(ws);
  (void)start_payment(*ws, "TXN-RACE", "45.60");
  (void)read_frame(*ws, "payment.cancel", 5s);
  expect_error(merchant_answer(), 504, "TIMEOUT");

  // The card was already paid when the cancel arrived.
  EXPECT_EQ(report(*ws, "TXN-RACE", "SUCCESS", "AUTH-RACE-1"), "COMPLETED");
  const auto txn = parse_json(get_transaction(merchant_, "TXN-RACE").body);
  EXPECT_EQ(string_at(txn, "status"), "COMPLETED") << json::serialize(txn);
  const auto* response = txn.find("response");
  ASSERT_TRUE(response && response->is_object()) << json::serialize(txn);
  EXPECT_EQ(string_at(*response, "status"), "SUCCESS");
  EXPECT_EQ(string_at(*response, "authorizationCode"), "AUTH-RACE-1");
  EXPECT_EQ(string_at(*response, "amount"), "45.60");
  EXPECT_TRUE(IsIsoMs(txn.find("completedAt")));

  // The merchant who got the 504 reads the outcome by repeating the request.
  const auto again = signed_request(merchant_, "POST", payments_path(device_.device_id),
                                    payment_body("45.60", "USD", "TXN-RACE"));
  ASSERT_EQ(again.status, 200) << again.body;
  const auto body = parse_json(again.body);
  EXPECT_EQ(string_at(body, "status"), "SUCCESS");
  const auto* payment = body.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << again.body;
  EXPECT_EQ(string_at(*payment, "authorizationCode"), "AUTH-RACE-1");
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms)) << "nothing more for a completed payment";
}

TEST_F(PaymentLifecycleDeadlineTest, SuccessAfterTimeoutIsVoidedAndLaterResultsChangeNothing) {
  auto [ws, hello_ok] = connect_terminal(device_);
  ASSERT_TRUE(ws);
  (void)start_payment(*ws, "TXN-LATE", "7.00");
  (void)read_frame(*ws, "payment.cancel", 5s);
  expect_error(merchant_answer(), 504, "TIMEOUT");
  ASSERT_TRUE(status_becomes("TXN-LATE", "TIMEOUT"));

  // The terminal charged the card anyway: VOIDED, and it is told to reverse the payment.
  ASSERT_TRUE(ws->send_json(result_frame("TXN-LATE", "SUCCESS", "AUTH-LATE-1")));
  const auto [ack, void_frame] = void_and_ack(*ws);
  ASSERT_TRUE(ack && void_frame);
  EXPECT_EQ(string_at(*ack, "transactionId"), "TXN-LATE");
  EXPECT_EQ(string_at(*ack, "transactionStatus"), "VOIDED");
  EXPECT_EQ(string_at(*void_frame, "transactionId"), "TXN-LATE");
  EXPECT_FALSE(string_at(*void_frame, "reason").empty()) << json::serialize(*void_frame);

  const auto voided = parse_json(get_transaction(merchant_, "TXN-LATE").body);
  EXPECT_EQ(string_at(voided, "status"), "VOIDED") << json::serialize(voided);
  EXPECT_TRUE(IsIsoMs(voided.find("voidedAt"))) << json::serialize(voided);
  EXPECT_FALSE(string_at(voided, "voidReason").empty()) << json::serialize(voided);

  // The terminal reversed it; nothing is answered to payment.voided.
  ASSERT_TRUE(ws->send_json(json::object(
      {{"type", json::Value("payment.voided")}, {"transactionId", json::Value("TXN-LATE")}})));
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms)) << "payment.voided of its own transaction is no error";

  // Later duplicates, whatever they say, are acknowledged as VOIDED and change nothing. A
  // repeated SUCCESS means the terminal missed the acknowledgement, and with it the void
  // queued before it: that one is voided again (the terminal reverses a charge once).
  EXPECT_EQ(report(*ws, "TXN-LATE", "FAILED"), "VOIDED");
  EXPECT_EQ(report(*ws, "TXN-LATE", "CANCELLED"), "VOIDED");
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms)) << "only a repeated success is voided again";
  ASSERT_TRUE(ws->send_json(result_frame("TXN-LATE", "SUCCESS", "AUTH-LATE-1")));
  const auto [repeat_ack, repeat_void] = void_and_ack(*ws);
  ASSERT_TRUE(repeat_ack && repeat_void);
  EXPECT_EQ(string_at(*repeat_ack, "transactionStatus"), "VOIDED");
  EXPECT_EQ(string_at(*repeat_void, "transactionId"), "TXN-LATE");
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms));
  const auto after = parse_json(get_transaction(merchant_, "TXN-LATE").body);
  EXPECT_EQ(string_at(after, "status"), "VOIDED");
  for (const auto* key : {"updatedAt", "voidedAt", "voidReason", "completedAt", "response"}) {
    EXPECT_EQ(json_at(after, key), json_at(voided, key)) << key;
  }

  // The merchant's repeat answers the final state at once, without a push.
  const auto again = signed_request(merchant_, "POST", payments_path(device_.device_id),
                                    payment_body("7.00", "USD", "TXN-LATE"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(string_at(parse_json(again.body), "status"), "VOIDED") << again.body;
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms));
}

// ---- Drops and reconnects before the deadline (T = 4 s, G = 2 s) ----

class PaymentLifecycleReconnectTest : public PaymentLifecycleTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "4"}, {"TILLGATE_RECONNECT_GRACE_S", "2"}};
  }
};

TEST_F(PaymentLifecycleReconnectTest, DropAwaitsReconnectThenTheRequestIsResentAndCompletes) {
  auto first = connect_terminal(device_);
  ASSERT_TRUE(first.ws);
  const auto request = start_payment(*first.ws, "TXN-DROP", "19.99");
  EXPECT_EQ(status_of("TXN-DROP"), "PENDING");

  first.ws->drop();
  const auto dropped = std::chrono::steady_clock::now();
  ASSERT_TRUE(status_becomes("TXN-DROP", "AWAITING_RECONNECT", 3s));
  EXPECT_EQ(terminal_state(), "reconnecting");
  EXPECT_EQ(pending_.wait_for(0s), std::future_status::timeout)
      << "the merchant's long-poll must wait across the drop";

  // Back within the grace: PENDING, and the same payment.request after hello.ok.
  auto second = connect_terminal(device_);
  ASSERT_TRUE(second.ws);
  const auto resent = read_frame(*second.ws, "payment.request");
  EXPECT_EQ(json::serialize(resent), json::serialize(request))
      << "the re-sent request must be the same payment (id, amount, deadline)";
  EXPECT_EQ(status_of("TXN-DROP"), "PENDING");
  EXPECT_EQ(terminal_state(), "online");

  // The grace of the drop ends (2 s after it, still before the 4 s deadline): it no longer
  // concerns the reconnected payment.
  std::this_thread::sleep_until(dropped + 2500ms);
  EXPECT_EQ(status_of("TXN-DROP"), "PENDING");

  EXPECT_EQ(report(*second.ws, "TXN-DROP", "SUCCESS", "AUTH-DROP-1"), "COMPLETED");
  const auto res = merchant_answer();
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "transactionId"), "TXN-DROP");
  EXPECT_EQ(string_at(body, "status"), "SUCCESS");
  const auto* payment = body.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << res.body;
  EXPECT_EQ(string_at(*payment, "authorizationCode"), "AUTH-DROP-1");
  EXPECT_EQ(string_at(*payment, "amount"), "19.99");
  EXPECT_EQ(status_of("TXN-DROP"), "COMPLETED");
}

TEST_F(PaymentLifecycleReconnectTest, ResultSentRightAfterHelloOnANewConnectionIsRecorded) {
  auto first = connect_terminal(device_);
  ASSERT_TRUE(first.ws);
  (void)start_payment(*first.ws, "TXN-JOURNAL", "3.50");
  first.ws->drop();
  ASSERT_TRUE(status_becomes("TXN-JOURNAL", "AWAITING_RECONNECT", 3s));

  // The terminal paid while offline and re-sends its journaled result at once: hello and
  // the result back to back, before it has read anything.
  WsTestClient ws(gateway().host(), gateway().port());
  ws.connect();
  ASSERT_TRUE(ws.send_json(hello_frame(device_)));
  ASSERT_TRUE(ws.send_json(result_frame("TXN-JOURNAL", "SUCCESS", "AUTH-JOURNAL")));
  std::vector<std::string> types;
  std::optional<json::Value> ack;
  while (!ack && types.size() < 4) {
    const auto event = ws.read(5s);
    ASSERT_EQ(event.kind, WsEvent::Kind::message) << "frames so far: " << types.size();
    auto frame = parse_json(event.text);
    types.push_back(string_at(frame, "type"));
    if (types.back() == "payment.result.ack") {
      ack = std::move(frame);
    }
  }
  ASSERT_TRUE(ack) << "no payment.result.ack";
  EXPECT_EQ(types.front(), "hello.ok");
  EXPECT_EQ(string_at(*ack, "transactionId"), "TXN-JOURNAL");
  EXPECT_EQ(string_at(*ack, "transactionStatus"), "COMPLETED");

  const auto res = merchant_answer();
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "SUCCESS");
  const auto txn = parse_json(get_transaction(merchant_, "TXN-JOURNAL").body);
  EXPECT_EQ(string_at(txn, "status"), "COMPLETED");
  const auto* response = txn.find("response");
  ASSERT_TRUE(response && response->is_object()) << json::serialize(txn);
  EXPECT_EQ(string_at(*response, "authorizationCode"), "AUTH-JOURNAL");
}

TEST_F(PaymentLifecycleReconnectTest,
       DuplicateAndContradictingResultsAreAckedWithTheRecordedStatus) {
  auto first = connect_terminal(device_);
  ASSERT_TRUE(first.ws);
  (void)start_payment(*first.ws, "TXN-TWICE", "8.00");
  EXPECT_EQ(report(*first.ws, "TXN-TWICE", "SUCCESS", "AUTH-TWICE"), "COMPLETED");
  ASSERT_EQ(merchant_answer().status, 200);
  const auto before = parse_json(get_transaction(merchant_, "TXN-TWICE").body);

  // The ack was lost with the connection: the terminal re-sends after hello.ok. Nothing is
  // unfinished, so the gateway sends no payment.request.
  first.ws->drop();
  auto second = connect_terminal(device_);
  ASSERT_TRUE(second.ws);
  EXPECT_TRUE(NoFrameWithin(*second.ws, 300ms)) << "no unfinished payment to re-send";
  EXPECT_EQ(report(*second.ws, "TXN-TWICE", "SUCCESS", "AUTH-TWICE"), "COMPLETED");
  EXPECT_EQ(report(*second.ws, "TXN-TWICE", "FAILED"), "COMPLETED");
  EXPECT_EQ(report(*second.ws, "TXN-TWICE", "CANCELLED"), "COMPLETED");
  EXPECT_EQ(report(*second.ws, "TXN-TWICE", "SUCCESS", "AUTH-OTHER"), "COMPLETED");
  const auto after = parse_json(get_transaction(merchant_, "TXN-TWICE").body);
  for (const auto* key : {"status", "updatedAt", "completedAt", "response", "voidedAt"}) {
    EXPECT_EQ(json_at(after, key), json_at(before, key)) << key;
  }

  // A success after a decline is no void: only TIMEOUT turns into VOIDED.
  pending_ = pay_async(merchant_, device_.device_id, payment_body("9.00", "USD", "TXN-DECLINED"));
  (void)read_frame(*second.ws, "payment.request");
  EXPECT_EQ(report(*second.ws, "TXN-DECLINED", "FAILED"), "FAILED");
  EXPECT_EQ(report(*second.ws, "TXN-DECLINED", "SUCCESS", "AUTH-LATE"), "FAILED");
  EXPECT_TRUE(NoFrameWithin(*second.ws, 300ms)) << "no payment.void for a FAILED transaction";
  EXPECT_EQ(status_of("TXN-DECLINED"), "FAILED");
  const auto res = merchant_answer();
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "FAILED");
}

TEST_F(PaymentLifecycleReconnectTest, DropWithoutReconnectIsTimeoutAtTheEndOfTheGrace) {
  auto first = connect_terminal(device_);
  ASSERT_TRUE(first.ws);
  (void)start_payment(*first.ws, "TXN-GONE");
  first.ws->drop();
  ASSERT_TRUE(status_becomes("TXN-GONE", "AWAITING_RECONNECT", 3s));

  // The grace (2 s) ends before the deadline (4 s): the transaction is final first, so the
  // long-poll answers then with that final result. Section 4: "waits until ... a final
  // result or the payment timeout passes"; section 2: 504 only after "the full payment
  // timeout without a final result"; section 6 maps TIMEOUT to the payment status by name.
  const auto res = merchant_answer();
  const auto waited = std::chrono::steady_clock::now() - started_;
  EXPECT_GE(waited, 1500ms);
  EXPECT_LT(waited, 3500ms) << "answered at the deadline, not when the transaction went final";
  ASSERT_EQ(res.status, 200) << res.body;
  const auto body = parse_json(res.body);
  EXPECT_EQ(string_at(body, "transactionId"), "TXN-GONE");
  EXPECT_EQ(string_at(body, "status"), "TIMEOUT") << res.body;
  const auto* payment = body.find("paymentResponse");
  ASSERT_NE(payment, nullptr) << res.body;
  EXPECT_EQ(string_at(*payment, "status"), "TIMEOUT");

  const auto txn = parse_json(get_transaction(merchant_, "TXN-GONE").body);
  EXPECT_EQ(string_at(txn, "status"), "TIMEOUT");
  EXPECT_TRUE(IsIsoMs(txn.find("completedAt")));
  // The terminal is now offline for new payments.
  EXPECT_TRUE(eventually([&] { return terminal_state() == "offline"; }, 2s)) << terminal_state();
  expect_error(signed_request(merchant_, "POST", payments_path(device_.device_id),
                              payment_body("1.00", "USD", "TXN-AFTER-GONE")),
               503, "TERMINAL_OFFLINE");
}

// ---- The deadline passes while the terminal is away (T = 1 s, G = 3 s) ----

class PaymentLifecycleDisconnectedDeadlineTest : public PaymentLifecycleTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "1"}, {"TILLGATE_RECONNECT_GRACE_S", "3"}};
  }
};

TEST_F(PaymentLifecycleDisconnectedDeadlineTest, DeadlineWhileAwayAnswers504ThenGraceEndsTimeout) {
  auto first = connect_terminal(device_);
  ASSERT_TRUE(first.ws);
  (void)start_payment(*first.ws, "TXN-AWAY");
  first.ws->drop();
  const auto dropped_at = wall_now();
  ASSERT_TRUE(status_becomes("TXN-AWAY", "AWAITING_RECONNECT", 3s));

  // The deadline (1 s) comes first: the long-poll answers 504 and the transaction goes on.
  const auto res = merchant_answer();
  const auto error = expect_error(res, 504, "TIMEOUT");
  EXPECT_EQ(string_at(error, "transactionId"), "TXN-AWAY") << res.body;
  EXPECT_EQ(status_of("TXN-AWAY"), "AWAITING_RECONNECT");

  ASSERT_TRUE(status_becomes("TXN-AWAY", "TIMEOUT"));
  const auto txn = parse_json(get_transaction(merchant_, "TXN-AWAY").body);
  const auto completed_at = instant_at(txn, "completedAt");
  EXPECT_GE(completed_at - dropped_at, 2500ms) << "TIMEOUT before the reconnect grace ended";
  EXPECT_LT(completed_at - dropped_at, 5s);
}

TEST_F(PaymentLifecycleDisconnectedDeadlineTest, ReconnectAfterTheDeadlineGetsCancelNotRequest) {
  auto first = connect_terminal(device_);
  ASSERT_TRUE(first.ws);
  (void)start_payment(*first.ws, "TXN-LATECOMER");
  first.ws->drop();
  ASSERT_TRUE(status_becomes("TXN-LATECOMER", "AWAITING_RECONNECT", 3s));
  expect_error(merchant_answer(), 504, "TIMEOUT");  // the deadline has passed

  // Back within the grace but after the deadline: payment.cancel TIMEOUT, not the request.
  auto second = connect_terminal(device_);
  ASSERT_TRUE(second.ws);
  const auto cancel = read_frame(*second.ws, "payment.cancel");
  EXPECT_EQ(string_at(cancel, "transactionId"), "TXN-LATECOMER");
  EXPECT_EQ(string_at(cancel, "reason"), "TIMEOUT");
  EXPECT_TRUE(NoFrameWithin(*second.ws, 300ms)) << "nothing else, in particular no request";
  EXPECT_EQ(status_of("TXN-LATECOMER"), "PENDING");

  // A confirmed abandon of a TIMEOUT cancel ends TIMEOUT (section 6).
  EXPECT_EQ(report(*second.ws, "TXN-LATECOMER", "CANCELLED"), "TIMEOUT");
  EXPECT_EQ(status_of("TXN-LATECOMER"), "TIMEOUT");
}

// ---- A gateway restart while a payment is PENDING ----

// Graceful restart (T = 5 s, G = 3 s; no shutdown grace, so the long-poll does not hold the
// restart up to the deadline).
class PaymentLifecycleRestartTest : public PaymentLifecycleTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "5"},
            {"TILLGATE_RECONNECT_GRACE_S", "3"},
            {"TILLGATE_SHUTDOWN_GRACE_S", "0"}};
  }
};

TEST_F(PaymentLifecycleRestartTest, StoredDeadlineFiresAfterARestart) {
  auto first = connect_terminal(device_);
  ASSERT_TRUE(first.ws);
  const auto request = start_payment(*first.ws, "TXN-RESTART", "30.00");
  const auto deadline = instant_at(request, "deadline");

  // The terminal answers the gateway's close while it restarts.
  auto closed = std::async(std::launch::async, [&ws = *first.ws] { return ws.read(15s); });
  gateway().restart();
  EXPECT_EQ(closed.get().kind, WsEvent::Kind::closed);
  (void)await_response(pending_, 10s);  // the old long-poll ended with the old process
  ASSERT_LT(wall_now(), deadline - 500ms) << "the restart took too long for this test's timing";
  // A graceful stop closing the terminal's connection is not the terminal dropping: the
  // transaction stays PENDING (docs/decisions.md), as after a crash.
  EXPECT_EQ(status_of("TXN-RESTART"), "PENDING");

  // Reconnect before the deadline: the same request again, then the cancel at the stored
  // deadline, not one payment timeout after the restart.
  auto second = connect_terminal(device_);
  ASSERT_TRUE(second.ws);
  const auto resent = read_frame(*second.ws, "payment.request");
  EXPECT_EQ(json::serialize(resent), json::serialize(request));
  const auto cancel = read_frame(*second.ws, "payment.cancel", 8s);
  const auto cancelled_at = wall_now();
  EXPECT_EQ(string_at(cancel, "transactionId"), "TXN-RESTART");
  EXPECT_EQ(string_at(cancel, "reason"), "TIMEOUT");
  EXPECT_GE(cancelled_at - deadline, -300ms) << "cancelled before the stored deadline";
  EXPECT_LT(cancelled_at - deadline, 1s) << "the deadline was not the stored one";
  EXPECT_EQ(status_of("TXN-RESTART"), "PENDING");

  EXPECT_EQ(report(*second.ws, "TXN-RESTART", "SUCCESS", "AUTH-RESTART"), "COMPLETED");
  const auto again = signed_request(merchant_, "POST", payments_path(device_.device_id),
                                    payment_body("30.00", "USD", "TXN-RESTART"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(string_at(parse_json(again.body), "status"), "SUCCESS");
}

// A crash (SIGKILL) and a terminal that never comes back (T = 4 s, G = 1 s).
class PaymentLifecycleCrashTest : public PaymentLifecycleTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "4"}, {"TILLGATE_RECONNECT_GRACE_S", "1"}};
  }
};

TEST_F(PaymentLifecycleCrashTest, StoredDeadlineFiresAfterACrashWithoutTheTerminal) {
  auto first = connect_terminal(device_);
  ASSERT_TRUE(first.ws);
  const auto request = start_payment(*first.ws, "TXN-CRASH");
  const auto deadline = instant_at(request, "deadline");

  gateway().kill9();
  (void)await_response(pending_, 10s);
  gateway().start();
  ASSERT_LT(wall_now(), deadline - 300ms) << "the restart took too long for this test's timing";
  EXPECT_EQ(status_of("TXN-CRASH"), "PENDING");

  // No terminal at all: the stored deadline passes, the grace after it runs out: TIMEOUT.
  ASSERT_TRUE(status_becomes("TXN-CRASH", "TIMEOUT"));
  const auto txn = parse_json(get_transaction(merchant_, "TXN-CRASH").body);
  const auto completed_at = instant_at(txn, "completedAt");
  EXPECT_GE(completed_at - deadline, 700ms) << "TIMEOUT before the deadline plus the grace";
  EXPECT_LT(completed_at - deadline, 2500ms) << "the stored deadline did not fire";
}

// ---- A crash while the terminal is away (T = 10 s, G = 2 s) ----

// The reconnect grace runs on the stored time of the drop, across a kill -9: the time the
// gateway was down counts (docs/durability.md, "How recovery works").
class PaymentLifecycleCrashGraceTest : public PaymentLifecycleTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "10"}, {"TILLGATE_RECONNECT_GRACE_S", "2"}};
  }

  // The terminal drops mid-payment, then the gateway is killed.
  void drop_then_crash(std::string_view transaction_id) {
    auto first = connect_terminal(device_);
    ASSERT_TRUE(first.ws);
    (void)start_payment(*first.ws, transaction_id, "44.00");
    first.ws->drop();
    ASSERT_TRUE(status_becomes(transaction_id, "AWAITING_RECONNECT", 3s));
    dropped_ = std::chrono::steady_clock::now();
    gateway().kill9();
    (void)await_response(pending_, 10s);
  }

  std::chrono::steady_clock::time_point dropped_;
};

TEST_F(PaymentLifecycleCrashGraceTest,
       AGraceThatRanOutWhileDownEndsTimeoutAndALateSuccessIsVoided) {
  drop_then_crash("TXN-AWAY");
  std::this_thread::sleep_until(dropped_ + 2500ms);  // the grace ends while the gateway is down
  gateway().start();
  ASSERT_TRUE(status_becomes("TXN-AWAY", "TIMEOUT", 3s));
  const auto stopped = parse_json(get_transaction(merchant_, "TXN-AWAY").body);
  EXPECT_LT(instant_at(stopped, "completedAt") - instant_at(stopped, "createdAt"), 9s)
      << "ended by the deadline, not by the grace that ran out while the gateway was down";

  // The terminal paid while away and comes back with its result: a success after TIMEOUT is
  // voided, and the terminal is told to reverse it.
  auto back = connect_terminal(device_);
  ASSERT_TRUE(back.ws);
  EXPECT_TRUE(NoFrameWithin(*back.ws, 300ms)) << "nothing is unfinished on this terminal";
  ASSERT_TRUE(back.ws->send_json(result_frame("TXN-AWAY", "SUCCESS", "AUTH-AWAY")));
  const auto [ack, void_frame] = void_and_ack(*back.ws);
  ASSERT_TRUE(ack && void_frame);
  EXPECT_EQ(string_at(*void_frame, "transactionId"), "TXN-AWAY");
  EXPECT_EQ(string_at(*ack, "transactionStatus"), "VOIDED");
  EXPECT_EQ(status_of("TXN-AWAY"), "VOIDED");
  // The merchant's retry answers the stored outcome at once.
  const auto again = signed_request(merchant_, "POST", payments_path(device_.device_id),
                                    payment_body("44.00", "USD", "TXN-AWAY"));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(string_at(parse_json(again.body), "transactionId"), "TXN-AWAY");
}

TEST_F(PaymentLifecycleCrashGraceTest, ATerminalBackWithinTheGraceAfterACrashCompletesThePayment) {
  drop_then_crash("TXN-BACK");
  gateway().start();
  ASSERT_LT(std::chrono::steady_clock::now(), dropped_ + 1500ms)
      << "the restart took too long for this test's timing";
  EXPECT_EQ(status_of("TXN-BACK"), "AWAITING_RECONNECT");
  auto back = connect_terminal(device_);
  ASSERT_TRUE(back.ws);
  const auto resent = read_frame(*back.ws, "payment.request");
  EXPECT_EQ(string_at(resent, "transactionId"), "TXN-BACK");
  EXPECT_EQ(status_of("TXN-BACK"), "PENDING");
  // The grace of the drop passes: it no longer concerns the reconnected payment.
  std::this_thread::sleep_until(dropped_ + 2500ms);
  EXPECT_EQ(status_of("TXN-BACK"), "PENDING");
  // The merchant retries the request the crash cut off and waits for the outcome.
  pending_ = pay_async(merchant_, device_.device_id, payment_body("44.00", "USD", "TXN-BACK"), 30s);
  EXPECT_TRUE(NoFrameWithin(*back.ws, 300ms)) << "the retry pushed the payment a second time";
  EXPECT_EQ(report(*back.ws, "TXN-BACK", "SUCCESS", "AUTH-BACK"), "COMPLETED");
  const auto res = merchant_answer();
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "SUCCESS");
}

}  // namespace
}  // namespace tillgate::ft
