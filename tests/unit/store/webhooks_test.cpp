// Webhook endpoints, the outbox written with a status change, due deliveries, attempts,
// manual retries and the deliveries list.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <set>
#include <thread>

#include "domain/terminal_outcome.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// How long the tests' claims last.
constexpr std::int64_t kLeaseMs = 60'000;

constexpr const char* kAllEvents =
    R"(["payment.completed","payment.failed","payment.cancelled","payment.timeout","payment.voided"])";

WebhookEndpointRecord make_endpoint(const std::string& endpoint_id, const std::string& merchant_id,
                                    std::int64_t created_at_ms = 10'000) {
  return WebhookEndpointRecord{.endpoint_id = endpoint_id,
                               .merchant_id = merchant_id,
                               .url = "https://hooks.example/" + endpoint_id,
                               .secret = domain::Secret("whsec_c2VjcmV0LW9mLQ=="),
                               .events_json = kAllEvents,
                               .status = domain::EndpointStatus::active,
                               .format = domain::WebhookFormat::standard,
                               .description = "endpoint " + endpoint_id,
                               .metadata_json = R"({"team":"payments"})",
                               .created_at = ms(created_at_ms),
                               .updated_at = ms(created_at_ms),
                               .deleted_at = std::nullopt};
}

WebhookEventRecord make_event(const std::string& event_id, const std::string& transaction_id,
                              const std::string& event_type, std::int64_t at_ms) {
  return WebhookEventRecord{
      .event_id = event_id,
      .merchant_id = "m1",
      .transaction_id = transaction_id,
      .event_type = event_type,
      .payload = R"({"eventType":")" + event_type + R"(","eventId":")" + event_id + R"("})",
      .created_at = ms(at_ms)};
}

// An event that also fixes a body for Nomba-format endpoints.
WebhookEventRecord make_nomba_event(const std::string& event_id, const std::string& transaction_id,
                                    const std::string& event_type, std::int64_t at_ms) {
  auto event = make_event(event_id, transaction_id, event_type, at_ms);
  event.format_payloads[domain::WebhookFormat::nomba] =
      R"({"event_type":"payment_success","requestId":")" + event_id + R"("})";
  event.format_keys[domain::WebhookFormat::nomba] = event_id;
  return event;
}

WebhookEndpointRecord make_nomba_endpoint(const std::string& endpoint_id,
                                          const std::string& merchant_id,
                                          std::int64_t created_at_ms = 10'000) {
  auto endpoint = make_endpoint(endpoint_id, merchant_id, created_at_ms);
  endpoint.format = domain::WebhookFormat::nomba;
  endpoint.secret = domain::Secret("nomba-signing-key-" + endpoint_id);
  return endpoint;
}

// A final change of a PENDING transaction that carries an outbox event.
StatusChange final_change(const std::string& transaction_id, TransactionStatus next,
                          std::optional<WebhookEventRecord> event, std::int64_t at_ms) {
  return StatusChange{.merchant_id = "m1",
                      .transaction_id = transaction_id,
                      .expected = TransactionStatus::pending,
                      .next = next,
                      .cause = "terminal_succeeded",
                      .at = ms(at_ms),
                      .outcome = domain::TerminalOutcome{.status = domain::TerminalStatus::success},
                      .completed_at = ms(at_ms),
                      .voided_at = std::nullopt,
                      .void_reason = std::nullopt,
                      .webhook_event = std::move(event)};
}

class WebhooksTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) {
      return;  // TILLGATE_TEST_PG_SKIP=1: no PostgreSQL store to set up
    }
    store_->insert_merchant(make_merchant("m2"));
  }

  void add_endpoint(const WebhookEndpointRecord& endpoint) {
    ASSERT_EQ(store_->insert_webhook_endpoint(endpoint, 16), EndpointInsertOutcome::inserted);
  }

  // Inserts transaction `id` on a free device and completes it with an event evt_<id>.
  void complete_with_event(const std::string& id, const std::string& device, std::int64_t at_ms) {
    ASSERT_EQ(store_->insert_transaction(make_transaction("m1", id, device, at_ms - 1'000)),
              InsertOutcome::inserted);
    const auto result = store_->change_status(
        final_change(id, TransactionStatus::completed,
                     make_event("evt_" + id, id, "payment.completed", at_ms), at_ms));
    ASSERT_TRUE(result && result->applied);
  }

  std::vector<WebhookDeliveryRecord> deliveries(DeliveryQuery query = {}) {
    if (query.merchant_id.empty()) {
      query.merchant_id = "m1";
    }
    return store_->list_webhook_deliveries(query);
  }

  // Claims the deliveries due at `now_ms` for kLeaseMs (or `lease_ms`).
  DueDeliveries claim(std::int64_t now_ms, std::vector<std::string> exclude_endpoints = {},
                      std::vector<std::string> exclude_deliveries = {}, std::int64_t limit = 100,
                      std::int64_t lease_ms = kLeaseMs) {
    return store_->claim_due_webhook_deliveries(
        DueQuery{.now = ms(now_ms),
                 .limit = limit,
                 .exclude_endpoints = std::move(exclude_endpoints),
                 .exclude_deliveries = std::move(exclude_deliveries),
                 .lease = std::chrono::milliseconds{lease_ms}});
  }

  static AttemptOutcome succeeded_attempt(const WebhookDeliveryRecord& delivery,
                                          std::int64_t at_ms) {
    return AttemptOutcome{.delivery_id = delivery.delivery_id,
                          .expected_version = delivery.version,
                          .attempt = WebhookAttemptRecord{.number = 0,
                                                          .started_at = ms(at_ms),
                                                          .duration_ms = 5,
                                                          .http_status = 200,
                                                          .error = std::nullopt},
                          .next_status = DeliveryStatus::succeeded,
                          .retry_step = delivery.retry_step,
                          .next_attempt_at = std::nullopt,
                          .at = ms(at_ms + 5)};
  }

  static AttemptOutcome failed_attempt(const WebhookDeliveryRecord& delivery, std::int64_t at_ms,
                                       std::int64_t next_ms) {
    return AttemptOutcome{.delivery_id = delivery.delivery_id,
                          .expected_version = delivery.version,
                          .attempt = WebhookAttemptRecord{.number = 0,
                                                          .started_at = ms(at_ms),
                                                          .duration_ms = 12,
                                                          .http_status = 503,
                                                          .error = std::nullopt},
                          .next_status = DeliveryStatus::pending,
                          .retry_step = delivery.retry_step + 1,
                          .next_attempt_at = ms(next_ms),
                          .at = ms(at_ms + 12)};
  }
};

TEST_P(WebhooksTest, EndpointRoundTripAndMerchantScope) {
  const auto endpoint = make_endpoint("wh_1", "m1");
  add_endpoint(endpoint);
  const auto found = store_->find_webhook_endpoint("m1", "wh_1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->url, endpoint.url);
  EXPECT_EQ(found->secret.reveal(), endpoint.secret.reveal());
  EXPECT_EQ(found->events_json, endpoint.events_json);
  EXPECT_EQ(found->status, domain::EndpointStatus::active);
  EXPECT_EQ(found->format, domain::WebhookFormat::standard);
  EXPECT_EQ(found->description, endpoint.description);
  EXPECT_EQ(found->metadata_json, endpoint.metadata_json);
  EXPECT_EQ(found->created_at, endpoint.created_at);
  EXPECT_FALSE(found->deleted_at);
  EXPECT_TRUE(store_->has_active_webhook_endpoint("m1"));

  // Another merchant sees nothing, and cannot change or delete it.
  EXPECT_FALSE(store_->find_webhook_endpoint("m2", "wh_1"));
  EXPECT_THAT(store_->list_webhook_endpoints("m2"), IsEmpty());
  auto hijack = *found;
  hijack.merchant_id = "m2";
  hijack.url = "https://evil.example/";
  EXPECT_FALSE(store_->update_webhook_endpoint(hijack));
  EXPECT_EQ(store_->delete_webhook_endpoint("m2", "wh_1", ms(20'000)),
            EndpointDeleteOutcome::not_found);
  EXPECT_EQ(store_->find_webhook_endpoint("m1", "wh_1")->url, endpoint.url);

  auto changed = *found;
  changed.url = "https://hooks.example/new";
  changed.status = domain::EndpointStatus::disabled;
  changed.events_json = R"(["payment.failed"])";
  changed.description = "";
  changed.metadata_json = "{}";
  changed.updated_at = ms(30'000);
  EXPECT_TRUE(store_->update_webhook_endpoint(changed));
  const auto updated = store_->find_webhook_endpoint("m1", "wh_1");
  EXPECT_EQ(updated->url, changed.url);
  EXPECT_EQ(updated->status, domain::EndpointStatus::disabled);
  EXPECT_EQ(updated->events_json, changed.events_json);
  EXPECT_EQ(updated->updated_at, ms(30'000));
  EXPECT_EQ(updated->created_at, endpoint.created_at);
  EXPECT_EQ(updated->secret.reveal(), endpoint.secret.reveal());  // never changed by an update
  EXPECT_FALSE(store_->has_active_webhook_endpoint("m1"));
}

TEST_P(WebhooksTest, EndpointsAreListedOldestFirstWithoutDeletedOnes) {
  add_endpoint(make_endpoint("wh_b", "m1", 20'000));
  add_endpoint(make_endpoint("wh_a", "m1", 10'000));
  add_endpoint(make_endpoint("wh_c", "m1", 30'000));
  add_endpoint(make_endpoint("wh_other", "m2", 5'000));
  EXPECT_EQ(store_->delete_webhook_endpoint("m1", "wh_c", ms(40'000)),
            EndpointDeleteOutcome::deleted);
  EXPECT_EQ(store_->delete_webhook_endpoint("m1", "wh_c", ms(50'000)),
            EndpointDeleteOutcome::already_deleted);
  EXPECT_THAT(store_->list_webhook_endpoints("m1"),
              ElementsAre(Field(&WebhookEndpointRecord::endpoint_id, "wh_a"),
                          Field(&WebhookEndpointRecord::endpoint_id, "wh_b")));
  EXPECT_FALSE(store_->find_webhook_endpoint("m1", "wh_c"));
  auto deleted = make_endpoint("wh_c", "m1");
  EXPECT_FALSE(store_->update_webhook_endpoint(deleted));
}

TEST_P(WebhooksTest, TheLimitCountsEndpointsThatAreNotDeleted) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(store_->insert_webhook_endpoint(make_endpoint("wh_" + std::to_string(i), "m1"), 3),
              EndpointInsertOutcome::inserted);
  }
  EXPECT_EQ(store_->insert_webhook_endpoint(make_endpoint("wh_3", "m1"), 3),
            EndpointInsertOutcome::limit_reached);
  EXPECT_FALSE(store_->find_webhook_endpoint("m1", "wh_3"));
  // Another merchant has its own limit.
  EXPECT_EQ(store_->insert_webhook_endpoint(make_endpoint("wh_m2", "m2"), 3),
            EndpointInsertOutcome::inserted);
  ASSERT_EQ(store_->delete_webhook_endpoint("m1", "wh_0", ms(1)), EndpointDeleteOutcome::deleted);
  EXPECT_EQ(store_->insert_webhook_endpoint(make_endpoint("wh_3", "m1"), 3),
            EndpointInsertOutcome::inserted);
}

TEST_P(WebhooksTest, AFinalChangeWritesItsEventAndOneDeliveryPerSubscribedActiveEndpoint) {
  add_endpoint(make_endpoint("wh_all", "m1", 1));
  auto failed_only = make_endpoint("wh_failed_only", "m1", 2);
  failed_only.events_json = R"(["payment.failed"])";
  add_endpoint(failed_only);
  auto disabled = make_endpoint("wh_disabled", "m1", 3);
  disabled.status = domain::EndpointStatus::disabled;
  add_endpoint(disabled);
  add_endpoint(make_endpoint("wh_deleted", "m1", 4));
  ASSERT_EQ(store_->delete_webhook_endpoint("m1", "wh_deleted", ms(5)),
            EndpointDeleteOutcome::deleted);
  add_endpoint(make_endpoint("wh_other_merchant", "m2", 6));
  add_endpoint(make_endpoint("wh_all_2", "m1", 7));

  complete_with_event("T1", "d1", 100'000);

  const auto events = store_->list_webhook_events("m1", "T1");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].event_id, "evt_T1");
  EXPECT_EQ(events[0].event_type, "payment.completed");
  EXPECT_EQ(events[0].payload, make_event("evt_T1", "T1", "payment.completed", 0).payload);
  EXPECT_EQ(events[0].created_at, ms(100'000));

  const auto listed = deliveries();
  EXPECT_THAT(listed, UnorderedElementsAre(Field(&WebhookDeliveryRecord::endpoint_id, "wh_all"),
                                           Field(&WebhookDeliveryRecord::endpoint_id, "wh_all_2")));
  for (const auto& delivery : listed) {
    EXPECT_TRUE(delivery.delivery_id.starts_with("dlv_")) << delivery.delivery_id;
    EXPECT_EQ(delivery.event_id, "evt_T1");
    EXPECT_EQ(delivery.event_type, "payment.completed");
    EXPECT_EQ(delivery.transaction_id, "T1");
    EXPECT_EQ(delivery.status, DeliveryStatus::pending);
    EXPECT_EQ(delivery.next_attempt_at, ms(100'000));  // due at once
    EXPECT_EQ(delivery.attempt_count, 0);
    EXPECT_THAT(delivery.attempts, IsEmpty());
  }
  EXPECT_THAT(deliveries(DeliveryQuery{.merchant_id = "m2"}), IsEmpty());
}

TEST_P(WebhooksTest, AChangeThatIsNotAppliedWritesNoEvent) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  auto change = final_change("T1", TransactionStatus::completed,
                             make_event("evt_1", "T1", "payment.completed", 50), 50);
  change.expected = TransactionStatus::awaiting_reconnect;  // stale: the stored one is PENDING
  const auto result = store_->change_status(change);
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->applied);
  EXPECT_THAT(store_->list_webhook_events("m1", "T1"), IsEmpty());
  EXPECT_THAT(deliveries(), IsEmpty());
}

TEST_P(WebhooksTest, TheStatusChangeAndItsEventCommitTogetherOrNotAtAll) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1")),
            InsertOutcome::inserted);
  // Make the event insert fail (its id is taken): the status change must roll back with it.
  RawDb raw = raw_db();
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T0", "d2")),
            InsertOutcome::inserted);
  ASSERT_EQ(raw.exec("INSERT INTO webhook_events (event_id, merchant_id, transaction_id, "
                     "event_type, payload, created_at, seq) VALUES ('evt_taken', 'm1', 'T0', "
                     "'payment.failed', '{}', 1, 1000)"),
            SQLITE_OK)
      << raw.last_error();
  EXPECT_THROW((void)store_->change_status(
                   final_change("T1", TransactionStatus::completed,
                                make_event("evt_taken", "T1", "payment.completed", 60), 60)),
               StoreError);
  EXPECT_EQ(store_->find_transaction("m1", "T1")->status, TransactionStatus::pending);
  EXPECT_EQ(store_->list_events("m1", "T1").size(), 1U);  // only "created"
  EXPECT_THAT(deliveries(), IsEmpty());

  // A transaction announces each event type once: the database refuses a second one.
  EXPECT_EQ(raw.exec("INSERT INTO webhook_events (event_id, merchant_id, transaction_id, "
                     "event_type, payload, created_at, seq) VALUES ('evt_again', 'm1', 'T0', "
                     "'payment.failed', '{}', 2, 1001)"),
            SQLITE_CONSTRAINT);
}

TEST_P(WebhooksTest, DueDeliveriesComeOldestDueFirstWithWhatTheAttemptNeeds) {
  add_endpoint(make_endpoint("wh_1", "m1", 1));
  add_endpoint(make_endpoint("wh_2", "m1", 2));
  complete_with_event("T1", "d1", 100'000);
  complete_with_event("T2", "d2", 200'000);

  const auto before = claim(99'999);
  EXPECT_THAT(before.due, IsEmpty());
  EXPECT_EQ(before.next_due_at, ms(100'000));

  const auto at_150 = claim(150'000);
  ASSERT_EQ(at_150.due.size(), 2U);  // T1 to both endpoints
  EXPECT_EQ(at_150.due[0].delivery.event_id, "evt_T1");
  EXPECT_EQ(at_150.due[0].url, "https://hooks.example/" + at_150.due[0].delivery.endpoint_id);
  EXPECT_EQ(at_150.due[0].secret.reveal(), "whsec_c2VjcmV0LW9mLQ==");
  EXPECT_EQ(at_150.due[0].payload, make_event("evt_T1", "T1", "payment.completed", 0).payload);
  EXPECT_EQ(at_150.due[0].due_at, ms(100'000));
  EXPECT_EQ(at_150.next_due_at, ms(200'000));

  // Oldest due first, at most `limit` (T1's lease has passed by 300 s).
  const auto at_300 = claim(300'000, {}, {}, 3);
  ASSERT_EQ(at_300.due.size(), 3U);
  EXPECT_EQ(at_300.due[0].delivery.transaction_id, "T2");  // due at 200 s
  EXPECT_EQ(at_300.due[1].delivery.transaction_id, "T2");
  EXPECT_EQ(at_300.due[2].delivery.transaction_id, "T1");  // due again at 210 s
  EXPECT_FALSE(at_300.next_due_at);
  EXPECT_EQ(claim(300'000).due.size(), 1U);  // the fourth; the others are claimed

  // Excluded endpoints (no free slot) and deliveries (in flight) are left out, and so is a
  // disabled endpoint's backlog (paused until it is enabled again). Every lease has passed
  // by 400 s.
  const auto without_wh_1 = claim(400'000, {"wh_1"});
  ASSERT_EQ(without_wh_1.due.size(), 2U);
  EXPECT_EQ(without_wh_1.due[0].delivery.endpoint_id, "wh_2");
  EXPECT_EQ(without_wh_1.due[1].delivery.endpoint_id, "wh_2");
  const auto excluded = at_300.due[0].delivery.endpoint_id == "wh_1"
                            ? at_300.due[0].delivery.delivery_id
                            : at_300.due[1].delivery.delivery_id;
  const auto without_one = claim(400'000, {}, {excluded});
  ASSERT_EQ(without_one.due.size(), 1U);  // wh_1's other one
  EXPECT_EQ(without_one.due[0].delivery.endpoint_id, "wh_1");
  EXPECT_NE(without_one.due[0].delivery.delivery_id, excluded);
  auto disabled = *store_->find_webhook_endpoint("m1", "wh_2");
  disabled.status = domain::EndpointStatus::disabled;
  ASSERT_TRUE(store_->update_webhook_endpoint(disabled));
  EXPECT_EQ(claim(500'000).due.size(), 2U);
  EXPECT_EQ(claim(510'000).next_due_at, ms(560'000));  // wh_1's claims end
  EXPECT_FALSE(claim(510'000, {"wh_1"}).next_due_at);
}

// ---- claims: one caller (one node) per attempt -------------------------------------------

TEST_P(WebhooksTest, AClaimHidesTheDeliveryUntilItsLeasePassesAndRecordingEndsIt) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  complete_with_event("T1", "d1", 100'000);
  const auto first = claim(100'000);
  ASSERT_EQ(first.due.size(), 1U);
  const auto& claimed = first.due[0].delivery;
  EXPECT_EQ(claimed.version, 2);  // the claim's, which the attempt's record expects
  EXPECT_EQ(claimed.next_attempt_at, ms(100'000 + kLeaseMs));
  EXPECT_EQ(first.due[0].due_at, ms(100'000));

  // Nobody else gets it while the lease runs; when it ends is when to look again.
  EXPECT_THAT(claim(100'000).due, IsEmpty());
  const auto during = claim(100'000 + kLeaseMs - 1);
  EXPECT_THAT(during.due, IsEmpty());
  EXPECT_EQ(during.next_due_at, ms(100'000 + kLeaseMs));
  const auto listed = deliveries().at(0);  // as GET /v1/webhooks/deliveries shows it
  EXPECT_EQ(listed.status, DeliveryStatus::pending);
  EXPECT_EQ(listed.next_attempt_at, ms(100'000 + kLeaseMs));
  EXPECT_EQ(listed.attempt_count, 0);

  // Recording ends the claim: the failed attempt's retry is due at its own time, within
  // what was the lease.
  ASSERT_TRUE(store_->record_webhook_attempt(failed_attempt(claimed, 100'010, 105'000)));
  const auto retry = claim(105'000);
  ASSERT_EQ(retry.due.size(), 1U);
  EXPECT_EQ(retry.due[0].delivery.version, 4);  // recorded (3), claimed again (4)
  ASSERT_TRUE(store_->record_webhook_attempt(succeeded_attempt(retry.due[0].delivery, 105'000)));
  const auto done = deliveries().at(0);
  EXPECT_EQ(done.status, DeliveryStatus::succeeded);
  EXPECT_EQ(done.attempt_count, 2);
  EXPECT_THAT(claim(10'000'000).due, IsEmpty());
}

TEST_P(WebhooksTest, AClaimPastItsLeaseIsTakenByAnotherCallerAndTheLateRecordLosesItsSet) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  complete_with_event("T1", "d1", 100'000);
  const auto first = claim(100'000);  // a node that then stalls (or dies) mid-attempt
  ASSERT_EQ(first.due.size(), 1U);
  const auto second = claim(100'000 + kLeaseMs);  // another node, once the lease has passed
  ASSERT_EQ(second.due.size(), 1U);
  EXPECT_EQ(second.due[0].delivery.delivery_id, first.due[0].delivery.delivery_id);
  EXPECT_EQ(second.due[0].delivery.version, first.due[0].delivery.version + 1);

  // The first attempt's late record counts the attempt but decides nothing: the second
  // holds the delivery.
  ASSERT_TRUE(
      store_->record_webhook_attempt(succeeded_attempt(first.due[0].delivery, 100'000 + kLeaseMs)));
  auto delivery = deliveries().at(0);
  EXPECT_EQ(delivery.status, DeliveryStatus::pending);
  EXPECT_EQ(delivery.attempt_count, 1);
  EXPECT_EQ(delivery.version, second.due[0].delivery.version);
  EXPECT_EQ(delivery.next_attempt_at, ms(100'000 + 2 * kLeaseMs));

  // The second attempt's record applies.
  ASSERT_TRUE(store_->record_webhook_attempt(
      failed_attempt(second.due[0].delivery, 100'000 + kLeaseMs, 300'000)));
  delivery = deliveries().at(0);
  EXPECT_EQ(delivery.status, DeliveryStatus::pending);
  EXPECT_EQ(delivery.attempt_count, 2);
  EXPECT_EQ(delivery.retry_step, 1);
  EXPECT_EQ(delivery.next_attempt_at, ms(300'000));
}

TEST_P(WebhooksTest, AReleasedClaimIsDueAgainInItsPlaceUnlessItChangedMeanwhile) {
  add_endpoint(make_endpoint("wh_1", "m1", 1));
  add_endpoint(make_endpoint("wh_2", "m1", 2));
  complete_with_event("T1", "d1", 100'000);
  complete_with_event("T2", "d2", 120'000);
  const auto claimed = claim(150'000);
  ASSERT_EQ(claimed.due.size(), 4U);
  const auto release_of = [](const DueDelivery& due) {
    return WebhookClaim{.delivery_id = due.delivery.delivery_id,
                        .version = due.delivery.version,
                        .due_at = due.due_at};
  };
  // The first is recorded, the second claimed again after its lease: their releases
  // change nothing. The last two are due again when they were.
  ASSERT_TRUE(store_->record_webhook_attempt(succeeded_attempt(claimed.due[0].delivery, 150'000)));
  std::vector<WebhookClaim> releases;
  for (const auto& due : claimed.due) {
    releases.push_back(release_of(due));
  }
  store_->release_webhook_claims({releases[2], releases[3]});
  const auto again = claim(160'000);
  ASSERT_EQ(again.due.size(), 2U);
  EXPECT_EQ(again.due[0].delivery.delivery_id, claimed.due[2].delivery.delivery_id);
  EXPECT_EQ(again.due[0].due_at, ms(120'000));
  EXPECT_EQ(again.due[1].delivery.delivery_id, claimed.due[3].delivery.delivery_id);
  const auto taken_over = claim(150'000 + kLeaseMs);  // the second's lease has passed
  ASSERT_EQ(taken_over.due.size(), 1U);
  EXPECT_EQ(taken_over.due[0].delivery.delivery_id, claimed.due[1].delivery.delivery_id);
  store_->release_webhook_claims({releases[0], releases[1], releases[2]});  // all stale
  EXPECT_THAT(claim(150'000 + kLeaseMs).due, IsEmpty());
  EXPECT_EQ(
      deliveries(DeliveryQuery{.merchant_id = "m1", .status = DeliveryStatus::pending}).size(), 3U);
  EXPECT_EQ(
      deliveries(DeliveryQuery{.merchant_id = "m1", .status = DeliveryStatus::succeeded}).size(),
      1U);
  EXPECT_THROW((void)claim(150'000, {}, {}, 100, 0), std::invalid_argument);
}

TEST_P(WebhooksTest, AttemptsAreRecordedAndTheDispatchersDecisionApplied) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  complete_with_event("T1", "d1", 100'000);
  auto delivery = deliveries().at(0);

  ASSERT_TRUE(store_->record_webhook_attempt(failed_attempt(delivery, 100'010, 105'000)));
  delivery = deliveries().at(0);
  EXPECT_EQ(delivery.status, DeliveryStatus::pending);
  EXPECT_EQ(delivery.attempt_count, 1);
  EXPECT_EQ(delivery.retry_step, 1);
  EXPECT_EQ(delivery.next_attempt_at, ms(105'000));
  EXPECT_EQ(delivery.updated_at, ms(100'022));
  ASSERT_EQ(delivery.attempts.size(), 1U);
  EXPECT_EQ(delivery.attempts[0].number, 1);
  EXPECT_EQ(delivery.attempts[0].started_at, ms(100'010));
  EXPECT_EQ(delivery.attempts[0].duration_ms, 12);
  EXPECT_EQ(delivery.attempts[0].http_status, 503);
  EXPECT_FALSE(delivery.attempts[0].error);
  EXPECT_THAT(claim(104'999).due, IsEmpty());
  const auto claimed = claim(105'000);
  ASSERT_EQ(claimed.due.size(), 1U);

  auto network_error = failed_attempt(claimed.due[0].delivery, 105'000, 0);
  network_error.attempt.http_status.reset();
  network_error.attempt.error = "connect: connection refused";
  network_error.next_status = DeliveryStatus::succeeded;  // (a made-up decision, stored as is)
  network_error.next_attempt_at.reset();
  ASSERT_TRUE(store_->record_webhook_attempt(network_error));
  delivery = deliveries().at(0);
  EXPECT_EQ(delivery.status, DeliveryStatus::succeeded);
  EXPECT_FALSE(delivery.next_attempt_at);
  ASSERT_EQ(delivery.attempts.size(), 2U);
  EXPECT_EQ(delivery.attempts[1].number, 2);
  EXPECT_FALSE(delivery.attempts[1].http_status);
  EXPECT_EQ(delivery.attempts[1].error, "connect: connection refused");
  EXPECT_THAT(claim(1'000'000).due, IsEmpty());

  EXPECT_FALSE(store_->record_webhook_attempt(AttemptOutcome{.delivery_id = "dlv_nope"}));
}

TEST_P(WebhooksTest, AManualRetryDuringAnAttemptWinsOverThatAttemptsDecision) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  complete_with_event("T1", "d1", 100'000);
  const auto started = deliveries().at(0);  // the attempt starts from this version
  const auto retried = store_->retry_webhook_delivery("m1", started.delivery_id, ms(100'005));
  ASSERT_EQ(retried.outcome, RetryOutcome::scheduled);
  ASSERT_TRUE(store_->record_webhook_attempt(failed_attempt(started, 100'001, 200'000)));
  const auto delivery = deliveries().at(0);
  EXPECT_EQ(delivery.attempt_count, 1);
  EXPECT_EQ(delivery.retry_step, 0);
  EXPECT_EQ(delivery.next_attempt_at, ms(100'005));  // the retry's, not the attempt's
  EXPECT_EQ(delivery.status, DeliveryStatus::pending);
}

TEST_P(WebhooksTest, ManualRetryMakesAnyDeliveryOfAnActiveEndpointDueNow) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  complete_with_event("T1", "d1", 100'000);
  auto delivery = deliveries().at(0);
  auto give_up = failed_attempt(delivery, 100'000, 0);
  give_up.next_status = DeliveryStatus::failed;
  give_up.next_attempt_at.reset();
  ASSERT_TRUE(store_->record_webhook_attempt(give_up));
  EXPECT_THAT(claim(10'000'000).due, IsEmpty());

  EXPECT_EQ(store_->retry_webhook_delivery("m2", delivery.delivery_id, ms(200'000)).outcome,
            RetryOutcome::not_found);
  EXPECT_EQ(store_->retry_webhook_delivery("m1", "dlv_nope", ms(200'000)).outcome,
            RetryOutcome::not_found);
  const auto result = store_->retry_webhook_delivery("m1", delivery.delivery_id, ms(200'000));
  ASSERT_EQ(result.outcome, RetryOutcome::scheduled);
  ASSERT_TRUE(result.delivery);
  EXPECT_EQ(result.delivery->status, DeliveryStatus::pending);
  EXPECT_EQ(result.delivery->next_attempt_at, ms(200'000));
  EXPECT_EQ(result.delivery->retry_step, 1);  // a failed retry fails it again
  EXPECT_EQ(result.delivery->attempts.size(), 1U);
  const auto claimed = claim(200'000);
  ASSERT_EQ(claimed.due.size(), 1U);

  auto disabled = *store_->find_webhook_endpoint("m1", "wh_1");
  disabled.status = domain::EndpointStatus::disabled;
  ASSERT_TRUE(store_->update_webhook_endpoint(disabled));
  const auto refused = store_->retry_webhook_delivery("m1", delivery.delivery_id, ms(300'000));
  EXPECT_EQ(refused.outcome, RetryOutcome::endpoint_inactive);
  ASSERT_TRUE(refused.delivery);
  EXPECT_EQ(refused.delivery->next_attempt_at, ms(200'000 + kLeaseMs));  // the claim's
}

TEST_P(WebhooksTest, DeletingAnEndpointFailsItsPendingDeliveriesWhichStayListed) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  add_endpoint(make_endpoint("wh_2", "m1"));
  complete_with_event("T1", "d1", 100'000);
  ASSERT_EQ(store_->delete_webhook_endpoint("m1", "wh_1", ms(150'000)),
            EndpointDeleteOutcome::deleted);
  const auto listed = deliveries(DeliveryQuery{.merchant_id = "m1", .endpoint_id = "wh_1"});
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].status, DeliveryStatus::failed);
  EXPECT_FALSE(listed[0].next_attempt_at);
  EXPECT_EQ(listed[0].updated_at, ms(150'000));
  const auto claimed = claim(200'000);
  ASSERT_EQ(claimed.due.size(), 1U);
  EXPECT_EQ(claimed.due[0].delivery.endpoint_id, "wh_2");
  EXPECT_EQ(store_->retry_webhook_delivery("m1", listed[0].delivery_id, ms(200'000)).outcome,
            RetryOutcome::endpoint_inactive);
}

TEST_P(WebhooksTest, DeliveriesAreListedNewestFirstWithFiltersAndACursor) {
  add_endpoint(make_endpoint("wh_1", "m1", 1));
  add_endpoint(make_endpoint("wh_2", "m1", 2));
  complete_with_event("T1", "d1", 100'000);
  complete_with_event("T2", "d2", 200'000);
  complete_with_event("T3", "d1", 300'000);

  const auto all = deliveries();
  ASSERT_EQ(all.size(), 6U);
  EXPECT_EQ(all.front().transaction_id, "T3");
  EXPECT_EQ(all.back().transaction_id, "T1");
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_GT(all[i - 1].sequence, all[i].sequence);
  }
  const auto page = deliveries(
      DeliveryQuery{.merchant_id = "m1", .before_sequence = all[1].sequence, .limit = 2});
  ASSERT_EQ(page.size(), 2U);
  EXPECT_EQ(page[0].delivery_id, all[2].delivery_id);
  EXPECT_EQ(page[1].delivery_id, all[3].delivery_id);

  EXPECT_EQ(deliveries(DeliveryQuery{.merchant_id = "m1", .endpoint_id = "wh_2"}).size(), 3U);
  EXPECT_EQ(deliveries(DeliveryQuery{.merchant_id = "m1", .transaction_id = "T2"}).size(), 2U);
  EXPECT_EQ(
      deliveries(DeliveryQuery{.merchant_id = "m1", .status = DeliveryStatus::pending}).size(), 6U);
  EXPECT_THAT(deliveries(DeliveryQuery{.merchant_id = "m1", .status = DeliveryStatus::failed}),
              IsEmpty());
}

TEST_P(WebhooksTest, OnlyTheLatestAttemptsAreListed) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  complete_with_event("T1", "d1", 100'000);
  for (int i = 0; i < 5; ++i) {
    const auto delivery = deliveries().at(0);
    ASSERT_TRUE(store_->record_webhook_attempt(failed_attempt(delivery, 100'000 + i, 200'000)));
  }
  const auto listed = deliveries(DeliveryQuery{.merchant_id = "m1", .max_attempts_each = 3}).at(0);
  EXPECT_EQ(listed.attempt_count, 5);
  ASSERT_EQ(listed.attempts.size(), 3U);
  EXPECT_EQ(listed.attempts[0].number, 3);
  EXPECT_EQ(listed.attempts[2].number, 5);
}

TEST_P(WebhooksTest, PendingDeliveriesSurviveAReopen) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  complete_with_event("T1", "d1", 100'000);
  reopen();
  const auto after = claim(100'000);
  ASSERT_EQ(after.due.size(), 1U);
  EXPECT_EQ(after.due[0].delivery.event_id, "evt_T1");
}

// ---- Nomba-format endpoints (migration 4) ----------------------------------------------

TEST_P(WebhooksTest, TheNombaBodyIsStoredWithTheEventOrLeftOut) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1", 99'000)),
            InsertOutcome::inserted);
  const auto timeout = make_nomba_event("evt_timeout", "T1", "payment.timeout", 100'000);
  auto to_timeout = final_change("T1", TransactionStatus::timeout, timeout, 100'000);
  to_timeout.cause = "grace_expired";
  ASSERT_TRUE(store_->change_status(to_timeout)->applied);
  auto to_voided = final_change("T1", TransactionStatus::voided,
                                make_event("evt_voided", "T1", "payment.voided", 110'000), 110'000);
  to_voided.expected = TransactionStatus::timeout;
  to_voided.cause = "terminal_succeeded_after_timeout";
  ASSERT_TRUE(store_->change_status(to_voided)->applied);

  reopen();  // read back from the file, not from anything the store kept
  const auto events = store_->list_webhook_events("m1", "T1");
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].event_id, "evt_timeout");
  EXPECT_EQ(events[0].payload, timeout.payload);
  EXPECT_EQ(events[0].format_payloads, timeout.format_payloads);
  EXPECT_EQ(events[0].format_keys, timeout.format_keys);
  EXPECT_EQ(events[1].event_id, "evt_voided");
  EXPECT_TRUE(events[1].format_keys.empty());
  EXPECT_FALSE(
      events[1].format_payloads.contains(domain::WebhookFormat::nomba));  // NULL, not an empty body
  RawDb raw = raw_db();
  EXPECT_EQ(raw.query_int(
                "SELECT nomba_payload IS NULL FROM webhook_events WHERE event_id = 'evt_voided'"),
            1);
}

TEST_P(WebhooksTest, ANombaEndpointGetsADeliveryOnlyForAnEventWithANombaBody) {
  add_endpoint(make_endpoint("wh_standard", "m1", 1));
  add_endpoint(make_nomba_endpoint("wh_nomba", "m1", 2));
  auto failed_only = make_nomba_endpoint("wh_nomba_failed_only", "m1", 3);
  failed_only.events_json = R"(["payment.failed"])";
  add_endpoint(failed_only);

  // With a Nomba body: every endpoint subscribed to the type, whatever its format.
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1", 99'000)),
            InsertOutcome::inserted);
  ASSERT_TRUE(store_
                  ->change_status(final_change(
                      "T1", TransactionStatus::completed,
                      make_nomba_event("evt_T1", "T1", "payment.completed", 100'000), 100'000))
                  ->applied);
  EXPECT_THAT(deliveries(DeliveryQuery{.merchant_id = "m1", .transaction_id = "T1"}),
              UnorderedElementsAre(Field(&WebhookDeliveryRecord::endpoint_id, "wh_standard"),
                                   Field(&WebhookDeliveryRecord::endpoint_id, "wh_nomba")));

  // Without one (payment.voided): standard endpoints only.
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T2", "d2", 199'000)),
            InsertOutcome::inserted);
  auto to_timeout =
      final_change("T2", TransactionStatus::timeout,
                   make_nomba_event("evt_T2_timeout", "T2", "payment.timeout", 200'000), 200'000);
  ASSERT_TRUE(store_->change_status(to_timeout)->applied);
  auto to_voided =
      final_change("T2", TransactionStatus::voided,
                   make_event("evt_T2_voided", "T2", "payment.voided", 210'000), 210'000);
  to_voided.expected = TransactionStatus::timeout;
  ASSERT_TRUE(store_->change_status(to_voided)->applied);
  const auto voided = deliveries(DeliveryQuery{.merchant_id = "m1", .transaction_id = "T2"});
  EXPECT_THAT(voided, UnorderedElementsAre(
                          AllOf(Field(&WebhookDeliveryRecord::endpoint_id, "wh_standard"),
                                Field(&WebhookDeliveryRecord::event_id, "evt_T2_timeout")),
                          AllOf(Field(&WebhookDeliveryRecord::endpoint_id, "wh_nomba"),
                                Field(&WebhookDeliveryRecord::event_id, "evt_T2_timeout")),
                          AllOf(Field(&WebhookDeliveryRecord::endpoint_id, "wh_standard"),
                                Field(&WebhookDeliveryRecord::event_id, "evt_T2_voided"))));
  // The event itself is written all the same.
  EXPECT_EQ(store_->list_webhook_events("m1", "T2").size(), 2U);
}

TEST_P(WebhooksTest, DueDeliveriesCarryTheEndpointsFormatAndTheBodyForIt) {
  add_endpoint(make_endpoint("wh_standard", "m1", 1));
  add_endpoint(make_nomba_endpoint("wh_nomba", "m1", 2));
  const auto event = make_nomba_event("evt_T1", "T1", "payment.completed", 100'000);
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1", 99'000)),
            InsertOutcome::inserted);
  ASSERT_TRUE(
      store_->change_status(final_change("T1", TransactionStatus::completed, event, 100'000))
          ->applied);

  const auto due_now = claim(100'000);
  ASSERT_EQ(due_now.due.size(), 2U);
  for (const auto& delivery : due_now.due) {
    SCOPED_TRACE(delivery.delivery.endpoint_id);
    EXPECT_EQ(delivery.delivery.event_id, "evt_T1");
    EXPECT_EQ(delivery.url, "https://hooks.example/" + delivery.delivery.endpoint_id);
    if (delivery.delivery.endpoint_id == "wh_nomba") {
      EXPECT_EQ(delivery.format, domain::WebhookFormat::nomba);
      EXPECT_EQ(delivery.payload, event.format_payloads.at(domain::WebhookFormat::nomba));
      EXPECT_EQ(delivery.secret.reveal(), "nomba-signing-key-wh_nomba");
    } else {
      EXPECT_EQ(delivery.format, domain::WebhookFormat::standard);
      EXPECT_EQ(delivery.payload, event.payload);
      EXPECT_EQ(delivery.secret.reveal(), "whsec_c2VjcmV0LW9mLQ==");
    }
  }
}

TEST_P(WebhooksTest, ANombaDeliveryWithoutANombaBodyIsNeverStarted) {
  // Only a delivery made before migration 4 can be in this state (the outbox no longer
  // makes one); it is written here behind the store's back.
  add_endpoint(make_endpoint("wh_standard", "m1", 1));
  add_endpoint(make_nomba_endpoint("wh_nomba", "m1", 2));
  complete_with_event("T1", "d1", 100'000);  // no Nomba body: the standard endpoint only
  complete_with_event("T2", "d2", 200'000);
  RawDb raw = raw_db();
  ASSERT_EQ(raw.exec("INSERT INTO webhook_deliveries (seq, delivery_id, merchant_id, event_id, "
                     "endpoint_id, status, next_attempt_at, created_at, updated_at) VALUES "
                     "(1000, 'dlv_legacy_1', 'm1', 'evt_T1', 'wh_nomba', 'pending', 50000, 1, 1), "
                     "(1001, 'dlv_legacy_2', 'm1', 'evt_T2', 'wh_nomba', 'pending', 150000, 1, 1)"),
            SQLITE_OK)
      << raw.last_error();

  const auto at_100 = claim(100'000);
  EXPECT_THAT(at_100.due,
              ElementsAre(Field(&DueDelivery::delivery,
                                Field(&WebhookDeliveryRecord::endpoint_id, "wh_standard"))));
  EXPECT_EQ(at_100.next_due_at, ms(200'000));  // T2's standard delivery, not dlv_legacy_2
  const auto at_300 = claim(300'000);
  EXPECT_EQ(at_300.due.size(), 2U);
  EXPECT_FALSE(at_300.next_due_at);
}

// ---- Nomba re-push and event logs (migration 7) -----------------------------------------

class NombaLogsTest : public WebhooksTest {
 protected:
  // T<n> completed at n * 100 s with a Nomba body whose requestId is "req-T<n>".
  void complete_nomba(int n) {
    const std::string id = "T" + std::to_string(n);
    const std::int64_t at = n * 100'000;
    ASSERT_EQ(store_->insert_transaction(make_transaction("m1", id, "d1", at - 1)),
              InsertOutcome::inserted);
    auto event = make_event("evt_" + id, id, "payment.completed", at);
    event.format_payloads[domain::WebhookFormat::nomba] =
        R"({"event_type":")" + std::string(n == 2 ? "payment_failed" : "payment_success") +
        R"(","requestId":"req-)" + id + R"("})";
    event.format_keys[domain::WebhookFormat::nomba] = "req-" + id;
    ASSERT_TRUE(
        store_->change_status(final_change(id, TransactionStatus::completed, event, at))->applied);
  }

  std::vector<std::string> logged(NombaEventLogQuery query) {
    query.merchant_id = query.merchant_id.empty() ? "m1" : query.merchant_id;
    std::vector<std::string> ids;
    for (const auto& log : store_->list_nomba_event_logs(query)) {
      ids.push_back(log.request_id);
    }
    return ids;
  }
};

TEST_P(NombaLogsTest, DeliveriesAreFoundByTheirNombaRequestIdForTheirMerchantOnly) {
  add_endpoint(make_endpoint("wh_standard", "m1", 1));
  add_endpoint(make_nomba_endpoint("wh_nomba", "m1", 2));
  complete_nomba(1);
  const auto found = store_->find_nomba_deliveries("m1", "req-T1");
  ASSERT_EQ(found.size(), 1U);  // the standard endpoint's delivery is not a Nomba event
  const auto listed = deliveries(DeliveryQuery{.merchant_id = "m1", .endpoint_id = "wh_nomba"});
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(found[0], listed[0].delivery_id);
  EXPECT_THAT(store_->find_nomba_deliveries("m2", "req-T1"), IsEmpty());
  EXPECT_THAT(store_->find_nomba_deliveries("m1", "evt_T1"), IsEmpty());
  EXPECT_THAT(store_->find_nomba_deliveries("m1", "req-nope"), IsEmpty());
  RawDb raw = raw_db();  // the lookup uses the column's index (migration 9), no JSON
  if (raw.is_postgres()) {
    EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM pg_indexes WHERE indexname = "
                            "'webhook_events_by_nomba_request_id'"),
              1);
    EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM pg_indexes WHERE indexdef LIKE '%json%'"), 0);
    return;
  }
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = "
                          "'webhook_events_by_nomba_request_id'"),
            1);
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM sqlite_master WHERE sql LIKE '%json_extract%'"), 0);
}

TEST_P(NombaLogsTest, AKeyWithoutItsBodyOrForTheStandardFormatIsRefused) {
  ASSERT_EQ(store_->insert_transaction(make_transaction("m1", "T1", "d1", 99'000)),
            InsertOutcome::inserted);
  auto keyed_only = make_event("evt_T1", "T1", "payment.completed", 100'000);
  keyed_only.format_keys[domain::WebhookFormat::nomba] = "req-T1";
  EXPECT_THROW((void)store_->change_status(
                   final_change("T1", TransactionStatus::completed, keyed_only, 100'000)),
               StoreError);
  auto standard_key = make_nomba_event("evt_T1", "T1", "payment.completed", 100'000);
  standard_key.format_keys[domain::WebhookFormat::standard] = "req-T1";
  EXPECT_THROW((void)store_->change_status(
                   final_change("T1", TransactionStatus::completed, standard_key, 100'000)),
               StoreError);
  EXPECT_EQ(store_->find_transaction("m1", "T1")->status, TransactionStatus::pending);
}

TEST_P(NombaLogsTest, LogsShowTheLatestAnswerFilterAndPageNewestFirst) {
  add_endpoint(make_endpoint("wh_standard", "m1", 1));
  add_endpoint(make_nomba_endpoint("wh_nomba", "m1", 2));
  for (int n = 1; n <= 3; ++n) {
    complete_nomba(n);
  }
  EXPECT_EQ(logged({}), (std::vector<std::string>{"req-T3", "req-T2", "req-T1"}));
  const auto first = store_->list_nomba_event_logs({.merchant_id = "m1"}).back();
  EXPECT_EQ(first.url, "https://hooks.example/wh_nomba");
  EXPECT_EQ(first.event_id, "evt_T1");
  EXPECT_EQ(first.event_type, "payment_success");
  EXPECT_FALSE(first.http_status);  // no attempt yet
  EXPECT_FALSE(first.response_body);
  // Two attempts: the latest one's answer is shown.
  const auto delivery = deliveries(DeliveryQuery{.merchant_id = "m1", .endpoint_id = "wh_nomba"});
  const auto& oldest = delivery.back();
  auto failed = failed_attempt(oldest, 100'500, 101'000);
  failed.attempt.response_body = "busy";
  ASSERT_TRUE(store_->record_webhook_attempt(failed));
  auto succeeded = failed;
  succeeded.expected_version = oldest.version + 1;
  succeeded.attempt.http_status = 200;
  succeeded.attempt.response_body = R"({"ok":true})";
  succeeded.next_status = DeliveryStatus::succeeded;
  succeeded.next_attempt_at = std::nullopt;
  ASSERT_TRUE(store_->record_webhook_attempt(succeeded));
  reopen();
  const auto answered = store_->list_nomba_event_logs({.merchant_id = "m1"}).back();
  EXPECT_EQ(answered.http_status, 200);
  EXPECT_EQ(answered.response_body, R"({"ok":true})");
  EXPECT_EQ(logged({.merchant_id = "m1", .event_type = "payment_failed"}),
            std::vector<std::string>{"req-T2"});
  EXPECT_EQ(logged({.merchant_id = "m1", .created_from = ms(200'000)}),
            (std::vector<std::string>{"req-T3", "req-T2"}));
  EXPECT_EQ(logged({.merchant_id = "m1", .created_to = ms(200'000)}),
            (std::vector<std::string>{"req-T2", "req-T1"}));
  const auto page = store_->list_nomba_event_logs({.merchant_id = "m1", .limit = 2});
  ASSERT_EQ(page.size(), 2U);
  EXPECT_EQ(logged({.merchant_id = "m1", .before_sequence = page.back().sequence}),
            std::vector<std::string>{"req-T1"});
  EXPECT_THAT(logged({.merchant_id = "m2"}), IsEmpty());
}

TEST_P(NombaLogsTest, AMerchantKeepsItsOwnNombaAmountUnit) {
  EXPECT_FALSE(store_->find_merchant("m2")->nomba_amount_unit);
  ASSERT_TRUE(store_->set_merchant_nomba_amount_unit("m2", std::string("major")));
  reopen();
  EXPECT_EQ(store_->find_merchant("m2")->nomba_amount_unit, "major");
  EXPECT_FALSE(store_->find_merchant("m1")->nomba_amount_unit);
  ASSERT_TRUE(store_->set_merchant_nomba_amount_unit("m2", std::nullopt));
  EXPECT_FALSE(store_->find_merchant("m2")->nomba_amount_unit);
  EXPECT_FALSE(store_->set_merchant_nomba_amount_unit("m_nope", std::string("minor")));
  EXPECT_THROW((void)store_->set_merchant_nomba_amount_unit("m2", std::string("kobo")), StoreError);
}

// ---- several nodes on one PostgreSQL database ---------------------------------------------

// Two PostgresStore objects on one database, each a node's store.
using TwoNodesWebhooksTest = WebhooksTest;

TEST_P(TwoNodesWebhooksTest, NodesClaimingAtOnceGetEachDueDeliveryOnce) {
  add_endpoint(make_endpoint("wh_1", "m1", 1));
  add_endpoint(make_endpoint("wh_2", "m1", 2));
  constexpr int kTransactions = 15;
  for (int i = 0; i < kTransactions; ++i) {
    complete_with_event("T" + std::to_string(i), "d1", 100'000 + i);
  }
  auto other_node = open_store(db_url());
  // Each node claims three at a time until nothing is left, both at once.
  const auto drain = [](Store& store, std::vector<std::string>& claimed) {
    for (;;) {
      const auto found = store.claim_due_webhook_deliveries(
          DueQuery{.now = ms(200'000), .limit = 3, .lease = std::chrono::milliseconds{kLeaseMs}});
      if (found.due.empty()) {
        return;
      }
      for (const auto& due : found.due) {
        claimed.push_back(due.delivery.delivery_id);
      }
    }
  };
  std::vector<std::string> by_this_node;
  std::vector<std::string> by_other_node;
  std::thread other([&] { drain(*other_node, by_other_node); });
  drain(*store_, by_this_node);
  other.join();

  std::set<std::string> all(by_this_node.begin(), by_this_node.end());
  all.insert(by_other_node.begin(), by_other_node.end());
  EXPECT_EQ(all.size(), by_this_node.size() + by_other_node.size());  // none twice
  EXPECT_EQ(all.size(), 2U * kTransactions);                          // none left out
  std::cout << "[ measure ] " << by_this_node.size() << " claimed by one node, "
            << by_other_node.size() << " by the other\n";
}

TEST_P(TwoNodesWebhooksTest, ANodeThatDiesMidAttemptLeavesTheDeliveryToAnotherAfterTheLease) {
  add_endpoint(make_endpoint("wh_1", "m1"));
  complete_with_event("T1", "d1", 100'000);
  auto other_node = open_store(db_url());
  const auto claimed = claim(100'000);
  ASSERT_EQ(claimed.due.size(), 1U);
  store_.reset();  // killed mid-attempt: nothing recorded

  const auto other_claim = [&other_node](std::int64_t now_ms) {
    return other_node->claim_due_webhook_deliveries(
        DueQuery{.now = ms(now_ms), .lease = std::chrono::milliseconds{kLeaseMs}});
  };
  const auto during = other_claim(100'000 + kLeaseMs - 1);
  EXPECT_THAT(during.due, IsEmpty());
  EXPECT_EQ(during.next_due_at, ms(100'000 + kLeaseMs));  // when to look again
  const auto after = other_claim(100'000 + kLeaseMs);
  ASSERT_EQ(after.due.size(), 1U);
  EXPECT_EQ(after.due[0].delivery.delivery_id, claimed.due[0].delivery.delivery_id);
  ASSERT_TRUE(other_node->record_webhook_attempt(
      succeeded_attempt(after.due[0].delivery, 100'000 + kLeaseMs)));
  const auto delivery =
      other_node->list_webhook_deliveries(DeliveryQuery{.merchant_id = "m1"}).at(0);
  EXPECT_EQ(delivery.status, DeliveryStatus::succeeded);
  EXPECT_EQ(delivery.attempt_count, 1);
}

TILLGATE_STORE_BACKENDS(WebhooksTest);
TILLGATE_STORE_BACKENDS(NombaLogsTest);
INSTANTIATE_TEST_SUITE_P(Postgres, TwoNodesWebhooksTest, ::testing::Values(Backend::postgres),
                         backend_name);

}  // namespace
}  // namespace tillgate::store::testing
