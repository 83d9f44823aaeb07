// PaymentCoordinator in-process: the real coordinator, store and state machine, with a
// fake terminal port, a manual clock and a store that fails on demand. Every deadline is
// driven by moving the clock, never by waiting.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator_harness.hpp"

namespace tillgate::testing {
namespace {

using namespace std::chrono_literals;
using domain::TransactionEvent;
using domain::TransactionStatus;
using payments::TerminalPresence;
using Kind = SentToTerminal::Kind;

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorTest() {
    h.add_merchant("m1", {"d1", "d2"});
    h.add_merchant("m2", {"e1"});
  }
  CoordinatorHarness h;
};

TEST_F(CoordinatorTest, StandardPaymentWaitsForTheTerminalAndPublishesEachCommittedChange) {
  auto payment = h.pay("m1", "d1", "t1", 1500, false);
  EXPECT_FALSE(payment->done);  // the long-poll waits
  ASSERT_EQ(h.port.sent.size(), 1U);
  EXPECT_EQ(h.port.sent[0].kind, Kind::request);
  EXPECT_EQ(h.port.sent[0].transaction_id, "t1");

  auto result = h.report("m1", "d1", "t1", TransactionEvent::terminal_succeeded);
  ASSERT_TRUE(result->done);
  EXPECT_TRUE(result->value->belongs_to_terminal);
  EXPECT_EQ(result->value->recorded_status, TransactionStatus::completed);
  ASSERT_TRUE(payment->done);
  ASSERT_FALSE(payment->error);
  EXPECT_FALSE(payment->value->error);
  EXPECT_FALSE(payment->value->timed_out);
  EXPECT_EQ(payment->value->transaction->status, TransactionStatus::completed);
  EXPECT_EQ(payment->value->transaction->amount_minor, 1500);

  ASSERT_EQ(h.recorder.changes.size(), 2U);
  EXPECT_FALSE(h.recorder.changes[0].from);  // created
  EXPECT_EQ(h.recorder.changes[0].transaction.status, TransactionStatus::pending);
  EXPECT_EQ(h.recorder.changes[1].from, TransactionStatus::pending);
  EXPECT_EQ(h.recorder.changes[1].cause, TransactionEvent::terminal_succeeded);
  EXPECT_EQ(h.recorder.changes[1].transaction.status, TransactionStatus::completed);
  EXPECT_FALSE(h.recorder.changes[1].event_id);  // no webhook outbox here
}

TEST_F(CoordinatorTest, LongPollEndsAtThePaymentDeadlineThenTheGraceEndsTimeout) {
  auto payment = h.pay("m1", "d1", "t1", 100, false);
  h.advance(89'999ms);
  EXPECT_FALSE(payment->done);
  h.advance(1ms);
  ASSERT_TRUE(payment->done);
  EXPECT_TRUE(payment->value->timed_out);
  EXPECT_EQ(payment->value->transaction->status, TransactionStatus::pending);
  // The deadline told the terminal to cancel; the status waits for its answer.
  const auto sent = h.port.sent_for("t1");
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[1].kind, Kind::cancel);
  EXPECT_EQ(sent[1].reason, "TIMEOUT");
  h.advance(59'999ms);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::pending);
  h.advance(1ms);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::timeout);
  EXPECT_EQ(h.recorder.changes.back().cause, TransactionEvent::grace_expired);
}

// The deadline's handler reads the transaction while the dropped terminal comes back: the
// reconnect (past the deadline) tells it to cancel, and the deadline's handler, answered
// after, does not tell the same connection again. A later connection is told again.
TEST(CoordinatorDeadlineTest, ADeadlineMeetingAReconnectTellsTheConnectionToCancelOnce) {
  auto settings = CoordinatorHarness::default_settings();
  settings.payment_timeout = std::chrono::seconds(10);
  CoordinatorHarness h(settings);
  h.add_merchant("m1", {"d1"});
  h.pay("m1", "d1", "t1", 100, true);
  h.drop("m1", "d1");
  h.time.advance(10s);  // the deadline fires; its read of the transaction is in flight
  h.reconnect("m1", "d1");
  auto cancels = [&] {
    std::size_t n = 0;
    for (const auto& sent : h.port.sent_for("t1")) {
      n += sent.kind == Kind::cancel && sent.reason == "TIMEOUT" ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(cancels(), 1U);
  EXPECT_EQ(h.port.sent_for("t1").size(), 2U);  // the request, then one cancel

  h.drop("m1", "d1");
  h.reconnect("m1", "d1");
  EXPECT_EQ(cancels(), 2U);  // the new connection is told too
}

TEST_F(CoordinatorTest, SuccessAfterTimeoutIsVoidedAndTheTerminalToldToReverse) {
  h.pay("m1", "d1", "t1", 100, true);
  h.advance(90s);  // the deadline: payment.cancel TIMEOUT, then the grace for its answer
  h.advance(60s);
  ASSERT_EQ(h.stored("m1", "t1")->status, TransactionStatus::timeout);
  auto late = h.report("m1", "d1", "t1", TransactionEvent::terminal_succeeded);
  EXPECT_EQ(late->value->recorded_status, TransactionStatus::voided);
  const auto sent = h.port.sent_for("t1");
  EXPECT_EQ(sent.back().kind, Kind::void_payment);
  EXPECT_EQ(sent.back().reason, "SUCCESS_AFTER_TIMEOUT");
}

TEST_F(CoordinatorTest, DropWaitsTheGraceAndPublishesPresence) {
  h.pay("m1", "d1", "t1", 100, true);
  h.drop("m1", "d1");
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::awaiting_reconnect);
  ASSERT_FALSE(h.recorder.presences.empty());
  EXPECT_EQ(h.recorder.presences.back().presence, TerminalPresence::reconnecting);
  EXPECT_EQ(h.recorder.presences.back().merchant_id, domain::MerchantId("m1"));
  h.advance(59'999ms);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::awaiting_reconnect);
  h.advance(1ms);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::timeout);
  EXPECT_EQ(h.recorder.presences.back().presence, TerminalPresence::gone);
  EXPECT_EQ(h.recorder.presences.back().device_id, domain::DeviceId("d1"));
}

TEST_F(CoordinatorTest, ReconnectInsideTheGraceResumesThePaymentAndIsNotGone) {
  h.pay("m1", "d1", "t1", 100, true);
  h.drop("m1", "d1");
  h.advance(30s);
  h.reconnect("m1", "d1");
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::pending);
  EXPECT_EQ(h.recorder.presences.back().presence, TerminalPresence::connected);
  EXPECT_EQ(h.port.sent.back().kind, Kind::request);  // pushed again on the new connection
  h.advance(31s);  // the first episode's grace ends: it is not this one
  EXPECT_EQ(h.recorder.presences.back().presence, TerminalPresence::connected);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::pending);
}

TEST_F(CoordinatorTest, ATerminalInsideItsGraceTakesAPaymentAndOneGoneIsOffline) {
  h.drop("m1", "d1");
  EXPECT_EQ(h.coordinator->presence(domain::DeviceId("d1")), TerminalPresence::reconnecting);
  auto within = h.pay("m1", "d1", "t1", 100, true);
  EXPECT_FALSE(within->value->error);  // pushed when it says hello again
  h.drop("m1", "d2");
  h.advance(60s);
  EXPECT_FALSE(h.coordinator->presence(domain::DeviceId("d2")));
  auto gone = h.pay("m1", "d2", "t2", 100, true);
  ASSERT_TRUE(gone->value->error);
  EXPECT_EQ(*gone->value->error, payments::SubmitError::terminal_offline);
  EXPECT_FALSE(h.stored("m1", "t2"));
}

TEST_F(CoordinatorTest, AnotherMerchantsOrTerminalsTransactionIsRefused) {
  h.pay("m1", "d1", "t1", 100, true);
  auto other_terminal = h.report("m1", "d2", "t1", TransactionEvent::terminal_succeeded);
  EXPECT_FALSE(other_terminal->value->belongs_to_terminal);
  auto other_merchant = h.report("m2", "e1", "t1", TransactionEvent::terminal_succeeded);
  EXPECT_FALSE(other_merchant->value->belongs_to_terminal);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::pending);
  auto pay_other = h.pay("m2", "d1", "t9", 100, true);
  ASSERT_TRUE(pay_other->value->error);
  EXPECT_EQ(*pay_other->value->error, payments::SubmitError::terminal_not_found);
}

TEST_F(CoordinatorTest, SameIdDifferentBodyIsADuplicateAndSameBodyJoins) {
  h.pay("m1", "d1", "t1", 100, true);
  auto same = h.pay("m1", "d1", "t1", 100, true);
  EXPECT_FALSE(same->value->error);
  auto different = h.pay("m1", "d1", "t1", 200, true);
  ASSERT_TRUE(different->value->error);
  EXPECT_EQ(*different->value->error, payments::SubmitError::duplicate_transaction);
  auto busy = h.pay("m1", "d1", "t2", 100, true);
  ASSERT_TRUE(busy->value->error);
  EXPECT_EQ(*busy->value->error, payments::SubmitError::payment_in_progress);
  EXPECT_EQ(h.port.sent_for("t1").size(), 1U);
}

TEST_F(CoordinatorTest, AFailedStoreWriteTellsNobodyAndTheResultCanBeReportedAgain) {
  h.pay("m1", "d1", "t1", 100, true);
  const auto changes_before = h.recorder.changes.size();
  h.faults->fail_call(2);  // the lookup reads, then the status change fails
  auto failed = h.report("m1", "d1", "t1", TransactionEvent::terminal_succeeded);
  ASSERT_TRUE(failed->done);
  EXPECT_TRUE(failed->error);  // the session answers no ack: the terminal reports again
  EXPECT_EQ(h.faults->failures(), 1);
  EXPECT_EQ(h.recorder.changes.size(), changes_before);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::pending);
  auto again = h.report("m1", "d1", "t1", TransactionEvent::terminal_succeeded);
  EXPECT_EQ(again->value->recorded_status, TransactionStatus::completed);
  EXPECT_EQ(h.recorder.changes.size(), changes_before + 1);
}

TEST_F(CoordinatorTest, AFailedInsertRefusesThePaymentWithoutPushingIt) {
  h.faults->fail_call(2);  // find the device, then the insert fails (a new id is not looked for)
  auto payment = h.pay("m1", "d1", "t1", 100, true);
  ASSERT_TRUE(payment->done);
  EXPECT_TRUE(payment->error);
  EXPECT_TRUE(h.port.sent.empty());
  EXPECT_FALSE(h.stored("m1", "t1"));
  EXPECT_TRUE(h.recorder.changes.empty());
}

// Found by the simulation: a long-poll whose store read failed stayed registered, and the
// final change later woke a waiter whose request was gone (use after free). A repeat of a
// payment joins its wait and first looks at the transaction again.
TEST_F(CoordinatorTest, ALongPollWhoseStoreReadFailsLeavesNoWaiterBehind) {
  auto first = h.pay("m1", "d1", "t1", 100, false);
  ASSERT_FALSE(first->done);
  EXPECT_EQ(h.coordinator->waiting(), 1U);
  // The repeat: device, the insert (the id is taken), the stored one, then the waiter's
  // look fails.
  h.faults->fail_call(4);
  auto repeat = h.pay("m1", "d1", "t1", 100, false);
  ASSERT_TRUE(repeat->done);
  EXPECT_TRUE(repeat->error);
  EXPECT_EQ(h.coordinator->waiting(), 1U);  // the first request's, and only it
  auto result = h.report("m1", "d1", "t1", TransactionEvent::terminal_succeeded);
  EXPECT_EQ(result->value->recorded_status, TransactionStatus::completed);
  ASSERT_TRUE(first->done);
  ASSERT_FALSE(first->error);
  EXPECT_EQ(first->value->transaction->status, TransactionStatus::completed);
  EXPECT_EQ(h.coordinator->waiting(), 0U);
}

// A new payment's long-poll waits from before its insert (so it needs no second read to
// catch a change that follows the insert at once): an insert that fails takes it away.
TEST_F(CoordinatorTest, ALongPollWhoseInsertFailsLeavesNoWaiterBehind) {
  h.faults->fail_call(2);  // device, then the insert fails
  auto payment = h.pay("m1", "d1", "t1", 100, false);
  ASSERT_TRUE(payment->done);
  EXPECT_TRUE(payment->error);
  EXPECT_EQ(h.coordinator->waiting(), 0U);
  EXPECT_FALSE(h.stored("m1", "t1"));
  // The merchant's retry is a new payment that waits and is answered as usual.
  auto retry = h.pay("m1", "d1", "t1", 100, false);
  ASSERT_FALSE(retry->done);
  EXPECT_EQ(h.coordinator->waiting(), 1U);
  h.report("m1", "d1", "t1", TransactionEvent::terminal_succeeded);
  ASSERT_TRUE(retry->done);
  ASSERT_FALSE(retry->error);
  EXPECT_EQ(retry->value->transaction->status, TransactionStatus::completed);
  EXPECT_EQ(h.coordinator->waiting(), 0U);
}

TEST_F(CoordinatorTest, AGraceWhoseStoreWriteFailsIsTriedAgainWithoutARestart) {
  h.pay("m1", "d1", "t1", 100, true);
  h.advance(90s);                   // the deadline: payment.cancel TIMEOUT
  h.faults->fail_randomly(1.0, 7);  // the store refuses everything for now
  h.advance(60s);                   // the grace ends; its write fails
  EXPECT_GT(h.faults->failures(), 0);
  h.faults->fail_randomly(0.0, 7);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::pending);
  h.advance(1s);  // the pause after the failure: the task starts over
  h.advance(60s);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::timeout);
}

TEST_F(CoordinatorTest, RecoveryAfterARestartKeepsTheDeadlinesOfTheStore) {
  h.pay("m1", "d1", "t1", 100, true);
  h.advance(10s);
  EXPECT_TRUE(h.restart());
  h.advance(79'999ms);
  EXPECT_EQ(h.port.sent_for("t1").back().kind, Kind::request);
  h.advance(1ms);  // 90 s after creation, as stored
  EXPECT_EQ(h.port.sent_for("t1").back().kind, Kind::cancel);
  h.advance(60s);
  EXPECT_EQ(h.stored("m1", "t1")->status, TransactionStatus::timeout);
}

TEST_F(CoordinatorTest, AClockJumpBackwardsDelaysNothingAlreadyDueByWallTime) {
  h.pay("m1", "d1", "t1", 100, true);
  h.time.set_now(kStart - 30s);  // the wall clock stepped back
  h.settle();
  h.advance(119'999ms);  // the deadline is wall-clock: 90 s after creation
  EXPECT_EQ(h.port.sent_for("t1").size(), 1U);
  h.advance(1ms);
  EXPECT_EQ(h.port.sent_for("t1").back().kind, Kind::cancel);
}

TEST_F(CoordinatorTest, ShutdownCancelsEveryTaskAndWakesTheLongPolls) {
  auto payment = h.pay("m1", "d1", "t1", 100, false);
  h.drop("m1", "d2");
  EXPECT_GT(h.time.pending_timers(), 0U);
  EXPECT_TRUE(h.shutdown());
  ASSERT_TRUE(payment->done);
  EXPECT_TRUE(payment->value->timed_out);
  EXPECT_EQ(h.time.pending_timers(), 0U);
}

TEST_F(CoordinatorTest, MerchantCancelWaitsForTheTerminalThenTimesOut) {
  h.pay("m1", "d1", "t1", 100, true);
  auto cancel =
      h.start(h.coordinator->cancel(domain::MerchantId("m1"), domain::TransactionId("t1")));
  ASSERT_TRUE(cancel->done);
  EXPECT_FALSE(cancel->value->error);
  EXPECT_EQ(h.port.sent.back().kind, Kind::cancel);
  EXPECT_EQ(h.port.sent.back().reason, "MERCHANT");
  auto answered = h.report("m1", "d1", "t1", TransactionEvent::terminal_cancelled);
  EXPECT_EQ(answered->value->recorded_status, TransactionStatus::cancelled);
  auto final_cancel =
      h.start(h.coordinator->cancel(domain::MerchantId("m1"), domain::TransactionId("t1")));
  ASSERT_TRUE(final_cancel->value->error);
  EXPECT_EQ(*final_cancel->value->error, payments::CancelError::transaction_final);
}

}  // namespace
}  // namespace tillgate::testing
