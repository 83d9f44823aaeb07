// The merchant's payment events in commit order (migration 7): the sequence a status change's
// outbox event gets, find_payment_event and list_payment_events (what a POS client's resume
// replays), and the backfill of events written before version 7.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "store/sqlite/migrations.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

WebhookEventRecord event_of(const std::string& merchant_id, const std::string& transaction_id,
                            std::int64_t at_ms) {
  const std::string event_id = "evt_" + transaction_id;
  return WebhookEventRecord{
      .event_id = event_id,
      .merchant_id = merchant_id,
      .transaction_id = transaction_id,
      .event_type = "payment.completed",
      .payload = R"({"eventId":")" + event_id + R"("})",
      .created_at = ms(at_ms),
      .notification = R"({"action":"paymentComplete","eventId":")" + event_id + R"("})"};
}

// A change of PENDING `transaction_id` to `next` at `at_ms`, with `event` when given.
StatusChange change_of(const std::string& merchant_id, const std::string& transaction_id,
                       TransactionStatus next, std::int64_t at_ms,
                       std::optional<WebhookEventRecord> event) {
  StatusChange change;
  change.merchant_id = merchant_id;
  change.transaction_id = transaction_id;
  change.expected = TransactionStatus::pending;
  change.next = next;
  change.cause = "terminal_answered";
  change.at = ms(at_ms);
  change.completed_at = ms(at_ms);
  change.webhook_event = std::move(event);
  return change;
}

class PaymentEventsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) {
      return;  // TILLGATE_TEST_PG_SKIP=1: no PostgreSQL store to set up
    }
    store_->insert_merchant(make_merchant("m2"));
    ASSERT_TRUE(store_->insert_device(make_device("e1", "m2")));
  }

  // Creates `transaction_id` on `device` and completes it with its event; answers the
  // event's sequence.
  std::int64_t complete(const std::string& merchant_id, const std::string& transaction_id,
                        const std::string& device, std::int64_t at_ms,
                        bool with_notification = true) {
    EXPECT_EQ(store_->insert_transaction(
                  make_transaction(merchant_id, transaction_id, device, at_ms - 1'000)),
              InsertOutcome::inserted);
    auto event = event_of(merchant_id, transaction_id, at_ms);
    if (!with_notification) {
      event.notification.reset();
    }
    const auto result = store_->change_status(change_of(
        merchant_id, transaction_id, TransactionStatus::completed, at_ms, std::move(event)));
    EXPECT_TRUE(result && result->applied && result->event_sequence);
    return result && result->event_sequence ? *result->event_sequence : -1;
  }

  std::vector<std::string> listed(const std::string& merchant_id, std::int64_t after,
                                  std::size_t limit = 100) {
    std::vector<std::string> ids;
    for (const auto& event : store_->list_payment_events(merchant_id, after, limit)) {
      ids.push_back(event.event_id);
    }
    return ids;
  }
};

TEST_P(PaymentEventsTest, EachEventGetsALargerSequenceThanTheOneCommittedBefore) {
  const auto s1 = complete("m1", "T1", "d1", 100'000);
  const auto s2 = complete("m2", "U1", "e1", 50'000);  // an earlier clock: commit order counts
  const auto s3 = complete("m1", "T2", "d2", 100'000);
  EXPECT_LT(s1, s2);
  EXPECT_LT(s2, s3);
  reopen();
  const auto s4 = complete("m1", "T3", "d1", 200'000);
  EXPECT_LT(s3, s4) << "the sequence goes on after a reopen";
}

TEST_P(PaymentEventsTest, TheMerchantsEventsAreListedInCommitOrderAfterASequence) {
  const auto s1 = complete("m1", "T1", "d1", 100'000);
  complete("m2", "U1", "e1", 100'500);
  const auto s2 = complete("m1", "T2", "d2", 101'000);
  complete("m1", "T3", "d1", 102'000);

  EXPECT_THAT(listed("m1", 0), ElementsAre("evt_T1", "evt_T2", "evt_T3"));
  EXPECT_THAT(listed("m1", s1), ElementsAre("evt_T2", "evt_T3"));
  EXPECT_THAT(listed("m1", s1, 1), ElementsAre("evt_T2"));
  EXPECT_THAT(listed("m1", s2 + 1'000), IsEmpty());
  EXPECT_THAT(listed("m2", 0), ElementsAre("evt_U1"));

  const auto events = store_->list_payment_events("m1", s1, 1);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].sequence, s2);
  EXPECT_EQ(events[0].merchant_id, "m1");
  EXPECT_EQ(events[0].transaction_id, "T2");
  EXPECT_EQ(events[0].event_type, "payment.completed");
  EXPECT_EQ(events[0].created_at, ms(101'000));
  EXPECT_EQ(events[0].notification, R"({"action":"paymentComplete","eventId":"evt_T2"})");
}

TEST_P(PaymentEventsTest, AnEventIsFoundOnlyForItsOwnMerchant) {
  const auto s1 = complete("m1", "T1", "d1", 100'000);
  const auto found = store_->find_payment_event("m1", "evt_T1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->sequence, s1);
  EXPECT_EQ(found->created_at, ms(100'000));
  EXPECT_FALSE(store_->find_payment_event("m2", "evt_T1")) << "another merchant's event";
  EXPECT_FALSE(store_->find_payment_event("m1", "evt_unknown"));
  EXPECT_FALSE(store_->find_payment_event("m1", ""));
}

TEST_P(PaymentEventsTest, AnEventWithoutANotificationIsNeitherFoundNorListed) {
  complete("m1", "T1", "d1", 100'000, /*with_notification=*/false);
  complete("m1", "T2", "d2", 101'000);
  EXPECT_FALSE(store_->find_payment_event("m1", "evt_T1"));
  EXPECT_THAT(listed("m1", 0), ElementsAre("evt_T2"));
}

TEST_P(PaymentEventsTest, AChangeWithoutAnEventHasNoSequence) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1", 99'000)),
            InsertOutcome::inserted);
  const auto result = store_->change_status(
      change_of("m1", "T1", TransactionStatus::failed, 100'000, std::nullopt));
  ASSERT_TRUE(result && result->applied);
  EXPECT_FALSE(result->event_sequence);
}

// ---- migrating a version 6 file -----------------------------------------------------------

TEST(PaymentEventsMigration, EventsOfAVersion6DatabaseGetTheirInsertionOrderAndAreNotReplayed) {
  TempDir dir;
  const auto file = dir.path() / "tillgate.db";
  { std::ofstream create{file}; }
  {
    RawDb raw{file};
    ASSERT_EQ(raw.migrate_to(6), SQLITE_OK) << raw.last_error();
    const std::string rows = R"sql(
      INSERT INTO merchants VALUES ('m1', 'Shop m1', 1000);
      INSERT INTO devices (device_id, merchant_id, label, secret_hash, created_at)
        VALUES ('d1', 'm1', 'Till d1', 'aaaa', 2000);
      INSERT INTO transactions (merchant_id, transaction_id, seq, device_id, status,
          amount_minor, currency, payment_method, webhook_mode, request_json,
          request_fingerprint, response_json, created_at, updated_at, deadline, completed_at)
        VALUES ('m1', 'T0', 1, 'd1', 'COMPLETED', 500, 'USD', 'CARD', 1, '{}', 'ffff',
                '{"status":"SUCCESS"}', 49000, 50000, 139000, 50000),
               ('m1', 'T1', 2, 'd1', 'COMPLETED', 9999, 'USD', 'CARD', 1, '{}', 'ffff',
                '{"status":"SUCCESS"}', 99000, 100000, 189000, 100000);
      INSERT INTO webhook_events (event_id, merchant_id, transaction_id, event_type, payload,
          created_at) VALUES
        ('evt_zzz', 'm1', 'T0', 'payment.completed', '{}', 50000),
        ('evt_aaa', 'm1', 'T1', 'payment.completed', '{}', 100000);
    )sql";
    ASSERT_EQ(raw.exec(rows), SQLITE_OK) << raw.last_error();
  }
  auto store = open_store("sqlite:" + file.string());
  {
    RawDb raw{file};
    EXPECT_EQ(raw.query_int("SELECT seq FROM webhook_events WHERE event_id = 'evt_zzz'"), 1);
    EXPECT_EQ(raw.query_int("SELECT seq FROM webhook_events WHERE event_id = 'evt_aaa'"), 2);
  }
  // Written before their notification was kept: not replayable (a resume after one is
  // refused, and the client reconciles).
  EXPECT_FALSE(store->find_payment_event("m1", "evt_zzz"));
  EXPECT_THAT(store->list_payment_events("m1", 0, 10), IsEmpty());
  // A new event follows them.
  ASSERT_TRUE(store->insert_device(make_device("d2", "m1")));
  ASSERT_EQ(store->insert_transaction(make_transaction("m1", "T2", "d2", 199'000)),
            InsertOutcome::inserted);
  const auto result = store->change_status(
      change_of("m1", "T2", TransactionStatus::completed, 200'000, event_of("m1", "T2", 200'000)));
  ASSERT_TRUE(result && result->event_sequence);
  EXPECT_EQ(*result->event_sequence, 3);
  const auto listed = store->list_payment_events("m1", 0, 10);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].event_id, "evt_T2");
}

TILLGATE_STORE_BACKENDS(PaymentEventsTest);

}  // namespace
}  // namespace tillgate::store::testing
