// The POS WebSocket clients against the real gateway: `tillgate watch` (human and JSON
// lines, bad credentials, reconnect and resume) and `tillgate pay --ws` (approved,
// declined, refused), and the POS metrics (docs/metrics.md) moving by what a client did.
#include <csignal>
#include <fstream>
#include <sstream>

#include "../support/exposition.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
using testing_support::parse_exposition;

// A `tillgate` command running beside the test (watch), its stdout read line by line.
struct Command {
  std::unique_ptr<ChildProcess> process;
  std::filesystem::path stderr_path;

  [[nodiscard]] std::string err() const { return read_file(stderr_path); }
  // The stdout line containing `needle` (waiting for it), or "".
  std::string line_with(const std::string& needle, std::chrono::milliseconds timeout = 10s) {
    return process->wait_for_line(needle, timeout).value_or("");
  }
};

class PosClientsTest : public GatewayTest {
 protected:
  // A second API key of `merchant`: one connection per key, so watch and pay --ws each
  // need their own.
  Merchant second_key(const Merchant& merchant) {
    const auto res = admin("POST", "/admin/v1/merchants/" + merchant.merchant_id + "/keys");
    EXPECT_EQ(res.status, 201) << res.body;
    const auto body = parse_json(res.body);
    return Merchant{merchant.merchant_id,
                    merchant.name,
                    {string_at(body, "apiKey"), string_at(body, "apiSecret")}};
  }

  Command start(std::vector<std::string> args) {
    static int started = 0;
    Command command;
    command.stderr_path = gateway().dir() / ("command-" + std::to_string(++started) + ".stderr");
    args.insert(args.begin(), TILLGATE_BINARY);
    command.process =
        std::make_unique<ChildProcess>(args, EnvMap{}, gateway().dir(), command.stderr_path);
    return command;
  }

  Command watch(const Merchant& merchant, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
        "watch",         "--url", gateway().url(), "--api-key", merchant.credentials.api_key,
        "--max-backoff", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return start(args);
  }

  CommandResult pay_ws(const Merchant& merchant, const std::string& terminal,
                       const std::string& transaction_id, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"pay",          "--ws",
                                  "--terminal",   terminal,
                                  "--amount",     "12.50",
                                  "--currency",   "USD",
                                  "--url",        gateway().url(),
                                  "--api-key",    merchant.credentials.api_key,
                                  "--api-secret", merchant.credentials.api_secret,
                                  "--timeout",    "30"};
    if (!transaction_id.empty()) {
      args.insert(args.end(), {"--transaction-id", transaction_id});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return run_tillgate(args);
  }

  // A standard-mode payment over HTTP, asserting its final status.
  void pay_http(const Merchant& merchant, const std::string& terminal, const std::string& txn,
                std::string_view expected = "SUCCESS") {
    const auto res = signed_request(merchant, "POST", payments_path(terminal),
                                    payment_body("12.50", "USD", txn));
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(string_at(parse_json(res.body), "status"), expected) << res.body;
  }

  // The eventId a watch line ends with ("... eventId evt_...").
  static std::string event_id_of(const std::string& line) {
    const auto at = line.rfind("eventId ");
    return at == std::string::npos ? std::string() : line.substr(at + 8);
  }
};

TEST_F(PosClientsTest, WatchPrintsTerminalAndPaymentEventsAsLines) {
  const auto merchant = create_merchant("Watch Shop");
  const auto device = create_device(merchant, "till-watch");
  auto watcher = watch(second_key(merchant));
  EXPECT_NE(watcher.line_with("terminal till-watch offline"), "") << watcher.err();

  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  const auto connected = watcher.line_with("terminal till-watch connected");
  EXPECT_NE(connected.find("connectionId conn_"), std::string::npos) << connected << watcher.err();

  pay_http(merchant, device.device_id, "TXN-WATCH-1");
  const auto paid = watcher.line_with("payment TXN-WATCH-1");
  EXPECT_NE(paid.find("payment TXN-WATCH-1 SUCCESS 12.50 USD terminal till-watch"),
            std::string::npos)
      << paid << watcher.err();
  EXPECT_NE(paid.find("authorizationCode "), std::string::npos) << paid;
  EXPECT_EQ(event_id_of(paid).rfind("evt_", 0), 0U) << paid;
  EXPECT_TRUE(is_iso8601_ms(paid.substr(0, paid.find(' ')))) << paid;
  EXPECT_NE(watcher.err().find("connected to "), std::string::npos) << watcher.err();
}

TEST_F(PosClientsTest, WatchJsonPrintsOneFrameAsOneObjectPerLineAndStopsAtCount) {
  const auto merchant = create_merchant("Watch Shop");
  const auto device = create_device(merchant, "till-json");
  auto watcher = watch(second_key(merchant), {"--json", "--count", "1"});
  EXPECT_NE(watcher.line_with("terminalsResponse"), "") << watcher.err();
  SimulatedTerminal terminal(gateway(), device, "decline");
  ASSERT_TRUE(terminal.wait_online());
  EXPECT_NE(watcher.line_with("\"status\":\"connected\""), "") << watcher.err();
  pay_http(merchant, device.device_id, "TXN-JSON-1", "FAILED");

  const auto status = watcher.process->wait(15s);
  ASSERT_TRUE(status) << "watch --count 1 did not stop";
  EXPECT_EQ(exit_code_of(*status), 0) << watcher.err();
  std::istringstream lines(watcher.process->stdout_text());
  std::vector<std::string> actions;
  for (std::string line; std::getline(lines, line);) {
    const auto frame = parse_json(line);
    ASSERT_TRUE(frame.is_object()) << line;
    actions.push_back(string_at(frame, "action"));
    if (actions.back() == "paymentComplete") {
      EXPECT_EQ(string_at(frame, "transactionId"), "TXN-JSON-1");
      EXPECT_EQ(string_at(frame, "status"), "FAILED");
      EXPECT_EQ(string_at(frame, "groupId"), merchant.merchant_id);
      EXPECT_EQ(string_at(frame, "eventId").rfind("evt_", 0), 0U) << line;
    }
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"terminalsResponse", "terminalStatusUpdate",
                                               "paymentComplete"}));
}

TEST_F(PosClientsTest, WatchWithBadCredentialsExitsWithTheRefusal) {
  const auto unknown =
      run_tillgate({"watch", "--url", gateway().url(), "--api-key", "tk_no_such_key"}, {}, 20s);
  EXPECT_EQ(unknown.exit_code, 1) << unknown.out << unknown.err;
  EXPECT_NE(unknown.err.find("refused the connection: HTTP 401 UNAUTHORIZED"), std::string::npos)
      << unknown.err;

  const auto merchant = create_merchant();
  const auto other = create_merchant("Other Shop");
  const auto wrong_group =
      run_tillgate({"watch", "--url", gateway().url(), "--api-key", merchant.credentials.api_key,
                    "--group-id", other.merchant_id},
                   {}, 20s);
  EXPECT_EQ(wrong_group.exit_code, 1) << wrong_group.err;
  EXPECT_NE(wrong_group.err.find("HTTP 403 GROUP_MISMATCH"), std::string::npos) << wrong_group.err;

  const auto bad_signature =
      run_tillgate({"watch", "--url", gateway().url(), "--api-key", merchant.credentials.api_key,
                    "--api-secret", "tgs_not_the_secret", "--signed"},
                   {}, 20s);
  EXPECT_EQ(bad_signature.exit_code, 1) << bad_signature.err;
  EXPECT_NE(bad_signature.err.find("HTTP 401 INVALID_SIGNATURE"), std::string::npos)
      << bad_signature.err;

  const auto missing = run_tillgate({"watch", "--url", gateway().url()}, {}, 20s);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("--api-key"), std::string::npos) << missing.err;
}

TEST_F(PosClientsTest, WatchIsReplacedByANewerConnectionWithItsKeyAndSaysSo) {
  const auto merchant = create_merchant();
  auto watcher = watch(merchant);
  ASSERT_TRUE(eventually([&] { return watcher.err().find("connected to") != std::string::npos; }));
  WsTestClient newer(gateway().host(), gateway().port());
  ASSERT_FALSE(newer.try_connect("/v1", {{"x-api-key", merchant.credentials.api_key}}));
  const auto status = watcher.process->wait(10s);
  ASSERT_TRUE(status) << "watch went on after forceDisconnect";
  EXPECT_EQ(exit_code_of(*status), 1);
  EXPECT_NE(watcher.err().find("forceDisconnect"), std::string::npos) << watcher.err();
}

TEST_F(PosClientsTest, PayOverWebSocketApproved) {
  const auto merchant = create_merchant("Pay Shop");
  const auto device = create_device(merchant, "till-ws");
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());

  const auto readable = pay_ws(merchant, device.device_id, "TXN-WS-1");
  EXPECT_EQ(readable.exit_code, 0) << readable.out << readable.err;
  EXPECT_NE(readable.out.find("status:            SUCCESS"), std::string::npos) << readable.out;
  EXPECT_NE(readable.out.find("transactionId:     TXN-WS-1"), std::string::npos) << readable.out;
  EXPECT_NE(readable.out.find("authorizationCode: "), std::string::npos) << readable.out;
  EXPECT_NE(readable.out.find("amount:            12.50 USD"), std::string::npos) << readable.out;
  EXPECT_EQ(transaction_status(merchant, "TXN-WS-1"), "COMPLETED");

  // --json, a signed handshake, and a transactionId made by the gateway.
  const auto as_json = pay_ws(merchant, device.device_id, "", {"--json", "--signed"});
  EXPECT_EQ(as_json.exit_code, 0) << as_json.out << as_json.err;
  const auto frame = parse_json(as_json.out);
  EXPECT_EQ(string_at(frame, "action"), "paymentComplete");
  EXPECT_EQ(string_at(frame, "status"), "SUCCESS");
  const auto made = string_at(frame, "transactionId");
  ASSERT_FALSE(made.empty()) << as_json.out;
  EXPECT_EQ(transaction_status(merchant, made), "COMPLETED");

  // The same transactionId again: the payment already made, printed, not made twice.
  const auto again = pay_ws(merchant, device.device_id, "TXN-WS-1");
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("TXN-WS-1"), std::string::npos) << again.out;
}

TEST_F(PosClientsTest, PayOverWebSocketDeclinedExitsTwo) {
  const auto merchant = create_merchant("Pay Shop");
  const auto device = create_device(merchant, "till-decline");
  SimulatedTerminal terminal(gateway(), device, "decline");
  ASSERT_TRUE(terminal.wait_online());
  const auto declined = pay_ws(merchant, device.device_id, "TXN-WS-DECLINED");
  EXPECT_EQ(declined.exit_code, 2) << declined.out << declined.err;
  EXPECT_NE(declined.out.find("status:            FAILED"), std::string::npos) << declined.out;
  EXPECT_NE(declined.out.find("errorCode:         DECLINED"), std::string::npos) << declined.out;
  EXPECT_EQ(transaction_status(merchant, "TXN-WS-DECLINED"), "FAILED");
}

TEST_F(PosClientsTest, PayOverWebSocketRefusalsExitOneWithTheError) {
  const auto merchant = create_merchant("Pay Shop");
  const auto offline = create_device(merchant, "till-off");
  const auto not_found = pay_ws(merchant, "no-such-till", "TXN-WS-NF");
  EXPECT_EQ(not_found.exit_code, 1) << not_found.out << not_found.err;
  EXPECT_NE(not_found.err.find("TERMINAL_NOT_FOUND: Terminal connection not found"),
            std::string::npos)
      << not_found.err;
  const auto off = pay_ws(merchant, offline.device_id, "TXN-WS-OFF");
  EXPECT_EQ(off.exit_code, 1);
  EXPECT_NE(off.err.find("TERMINAL_OFFLINE"), std::string::npos) << off.err;
  const auto invalid = pay_ws(merchant, offline.device_id, "TXN-WS-BAD", {"--method", "GOLD"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.err.find("VALIDATION_ERROR"), std::string::npos) << invalid.err;
  EXPECT_NE(invalid.err.find("paymentMethod"), std::string::npos) << invalid.err;
  Merchant wrong = merchant;
  wrong.credentials.api_key = "tk_wrong";
  const auto refused = pay_ws(wrong, offline.device_id, "TXN-WS-401");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("HTTP 401 UNAUTHORIZED"), std::string::npos) << refused.err;
  EXPECT_EQ(transaction_status(merchant, "TXN-WS-401"), "(HTTP 404)");
}

TEST_F(PosClientsTest, PosMetricsCountConnectionsAndFramesByAction) {
  const auto scrape = [this] {
    const auto res = plain_request("GET", "/metrics");
    EXPECT_EQ(res.status, 200);
    auto parsed = parse_exposition(res.body);
    EXPECT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors);
    return parsed;
  };
  const auto frames = [](const testing_support::Exposition& m, const std::string& action) {
    return m.value("tillgate_pos_frames_total", {{"action", action}}).value_or(-1);
  };
  const auto before = scrape();
  EXPECT_EQ(before.value("tillgate_pos_clients_connected").value_or(-1), 0);
  for (const auto* action : {"ping", "getTerminals", "payment", "cancelPayment", "getTransaction",
                             "resume", "unknown", "invalid"}) {
    EXPECT_EQ(frames(before, action), 0) << action;  // every series exists from the start
  }
  const auto merchant = create_merchant();
  {
    WsTestClient ws(gateway().host(), gateway().port());
    ASSERT_FALSE(ws.try_connect("/v1", {{"x-api-key", merchant.credentials.api_key}}));
    EXPECT_TRUE(eventually(
        [&] { return scrape().value("tillgate_pos_clients_connected").value_or(-1) == 1; }));
    for (const auto* frame : {R"({"action":"ping"})", R"({"action":"ping"})",
                              R"({"action":"getTerminals"})", R"({"action":"fly-me-to-the-moon"})",
                              R"({"action":"x1"})", R"([1,2])", R"({"no":"action"})"}) {
      ASSERT_TRUE(ws.send_text(frame));
      ASSERT_EQ(ws.read(5s).kind, WsEvent::Kind::message) << frame;
    }
    const auto after = scrape();
    EXPECT_EQ(frames(after, "ping"), 2);
    EXPECT_EQ(frames(after, "getTerminals"), 1);
    EXPECT_EQ(frames(after, "unknown"), 2);
    EXPECT_EQ(frames(after, "invalid"), 2);
    EXPECT_EQ(frames(after, "payment"), 0);
    const auto* family = after.family("tillgate_pos_frames_total");
    ASSERT_NE(family, nullptr);
    EXPECT_EQ(family->type, "counter");
    EXPECT_EQ(family->samples.size(), 8U) << "an action a client made up became a series";
    ws.close();
  }
  EXPECT_TRUE(eventually(
      [&] { return scrape().value("tillgate_pos_clients_connected").value_or(-1) == 0; }));
}

// The gateway restarts on the same port, so that a watch can reconnect to it.
class PosClientsRestartTest : public PosClientsTest {
 protected:
  EnvMap gateway_env() override {
    const auto port = run_shell(
        "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
        "print(s.getsockname()[1])'");
    return {{"TILLGATE_LISTEN", "127.0.0.1:" + port}};
  }
};

TEST_F(PosClientsRestartTest, WatchReconnectsAfterAGatewayRestartAndResumesFromItsLastEvent) {
  const auto merchant = create_merchant("Restart Shop");
  const auto device = create_device(merchant, "till-restart");
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  auto watcher = watch(second_key(merchant));
  ASSERT_NE(watcher.line_with("terminal till-restart online"), "") << watcher.err();
  pay_http(merchant, device.device_id, "TXN-RESTART-1");
  const auto first = event_id_of(watcher.line_with("payment TXN-RESTART-1"));
  ASSERT_EQ(first.rfind("evt_", 0), 0U) << watcher.err();

  gateway().restart();
  ASSERT_TRUE(
      eventually([&] { return watcher.err().find("reconnecting in") != std::string::npos; }, 20s))
      << watcher.err();
  EXPECT_NE(watcher.err().find("resuming after " + first), std::string::npos) << watcher.err();
  ASSERT_TRUE(
      eventually([&] { return terminal_status(merchant, device.device_id) == "online"; }, 30s));
  ASSERT_TRUE(eventually(
      [&] {
        const auto err = watcher.err();
        return err.find("connected to") != err.rfind("connected to");  // twice
      },
      30s))
      << watcher.err();
  pay_http(merchant, device.device_id, "TXN-RESTART-2");
  EXPECT_NE(watcher.line_with("payment TXN-RESTART-2 SUCCESS"), "") << watcher.err();
}

// Resume (the server side is another piece of work): a watch started with --resume gets the
// events after that one first. Skipped while the gateway answers resume as not served.
TEST_F(PosClientsTest, WatchResumeReplaysTheEventsAfterTheGivenOne) {
  const auto merchant = create_merchant("Resume Shop");
  const auto device = create_device(merchant, "till-resume");
  SimulatedTerminal terminal(gateway(), device, "approve");
  ASSERT_TRUE(terminal.wait_online());
  const auto key = second_key(merchant);
  std::string first;
  {
    auto watcher = watch(key, {"--count", "1"});
    ASSERT_NE(watcher.line_with("terminal till-resume online"), "") << watcher.err();
    pay_http(merchant, device.device_id, "TXN-RESUME-1");
    first = event_id_of(watcher.line_with("payment TXN-RESUME-1"));
    ASSERT_TRUE(watcher.process->wait(10s));
  }
  pay_http(merchant, device.device_id, "TXN-RESUME-2");  // nobody watching
  auto resumed = watch(key, {"--resume", first, "--json", "--count", "1"});
  std::string replayed;
  ASSERT_TRUE(eventually(
      [&] {
        replayed = resumed.process->wait_for_line("paymentComplete", 100ms).value_or("");
        return !replayed.empty() ||
               resumed.err().find("does not serve resume") != std::string::npos;
      },
      15s))
      << resumed.err();
  if (replayed.empty()) {
    GTEST_SKIP() << "the gateway does not serve resume yet: " << resumed.err();
  }
  EXPECT_EQ(string_at(parse_json(replayed), "transactionId"), "TXN-RESUME-2") << replayed;
  const auto status = resumed.process->wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(exit_code_of(*status), 0) << resumed.err();
}

}  // namespace
}  // namespace tillgate::ft
