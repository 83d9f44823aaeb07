// The webhook methods of PostgresStore: endpoints, the outbox, deliveries and their attempts.
#include <fmt/format.h>

#include <algorithm>

#include "domain/ids.hpp"
#include "json/json.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/store_statements.hpp"

namespace tillgate::store::postgres {
namespace {

// The one format besides the standard whose body has a column (webhook_events.nomba_payload).
constexpr auto kNombaFormat = domain::WebhookFormat::nomba;

[[nodiscard]] domain::EndpointStatus read_endpoint_status(const Statement::Use& use, int column) {
  const auto status = domain::parse_endpoint_status(use.text(column));
  if (!status) {
    use.fail(fmt::format("column {} holds an unknown endpoint status", column));
  }
  return *status;
}

[[nodiscard]] domain::WebhookFormat read_format(const Statement::Use& use, int column) {
  const auto format = domain::parse_webhook_format(use.text(column));
  if (!format) {
    use.fail(fmt::format("column {} holds an unknown webhook format", column));
  }
  return *format;
}

// The columns of the one format besides the standard whose body the schema keeps: its body
// and its key (the requestId its API finds the event by). Another format, or a key without
// a body, is refused: the schema has no place for it.
struct NombaColumns {
  std::optional<std::string_view> payload;
  std::optional<std::string_view> request_id;
};

[[nodiscard]] NombaColumns nomba_columns(const WebhookEventRecord& event) {
  NombaColumns columns;
  const auto refuse = [&event](std::string_view what, domain::WebhookFormat format) {
    throw StoreError(fmt::format("webhook event {}: no column for the {} of format {}",
                                 event.event_id, what, domain::to_string(format)));
  };
  for (const auto& [format, body] : event.format_payloads) {
    if (format != kNombaFormat) {
      refuse("body", format);
    }
    columns.payload = body;
  }
  for (const auto& [format, key] : event.format_keys) {
    if (format != kNombaFormat || !columns.payload) {
      refuse("key", format);
    }
    columns.request_id = key;
  }
  return columns;
}

[[nodiscard]] WebhookEndpointRecord read_endpoint(const Statement::Use& use) {
  return WebhookEndpointRecord{.endpoint_id = use.text(0),
                               .merchant_id = use.text(1),
                               .url = use.text(2),
                               .secret = domain::Secret(use.text(3)),
                               .events_json = use.text(4),
                               .status = read_endpoint_status(use, 5),
                               .format = read_format(use, 6),
                               .description = use.text(7),
                               .metadata_json = use.text(8),
                               .created_at = use.timestamp(9),
                               .updated_at = use.timestamp(10),
                               .deleted_at = use.optional_timestamp(11)};
}

[[nodiscard]] WebhookDeliveryRecord read_delivery(const Statement::Use& use) {
  const auto status = parse_delivery_status(use.text(6));
  if (!status) {
    use.fail("column 6 holds an unknown delivery status");
  }
  return WebhookDeliveryRecord{.delivery_id = use.text(0),
                               .merchant_id = use.text(1),
                               .event_id = use.text(2),
                               .endpoint_id = use.text(3),
                               .event_type = use.text(4),
                               .transaction_id = use.text(5),
                               .status = *status,
                               .attempt_count = use.int64(7),
                               .retry_step = use.int64(8),
                               .next_attempt_at = use.optional_timestamp(9),
                               .created_at = use.timestamp(10),
                               .updated_at = use.timestamp(11),
                               .version = use.int64(12),
                               .sequence = use.int64(13),
                               .attempts = {}};
}

// A JSON array of ids, for the exclusions of the due query (jsonb_array_elements_text).
[[nodiscard]] std::string id_array(const std::vector<std::string>& ids) {
  json::Array items;
  items.reserve(ids.size());
  for (const auto& id : ids) {
    items.emplace_back(id);
  }
  return json::serialize(json::Value(std::move(items)));
}

}  // namespace

// ---- endpoints ------------------------------------------------------------------------------

EndpointInsertOutcome PostgresStore::insert_webhook_endpoint(const WebhookEndpointRecord& endpoint,
                                                             std::size_t max_per_merchant) {
  constexpr std::string_view kOperation = "insert_webhook_endpoint";
  // The count and the insert under one write lock: two creations at once cannot both
  // take the last place.
  auto transaction = begin_write(kOperation);
  {
    auto use = statements_->webhooks.count_endpoints.use(kOperation);
    if (!use.bind(endpoint.merchant_id).step()) {
      use.fail("COUNT returned no row");
    }
    if (use.int64(0) >= static_cast<std::int64_t>(max_per_merchant)) {
      return EndpointInsertOutcome::limit_reached;
    }
  }
  statements_->webhooks.insert_endpoint.use(kOperation)
      .bind(endpoint.endpoint_id, endpoint.merchant_id, endpoint.url, endpoint.secret.reveal(),
            endpoint.events_json, domain::to_string(endpoint.status),
            domain::to_string(endpoint.format), endpoint.description, endpoint.metadata_json,
            endpoint.created_at, endpoint.updated_at, endpoint.deleted_at)
      .run();
  transaction.commit();
  return EndpointInsertOutcome::inserted;
}

std::optional<WebhookEndpointRecord> PostgresStore::find_webhook_endpoint(
    const std::string& merchant_id, const std::string& endpoint_id) {
  auto use = statements_->webhooks.find_endpoint.use("find_webhook_endpoint");
  if (!use.bind(merchant_id, endpoint_id).step()) {
    return std::nullopt;
  }
  return read_endpoint(use);
}

std::vector<WebhookEndpointRecord> PostgresStore::list_webhook_endpoints(
    const std::string& merchant_id) {
  auto use = statements_->webhooks.list_endpoints.use("list_webhook_endpoints");
  use.bind(merchant_id);
  std::vector<WebhookEndpointRecord> endpoints;
  while (use.step()) {
    endpoints.push_back(read_endpoint(use));
  }
  return endpoints;
}

bool PostgresStore::update_webhook_endpoint(const WebhookEndpointRecord& endpoint) {
  auto use = statements_->webhooks.update_endpoint.use("update_webhook_endpoint");
  use.bind(endpoint.merchant_id, endpoint.endpoint_id, endpoint.url, endpoint.events_json,
           domain::to_string(endpoint.status), endpoint.description, endpoint.metadata_json,
           endpoint.updated_at)
      .run();
  return use.changes() == 1;
}

EndpointDeleteOutcome PostgresStore::delete_webhook_endpoint(const std::string& merchant_id,
                                                             const std::string& endpoint_id,
                                                             Timestamp at) {
  constexpr std::string_view kOperation = "delete_webhook_endpoint";
  auto transaction = begin_write(kOperation);
  {
    auto use = statements_->webhooks.find_endpoint_deleted_at.use(kOperation);
    if (!use.bind(merchant_id, endpoint_id).step()) {
      return EndpointDeleteOutcome::not_found;
    }
    if (!use.is_null(0)) {
      return EndpointDeleteOutcome::already_deleted;
    }
  }
  statements_->webhooks.delete_endpoint.use(kOperation).bind(merchant_id, endpoint_id, at).run();
  // Nothing can deliver them any more; they stay listed, as failed.
  statements_->webhooks.fail_endpoint_deliveries.use(kOperation).bind(endpoint_id, at).run();
  transaction.commit();
  return EndpointDeleteOutcome::deleted;
}

// ---- the outbox -----------------------------------------------------------------------------

// Runs inside change_status's transaction: the event and its deliveries commit with the
// status change or not at all.
std::int64_t PostgresStore::append_webhook_event(std::string_view operation,
                                                 const WebhookEventRecord& event) {
  const auto nomba = nomba_columns(event);
  std::int64_t sequence = 0;
  {
    auto use = statements_->webhooks.insert_event.use(operation);
    use.bind(event.event_id, event.merchant_id, event.transaction_id, event.event_type,
             event.payload, event.created_at, nomba.payload, event.notification, nomba.request_id);
    if (!use.step()) {
      use.fail("INSERT ... RETURNING seq returned no row");
    }
    sequence = use.int64(0);
  }
  std::vector<std::string> endpoint_ids;
  {
    auto use = statements_->webhooks.subscribed_endpoints.use(operation);
    use.bind(event.merchant_id, event.event_type, nomba.payload.has_value());
    while (use.step()) {
      endpoint_ids.push_back(use.text(0));
    }
  }
  for (const auto& endpoint_id : endpoint_ids) {
    statements_->webhooks.insert_delivery.use(operation)
        .bind(domain::new_time_ordered_id("dlv_", event.created_at), event.merchant_id,
              event.event_id, endpoint_id, event.created_at)
        .run();
  }
  return sequence;
}

std::vector<WebhookEventRecord> PostgresStore::list_webhook_events(
    const std::string& merchant_id, const std::string& transaction_id) {
  auto use = statements_->webhooks.list_events.use("list_webhook_events");
  use.bind(merchant_id, transaction_id);
  std::vector<WebhookEventRecord> events;
  while (use.step()) {
    WebhookEventRecord event{.event_id = use.text(0),
                             .merchant_id = use.text(1),
                             .transaction_id = use.text(2),
                             .event_type = use.text(3),
                             .payload = use.text(4),
                             .created_at = use.timestamp(5)};
    if (auto nomba_payload = use.optional_text(6)) {
      event.format_payloads.emplace(kNombaFormat, std::move(*nomba_payload));
    }
    if (auto nomba_request_id = use.optional_text(7)) {
      event.format_keys.emplace(kNombaFormat, std::move(*nomba_request_id));
    }
    events.push_back(std::move(event));
  }
  return events;
}

namespace {

[[nodiscard]] PaymentEventRecord read_payment_event(const Statement::Use& use) {
  return PaymentEventRecord{.sequence = use.int64(0),
                            .event_id = use.text(1),
                            .merchant_id = use.text(2),
                            .transaction_id = use.text(3),
                            .event_type = use.text(4),
                            .notification = use.text(5),
                            .created_at = use.timestamp(6)};
}

}  // namespace

std::optional<PaymentEventRecord> PostgresStore::find_payment_event(const std::string& merchant_id,
                                                                    const std::string& event_id) {
  auto use = statements_->webhooks.find_payment_event.use("find_payment_event");
  if (!use.bind(merchant_id, event_id).step()) {
    return std::nullopt;
  }
  return read_payment_event(use);
}

std::vector<PaymentEventRecord> PostgresStore::list_payment_events(const std::string& merchant_id,
                                                                   std::int64_t after_sequence,
                                                                   std::size_t limit) {
  auto use = statements_->webhooks.list_payment_events.use("list_payment_events");
  use.bind(merchant_id, after_sequence, static_cast<std::int64_t>(limit));
  std::vector<PaymentEventRecord> events;
  while (use.step()) {
    events.push_back(read_payment_event(use));
  }
  return events;
}

// ---- deliveries -----------------------------------------------------------------------------

DueDeliveries PostgresStore::claim_due_webhook_deliveries(const DueQuery& query) {
  constexpr std::string_view kOperation = "claim_due_webhook_deliveries";
  const Timestamp lease_end = claim_lease_end(query);
  const std::string excluded_endpoints = id_array(query.exclude_endpoints);
  const std::string excluded_deliveries = id_array(query.exclude_deliveries);
  DueDeliveries result;
  auto transaction = begin_write(kOperation);
  {
    // Before the claim, which moves the claimed deliveries' next_attempt_at past `now`.
    auto use = statements_->webhooks.next_due_at.use(kOperation);
    use.bind(query.now, excluded_endpoints, excluded_deliveries);
    if (use.step()) {
      result.next_due_at = use.optional_timestamp(0);
    }
  }
  {
    auto use = statements_->webhooks.due_deliveries.use(kOperation);
    use.bind(query.now, excluded_endpoints, excluded_deliveries, query.limit, lease_end);
    while (use.step()) {
      result.due.push_back(DueDelivery{.delivery = read_delivery(use),
                                       .url = use.text(14),
                                       .secret = domain::Secret(use.text(15)),
                                       .format = read_format(use, 16),
                                       .payload = use.text(17),
                                       .due_at = use.timestamp(18)});
    }
  }
  transaction.commit();
  return result;
}

void PostgresStore::release_webhook_claims(const std::vector<WebhookClaim>& claims) {
  constexpr std::string_view kOperation = "release_webhook_claims";
  auto transaction = begin_write(kOperation);
  for (const auto& claim : claims) {
    statements_->webhooks.release_claim.use(kOperation)
        .bind(claim.delivery_id, claim.version, claim.due_at)
        .run();
  }
  transaction.commit();
}

bool PostgresStore::record_webhook_attempt(const AttemptOutcome& outcome) {
  constexpr std::string_view kOperation = "record_webhook_attempt";
  auto transaction = begin_write(kOperation);
  std::int64_t seq = 0;
  std::int64_t version = 0;
  std::int64_t attempt_count = 0;
  {
    auto use = statements_->webhooks.delivery_version.use(kOperation);
    if (!use.bind(outcome.delivery_id).step()) {
      return false;
    }
    seq = use.int64(0);
    version = use.int64(1);
    attempt_count = use.int64(2);
  }
  const auto& attempt = outcome.attempt;
  statements_->webhooks.insert_attempt.use(kOperation)
      .bind(seq, attempt_count + 1, attempt.started_at, attempt.duration_ms, attempt.http_status,
            attempt.error, attempt.response_body)
      .run();
  if (version == outcome.expected_version) {
    auto use = statements_->webhooks.update_after_attempt.use(kOperation);
    use.bind(seq, version, to_string(outcome.next_status), outcome.retry_step,
             outcome.next_attempt_at, outcome.at)
        .run();
    if (use.changes() != 1) {
      use.fail("the delivery read under the write lock was not updated");
    }
  } else {
    // A manual retry landed while this attempt was in flight: it asked for another attempt
    // now, and that stands whatever this one's outcome.
    statements_->webhooks.count_attempt.use(kOperation).bind(seq).run();
  }
  transaction.commit();
  return true;
}

RetryResult PostgresStore::retry_webhook_delivery(const std::string& merchant_id,
                                                  const std::string& delivery_id, Timestamp at) {
  constexpr std::string_view kOperation = "retry_webhook_delivery";
  auto transaction = begin_write(kOperation);
  std::int64_t seq = 0;
  bool endpoint_active = false;
  {
    auto use = statements_->webhooks.retry_target.use(kOperation);
    if (!use.bind(merchant_id, delivery_id).step()) {
      return RetryResult{.outcome = RetryOutcome::not_found, .delivery = std::nullopt};
    }
    seq = use.int64(0);
    endpoint_active = use.text(1) == "active" && use.is_null(2);
  }
  RetryResult result{.outcome = RetryOutcome::endpoint_inactive, .delivery = std::nullopt};
  if (endpoint_active) {
    statements_->webhooks.mark_retry.use(kOperation).bind(seq, at).run();
    result.outcome = RetryOutcome::scheduled;
  }
  {
    auto use = statements_->webhooks.find_delivery.use(kOperation);
    if (!use.bind(seq).step()) {
      use.fail("the delivery read under the write lock vanished");
    }
    result.delivery = read_delivery(use);
    result.delivery->payload = use.optional_text(14);
  }
  result.delivery->attempts = latest_attempts(kOperation, seq, max_listed_webhook_attempts);
  transaction.commit();
  return result;
}

std::vector<WebhookDeliveryRecord> PostgresStore::list_webhook_deliveries(
    const DeliveryQuery& query) {
  constexpr std::string_view kOperation = "list_webhook_deliveries";
  std::optional<std::string_view> status;
  if (query.status) {
    status = to_string(*query.status);
  }
  std::vector<WebhookDeliveryRecord> deliveries;
  {
    auto use = statements_->webhooks.list_deliveries.use(kOperation);
    use.bind(query.merchant_id, query.endpoint_id, query.transaction_id, status,
             query.before_sequence, query.limit);
    while (use.step()) {
      deliveries.push_back(read_delivery(use));
      deliveries.back().payload = use.optional_text(14);
    }
  }
  for (auto& delivery : deliveries) {
    delivery.attempts = latest_attempts(kOperation, delivery.sequence, query.max_attempts_each);
  }
  return deliveries;
}

std::vector<std::string> PostgresStore::find_nomba_deliveries(const std::string& merchant_id,
                                                              const std::string& request_id) {
  auto use = statements_->webhooks.find_nomba_deliveries.use("find_nomba_deliveries");
  use.bind(merchant_id, request_id);
  std::vector<std::string> delivery_ids;
  while (use.step()) {
    delivery_ids.push_back(use.text(0));
  }
  return delivery_ids;
}

std::vector<NombaEventLogRecord> PostgresStore::list_nomba_event_logs(
    const NombaEventLogQuery& query) {
  auto use = statements_->webhooks.list_nomba_event_logs.use("list_nomba_event_logs");
  use.bind(query.merchant_id, query.event_type, query.created_from, query.created_to,
           query.before_sequence, query.limit);
  std::vector<NombaEventLogRecord> logs;
  while (use.step()) {
    std::optional<std::int64_t> http_status;
    if (!use.is_null(6)) {
      http_status = use.int64(6);
    }
    logs.push_back(NombaEventLogRecord{.sequence = use.int64(0),
                                       .delivery_id = use.text(1),
                                       .url = use.text(2),
                                       .event_id = use.text(3),
                                       .event_type = use.optional_text(4).value_or(""),
                                       .request_id = use.optional_text(5).value_or(""),
                                       .http_status = http_status,
                                       .response_body = use.optional_text(7)});
  }
  return logs;
}

std::vector<WebhookAttemptRecord> PostgresStore::latest_attempts(std::string_view operation,
                                                                 std::int64_t delivery_seq,
                                                                 std::int64_t limit) {
  auto use = statements_->webhooks.list_attempts.use(operation);
  use.bind(delivery_seq, limit);
  std::vector<WebhookAttemptRecord> attempts;
  while (use.step()) {
    std::optional<std::int64_t> http_status;
    if (!use.is_null(3)) {
      http_status = use.int64(3);
    }
    attempts.push_back(WebhookAttemptRecord{.number = use.int64(0),
                                            .started_at = use.timestamp(1),
                                            .duration_ms = use.int64(2),
                                            .http_status = http_status,
                                            .error = use.optional_text(4)});
  }
  std::reverse(attempts.begin(), attempts.end());  // read newest first, listed oldest first
  return attempts;
}

}  // namespace tillgate::store::postgres
