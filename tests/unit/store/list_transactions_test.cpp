// Listing: newest first, each filter, and a cursor that holds while new rows arrive.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ListTransactionsTest = StoreTest;

std::vector<std::string> ids(const std::vector<TransactionRecord>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) {
    out.push_back(row.transaction_id);
  }
  return out;
}

// Inserts T1..Tn on d1, each finished (FAILED) so the device is free for the next.
void insert_finished(Store& store, int first, int last) {
  for (int i = first; i <= last; ++i) {
    const std::string id = "T" + std::to_string(i);
    ASSERT_EQ(store.insert_transaction(make_transaction("m1", id, "d1", 1'000'000 + i * 1000)),
              InsertOutcome::inserted);
    StatusChange change;
    change.merchant_id = "m1";
    change.transaction_id = id;
    change.expected = TransactionStatus::pending;
    change.next = TransactionStatus::failed;
    change.cause = "terminal_failed";
    change.at = ms(1'000'000 + i * 1000 + 1);
    ASSERT_TRUE(store.change_status(change)->applied);
  }
}

TEST_P(ListTransactionsTest, NewestFirstWithSequences) {
  insert_finished(*store_, 1, 3);
  TransactionQuery query{.merchant_id = "m1"};
  const auto rows = store_->list_transactions(query);
  EXPECT_THAT(ids(rows), ::testing::ElementsAre("T3", "T2", "T1"));
  EXPECT_GT(rows[0].sequence, rows[1].sequence);
  EXPECT_GT(rows[1].sequence, rows[2].sequence);
}

TEST_P(ListTransactionsTest, CursorPagesStayStableWhileNewRowsArrive) {
  insert_finished(*store_, 1, 5);
  TransactionQuery query{.merchant_id = "m1", .limit = 2};
  const auto first = store_->list_transactions(query);
  EXPECT_THAT(ids(first), ::testing::ElementsAre("T5", "T4"));
  insert_finished(*store_, 6, 8);  // newer rows must not shift the next page
  query.before_sequence = first.back().sequence;
  const auto second = store_->list_transactions(query);
  EXPECT_THAT(ids(second), ::testing::ElementsAre("T3", "T2"));
  query.before_sequence = second.back().sequence;
  EXPECT_THAT(ids(store_->list_transactions(query)), ::testing::ElementsAre("T1"));
}

TEST_P(ListTransactionsTest, FiltersByTerminalStatusAndTime) {
  insert_finished(*store_, 1, 3);
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "P1", "d2", 1'010'000)),
            InsertOutcome::inserted);
  EXPECT_THAT(ids(store_->list_transactions({.merchant_id = "m1", .device_id = "d2"})),
              ::testing::ElementsAre("P1"));
  EXPECT_THAT(
      ids(store_->list_transactions({.merchant_id = "m1", .status = TransactionStatus::failed})),
      ::testing::ElementsAre("T3", "T2", "T1"));
  EXPECT_THAT(
      ids(store_->list_transactions(
          {.merchant_id = "m1", .created_from = ms(1'002'000), .created_to = ms(1'003'000)})),
      ::testing::ElementsAre("T3", "T2"));
}

TEST_P(ListTransactionsTest, OtherMerchantsRowsNeverAppear) {
  insert_finished(*store_, 1, 2);
  EXPECT_TRUE(store_->list_transactions({.merchant_id = "m2"}).empty());
}

TILLGATE_STORE_BACKENDS(ListTransactionsTest);

}  // namespace
}  // namespace tillgate::store::testing
