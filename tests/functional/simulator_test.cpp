// The simulated terminal's behaviors against the real gateway, and its journal.
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

}  // namespace
}  // namespace tillgate::ft
