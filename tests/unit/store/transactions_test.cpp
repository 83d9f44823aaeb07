// Transactions: insert outcomes, compare-and-set status changes, unfinished lookups, events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain/terminal_outcome.hpp"
#include "domain/transaction.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

StatusChange make_change(const std::string& transaction_id, TransactionStatus expected,
                         TransactionStatus next, std::int64_t at_ms) {
  return StatusChange{.merchant_id = "m1",
                      .transaction_id = transaction_id,
                      .expected = expected,
                      .next = next,
                      .cause = "terminal_succeeded",
                      .at = ms(at_ms),
                      .outcome = std::nullopt,
                      .completed_at = std::nullopt,
                      .voided_at = std::nullopt,
                      .void_reason = std::nullopt};
}

using TransactionsTest = StoreTest;

TEST_P(TransactionsTest, InsertedTransactionReadsBackWithItsCreatedEvent) {
  const auto record = make_transaction("m1", "T1", "d1");
  EXPECT_EQ(store_->insert_transaction(record), InsertOutcome::inserted);
  const auto found = store_->find_transaction("m1", "T1");
  ASSERT_TRUE(found.has_value());
  expect_same(record, *found);

  const auto events = store_->list_events("m1", "T1");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_GT(events[0].sequence, 0);
  expect_same(TransactionEventRecord{.sequence = events[0].sequence,
                                     .merchant_id = "m1",
                                     .transaction_id = "T1",
                                     .from_status = std::nullopt,
                                     .to_status = TransactionStatus::pending,
                                     .cause = "created",
                                     .at = record.created_at},
              events[0]);
}

TEST_P(TransactionsTest, UnknownTransactionIsNotFound) {
  EXPECT_FALSE(store_->find_transaction("m1", "nope").has_value());
  EXPECT_TRUE(store_->list_events("m1", "nope").empty());
}

TEST_P(TransactionsTest, SameIdForTheSameMerchantAlreadyExists) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  // Even on another terminal, and even though d1 is busy: the id is checked first.
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d2")),
            InsertOutcome::already_exists);
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::already_exists);
  EXPECT_EQ(store_->find_transaction("m1", "T1")->device_id, "d1");
  EXPECT_EQ(store_->list_events("m1", "T1").size(), 1U);
}

TEST_P(TransactionsTest, TransactionIdsAreScopedPerMerchant) {
  store_->insert_merchant(make_merchant("m2"));
  ASSERT_TRUE(store_->insert_device(make_device("e1", "m2")));
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  EXPECT_EQ(store_->insert_transaction(make_transaction("m2", "T1", "e1")),
            InsertOutcome::inserted);
}

TEST_P(TransactionsTest, ATerminalTakesOneUnfinishedPaymentAtATime) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T2", "d1")),
            InsertOutcome::device_busy);
  EXPECT_FALSE(store_->find_transaction("m1", "T2").has_value());
  EXPECT_TRUE(store_->list_events("m1", "T2").empty());
  // Another terminal is not affected.
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T3", "d2")),
            InsertOutcome::inserted);
}

TEST_P(TransactionsTest, AwaitingReconnectAlsoKeepsTheTerminalBusy) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_
                  ->change_status(make_change("T1", TransactionStatus::pending,
                                              TransactionStatus::awaiting_reconnect, 5))
                  ->applied);
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T2", "d1")),
            InsertOutcome::device_busy);
}

TEST_P(TransactionsTest, ATerminalIsFreeAgainOnceItsPaymentIsFinal) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_
                  ->change_status(make_change("T1", TransactionStatus::pending,
                                              TransactionStatus::completed, 1'700'000'050'000))
                  ->applied);
  EXPECT_EQ(store_->insert_transaction(make_transaction("m1", "T2", "d1")),
            InsertOutcome::inserted);
}

TEST_P(TransactionsTest, TheDatabaseItselfRefusesASecondUnfinishedPaymentPerTerminal) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  RawDb raw = raw_db();
  // A copy of T1 as T2, unfinished, on the same terminal, written behind the store's back.
  const std::string copy_as_t2 =
      "INSERT INTO transactions SELECT merchant_id, 'T2', seq + 100, device_id, "
      "'AWAITING_RECONNECT', amount_minor, currency, payment_method, webhook_mode, "
      "request_json, request_fingerprint, response_json, created_at, updated_at, deadline, "
      "completed_at, voided_at, void_reason, version, cancel_requested_at FROM transactions "
      "WHERE transaction_id = 'T1'";
  EXPECT_EQ(raw.exec(copy_as_t2), SQLITE_CONSTRAINT);
  EXPECT_THAT(raw.last_error(), ::testing::HasSubstr(unique_violation()));
  if (raw.is_postgres()) {  // SQLite names the column, PostgreSQL the index
    EXPECT_THAT(raw.last_error(), ::testing::HasSubstr("transactions_one_unfinished_per_device"));
  }
}

TEST_P(TransactionsTest, EveryStatusIsStoredUnderItsWireName) {
  const TransactionStatus all[] = {
      TransactionStatus::pending,   TransactionStatus::awaiting_reconnect,
      TransactionStatus::completed, TransactionStatus::failed,
      TransactionStatus::cancelled, TransactionStatus::timeout,
      TransactionStatus::voided};
  RawDb raw = raw_db();
  int n = 0;
  for (const auto status : all) {
    const std::string id = "T" + std::to_string(++n);
    const std::string device = "s" + std::to_string(n);
    ASSERT_TRUE(store_->insert_device(make_device(device, "m1")));
    auto record = make_transaction("m1", id, device);
    record.status = status;
    ASSERT_EQ(store_->insert_transaction(record), InsertOutcome::inserted) << id;
    EXPECT_EQ(store_->find_transaction("m1", id)->status, status);
    EXPECT_EQ(raw.query_text("SELECT status FROM transactions WHERE transaction_id = '" + id + "'"),
              domain::to_string(status));
  }
}

TEST_P(TransactionsTest, TheTerminalMustBelongToTheMerchant) {
  store_->insert_merchant(make_merchant("m2"));
  ASSERT_TRUE(store_->insert_device(make_device("e1", "m2")));
  EXPECT_THROW((void)store_->insert_transaction(make_transaction("m1", "T1", "e1")), StoreError);
  EXPECT_THROW((void)store_->insert_transaction(make_transaction("m1", "T1", "ghost")), StoreError);
  EXPECT_FALSE(store_->find_transaction("m1", "T1").has_value());
}

TEST_P(TransactionsTest, AppliedChangeUpdatesTheRowAndAppendsAnEvent) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  auto change = make_change("T1", TransactionStatus::pending, TransactionStatus::completed,
                            1'700'000'010'456);
  change.outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success,
                                           .authorization_code = "AUTH123456"};
  change.completed_at = ms(1'700'000'010'456);

  const auto result = store_->change_status(change);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->applied);
  auto expected = make_transaction("m1", "T1", "d1");
  expected.status = TransactionStatus::completed;
  expected.updated_at = change.at;
  expected.outcome = change.outcome;
  expected.completed_at = change.completed_at;
  expected.version = 2;
  expect_same(expected, result->transaction);
  expect_same(expected, *store_->find_transaction("m1", "T1"));

  const auto events = store_->list_events("m1", "T1");
  ASSERT_EQ(events.size(), 2U);
  EXPECT_GT(events[1].sequence, events[0].sequence);
  expect_same(TransactionEventRecord{.sequence = events[1].sequence,
                                     .merchant_id = "m1",
                                     .transaction_id = "T1",
                                     .from_status = TransactionStatus::pending,
                                     .to_status = TransactionStatus::completed,
                                     .cause = "terminal_succeeded",
                                     .at = change.at},
              events[1]);
}

TEST_P(TransactionsTest, LostRaceIsNotAppliedAndWritesNothing) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_
                  ->change_status(make_change("T1", TransactionStatus::pending,
                                              TransactionStatus::completed, 100))
                  ->applied);
  auto late = make_change("T1", TransactionStatus::pending, TransactionStatus::timeout, 200);
  late.void_reason = "should not be written";
  const auto result = store_->change_status(late);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->applied);
  EXPECT_EQ(result->transaction.status, TransactionStatus::completed);
  EXPECT_EQ(result->transaction.version, 2);
  EXPECT_EQ(result->transaction.updated_at, ms(100));
  EXPECT_FALSE(result->transaction.void_reason.has_value());
  expect_same(result->transaction, *store_->find_transaction("m1", "T1"));
  EXPECT_EQ(store_->list_events("m1", "T1").size(), 2U);
}

TEST_P(TransactionsTest, ChangeOfUnknownTransactionIsNullopt) {
  EXPECT_FALSE(store_
                   ->change_status(make_change("nope", TransactionStatus::pending,
                                               TransactionStatus::completed, 1))
                   .has_value());
  // Merchant scoping: m2 cannot change m1's transaction.
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  auto other = make_change("T1", TransactionStatus::pending, TransactionStatus::completed, 1);
  other.merchant_id = "m2";
  EXPECT_FALSE(store_->change_status(other).has_value());
  EXPECT_EQ(store_->find_transaction("m1", "T1")->status, TransactionStatus::pending);
}

TEST_P(TransactionsTest, VersionCountsChangesAndUnsetFieldsKeepTheirValues) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  const auto pending = TransactionStatus::pending;
  const auto awaiting = TransactionStatus::awaiting_reconnect;
  // change_status answers the record without reading the row back: at every step, what it
  // answers is what a read of the row finds.
  const auto answers_what_is_stored = [this](const StatusChange& change) {
    const auto result = store_->change_status(change);
    EXPECT_TRUE(result.has_value() && result->applied);
    if (result) {
      expect_same(*store_->find_transaction("m1", "T1"), result->transaction);
    }
    return result;
  };
  ASSERT_TRUE(answers_what_is_stored(make_change("T1", pending, awaiting, 10)));
  ASSERT_TRUE(answers_what_is_stored(make_change("T1", awaiting, pending, 20)));
  ASSERT_TRUE(answers_what_is_stored(make_change("T1", pending, TransactionStatus::timeout, 30)));

  auto void_change = make_change("T1", TransactionStatus::timeout, TransactionStatus::voided, 40);
  void_change.outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success};
  void_change.voided_at = ms(40);
  void_change.void_reason = "success reported after TIMEOUT";
  const auto voided = answers_what_is_stored(void_change);
  ASSERT_TRUE(voided.has_value() && voided->applied);
  EXPECT_EQ(voided->transaction.version, 5);
  EXPECT_EQ(voided->transaction.voided_at, ms(40));
  EXPECT_EQ(voided->transaction.void_reason, "success reported after TIMEOUT");
  EXPECT_FALSE(voided->transaction.completed_at.has_value());

  // A later change that sets nothing optional keeps what is stored.
  const auto again = answers_what_is_stored(
      make_change("T1", TransactionStatus::voided, TransactionStatus::voided, 50));
  ASSERT_TRUE(again.has_value() && again->applied);
  EXPECT_EQ(again->transaction.version, 6);
  EXPECT_EQ(again->transaction.outcome,
            domain::TerminalOutcome{.status = domain::TerminalStatus::success});
  EXPECT_EQ(again->transaction.voided_at, ms(40));
  EXPECT_EQ(again->transaction.void_reason, "success reported after TIMEOUT");
  EXPECT_EQ(again->transaction.updated_at, ms(50));

  const auto events = store_->list_events("m1", "T1");
  ASSERT_EQ(events.size(), 6U);
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].sequence, events[i - 1].sequence);
    EXPECT_EQ(events[i].from_status, events[i - 1].to_status);
  }
}

TEST_P(TransactionsTest, FindUnfinishedForDevice) {
  EXPECT_FALSE(store_->find_unfinished_for_device("d1").has_value());
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  const auto found = store_->find_unfinished_for_device("d1");
  ASSERT_TRUE(found.has_value());
  expect_same(make_transaction("m1", "T1", "d1"), *found);
  EXPECT_FALSE(store_->find_unfinished_for_device("d2").has_value());

  ASSERT_TRUE(store_
                  ->change_status(make_change("T1", TransactionStatus::pending,
                                              TransactionStatus::awaiting_reconnect, 5))
                  ->applied);
  EXPECT_EQ(store_->find_unfinished_for_device("d1")->status,
            TransactionStatus::awaiting_reconnect);
  ASSERT_TRUE(store_
                  ->change_status(make_change("T1", TransactionStatus::awaiting_reconnect,
                                              TransactionStatus::timeout, 6))
                  ->applied);
  EXPECT_FALSE(store_->find_unfinished_for_device("d1").has_value());
}

TEST_P(TransactionsTest, ListUnfinishedIsOldestFirstAndSkipsFinalOnes) {
  ASSERT_TRUE(store_->insert_device(make_device("d3", "m1")));
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "late", "d1", 3'000)),
            InsertOutcome::inserted);
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "early", "d2", 1'000)),
            InsertOutcome::inserted);
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "done", "d3", 2'000)),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_
                  ->change_status(make_change("late", TransactionStatus::pending,
                                              TransactionStatus::awaiting_reconnect, 3'500))
                  ->applied);
  ASSERT_TRUE(store_
                  ->change_status(make_change("done", TransactionStatus::pending,
                                              TransactionStatus::failed, 2'500))
                  ->applied);
  EXPECT_THAT(store_->list_unfinished(),
              ElementsAre(Field(&TransactionRecord::transaction_id, "early"),
                          Field(&TransactionRecord::transaction_id, "late")));
}

TEST_P(TransactionsTest, EventsAreListedPerTransactionInOrder) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "A", "d1")), InsertOutcome::inserted);
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "B", "d2")), InsertOutcome::inserted);
  ASSERT_TRUE(store_
                  ->change_status(
                      make_change("A", TransactionStatus::pending, TransactionStatus::failed, 10))
                  ->applied);
  ASSERT_TRUE(store_
                  ->change_status(make_change("B", TransactionStatus::pending,
                                              TransactionStatus::cancelled, 20))
                  ->applied);
  const auto a = store_->list_events("m1", "A");
  EXPECT_THAT(a, ElementsAre(Field(&TransactionEventRecord::cause, "created"),
                             Field(&TransactionEventRecord::to_status, TransactionStatus::failed)));
  const auto b = store_->list_events("m1", "B");
  ASSERT_EQ(b.size(), 2U);
  EXPECT_EQ(b[1].to_status, TransactionStatus::cancelled);
  EXPECT_GT(b[1].sequence, a[1].sequence);  // one sequence across all transactions
}

}  // namespace
}  // namespace tillgate::store::testing

namespace tillgate::store::testing {
namespace {

using CancelRequestTest = StoreTest;

TEST_P(CancelRequestTest, IsRecordedOnceWithoutChangingStatusVersionOrUpdatedAt) {
  const auto inserted = make_transaction("m1", "T1", "d1");
  ASSERT_EQ(store_->insert_transaction(inserted), InsertOutcome::inserted);
  const auto first = store_->request_cancel("m1", "T1", ms(1'700'000'001'000));
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->applied);
  EXPECT_EQ(first->transaction.cancel_requested_at, ms(1'700'000'001'000));
  const auto stored = store_->find_transaction("m1", "T1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->cancel_requested_at, ms(1'700'000'001'000));
  EXPECT_EQ(stored->status, TransactionStatus::pending);
  EXPECT_EQ(stored->version, inserted.version);
  EXPECT_EQ(stored->updated_at, inserted.updated_at);
  const auto events = store_->list_events("m1", "T1");
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[1].cause, "cancel_requested");
  EXPECT_EQ(events[1].from_status, TransactionStatus::pending);
  EXPECT_EQ(events[1].to_status, TransactionStatus::pending);

  const auto again = store_->request_cancel("m1", "T1", ms(1'700'000'002'000));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->applied);
  EXPECT_EQ(again->transaction.cancel_requested_at, ms(1'700'000'001'000));
  EXPECT_EQ(store_->list_events("m1", "T1").size(), 2U);
}

TEST_P(CancelRequestTest, FinalOrUnknownTransactionIsNotMarked) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_
                  ->change_status(make_change("T1", TransactionStatus::pending,
                                              TransactionStatus::completed, 1'700'000'005'000))
                  ->applied);
  const auto result = store_->request_cancel("m1", "T1", ms(1'700'000'009'000));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->applied);
  EXPECT_EQ(result->transaction.status, TransactionStatus::completed);
  EXPECT_FALSE(store_->find_transaction("m1", "T1")->cancel_requested_at.has_value());
  EXPECT_FALSE(store_->request_cancel("m1", "nope", ms(1)).has_value());
  EXPECT_FALSE(store_->request_cancel("m2", "T1", ms(1)).has_value());  // another merchant's id
}

TEST_P(CancelRequestTest, SurvivesReopen) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_->request_cancel("m1", "T1", ms(1'700'000'001'000))->applied);
  reopen();
  EXPECT_EQ(store_->find_transaction("m1", "T1")->cancel_requested_at, ms(1'700'000'001'000));
  EXPECT_EQ(store_->list_unfinished().front().cancel_requested_at, ms(1'700'000'001'000));
}

TILLGATE_STORE_BACKENDS(TransactionsTest);
TILLGATE_STORE_BACKENDS(CancelRequestTest);

}  // namespace
}  // namespace tillgate::store::testing
