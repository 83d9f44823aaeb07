// Resume on the merchant POS WebSocket API (docs/pos-websocket.md, "Resume"): the payment
// events missed while disconnected are replayed from the store in commit order, then the
// live ones follow without a gap or a repeat (payments completing during the replay
// included); an unknown, foreign or too old event is RESUME_TOO_OLD; it works across a
// restart; and a slow reader is closed with 1013.
#include <map>
#include <set>
#include <thread>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

class PosResumeTest : public GatewayTest {
 protected:
  std::unique_ptr<WsTestClient> open_pos(const Merchant& merchant) {
    auto ws = std::make_unique<WsTestClient>(gateway().host(), gateway().port());
    const auto refused = ws->try_connect("/v1", {{"x-api-key", merchant.credentials.api_key}});
    EXPECT_FALSE(refused) << "HTTP " << refused->status << " " << refused->body;
    return ws;
  }

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

  static json::Value resume_action(std::string_view after, std::string_view request_id = "r-res") {
    return json::object({{"action", json::Value("resume")},
                         {"afterEventId", json::Value(after)},
                         {"requestId", json::Value(request_id)}});
  }

  void expect_error(WsTestClient& ws, std::string_view error, std::string_view code,
                    std::string_view request_id) {
    const auto frame = read_action(ws, "error");
    EXPECT_EQ(string_at(frame, "error"), error) << json::serialize(frame);
    EXPECT_EQ(string_at(frame, "code"), code) << json::serialize(frame);
    EXPECT_EQ(string_at(frame, "requestId"), request_id);
    EXPECT_FALSE(string_at(frame, "message").empty());
  }

  // Pays `transaction_id` over HTTP on the raw `terminal`, which answers `status`; returns
  // when the gateway acknowledged the result (the change is durable).
  void pay(const Merchant& merchant, const Device& device, WsTestClient& terminal,
           const std::string& transaction_id, std::string_view status = "SUCCESS") {
    auto pending =
        pay_async(merchant, device.device_id, payment_body("2.00", "USD", transaction_id));
    (void)read_frame(terminal, "payment.request");
    const bool declined = status != "SUCCESS";
    ASSERT_TRUE(
        terminal.send_json(result_frame(transaction_id, status, declined ? "" : "AUTH000001",
                                        declined ? "DECLINED" : "", declined ? "Declined" : "")));
    (void)read_frame(terminal, "payment.result.ack");
    ASSERT_TRUE(await_response(pending, 10s));
  }

  // The eventId of `transaction_id`'s paymentComplete, read on `ws` (the next frame).
  std::string event_of(WsTestClient& ws, std::string_view transaction_id) {
    const auto frame = read_action(ws, "paymentComplete");
    EXPECT_EQ(string_at(frame, "transactionId"), transaction_id);
    return string_at(frame, "eventId");
  }

  // Pings and reads until the pong: every paymentComplete on the way, as transactionIds.
  // A ping after resume is answered after the replay (actions are handled in order).
  std::vector<std::string> completions_until_pong(WsTestClient& ws,
                                                  std::vector<std::string>* event_ids = nullptr) {
    EXPECT_TRUE(ws.send_json(json::object({{"action", "ping"}, {"requestId", "fence"}})));
    std::vector<std::string> seen;
    for (int i = 0; i < 10'000; ++i) {
      const auto event = ws.read(10s);
      if (event.kind != WsEvent::Kind::message) {
        ADD_FAILURE() << "no pong: " << event.close_code << " " << event.detail;
        break;
      }
      const auto frame = parse_json(event.text);
      const auto action = string_at(frame, "action");
      if (action == "pong") {
        break;
      }
      EXPECT_EQ(action, "paymentComplete") << event.text;
      seen.push_back(string_at(frame, "transactionId"));
      if (event_ids != nullptr) {
        event_ids->push_back(string_at(frame, "eventId"));
      }
    }
    return seen;
  }
};

TEST_F(PosResumeTest, ResumeReplaysTheMissedEventsInCommitOrderThenGoesLive) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-resume");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  std::string first_event;
  {
    auto ws = open_pos(merchant);
    pay(merchant, device, *terminal, "TXN-R1");
    first_event = event_of(*ws, "TXN-R1");
    ws->close();
  }
  pay(merchant, device, *terminal, "TXN-R2", "FAILED");
  pay(merchant, device, *terminal, "TXN-R3");

  auto ws = open_pos(merchant);
  ASSERT_TRUE(ws->send_json(resume_action(first_event)));
  const auto r2 = read_action(*ws, "paymentComplete");
  EXPECT_EQ(string_at(r2, "transactionId"), "TXN-R2");
  EXPECT_EQ(string_at(r2, "status"), "FAILED");
  EXPECT_EQ(string_at(r2, "terminalId"), "till-resume");
  EXPECT_EQ(string_at(r2, "groupId"), merchant.merchant_id);
  EXPECT_EQ(string_at(r2, "version"), "v1");
  EXPECT_TRUE(IsIsoMs(r2.find("timestamp")));
  ASSERT_NE(r2.find("paymentResponse"), nullptr);
  EXPECT_EQ(string_at(*r2.find("paymentResponse"), "errorCode"), "DECLINED");
  const auto r3 = read_action(*ws, "paymentComplete");
  EXPECT_EQ(string_at(r3, "transactionId"), "TXN-R3");
  EXPECT_EQ(string_at(*r3.find("paymentResponse"), "authorizationCode"), "AUTH000001");
  EXPECT_NE(string_at(r2, "eventId"), string_at(r3, "eventId"));
  EXPECT_NE(string_at(r2, "eventId"), first_event);

  // Then live, and nothing twice.
  pay(merchant, device, *terminal, "TXN-R4");
  EXPECT_EQ(string_at(read_action(*ws, "paymentComplete"), "transactionId"), "TXN-R4");
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms));

  // Resuming after the newest replayed event replays only what came after it.
  auto again = open_pos(merchant);
  ASSERT_TRUE(again->send_json(resume_action(string_at(r3, "eventId"))));
  EXPECT_EQ(completions_until_pong(*again), std::vector<std::string>{"TXN-R4"});
}

TEST_F(PosResumeTest, UnknownOrAnotherMerchantsEventIsResumeTooOldAndNothingIsReplayed) {
  const auto merchant = create_merchant();
  const auto other = create_merchant("Other Shop");
  const auto device = create_device(other, "till-other");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto other_ws = open_pos(other);
  pay(other, device, *terminal, "TXN-O1");
  const auto foreign_event = event_of(*other_ws, "TXN-O1");

  auto ws = open_pos(merchant);
  ASSERT_TRUE(ws->send_json(resume_action("evt_no_such_event", "r-unknown")));
  expect_error(*ws, "Gone", "RESUME_TOO_OLD", "r-unknown");
  ASSERT_TRUE(ws->send_json(resume_action(foreign_event, "r-foreign")));
  const auto frame = read_action(*ws, "error");
  EXPECT_EQ(string_at(frame, "code"), "RESUME_TOO_OLD");
  EXPECT_EQ(string_at(frame, "requestId"), "r-foreign");
  // The same answer as for an unknown id: nothing tells the event exists.
  EXPECT_EQ(string_at(frame, "message").find(foreign_event) != std::string::npos, true);
  EXPECT_EQ(string_at(frame, "message").find("older"), std::string::npos);
  EXPECT_TRUE(completions_until_pong(*ws).empty());
}

TEST_F(PosResumeTest, MalformedResumeIsAValidationErrorAndTheConnectionStays) {
  const auto merchant = create_merchant();
  auto ws = open_pos(merchant);
  const std::vector<json::Value> bad{
      json::object({{"action", "resume"}, {"requestId", "r-1"}}),
      json::object({{"action", "resume"}, {"afterEventId", 42}, {"requestId", "r-1"}}),
      json::object({{"action", "resume"}, {"afterEventId", nullptr}, {"requestId", "r-1"}}),
      json::object({{"action", "resume"}, {"afterEventId", ""}, {"requestId", "r-1"}}),
      json::object({{"action", "resume"},
                    {"afterEventId", json::Value(json::Array{json::Value("evt_1")})},
                    {"requestId", "r-1"}}),
      json::object(
          {{"action", "resume"}, {"afterEventId", std::string(200, 'e')}, {"requestId", "r-1"}}),
  };
  for (const auto& frame : bad) {
    ASSERT_TRUE(ws->send_json(frame));
    expect_error(*ws, "Bad Request", "VALIDATION_ERROR", "r-1");
  }
  ASSERT_TRUE(ws->send_json(json::object({{"action", "ping"}})));
  (void)read_action(*ws, "pong");
}

TEST_F(PosResumeTest, ASecondResumeOnTheSameConnectionIsRefused) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-twice");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto ws = open_pos(merchant);
  pay(merchant, device, *terminal, "TXN-T1");
  const auto event = event_of(*ws, "TXN-T1");
  ASSERT_TRUE(ws->send_json(resume_action(event, "r-a")));
  EXPECT_TRUE(completions_until_pong(*ws).empty());
  ASSERT_TRUE(ws->send_json(resume_action(event, "r-b")));
  expect_error(*ws, "Bad Request", "VALIDATION_ERROR", "r-b");
}

TEST_F(PosResumeTest, ResumeWorksAcrossAGatewayRestart) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-restart");
  std::string first_event;
  {
    auto [terminal, hello_ok] = connect_terminal(device);
    ASSERT_TRUE(terminal);
    auto ws = open_pos(merchant);
    pay(merchant, device, *terminal, "TXN-S1");
    first_event = event_of(*ws, "TXN-S1");
    ws->close();
    pay(merchant, device, *terminal, "TXN-S2");
    pay(merchant, device, *terminal, "TXN-S3", "FAILED");
    gateway().kill9();
  }
  gateway().start();
  auto ws = open_pos(merchant);
  ASSERT_TRUE(ws->send_json(resume_action(first_event)));
  EXPECT_EQ(completions_until_pong(*ws), (std::vector<std::string>{"TXN-S2", "TXN-S3"}));
}

class PosResumeWindowTest : public PosResumeTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_POS_WS_RESUME_WINDOW_S", "1"}}; }
};

TEST_F(PosResumeWindowTest, AnEventOlderThanTheWindowIsResumeTooOld) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-window");
  auto [terminal, hello_ok] = connect_terminal(device);
  ASSERT_TRUE(terminal);
  auto ws = open_pos(merchant);
  pay(merchant, device, *terminal, "TXN-W1");
  const auto old_event = event_of(*ws, "TXN-W1");
  ws->close();
  std::this_thread::sleep_for(1500ms);
  pay(merchant, device, *terminal, "TXN-W2");

  auto late = open_pos(merchant);
  ASSERT_TRUE(late->send_json(resume_action(old_event, "r-old")));
  const auto frame = read_action(*late, "error");
  EXPECT_EQ(string_at(frame, "code"), "RESUME_TOO_OLD");
  EXPECT_EQ(string_at(frame, "error"), "Gone");
  EXPECT_NE(string_at(frame, "message").find("older than the resume window"), std::string::npos);
  EXPECT_TRUE(completions_until_pong(*late).empty()) << "nothing replayed";
}

// Many payments complete while a resume replays a backlog in small pages: every final
// event arrives exactly once, and each terminal's payments in the order they were made.
class PosResumeRaceTest : public PosResumeTest {
 protected:
  EnvMap gateway_env() override {
    // Small pages, so the replay runs while live events come; an outbox with room for a
    // few pages and live events, so that the test's reader, descheduled for a moment on a
    // loaded machine (the test command runs two tests at once), is not cut off as a slow
    // client (1013) while it keeps reading.
    return {{"TILLGATE_POS_WS_RESUME_PAGE", "5"},
            {"TILLGATE_POS_WS_MAX_OUTBOX", "64"},
            {"TILLGATE_RATE_LIMIT_RPS", "10000"}};
  }

  // Pays `count` payments on each simulated terminal, one after the other per terminal.
  void pay_many(const Merchant& merchant, const std::vector<Device>& devices,
                const std::string& prefix, int count) {
    std::vector<std::thread> payers;
    for (const auto& device : devices) {
      payers.emplace_back([&, device] {
        for (int i = 0; i < count; ++i) {
          const auto id = prefix + "-" + device.device_id + "-" + std::to_string(1000 + i);
          auto pending = pay_async(merchant, device.device_id, payment_body("1.00", "USD", id));
          const auto response = await_response(pending, 20s);
          EXPECT_TRUE(response && response->status == 200) << id;
        }
      });
    }
    for (auto& payer : payers) {
      payer.join();
    }
  }
};

TEST_F(PosResumeRaceTest, PaymentsCompletingDuringTheReplayArriveExactlyOnce) {
  const auto merchant = create_merchant();
  std::vector<Device> devices;
  std::vector<std::unique_ptr<SimulatedTerminal>> terminals;
  for (int i = 0; i < 4; ++i) {
    devices.push_back(create_device(merchant, "till-race-" + std::to_string(i)));
    terminals.push_back(std::make_unique<SimulatedTerminal>(gateway(), devices.back(), "approve"));
    ASSERT_TRUE(terminals.back()->wait_online());
  }
  std::string start_event;
  {
    auto ws = open_pos(merchant);
    pay_many(merchant, {devices[0]}, "START", 1);
    start_event = event_of(*ws, "START-till-race-0-1000");
    ws->close();
  }
  constexpr int kBacklog = 30;  // per terminal, missed while disconnected
  constexpr int kDuring = 30;   // per terminal, completing while resuming
  pay_many(merchant, devices, "MISSED", kBacklog);

  auto ws = open_pos(merchant);
  std::thread during([&] { pay_many(merchant, devices, "LIVE", kDuring); });
  ASSERT_TRUE(ws->send_json(resume_action(start_event)));
  std::vector<std::string> seen;
  std::vector<std::string> event_ids;
  const std::size_t expected = devices.size() * (kBacklog + kDuring);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (seen.size() < expected && std::chrono::steady_clock::now() < deadline) {
    const auto event = ws->read(10s);
    if (event.kind != WsEvent::Kind::message) {
      ADD_FAILURE() << "stopped after " << seen.size() << ": " << event.close_code;
      break;
    }
    const auto frame = parse_json(event.text);
    EXPECT_EQ(string_at(frame, "action"), "paymentComplete") << event.text;
    seen.push_back(string_at(frame, "transactionId"));
    event_ids.push_back(string_at(frame, "eventId"));
  }
  during.join();
  EXPECT_TRUE(NoFrameWithin(*ws, 500ms)) << "a repeat after the last event";

  ASSERT_EQ(seen.size(), expected);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), expected) << "a repeat";
  EXPECT_EQ(std::set<std::string>(event_ids.begin(), event_ids.end()).size(), expected);
  // Per terminal: MISSED-... 1000..1029, then LIVE-... 1000..1029, in that order.
  std::map<std::string, std::vector<std::string>> per_terminal;
  for (const auto& id : seen) {
    const auto first_dash = id.find('-');
    const auto device = id.substr(first_dash + 1, id.rfind('-') - first_dash - 1);
    per_terminal[device].push_back(id);
  }
  for (const auto& device : devices) {
    std::vector<std::string> want;
    for (const std::string prefix : {"MISSED", "LIVE"}) {
      for (int i = 0; i < kBacklog; ++i) {
        want.push_back(prefix + "-" + device.device_id + "-" + std::to_string(1000 + i));
      }
    }
    EXPECT_EQ(per_terminal[device.device_id], want) << device.device_id;
  }
}

// A client that does not read what it asked for: its outbox fills and it is closed with
// 1013 (the frames still queued are dropped; it resumes after reconnecting).
class PosSlowReaderTest : public PosResumeTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_POS_WS_MAX_OUTBOX", "8"},
            {"TILLGATE_POS_WS_RESUME_PAGE", "4"},
            {"TILLGATE_RATE_LIMIT_RPS", "10000"}};
  }
};

TEST_F(PosSlowReaderTest, AClientThatDoesNotReadIsClosedWith1013) {
  const auto merchant = create_merchant();
  auto ws = open_pos(merchant);
  // Each unknown action is answered with an error frame that names it: ~60 KiB answers
  // that the client leaves unread until the socket buffers and then the outbox are full.
  const std::string frame = R"({"action":")" + std::string(60'000, 'x') + R"("})";
  int sent = 0;
  for (; sent < 600; ++sent) {
    if (!ws->send_text(frame, 2s)) {
      break;  // the gateway closed meanwhile
    }
  }
  int errors = 0;
  for (int i = 0; i < 1'000; ++i) {
    const auto event = ws->read(10s);
    if (event.kind == WsEvent::Kind::message) {
      ++errors;
      continue;
    }
    ASSERT_EQ(event.kind, WsEvent::Kind::closed) << "after " << errors << " frames";
    EXPECT_EQ(event.close_code, 1013) << event.detail;
    break;
  }
  EXPECT_LT(errors, sent) << "the frames queued at the cut were dropped, not kept";
  EXPECT_NE(gateway().stderr_text().find("closing with 1013"), std::string::npos);
}

}  // namespace
}  // namespace tillgate::ft
