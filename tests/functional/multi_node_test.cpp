// Several gateway nodes on one PostgreSQL database (scale-out.md, "Several nodes"): two real
// `tillgate serve` processes on the same TILLGATE_DB, a merchant on one and the terminal on
// the other. A payment, its result and a merchant's cancel cross between them; a second
// connection of the device on the other node replaces the first (4002); a node killed -9
// leaves its terminal to the other after its lease, which gives it its reconnect grace; both
// nodes deliver webhooks and each event arrives once (each attempt claimed); a signed write
// accepted by one node is a replay on the other (the replay cache is shared).
#include <gmock/gmock.h>

#include <thread>

#include "../unit/store/store_test_support.hpp"
#include "test_support.hpp"
#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
using store::testing::PgTestDatabase;
using store::testing::RawDb;

class MultiNodeTest : public GatewayTest {
 protected:
  void SetUp() override {
    if (PgTestDatabase::skipped()) {
      GTEST_SKIP() << "TILLGATE_TEST_PG_SKIP=1 and no PostgreSQL test cluster";
    }
    const char* backend = std::getenv("TILLGATE_TEST_BACKEND");
    if (backend != nullptr && std::string_view{backend} == "postgres") {
      GTEST_SKIP() << "on PostgreSQL already: it runs once, in the default run";
    }
    database_ = std::make_unique<PgTestDatabase>();
    GatewayTest::SetUp();
    node_b_ = std::make_unique<GatewayProcess>(node_env("node-b"));
  }
  void TearDown() override {
    if (HasFailure() && node_b_) {
      std::cerr << "---- node-b stderr ----\n"
                << log_tail(node_b_->stderr_text()) << "---- end of node-b stderr ----\n";
    }
    node_b_.reset();
    GatewayTest::TearDown();
    database_.reset();
  }
  EnvMap gateway_env() override { return node_env("node-a"); }
  EnvMap node_env(const std::string& node_id) {
    return {{"TILLGATE_DB", database_->url()},
            {"TILLGATE_NODE_ID", node_id},
            {"TILLGATE_NODE_LEASE_S", "3"},
            {"TILLGATE_NODE_POLL_MS", "200"},
            {"TILLGATE_PAYMENT_TIMEOUT_S", "30"},
            {"TILLGATE_RECONNECT_GRACE_S", "20"},
            // The webhook receivers are plain HTTP on loopback.
            {"TILLGATE_WEBHOOK_ALLOW_HTTP", "1"},
            {"TILLGATE_WEBHOOK_ALLOW_PRIVATE", "1"}};
  }

  // Runs `step` with node b as the gateway the helpers speak to (signed requests,
  // terminals); admin requests stay on node a, whose token they carry.
  template <class Step>
  auto on_node_b(Step step) {
    struct Swap {
      std::unique_ptr<GatewayProcess>& a;
      std::unique_ptr<GatewayProcess>& b;
      Swap(std::unique_ptr<GatewayProcess>& x, std::unique_ptr<GatewayProcess>& y) : a(x), b(y) {
        std::swap(a, b);
      }
      ~Swap() { std::swap(a, b); }
    } swap(gateway_, node_b_);
    return step();
  }

  void expect_close(WsTestClient& ws, int close_code, std::chrono::milliseconds timeout = 10s) {
    const auto event = ws.read(timeout);
    ASSERT_EQ(event.kind, WsEvent::Kind::closed)
        << (event.kind == WsEvent::Kind::timeout ? "no close in time" : event.text);
    EXPECT_EQ(event.close_code, close_code) << event.detail;
  }

  std::string holder_of(const std::string& device_id) {
    RawDb db = RawDb::postgres(database_->url());
    return db.query_text("SELECT node_id FROM terminal_presence WHERE device_id = '" + device_id +
                         "'");
  }
  std::string status_in_store(const std::string& transaction_id) {
    RawDb db = RawDb::postgres(database_->url());
    return db.query_text("SELECT status FROM transactions WHERE transaction_id = '" +
                         transaction_id + "'");
  }

  std::unique_ptr<PgTestDatabase> database_;
  std::unique_ptr<GatewayProcess> node_b_;
};

TEST_F(MultiNodeTest, APaymentOnOneNodeReachesTheTerminalOnTheOtherAndItsResultComesBack) {
  const auto merchant = create_merchant("Two Node Shop");
  const auto device = create_device(merchant, "till-mn-1");
  auto [ws, hello_ok] = connect_terminal(device);  // on node a
  ASSERT_TRUE(ws);
  // Claimed for its node before its hello.ok: a payment on any node finds it from now on.
  EXPECT_EQ(holder_of("till-mn-1"), "node-a");

  // The merchant's long-poll waits on node b.
  auto pending = on_node_b([&] {
    return pay_async(merchant, device.device_id, payment_body("21.50", "USD", "TXN-MN-1"));
  });
  const auto request = read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(request, "transactionId"), "TXN-MN-1");
  EXPECT_EQ(string_at(request, "amount"), "21.50");
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-MN-1")));
  ASSERT_TRUE(ws->send_json(result_frame("TXN-MN-1", "SUCCESS", "AUTHMN0001")));
  EXPECT_EQ(string_at(read_frame(*ws, "payment.result.ack"), "transactionStatus"), "COMPLETED");

  const auto paid = await_response(pending, 10s);
  ASSERT_TRUE(paid.has_value()) << "node b's long-poll was not answered";
  ASSERT_EQ(paid->status, 200) << paid->body;
  EXPECT_EQ(string_at(parse_json(paid->body), "status"), "SUCCESS");
  EXPECT_EQ(on_node_b([&] { return transaction_status(merchant, "TXN-MN-1"); }), "COMPLETED");

  // The other way round: a terminal on b, the merchant on a.
  const auto other = create_device(merchant, "till-mn-2");
  auto [ws_b, hello_b] = on_node_b([&] { return connect_terminal(other); });
  ASSERT_TRUE(ws_b);
  EXPECT_EQ(holder_of("till-mn-2"), "node-b");
  auto second = pay_async(merchant, other.device_id, payment_body("3.00", "USD", "TXN-MN-2"));
  (void)read_frame(*ws_b, "payment.request");
  ASSERT_TRUE(ws_b->send_json(result_frame("TXN-MN-2", "FAILED", "", "DECLINED", "no funds")));
  (void)read_frame(*ws_b, "payment.result.ack");
  const auto declined = await_response(second, 10s);
  ASSERT_TRUE(declined.has_value());
  EXPECT_EQ(string_at(parse_json(declined->body), "status"), "FAILED") << declined->body;

  // A terminal connected nowhere is offline on every node.
  (void)create_device(merchant, "till-mn-3");
  auto offline = on_node_b([&] {
    auto client = http();
    return client::send_signed(client, merchant.credentials, "POST", payments_path("till-mn-3"),
                               payment_body("1.00", "USD", "TXN-MN-3"));
  });
  expect_error(offline, 503, "TERMINAL_OFFLINE");
}

TEST_F(MultiNodeTest, AMerchantCancelOnOneNodeReachesTheTerminalOnTheOther) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-mn-cancel");
  auto [ws, hello_ok] = connect_terminal(device);  // on node a
  ASSERT_TRUE(ws);
  auto pending = pay_async(merchant, device.device_id, payment_body("9.99", "USD", "TXN-MN-C"));
  (void)read_frame(*ws, "payment.request");
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-MN-C")));

  const auto cancelled = on_node_b(
      [&] { return signed_request(merchant, "POST", "/v1/transactions/TXN-MN-C/cancel"); });
  EXPECT_EQ(cancelled.status, 202) << cancelled.body;
  const auto cancel = read_frame(*ws, "payment.cancel");
  EXPECT_EQ(string_at(cancel, "transactionId"), "TXN-MN-C");
  EXPECT_EQ(string_at(cancel, "reason"), "MERCHANT");
  EXPECT_TRUE(NoFrameWithin(*ws, 1500ms)) << "the terminal is told once";
  ASSERT_TRUE(ws->send_json(result_frame("TXN-MN-C", "CANCELLED")));
  (void)read_frame(*ws, "payment.result.ack");
  const auto answered = await_response(pending, 10s);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(string_at(parse_json(answered->body), "status"), "CANCELLED") << answered->body;
}

TEST_F(MultiNodeTest, ASecondConnectionOnTheOtherNodeReplacesTheFirstWith4002) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-mn-move");
  auto [first, first_ok] = connect_terminal(device);  // on node a
  ASSERT_TRUE(first);
  auto [second, second_ok] = on_node_b([&] { return connect_terminal(device); });
  ASSERT_TRUE(second);
  expect_close(*first, 4002);

  // Node a knows the device is on b: a payment made on a reaches it there, once.
  auto pending = pay_async(merchant, device.device_id, payment_body("4.00", "USD", "TXN-MN-MV"));
  EXPECT_EQ(string_at(read_frame(*second, "payment.request"), "transactionId"), "TXN-MN-MV");
  ASSERT_TRUE(second->send_json(result_frame("TXN-MN-MV", "SUCCESS", "AUTHMN0002")));
  (void)read_frame(*second, "payment.result.ack");
  const auto paid = await_response(pending, 10s);
  ASSERT_TRUE(paid.has_value());
  EXPECT_EQ(paid->status, 200) << paid->body;
  // Node a lists it as the store says: online, with its connection on b.
  EXPECT_EQ(terminal_status(merchant, device.device_id), "online");
  const auto listed = parse_json(signed_request(merchant, "GET", "/v1/terminals").body);
  const auto& terminal = listed.find("terminals")->as_array().at(0);
  EXPECT_EQ(string_at(terminal, "connectionId"), string_at(second_ok, "connectionId"));
  gateway().kill9();  // b's answer then, without a: its own connection
  EXPECT_EQ(on_node_b([&] { return terminal_status(merchant, device.device_id); }), "online");
}

// POS WebSocket events reach a client on any node: a POS client on node b hears a terminal
// connect to node a, drop there, and (after the grace) go.
TEST_F(MultiNodeTest, APosClientOnOneNodeHearsTheTerminalsOfTheOther) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-mn-pos");
  auto pos = on_node_b([&] {
    auto ws = std::make_unique<WsTestClient>(gateway().host(), gateway().port());
    const auto refused = ws->try_connect("/v1", {{"x-api-key", merchant.credentials.api_key}});
    EXPECT_FALSE(refused);
    return ws;
  });
  auto [ws, hello_ok] = connect_terminal(device);  // on node a
  ASSERT_TRUE(ws);
  const auto read_status = [&pos] {
    const auto event = pos->read(5s);
    EXPECT_EQ(event.kind, WsEvent::Kind::message);
    const auto frame = parse_json(event.text);
    EXPECT_EQ(string_at(frame, "action"), "terminalStatusUpdate") << event.text;
    return frame;
  };
  const auto connected = read_status();
  EXPECT_EQ(string_at(connected, "deviceId"), "till-mn-pos");
  EXPECT_EQ(string_at(connected, "status"), "connected");
  EXPECT_EQ(string_at(connected, "connectionId"), string_at(hello_ok, "connectionId"));
  ASSERT_NE(connected.find("terminalInfo"), nullptr);
  EXPECT_EQ(string_at(*connected.find("terminalInfo"), "status"), "online");

  ws->drop();
  const auto dropped = read_status();
  EXPECT_EQ(string_at(dropped, "status"), "reconnecting");
}

TEST_F(MultiNodeTest, ANodeKilledMidPaymentLeavesItsTerminalToTheOtherWithItsGrace) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant, "till-mn-kill");
  auto [ws, hello_ok] = connect_terminal(device);  // on node a
  ASSERT_TRUE(ws);
  auto pending = on_node_b([&] {
    return pay_async(merchant, device.device_id, payment_body("15.00", "USD", "TXN-MN-K"), 60s);
  });
  (void)read_frame(*ws, "payment.request");
  ASSERT_TRUE(ws->send_json(ack_frame("TXN-MN-K")));

  gateway().kill9();
  ws.reset();
  // After node a's lease (3 s), node b counts its terminal as dropped.
  EXPECT_TRUE(eventually([&] { return status_in_store("TXN-MN-K") == "AWAITING_RECONNECT"; }, 15s))
      << status_in_store("TXN-MN-K");
  // The terminal comes back through the load balancer, to node b: the payment goes on.
  auto [again, again_ok] = on_node_b([&] { return connect_terminal(device); });
  ASSERT_TRUE(again);
  EXPECT_EQ(string_at(read_frame(*again, "payment.request"), "transactionId"), "TXN-MN-K");
  ASSERT_TRUE(again->send_json(result_frame("TXN-MN-K", "SUCCESS", "AUTHMN0003")));
  EXPECT_EQ(string_at(read_frame(*again, "payment.result.ack"), "transactionStatus"), "COMPLETED");
  const auto paid = await_response(pending, 10s);
  ASSERT_TRUE(paid.has_value());
  EXPECT_EQ(string_at(parse_json(paid->body), "status"), "SUCCESS") << paid->body;

  // Node a starts again under the same name: it holds nothing until terminals say hello.
  ASSERT_NO_THROW(gateway().start());
  EXPECT_EQ(transaction_status(merchant, "TXN-MN-K"), "COMPLETED");
}

// Both nodes run a webhook dispatcher, woken by the same commits (node b through its feed).
// The receiver answers slowly, so one node's attempt is in flight while the other looks:
// without the claim both would POST every event.
TEST_F(MultiNodeTest, BothNodesDeliverWebhooksAndEachEventArrivesOnce) {
  WebhookReceiver receiver;
  receiver.set_default(ReceiverReply::delayed(500ms));
  const auto merchant = create_merchant("Two Node Hooks");
  const auto created = signed_request(merchant, "POST", "/v1/webhooks/endpoints",
                                      R"({"url":")" + receiver.url() + R"("})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto device = create_device(merchant, "till-mn-hooks");
  auto [ws, hello_ok] = connect_terminal(device);  // on node a
  ASSERT_TRUE(ws);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    const std::string id = "TXN-MN-H" + std::to_string(i);
    ids.push_back(id);
    auto pending = pay_async(merchant, device.device_id, payment_body("1.00", "USD", id));
    (void)read_frame(*ws, "payment.request");
    ASSERT_TRUE(ws->send_json(result_frame(id, "SUCCESS", "AUTHMNH" + std::to_string(i))));
    (void)read_frame(*ws, "payment.result.ack");
    ASSERT_TRUE(await_response(pending, 10s).has_value());
  }
  ASSERT_TRUE(wait_for_events(receiver, ids));
  std::this_thread::sleep_for(2s);  // a second copy of any of them would come meanwhile
  const auto events = received_events(receiver);
  ASSERT_EQ(events.size(), ids.size());
  for (const auto& [event_id, event] : events) {
    EXPECT_EQ(event.copies, 1) << event.transaction_id << " " << event_id;
  }
}

TEST_F(MultiNodeTest, ASignedWriteAcceptedByOneNodeIsAReplayOnTheOther) {
  const auto merchant = create_merchant("Replay Shop");
  const std::string body = R"({"label":"replayed"})";
  const auto headers =
      client::sign_request(merchant.credentials, "POST", "/v1/devices/codes", body);
  auto client = http();
  const auto accepted = client.request("POST", "/v1/devices/codes", body, headers);
  ASSERT_EQ(accepted.status, 201) << accepted.body;
  remember_secrets_in(accepted);
  const auto replayed = on_node_b([&] {
    auto other = http();
    return other.request("POST", "/v1/devices/codes", body, headers);
  });
  expect_error(replayed, 401, "REPLAYED_REQUEST");
}

}  // namespace
}  // namespace tillgate::ft
