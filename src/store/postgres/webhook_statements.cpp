// The prepared statements of the webhook tables (migrations 3 and 4). Column orders here
// are the ones the row readers in webhooks.cpp decode.
#include "store/postgres/store_statements.hpp"

namespace tillgate::store::postgres {

#define TILLGATE_ENDPOINT_COLUMNS                                                     \
  "endpoint_id, merchant_id, url, secret, events_json, status, format, description, " \
  "metadata_json, created_at, updated_at, deleted_at"

// A delivery with its event's type and transaction (read_delivery); seq is column 13.
#define TILLGATE_DELIVERY_COLUMNS                                                             \
  "d.delivery_id, d.merchant_id, d.event_id, d.endpoint_id, e.event_type, e.transaction_id, " \
  "d.status, d.attempt_count, d.retry_step, d.next_attempt_at, d.created_at, d.updated_at, "  \
  "d.version, d.seq"

// What a delivery sends: the event's body in its endpoint's (p) format.
#define TILLGATE_DELIVERY_PAYLOAD \
  "CASE p.format WHEN 'nomba' THEN e.nomba_payload ELSE e.payload END"

// A payment event (read_payment_event).
#define TILLGATE_PAYMENT_EVENT_COLUMNS \
  "seq, event_id, merchant_id, transaction_id, event_type, notification, created_at"

// Pending deliveries the dispatcher may start: due or not, of an active endpoint, not
// excluded. $2 and $3 are JSON arrays of the excluded endpoint and delivery ids. A Nomba
// endpoint's delivery needs its event's Nomba body: an event without one makes no such
// delivery, but one made before migration 4 (which failed it) may be retried by hand; it
// then stays pending and is never started, rather than sent a body in the wrong format.
#define TILLGATE_STARTABLE                                                  \
  "d.status = 'pending' AND p.status = 'active' AND p.deleted_at IS NULL "  \
  "AND (p.format <> 'nomba' OR e.nomba_payload IS NOT NULL) "               \
  "AND d.endpoint_id NOT IN (SELECT jsonb_array_elements_text($2::jsonb)) " \
  "AND d.delivery_id NOT IN (SELECT jsonb_array_elements_text($3::jsonb))"

WebhookStatements::WebhookStatements(Connection& db)
    : count_endpoints(db, "count_webhook_endpoints",
                      "SELECT COUNT(*) FROM webhook_endpoints "
                      "WHERE merchant_id = $1 AND deleted_at IS NULL"),
      insert_endpoint(db, "insert_webhook_endpoint",
                      "INSERT INTO webhook_endpoints (" TILLGATE_ENDPOINT_COLUMNS
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"),
      find_endpoint(db, "find_webhook_endpoint",
                    "SELECT " TILLGATE_ENDPOINT_COLUMNS
                    " FROM webhook_endpoints "
                    "WHERE merchant_id = $1 AND endpoint_id = $2 AND deleted_at IS NULL"),
      find_endpoint_deleted_at(db, "find_webhook_endpoint_deleted_at",
                               "SELECT deleted_at FROM webhook_endpoints "
                               "WHERE merchant_id = $1 AND endpoint_id = $2"),
      list_endpoints(db, "list_webhook_endpoints",
                     "SELECT " TILLGATE_ENDPOINT_COLUMNS
                     " FROM webhook_endpoints "
                     "WHERE merchant_id = $1 AND deleted_at IS NULL "
                     "ORDER BY created_at, endpoint_id"),
      update_endpoint(db, "update_webhook_endpoint",
                      "UPDATE webhook_endpoints SET url = $3, events_json = $4, status = $5, "
                      "description = $6, metadata_json = $7, updated_at = $8 "
                      "WHERE merchant_id = $1 AND endpoint_id = $2 AND deleted_at IS NULL"),
      delete_endpoint(db, "delete_webhook_endpoint",
                      "UPDATE webhook_endpoints SET deleted_at = $3, updated_at = $3 "
                      "WHERE merchant_id = $1 AND endpoint_id = $2 AND deleted_at IS NULL"),
      fail_endpoint_deliveries(db, "fail_endpoint_deliveries",
                               "UPDATE webhook_deliveries SET status = 'failed', "
                               "next_attempt_at = NULL, updated_at = $2, version = version + 1 "
                               "WHERE endpoint_id = $1 AND status = 'pending'"),
      insert_event(
          db, "insert_webhook_event",
          "INSERT INTO webhook_events (event_id, merchant_id, transaction_id, "
          "event_type, payload, created_at, nomba_payload, notification, nomba_request_id, "
          "seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
          "(SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_events)) RETURNING seq"),
      // events_json is written by the gateway as a JSON array of strings; Nomba endpoints
      // subscribe with the same type names. $3: whether the event has a Nomba body, without
      // which a Nomba endpoint gets no delivery.
      subscribed_endpoints(db, "subscribed_webhook_endpoints",
                           "SELECT endpoint_id FROM webhook_endpoints "
                           "WHERE merchant_id = $1 AND status = 'active' AND deleted_at IS NULL "
                           "AND events_json::jsonb @> jsonb_build_array($2::text) "
                           "AND (format <> 'nomba' OR $3::boolean) "
                           "ORDER BY created_at, endpoint_id"),
      insert_delivery(db, "insert_webhook_delivery",
                      "INSERT INTO webhook_deliveries (seq, delivery_id, merchant_id, event_id, "
                      "endpoint_id, status, next_attempt_at, created_at, updated_at) "
                      "VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_deliveries), "
                      "$1, $2, $3, $4, 'pending', $5, $5, $5)"),
      list_events(db, "list_webhook_events",
                  "SELECT event_id, merchant_id, transaction_id, event_type, payload, created_at, "
                  "nomba_payload, nomba_request_id FROM webhook_events "
                  "WHERE merchant_id = $1 AND transaction_id = $2 "
                  "ORDER BY created_at, seq"),
      find_payment_event(db, "find_payment_event",
                         "SELECT " TILLGATE_PAYMENT_EVENT_COLUMNS
                         " FROM webhook_events WHERE merchant_id = $1 AND event_id = $2 "
                         "AND notification IS NOT NULL"),
      list_payment_events(db, "list_payment_events",
                          "SELECT " TILLGATE_PAYMENT_EVENT_COLUMNS
                          " FROM webhook_events WHERE merchant_id = $1 AND seq > $2 "
                          "AND notification IS NOT NULL ORDER BY seq LIMIT $3"),
      // The claim, in one statement: the oldest due deliveries, locked (rows another
      // transaction holds are skipped), get next_attempt_at = $5 (now + lease) and one more
      // version, and come back in the order they were due. Column 18: when it was due.
      due_deliveries(db, "claim_due_webhook_deliveries",
                     "WITH picked AS (SELECT d.seq, d.next_attempt_at AS due_at "
                     "FROM webhook_deliveries d "
                     "JOIN webhook_endpoints p ON p.endpoint_id = d.endpoint_id "
                     "JOIN webhook_events e ON e.event_id = d.event_id "
                     "WHERE d.next_attempt_at <= $1 AND " TILLGATE_STARTABLE
                     " ORDER BY d.next_attempt_at, d.seq LIMIT $4 FOR UPDATE OF d SKIP LOCKED), "
                     "claimed AS (UPDATE webhook_deliveries c SET next_attempt_at = $5, "
                     "version = c.version + 1 FROM picked WHERE c.seq = picked.seq "
                     "RETURNING c.*, picked.due_at) "
                     "SELECT " TILLGATE_DELIVERY_COLUMNS
                     ", p.url, p.secret, p.format, " TILLGATE_DELIVERY_PAYLOAD
                     ", d.due_at FROM claimed d "
                     "JOIN webhook_endpoints p ON p.endpoint_id = d.endpoint_id "
                     "JOIN webhook_events e ON e.event_id = d.event_id "
                     "ORDER BY d.due_at, d.seq"),
      release_claim(db, "release_webhook_claim",
                    "UPDATE webhook_deliveries SET next_attempt_at = $3, version = version + 1 "
                    "WHERE delivery_id = $1 AND version = $2 AND status = 'pending'"),
      next_due_at(db, "next_due_webhook_delivery",
                  "SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d "
                  "JOIN webhook_endpoints p ON p.endpoint_id = d.endpoint_id "
                  "JOIN webhook_events e ON e.event_id = d.event_id "
                  "WHERE d.next_attempt_at > $1 AND " TILLGATE_STARTABLE),
      delivery_version(db, "webhook_delivery_version",
                       "SELECT seq, version, attempt_count FROM webhook_deliveries "
                       "WHERE delivery_id = $1"),
      insert_attempt(db, "insert_webhook_attempt",
                     "INSERT INTO webhook_attempts (delivery_seq, number, started_at, "
                     "duration_ms, http_status, error, response_body) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7)"),
      update_after_attempt(db, "update_webhook_delivery_after_attempt",
                           "UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, "
                           "status = $3, retry_step = $4, next_attempt_at = $5, updated_at = $6, "
                           "version = version + 1 WHERE seq = $1 AND version = $2"),
      count_attempt(db, "count_webhook_attempt",
                    "UPDATE webhook_deliveries SET attempt_count = attempt_count + 1 "
                    "WHERE seq = $1"),
      retry_target(db, "webhook_retry_target",
                   "SELECT d.seq, p.status, p.deleted_at FROM webhook_deliveries d "
                   "JOIN webhook_endpoints p ON p.endpoint_id = d.endpoint_id "
                   "WHERE d.merchant_id = $1 AND d.delivery_id = $2"),
      mark_retry(db, "mark_webhook_retry",
                 "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, "
                 "updated_at = $2, version = version + 1 WHERE seq = $1"),
      // Column 14: the body every attempt sends, in the endpoint's format.
      find_delivery(db, "find_webhook_delivery",
                    "SELECT " TILLGATE_DELIVERY_COLUMNS ", " TILLGATE_DELIVERY_PAYLOAD
                    " FROM webhook_deliveries d JOIN webhook_events e ON e.event_id = d.event_id "
                    "JOIN webhook_endpoints p ON p.endpoint_id = d.endpoint_id "
                    "WHERE d.seq = $1"),
      // NULL parameters switch their filter off.
      list_deliveries(
          db, "list_webhook_deliveries",
          "SELECT " TILLGATE_DELIVERY_COLUMNS ", " TILLGATE_DELIVERY_PAYLOAD
          " FROM webhook_deliveries d JOIN webhook_events e ON e.event_id = d.event_id "
          "JOIN webhook_endpoints p ON p.endpoint_id = d.endpoint_id "
          "WHERE d.merchant_id = $1 AND ($2::text IS NULL OR d.endpoint_id = $2) "
          "AND ($3::text IS NULL OR e.transaction_id = $3) AND ($4::text IS NULL OR d.status = $4) "
          "AND ($5::bigint IS NULL OR d.seq < $5) ORDER BY d.seq DESC LIMIT $6"),
      list_attempts(db, "list_webhook_attempts",
                    "SELECT number, started_at, duration_ms, http_status, error "
                    "FROM webhook_attempts WHERE delivery_seq = $1 "
                    "ORDER BY number DESC LIMIT $2"),
      // By the indexed column (migration 9).
      find_nomba_deliveries(db, "find_nomba_deliveries",
                            "SELECT d.delivery_id FROM webhook_events e "
                            "JOIN webhook_deliveries d ON d.event_id = e.event_id "
                            "JOIN webhook_endpoints p ON p.endpoint_id = d.endpoint_id "
                            "WHERE e.merchant_id = $1 AND e.nomba_request_id = $2 "
                            "AND e.nomba_payload IS NOT NULL "
                            "AND p.format = 'nomba' ORDER BY d.seq"),
      // NULL parameters switch their filter off. The latest attempt's answer, if any.
      list_nomba_event_logs(
          db, "list_nomba_event_logs",
          "SELECT d.seq, d.delivery_id, p.url, e.event_id, "
          "e.nomba_payload::jsonb ->> 'event_type', "
          "e.nomba_request_id, a.http_status, a.response_body "
          "FROM webhook_deliveries d JOIN webhook_events e ON e.event_id = d.event_id "
          "JOIN webhook_endpoints p ON p.endpoint_id = d.endpoint_id "
          "LEFT JOIN webhook_attempts a ON a.delivery_seq = d.seq AND a.number = "
          "(SELECT MAX(number) FROM webhook_attempts WHERE delivery_seq = d.seq) "
          "WHERE d.merchant_id = $1 AND p.format = 'nomba' AND e.nomba_payload IS NOT NULL "
          "AND ($2::text IS NULL OR e.nomba_payload::jsonb ->> 'event_type' = $2) "
          "AND ($3::bigint IS NULL OR d.created_at >= $3) AND ($4::bigint IS NULL OR d.created_at "
          "<= $4) "
          "AND ($5::bigint IS NULL OR d.seq < $5) ORDER BY d.seq DESC LIMIT $6") {}

#undef TILLGATE_ENDPOINT_COLUMNS
#undef TILLGATE_PAYMENT_EVENT_COLUMNS
#undef TILLGATE_DELIVERY_COLUMNS
#undef TILLGATE_DELIVERY_PAYLOAD
#undef TILLGATE_STARTABLE

}  // namespace tillgate::store::postgres
