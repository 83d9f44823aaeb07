// Several nodes on one PostgreSQL database (node_store.hpp): two PostgresStore objects on
// the test's database, each with its own node id, as two gateway nodes. Leases, terminal
// claims in commit order, a dead node's terminals taken by one node only, the change feed
// (another node's rows with their transaction and payment event, its own only moving the
// cursor), the cancels a node's terminals must hear, and the notifications that wake a node.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "store/node_store.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using domain::TransactionStatus;

class NodeStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) {
      return;
    }
    node_a_ = open_node("node-a");
    node_b_ = open_node("node-b");
  }
  std::unique_ptr<postgres::PostgresStore> open_node(const std::string& node_id) {
    return std::make_unique<postgres::PostgresStore>(
        db_url(), postgres::ConnectionOptions{.node_id = node_id});
  }
  static TerminalPresenceRecord claim_of(const std::string& device, const std::string& node,
                                         const std::string& connection, std::int64_t at_ms) {
    return TerminalPresenceRecord{.device_id = device,
                                  .merchant_id = "m1",
                                  .node_id = node,
                                  .connection_id = connection,
                                  .since = ms(at_ms)};
  }

  std::unique_ptr<postgres::PostgresStore> node_a_;
  std::unique_ptr<postgres::PostgresStore> node_b_;
};

TEST_P(NodeStoreTest, ALeaseSaysWhetherItHadPassed) {
  EXPECT_TRUE(node_a_->renew_node_lease("node-a", ms(1'000), ms(16'000)));  // new
  EXPECT_FALSE(node_a_->renew_node_lease("node-a", ms(6'000), ms(21'000)));
  EXPECT_TRUE(node_a_->renew_node_lease("node-a", ms(30'000), ms(45'000)));  // it had passed
  node_a_->end_node_lease("node-a", ms(31'000));
  EXPECT_TRUE(node_a_->renew_node_lease("node-a", ms(32'000), ms(47'000)));
}

TEST_P(NodeStoreTest, ALaterClaimOfTheDeviceReplacesTheEarlierOneInCommitOrder) {
  node_a_->renew_node_lease("node-a", ms(1'000), ms(16'000));
  node_b_->renew_node_lease("node-b", ms(1'000), ms(16'000));
  const auto first = node_a_->claim_terminal(claim_of("d1", "node-a", "c1", 2'000));
  const auto second = node_b_->claim_terminal(claim_of("d1", "node-b", "c2", 3'000));
  EXPECT_GT(second, first);
  const auto presence = node_a_->find_terminal_presence("d1");
  ASSERT_TRUE(presence.has_value());
  EXPECT_EQ(presence->node_id, "node-b");
  EXPECT_EQ(presence->connection_id, "c2");
  EXPECT_EQ(presence->node_lease_until, ms(16'000));
  EXPECT_FALSE(presence->dropped_at.has_value());
  const auto claims = node_a_->list_terminal_claims_after(first, 10);
  ASSERT_EQ(claims.size(), 1U);
  EXPECT_EQ(claims[0].claim_sequence, second);
  EXPECT_EQ(claims[0].node_id, "node-b");

  // Only the holder's own connection is marked dropped or released.
  node_a_->mark_terminal_dropped("d1", "node-a", "c1", ms(4'000));
  node_a_->release_terminal("d1", "node-a");
  EXPECT_FALSE(node_a_->find_terminal_presence("d1")->dropped_at.has_value());
  node_b_->mark_terminal_dropped("d1", "node-b", "c2", ms(5'000));
  EXPECT_EQ(node_a_->find_terminal_presence("d1")->dropped_at, ms(5'000));
  // A drop is a presence change after the claim, which the other nodes read.
  const auto dropped = node_a_->list_terminal_claims_after(second, 10);
  ASSERT_EQ(dropped.size(), 1U);
  EXPECT_GT(dropped[0].claim_sequence, second);
  EXPECT_EQ(dropped[0].dropped_at, ms(5'000));
  EXPECT_EQ(node_a_->latest_claim_sequence(), dropped[0].claim_sequence);
  node_b_->forget_dropped_terminals(ms(5'000));  // dropped at 5 000, not before
  EXPECT_TRUE(node_a_->find_terminal_presence("d1").has_value());
  node_b_->forget_dropped_terminals(ms(5'001));
  EXPECT_FALSE(node_a_->find_terminal_presence("d1").has_value());
}

TEST_P(NodeStoreTest, ADeadNodesTerminalsAreTakenOnceAsDropped) {
  node_a_->renew_node_lease("node-a", ms(1'000), ms(16'000));
  node_b_->renew_node_lease("node-b", ms(1'000), ms(40'000));
  node_a_->claim_terminal(claim_of("d1", "node-a", "c1", 2'000));
  node_a_->claim_terminal(claim_of("d2", "node-a", "c2", 2'000));
  node_a_->mark_terminal_dropped("d2", "node-a", "c2", ms(9'000));
  EXPECT_TRUE(node_b_->take_terminals_of_dead_nodes("node-b", ms(15'999), 10).empty());

  const auto taken = node_b_->take_terminals_of_dead_nodes("node-b", ms(20'000), 10);
  ASSERT_EQ(taken.size(), 2U);
  for (const auto& presence : taken) {
    EXPECT_EQ(presence.node_id, "node-b");
    // d1 dropped with its node; d2 had dropped before, and its grace runs from then.
    EXPECT_EQ(presence.dropped_at, presence.device_id == "d1" ? ms(20'000) : ms(9'000));
  }
  EXPECT_TRUE(node_a_->take_terminals_of_dead_nodes("node-a", ms(21'000), 10).empty());
  EXPECT_TRUE(node_b_->take_terminals_of_dead_nodes("node-b", ms(21'000), 10).empty());
  // A node starting again under the same id forgets what its previous process held.
  node_b_->release_node_terminals("node-b");
  EXPECT_FALSE(node_a_->find_terminal_presence("d1").has_value());
}

TEST_P(NodeStoreTest, TheFeedGivesAnotherNodesChangesWithTheirEventAndOnlyTheCursorForItsOwn) {
  const auto start = node_b_->latest_change_sequence();
  ASSERT_EQ(node_a_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_EQ(node_b_->insert_transaction(make_transaction("m1", "T2", "d2")),
            InsertOutcome::inserted);
  StatusChange change{.merchant_id = "m1",
                      .transaction_id = "T1",
                      .expected = TransactionStatus::pending,
                      .next = TransactionStatus::completed,
                      .cause = "terminal_succeeded",
                      .at = ms(1'700'000'001'000),
                      .outcome = std::nullopt,
                      .completed_at = ms(1'700'000'001'000),
                      .voided_at = std::nullopt,
                      .void_reason = std::nullopt};
  change.webhook_event = WebhookEventRecord{.event_id = "evt_1",
                                            .merchant_id = "m1",
                                            .transaction_id = "T1",
                                            .event_type = "payment.completed",
                                            .payload = "{}",
                                            .created_at = ms(1'700'000'001'000)};
  ASSERT_TRUE(node_a_->change_status(change)->applied);

  const auto feed = node_b_->list_changes_after(start, "node-b", 10);
  ASSERT_EQ(feed.size(), 3U);
  EXPECT_FALSE(feed[0].own);
  EXPECT_EQ(feed[0].transaction.transaction_id, "T1");
  EXPECT_EQ(feed[0].transaction.status, TransactionStatus::pending);  // as this change left it
  EXPECT_EQ(feed[0].current_status, TransactionStatus::completed);    // and as it is now
  EXPECT_FALSE(feed[0].from.has_value());
  EXPECT_FALSE(feed[0].event_id.has_value());
  EXPECT_TRUE(feed[1].own);  // node b's own insert of T2: only the cursor moves
  EXPECT_FALSE(feed[2].own);
  EXPECT_EQ(feed[2].transaction.status, TransactionStatus::completed);
  EXPECT_EQ(feed[2].from, TransactionStatus::pending);
  EXPECT_EQ(feed[2].cause, "terminal_succeeded");
  EXPECT_EQ(feed[2].event_id, "evt_1");
  EXPECT_TRUE(feed[2].event_sequence.has_value());
  EXPECT_LT(feed[0].sequence, feed[1].sequence);
  EXPECT_LT(feed[1].sequence, feed[2].sequence);
  EXPECT_EQ(node_b_->latest_change_sequence(), feed[2].sequence);
  // A window of one row at a time reads the same rows.
  EXPECT_EQ(node_b_->list_changes_after(feed[0].sequence, "node-b", 1).at(0).sequence,
            feed[1].sequence);
  EXPECT_TRUE(node_b_->list_changes_after(feed[2].sequence, "node-b", 10).empty());
}

TEST_P(NodeStoreTest, ANodeHearsTheCancelsOfTheTerminalsItHolds) {
  node_a_->renew_node_lease("node-a", ms(1'000), ms(16'000));
  node_a_->claim_terminal(claim_of("d1", "node-a", "c1", 2'000));
  ASSERT_EQ(node_b_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_EQ(node_b_->insert_transaction(make_transaction("m1", "T2", "d2")),
            InsertOutcome::inserted);
  EXPECT_TRUE(node_a_->list_cancels_held_by("node-a").empty());
  ASSERT_TRUE(node_b_->request_cancel("m1", "T1", ms(1'700'000'000'500)).has_value());
  ASSERT_TRUE(node_b_->request_cancel("m1", "T2", ms(1'700'000'000'500)).has_value());
  const auto cancels = node_a_->list_cancels_held_by("node-a");
  ASSERT_EQ(cancels.size(), 1U);  // T2's terminal is held by nobody
  EXPECT_EQ(cancels[0].transaction_id, "T1");
  EXPECT_TRUE(node_b_->list_cancels_held_by("node-b").empty());
}

TEST_P(NodeStoreTest, AnotherNodesCommitWakesTheListenerAndItsOwnDoesNot) {
  std::atomic<int> wakes{0};
  DatabaseOptions options;
  options.node_id = "node-a";
  const auto listener = listen_for_changes(db_url(), options, [&wakes] { ++wakes; });
  ASSERT_NE(listener, nullptr);
  const auto wait_for = [&wakes](int at_least) {
    for (int i = 0; i < 500 && wakes.load() < at_least; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return wakes.load();
  };
  ASSERT_GE(wait_for(1), 1);  // its first connection
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  const int connected = wakes.load();
  ASSERT_EQ(node_a_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  EXPECT_EQ(wakes.load(), connected) << "its own node's commit";
  ASSERT_EQ(node_b_->insert_transaction(make_transaction("m1", "T2", "d2")),
            InsertOutcome::inserted);
  EXPECT_GE(wait_for(connected + 1), connected + 1) << "another node's commit";
  EXPECT_EQ(listen_for_changes("sqlite:" + (dir_.path() / "x.db").string(), options, [] {}),
            nullptr);
}

INSTANTIATE_TEST_SUITE_P(Postgres, NodeStoreTest,
                         ::testing::Values(::tillgate::store::testing::Backend::postgres),
                         ::tillgate::store::testing::backend_name);

}  // namespace
}  // namespace tillgate::store::testing
