// The simulated terminal's behaviors against the real gateway, and its journal.
#include <csignal>
#include <fstream>
#include "sim/journal.hpp"

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class SimulatorTest : public GatewayTest {
 protected:
  client::HttpResponse pay(const Merchant& merchant, std::string_view terminal,
                           const std::string& body) {
    auto client = http(30s);
    return client::send_signed(client, merchant.credentials, "POST", payments_path(terminal), body);
  }
};

TEST_F(SimulatorTest, CustomerCancelEndsCancelled) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  SimulatedTerminal terminal(gateway(), device, "cancel");
  ASSERT_TRUE(terminal.wait_online());
  const auto res = pay(merchant, device.device_id, payment_body("2.00", "USD", "TXN-CANCEL"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "CANCELLED");
  EXPECT_EQ(string_at(parse_json(get_transaction(merchant, "TXN-CANCEL").body), "status"),
            "CANCELLED");
}

TEST_F(SimulatorTest, SlowApprovalStillSucceeds) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  SimulatedTerminal terminal(gateway(), device, "slow:300");
  ASSERT_TRUE(terminal.wait_online());
  const auto started = std::chrono::steady_clock::now();
  const auto res = pay(merchant, device.device_id, payment_body("2.00", "USD", "TXN-SLOW"));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "SUCCESS");
  EXPECT_EQ(terminal.status().charges, 1u);
}

// terminal-protocol.md: the gateway re-sends the unfinished payment.request after hello.ok;
// the terminal, which already has the transaction, carries on without a second charge.
TEST_F(SimulatorTest, DropAfterAckReconnectsAndChargesOnce) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  const auto journal = (gateway().dir() / "drop.journal").string();
  SimulatedTerminal terminal(gateway(), device, "drop-after-ack", journal);
  ASSERT_TRUE(terminal.wait_online());
  const auto res = pay(merchant, device.device_id, payment_body("11.00", "USD", "TXN-DROP"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "status"), "SUCCESS");
  EXPECT_GE(terminal.status().connections, 2u);
  EXPECT_TRUE(
      eventually([&] { return read_file(journal).find("\"acked\"") != std::string::npos; }));
  const auto charges = sim::count_journal_charges(journal);
  ASSERT_EQ(charges.count("TXN-DROP"), 1u) << read_file(journal);
  EXPECT_EQ(charges.at("TXN-DROP"), 1);
}

// Issue 6: the terminal process survives kill -9 through its journal. It charges while the
// gateway is down, is killed before it could report, and comes back with the result; the
// gateway, back too, records it, and its re-sent payment.request charges nothing.
class SimulatorCrashTest : public SimulatorTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "30"}, {"TILLGATE_RECONNECT_GRACE_S", "20"}};
  }

  std::unique_ptr<ChildProcess> start_terminal_process(const Device& device,
                                                       const std::string& behavior,
                                                       const std::string& journal) {
    auto process = std::make_unique<ChildProcess>(
        std::vector<std::string>{TILLGATE_BINARY, "terminal", "--url", gateway().url(),
                                 "--device-id", device.device_id, "--device-secret",
                                 device.device_secret, "--behavior", behavior, "--journal", journal,
                                 "--reconnect-delay-ms", "100"},
        EnvMap{}, gateway().dir(), gateway().dir() / "terminal.stderr");
    EXPECT_TRUE(process->wait_for_line("connected as " + device.device_id, 15s))
        << process->stdout_text();
    return process;
  }
};

TEST_F(SimulatorCrashTest, BothKilledMidPaymentTheChargeIsReportedOnceAndNeverRepeated) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  const auto journal = (gateway().dir() / "crash.journal").string();
  auto terminal = start_terminal_process(device, "slow:1500", journal);
  auto cut_off = pay_async(merchant, device.device_id, payment_body("8.25", "USD", "TXN-BOTH"));
  ASSERT_TRUE(terminal->wait_for_line("payment.request TXN-BOTH", 10s)) << terminal->stdout_text();

  // The gateway dies; the customer pays on the terminal meanwhile; then the terminal dies.
  gateway().kill9();
  (void)await_response(cut_off, 10s);
  ASSERT_TRUE(
      eventually([&] { return sim::count_journal_charges(journal).count("TXN-BOTH") == 1; }, 5s))
      << read_file(journal);
  terminal->send_signal(SIGKILL);
  (void)terminal->wait(5s);
  EXPECT_EQ(read_file(journal).find("\"acked\""), std::string::npos) << read_file(journal);

  // Both come back: the journaled result is re-sent and recorded.
  gateway().start();
  terminal = start_terminal_process(device, "slow:1500", journal);
  ASSERT_TRUE(
      eventually([&] { return transaction_status(merchant, "TXN-BOTH") == "COMPLETED"; }, 10s))
      << transaction_status(merchant, "TXN-BOTH") << "\n"
      << terminal->stdout_text();
  ASSERT_TRUE(
      eventually([&] { return read_file(journal).find("\"acked\"") != std::string::npos; }));
  // The merchant's retry gets the outcome; the terminal still charged exactly once, even
  // after the re-sent request and a slow-approval's worth of waiting.
  const auto again = pay(merchant, device.device_id, payment_body("8.25", "USD", "TXN-BOTH"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(string_at(parse_json(again.body), "status"), "SUCCESS");
  std::this_thread::sleep_for(2s);
  const auto charges = sim::count_journal_charges(journal);
  ASSERT_EQ(charges.count("TXN-BOTH"), 1U) << read_file(journal);
  EXPECT_EQ(charges.at("TXN-BOTH"), 1) << read_file(journal);
}

// Found by the chaos test (seed 0x7): a terminal killed between journaling a charge and
// journaling its result, and back only after the reconnect grace. The gateway, whose
// transaction is TIMEOUT by then, never sends its payment.request again, so the terminal
// must report the charge by itself: the late SUCCESS makes the transaction VOIDED and the
// charge is reversed, instead of a charged card behind a TIMEOUT.
class SimulatorGraceTest : public SimulatorTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "30"}, {"TILLGATE_RECONNECT_GRACE_S", "1"}};
  }
};

TEST_F(SimulatorGraceTest, AChargeKilledBeforeItsResultIsReportedAfterTheGraceAndVoided) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  std::future<client::HttpResponse> pending;
  {
    // Stands in for the terminal up to its death: the request arrives, then the connection
    // is gone.
    auto raw = connect_terminal(device);
    pending = pay_async(merchant, device.device_id, payment_body("4.20", "USD", "TXN-CUT"));
    (void)read_frame(*raw.ws, "payment.request");
    raw.ws->drop();
  }
  ASSERT_TRUE(eventually([&] { return transaction_status(merchant, "TXN-CUT") == "TIMEOUT"; }))
      << transaction_status(merchant, "TXN-CUT");
  // What the simulator had journaled when it died: the request and the charge, no result.
  const auto journal = gateway().dir() / "cut.journal";
  {
    std::ofstream out(journal);
    out << R"({"event":"seen","transactionId":"TXN-CUT","at":"2026-01-01T00:00:00.000Z",)"
        << R"("amount":"4.20","currency":"USD","paymentMethod":"CARD"})"
        << "\n"
        << R"({"event":"charged","transactionId":"TXN-CUT","at":"2026-01-01T00:00:00.001Z",)"
        << R"("authorizationCode":"424242"})"
        << "\n";
  }
  SimulatedTerminal terminal(gateway(), device, "approve", journal.string());
  ASSERT_TRUE(terminal.wait_online());
  EXPECT_TRUE(eventually([&] { return transaction_status(merchant, "TXN-CUT") == "VOIDED"; }))
      << transaction_status(merchant, "TXN-CUT") << "\n"
      << read_file(journal);
  EXPECT_TRUE(eventually([&] {
    return read_file(journal).find("\"voided\"") != std::string::npos;
  })) << read_file(journal);
  EXPECT_EQ(sim::count_journal_charges(journal.string()).at("TXN-CUT"), 1) << read_file(journal);
  const auto answered = await_response(pending, 30s);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->status, 200) << answered->body;
}

}  // namespace
}  // namespace tillgate::ft
