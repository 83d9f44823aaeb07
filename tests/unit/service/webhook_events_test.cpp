// The webhook event payloads built from a transaction, the signed headers, and the retry
// policy: schedule, jitter bounds, and when a delivery fails for good.
#include <gtest/gtest.h>

#include <random>

#include "domain/terminal_outcome.hpp"
#include "json/json.hpp"
#include "store/status_change.hpp"
#include "webhooks/events.hpp"
#include "webhooks/retry_policy.hpp"
#include "webhooks/signature.hpp"

namespace tillgate {
namespace {

using namespace std::chrono_literals;
using domain::TransactionStatus;

domain::Timestamp ms(std::int64_t value) {
  return domain::Timestamp{std::chrono::milliseconds{value}};
}

store::TransactionRecord pending_transaction() {
  store::TransactionRecord record;
  record.merchant_id = "mch_1";
  record.transaction_id = "TXN-1";
  record.device_id = "till-1";
  record.status = TransactionStatus::pending;
  record.amount_minor = 9'990;
  record.currency = "USD";
  record.payment_method = domain::PaymentMethod::card;
  record.webhook_mode = true;
  record.request_json =
      R"({"amount":"99.90","currency":"USD","paymentMethod":"CARD","metadata":{"orderId":"A-1"}})";
  record.created_at = record.updated_at = ms(1'700'000'000'000);
  record.deadline = ms(1'700'000'090'000);
  return record;
}

store::StatusChange completing_change() {
  store::StatusChange change;
  change.merchant_id = "mch_1";
  change.transaction_id = "TXN-1";
  change.expected = TransactionStatus::pending;
  change.next = TransactionStatus::completed;
  change.cause = "terminal_succeeded";
  change.at = ms(1'700'000'005'123);
  change.outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success,
                                           .authorization_code = "AUTH9",
                                           .receipt_data = "r",
                                           .completed_at = "2023-11-14T22:13:25.000Z"};
  change.completed_at = change.at;
  return change;
}

TEST(WebhookEvents, EventTypesFollowTheFinalStatus) {
  EXPECT_EQ(webhooks::event_type_for(TransactionStatus::pending), std::nullopt);
  EXPECT_EQ(webhooks::event_type_for(TransactionStatus::awaiting_reconnect), std::nullopt);
  EXPECT_EQ(webhooks::event_type_for(TransactionStatus::completed), "payment.completed");
  EXPECT_EQ(webhooks::event_type_for(TransactionStatus::failed), "payment.failed");
  EXPECT_EQ(webhooks::event_type_for(TransactionStatus::cancelled), "payment.cancelled");
  EXPECT_EQ(webhooks::event_type_for(TransactionStatus::timeout), "payment.timeout");
  EXPECT_EQ(webhooks::event_type_for(TransactionStatus::voided), "payment.voided");
  for (const auto type : webhooks::payment_event_types) {
    EXPECT_TRUE(webhooks::is_payment_event_type(type));
  }
  EXPECT_FALSE(webhooks::is_payment_event_type("ping"));
  EXPECT_FALSE(webhooks::is_payment_event_type("payment.refunded"));
}

TEST(WebhookEvents, ACompletedPaymentAnnouncesTheSpecPayload) {
  const auto after = store::changed_record(pending_transaction(), completing_change());
  EXPECT_EQ(after.status, TransactionStatus::completed);
  EXPECT_EQ(after.updated_at, completing_change().at);
  EXPECT_EQ(after.completed_at, completing_change().at);
  EXPECT_EQ(after.outcome, completing_change().outcome);
  EXPECT_EQ(after.version, 2);

  const auto event = webhooks::payment_event(after, completing_change().at);
  ASSERT_TRUE(event);
  EXPECT_TRUE(event->event_id.starts_with("evt_"));
  EXPECT_EQ(event->event_id.size(), 4U + 26U);
  EXPECT_EQ(event->merchant_id, "mch_1");
  EXPECT_EQ(event->transaction_id, "TXN-1");
  EXPECT_EQ(event->event_type, "payment.completed");
  EXPECT_EQ(event->created_at, completing_change().at);
  EXPECT_EQ(event->payload,
            R"({"eventType":"payment.completed","eventId":")" + event->event_id +
                R"(","timestamp":"2023-11-14T22:13:25.123Z","data":{"transactionId":"TXN-1",)"
                R"("status":"SUCCESS","amount":"99.90","currency":"USD","paymentMethod":"CARD",)"
                R"("authorizationCode":"AUTH9","errorCode":null,"errorMessage":null,)"
                R"("receiptData":"r","terminalId":"till-1","metadata":{"orderId":"A-1"}}})");
  // A fresh eventId each time it is built (a lost race rebuilds the change).
  EXPECT_NE(webhooks::payment_event(after, completing_change().at)->event_id, event->event_id);
}

TEST(WebhookEvents, TimeoutAndVoidedUseTheirOwnStatusNames) {
  auto change = completing_change();
  change.next = TransactionStatus::timeout;
  change.outcome.reset();
  auto event =
      webhooks::payment_event(store::changed_record(pending_transaction(), change), change.at);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->event_type, "payment.timeout");
  const auto payload = json::parse(event->payload);
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->find("data")->find_string("status"), "TIMEOUT");
  EXPECT_TRUE(payload->find("data")->find("authorizationCode")->is_null());

  auto timed_out = store::changed_record(pending_transaction(), change);
  store::StatusChange void_change = completing_change();
  void_change.expected = TransactionStatus::timeout;
  void_change.next = TransactionStatus::voided;
  void_change.completed_at.reset();
  void_change.voided_at = void_change.at;
  void_change.void_reason = "SUCCESS_AFTER_TIMEOUT";
  event = webhooks::payment_event(store::changed_record(timed_out, void_change), void_change.at);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->event_type, "payment.voided");
  EXPECT_NE(event->payload.find(R"("status":"VOIDED")"), std::string::npos) << event->payload;

  change.next = TransactionStatus::awaiting_reconnect;
  EXPECT_FALSE(
      webhooks::payment_event(store::changed_record(pending_transaction(), change), change.at));
}

TEST(WebhookEvents, ThePingAndTheSignedHeaders) {
  EXPECT_EQ(webhooks::ping_payload("evt_x", ms(1'700'000'000'000)),
            R"({"eventType":"ping","eventId":"evt_x","timestamp":"2023-11-14T22:13:20.000Z",)"
            R"("data":{}})");
  const std::string secret = webhooks::generate_webhook_secret();
  const std::string body = R"({"a":1})";
  const auto headers = webhooks::signed_headers(secret, "evt_1", 1'700'000'000, body);
  ASSERT_EQ(headers.size(), 4U);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"webhook-id", "evt_1"}));
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"webhook-timestamp", "1700000000"}));
  EXPECT_EQ(headers[2].first, "webhook-signature");
  EXPECT_EQ(headers[3], (std::pair<std::string, std::string>{"content-type", "application/json"}));
  EXPECT_EQ(webhooks::verify_webhook(secret, "evt_1", "1700000000", body, headers[2].second,
                                     ms(1'700'000'010'000)),
            std::nullopt);
  EXPECT_THROW((void)webhooks::signed_headers("not-a-secret", "evt_1", 1, body),
               std::invalid_argument);
}

TEST(WebhookRetryPolicy, JitterIsAtMostTenPercentEitherWay) {
  EXPECT_EQ(webhooks::jittered(5s, 0.0), 5000ms);
  EXPECT_EQ(webhooks::jittered(5s, 1.0), 5500ms);
  EXPECT_EQ(webhooks::jittered(5s, -1.0), 4500ms);
  EXPECT_EQ(webhooks::jittered(5s, 7.0), 5500ms);  // clamped
  EXPECT_EQ(webhooks::jittered(300s, -0.5), 285'000ms);
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (int i = 0; i < 1000; ++i) {
    const auto delay = webhooks::jittered(36000s, unit(random));
    EXPECT_GE(delay, 32'400'000ms);
    EXPECT_LE(delay, 39'600'000ms);
  }
}

webhooks::DeliveryAttempt answered(int status) {
  webhooks::DeliveryAttempt attempt;
  attempt.started_at = ms(1'000);
  attempt.duration = 25ms;
  attempt.http_status = status;
  return attempt;
}

TEST(WebhookRetryPolicy, ATwoHundredSucceedsAnythingElseWaitsTheNextInterval) {
  const std::vector<std::chrono::seconds> schedule{5s, 300s, 1800s};
  store::WebhookDeliveryRecord delivery;
  delivery.delivery_id = "dlv_1";
  delivery.version = 7;
  delivery.retry_step = 0;

  auto outcome = webhooks::attempt_outcome(delivery, answered(204), schedule, ms(2'000), 0.0);
  EXPECT_EQ(outcome.delivery_id, "dlv_1");
  EXPECT_EQ(outcome.expected_version, 7);
  EXPECT_EQ(outcome.next_status, store::DeliveryStatus::succeeded);
  EXPECT_FALSE(outcome.next_attempt_at);
  EXPECT_EQ(outcome.attempt.http_status, 204);
  EXPECT_FALSE(outcome.attempt.error);
  EXPECT_EQ(outcome.attempt.duration_ms, 25);
  EXPECT_EQ(outcome.attempt.started_at, ms(1'000));
  EXPECT_EQ(outcome.at, ms(2'000));

  for (const int status : {199, 300, 302, 400, 410, 500, 503}) {
    outcome = webhooks::attempt_outcome(delivery, answered(status), schedule, ms(2'000), 0.0);
    EXPECT_EQ(outcome.next_status, store::DeliveryStatus::pending) << status;
    EXPECT_EQ(outcome.retry_step, 1);
    EXPECT_EQ(outcome.next_attempt_at, ms(7'000));
  }

  webhooks::DeliveryAttempt refused;
  refused.started_at = ms(1'000);
  refused.error = "connect: connection refused";
  delivery.retry_step = 2;
  outcome = webhooks::attempt_outcome(delivery, refused, schedule, ms(2'000), 1.0);
  EXPECT_EQ(outcome.next_status, store::DeliveryStatus::pending);
  EXPECT_EQ(outcome.retry_step, 3);
  EXPECT_EQ(outcome.next_attempt_at, ms(2'000 + 1'980'000));
  EXPECT_FALSE(outcome.attempt.http_status);
  EXPECT_EQ(outcome.attempt.error, "connect: connection refused");

  // The schedule is used up: failed. A manual retry of a failed delivery that fails again
  // is failed again.
  delivery.retry_step = 3;
  outcome = webhooks::attempt_outcome(delivery, answered(500), schedule, ms(2'000), 0.0);
  EXPECT_EQ(outcome.next_status, store::DeliveryStatus::failed);
  EXPECT_EQ(outcome.retry_step, 3);
  EXPECT_FALSE(outcome.next_attempt_at);
}

}  // namespace
}  // namespace tillgate
