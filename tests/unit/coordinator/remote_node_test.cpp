// The coordinator as one node among several (node_sync.hpp): what another node committed,
// handed in as the change feed would (remote_change, remote_cancel), a terminal held by
// another node (RemoteTerminals), a connection replaced on another node (terminal_moved), a
// terminal whose node died (terminal_lost). "Another node" writes straight to the store;
// every deadline is driven by the manual clock. And presence_of, the rule that reads a
// presence record.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../store/store_test_support.hpp"
#include "coordinator_harness.hpp"
#include "payments/node_sync.hpp"

namespace tillgate::testing {
namespace {

using namespace std::chrono_literals;
using domain::TransactionStatus;
using payments::PaymentStatusChanged;
using payments::TerminalPresence;
using Kind = SentToTerminal::Kind;

// Terminals of other nodes: as the store would say.
class FakeRemoteTerminals final : public payments::RemoteTerminals {
 public:
  boost::asio::awaitable<std::optional<TerminalPresence>> presence(
      const domain::DeviceId& device_id) override {
    const auto it = presences.find(device_id.str());
    co_return it == presences.end() ? std::nullopt : std::optional(it->second);
  }
  boost::asio::awaitable<payments::TerminalsElsewhere> of_merchant(
      const domain::MerchantId& /*merchant_id*/) override {
    payments::TerminalsElsewhere elsewhere;
    for (const auto& [device, presence] : presences) {
      elsewhere.emplace(device, payments::RemoteTerminal{domain::ConnectionId("conn_elsewhere"),
                                                         kStart, presence});
    }
    co_return elsewhere;
  }
  boost::asio::awaitable<void> claim(const domain::MerchantId& /*merchant_id*/,
                                     const domain::DeviceId& device_id,
                                     const domain::ConnectionId& /*connection_id*/) override {
    claimed.push_back(device_id.str());
    co_return;
  }
  std::vector<std::string> claimed;
  std::map<std::string, TerminalPresence> presences;
};

class RemoteNodeTest : public ::testing::Test {
 protected:
  RemoteNodeTest() {
    h.add_merchant("m1", {"d1"});
    // d2 is the merchant's too, connected to no node yet.
    h.store->direct().insert_device(store::testing::make_device("d2", "m1"));
    h.merchant_of["d2"] = "m1";
    h.coordinator->set_remote_terminals(remote);
  }
  // A transaction another node created (and committed) for `device_id`.
  store::TransactionRecord created_elsewhere(const std::string& transaction_id,
                                             const std::string& device_id) {
    auto record = store::testing::make_transaction("m1", transaction_id, device_id,
                                                   kStart.time_since_epoch().count());
    EXPECT_EQ(h.store->direct().insert_transaction(record), store::InsertOutcome::inserted);
    return record;
  }
  // Another node's change of the transaction to `next`, committed.
  store::TransactionRecord changed_elsewhere(const std::string& transaction_id,
                                             TransactionStatus expected, TransactionStatus next) {
    store::StatusChange change{.merchant_id = "m1",
                               .transaction_id = transaction_id,
                               .expected = expected,
                               .next = next,
                               .cause = "terminal_succeeded",
                               .at = h.time.now(),
                               .outcome = std::nullopt,
                               .completed_at = h.time.now(),
                               .voided_at = std::nullopt,
                               .void_reason = std::nullopt};
    auto result = h.store->direct().change_status(change);
    EXPECT_TRUE(result && result->applied);
    return result->transaction;
  }

  CoordinatorHarness h;
  FakeRemoteTerminals remote;
};

TEST_F(RemoteNodeTest, APaymentCreatedElsewhereIsPushedHereAndItsDeadlinesRunHereToo) {
  const auto record = created_elsewhere("t1", "d1");
  h.coordinator->remote_change(
      PaymentStatusChanged{record, std::nullopt, std::nullopt, std::nullopt},
      TransactionStatus::pending);
  h.settle();
  ASSERT_EQ(h.port.sent_for("t1").size(), 1U);
  EXPECT_EQ(h.port.sent_for("t1")[0].kind, Kind::request);
  ASSERT_EQ(h.recorder.changes.size(), 1U);  // published here as if local
  EXPECT_EQ(h.recorder.changes[0].transaction.transaction_id, "t1");

  h.advance(90s);  // the deadline: the terminal held here is told to cancel
  ASSERT_EQ(h.port.sent_for("t1").size(), 2U);
  EXPECT_EQ(h.port.sent_for("t1")[1].reason, "TIMEOUT");
  h.advance(60s);  // no answer within the grace
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::timeout);
}

TEST_F(RemoteNodeTest, ACreationReadAfterItsTransactionWentFinalPushesNothing) {
  const auto record = created_elsewhere("t1", "d1");
  (void)changed_elsewhere("t1", TransactionStatus::pending, TransactionStatus::completed);
  h.coordinator->remote_change(
      PaymentStatusChanged{record, std::nullopt, std::nullopt, std::nullopt},
      TransactionStatus::completed);
  h.settle();
  EXPECT_TRUE(h.port.sent_for("t1").empty());
}

TEST_F(RemoteNodeTest, APaymentForATerminalOnAnotherNodeWaitsHereForTheResultCommittedThere) {
  auto offline = h.pay("m1", "d2", "t0", 100, false);
  ASSERT_TRUE(offline->done);
  EXPECT_EQ(offline->value->error, payments::SubmitError::terminal_offline);

  remote.presences["d2"] = TerminalPresence::connected;
  auto payment = h.pay("m1", "d2", "t1", 2500, false);
  EXPECT_FALSE(payment->done);
  EXPECT_FALSE(h.port.connection(domain::DeviceId("d2")));  // its own node pushes it
  const auto completed =
      changed_elsewhere("t1", TransactionStatus::pending, TransactionStatus::completed);
  h.coordinator->remote_change(
      PaymentStatusChanged{completed, TransactionStatus::pending,
                           domain::TransactionEvent::terminal_succeeded, std::nullopt},
      TransactionStatus::completed);
  h.settle();
  ASSERT_TRUE(payment->done);
  EXPECT_EQ(payment->value->transaction->status, TransactionStatus::completed);
  EXPECT_FALSE(payment->value->timed_out);
  h.advance(200s);  // its timers here stopped with the final change
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::completed);

  remote.presences["d2"] = TerminalPresence::reconnecting;  // inside its grace, elsewhere
  auto during_grace = h.pay("m1", "d2", "t2", 100, true);
  ASSERT_TRUE(during_grace->done);
  EXPECT_FALSE(during_grace->value->error);
}

TEST_F(RemoteNodeTest, ACancelRecordedElsewhereIsSentOncePerConnectionAndItsGraceRunsHere) {
  auto payment = h.pay("m1", "d1", "t1", 100, true);
  ASSERT_TRUE(payment->done);
  const auto requested = h.store->direct().request_cancel("m1", "t1", h.time.now());
  ASSERT_TRUE(requested && requested->applied);
  h.coordinator->remote_cancel(requested->transaction);
  h.coordinator->remote_cancel(requested->transaction);  // the next poll finds it again
  h.settle();
  const auto cancels = [&] {
    int n = 0;
    for (const auto& sent : h.port.sent_for("t1")) {
      n += sent.kind == Kind::cancel && sent.reason == "MERCHANT" ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(cancels(), 1);
  h.drop("m1", "d1");
  h.reconnect("m1", "d1");  // a new connection is told again (by the hello)
  h.coordinator->remote_cancel(requested->transaction);
  h.settle();
  EXPECT_EQ(cancels(), 2);
  h.advance(60s);  // the cancel's grace, run here: no answer, TIMEOUT
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::timeout);
}

TEST_F(RemoteNodeTest, AConnectionReplacedElsewhereClosesHereWithoutADrop) {
  auto payment = h.pay("m1", "d1", "t1", 100, true);
  ASSERT_TRUE(payment->done);
  const auto connection = h.port.connection(domain::DeviceId("d1"))->connection_id;
  h.coordinator->terminal_moved(domain::DeviceId("d1"), domain::ConnectionId("conn_other"));
  EXPECT_TRUE(h.port.replaced.empty()) << "not its live connection: nothing happens";
  h.coordinator->terminal_moved(domain::DeviceId("d1"), connection);
  h.settle();
  EXPECT_THAT(h.port.replaced, ::testing::ElementsAre(connection.str()));
  EXPECT_FALSE(h.coordinator->presence(domain::DeviceId("d1")).has_value());
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::pending);  // no drop here
}

TEST_F(RemoteNodeTest, ATerminalLostWithItsNodeWaitsOutTheReconnectGraceHere) {
  remote.presences["d2"] = TerminalPresence::connected;
  auto payment = h.pay("m1", "d2", "t1", 100, true);
  ASSERT_TRUE(payment->done);
  h.coordinator->terminal_lost(domain::DeviceId("d2"));
  h.settle();
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::awaiting_reconnect);
  h.advance(59s);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::awaiting_reconnect);
  h.advance(1s);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::timeout);
}

TEST(PresenceOf, ConnectedReconnectingOrGoneByTheDropAndTheNodesLease) {
  const auto at = [](std::int64_t s) { return kStart + std::chrono::seconds(s); };
  store::TerminalPresenceRecord record{.device_id = "d1",
                                       .merchant_id = "m1",
                                       .node_id = "node-a",
                                       .connection_id = "c1",
                                       .since = at(0),
                                       .node_lease_until = at(15)};
  const std::chrono::seconds grace{60};
  EXPECT_EQ(payments::presence_of(record, at(10), grace), TerminalPresence::connected);
  // Its node's lease passed: dropped then.
  EXPECT_EQ(payments::presence_of(record, at(15), grace), TerminalPresence::reconnecting);
  EXPECT_EQ(payments::presence_of(record, at(74), grace), TerminalPresence::reconnecting);
  EXPECT_EQ(payments::presence_of(record, at(75), grace), std::nullopt);
  // Dropped on a live node.
  record.node_lease_until = at(1000);
  record.dropped_at = at(5);
  EXPECT_EQ(payments::presence_of(record, at(64), grace), TerminalPresence::reconnecting);
  EXPECT_EQ(payments::presence_of(record, at(65), grace), std::nullopt);
}

}  // namespace
}  // namespace tillgate::testing
