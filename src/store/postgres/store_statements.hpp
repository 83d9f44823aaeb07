#pragma once
// The prepared statements of PostgresStore (private to the backend). Column orders here are
// the ones the row readers in postgres_store.cpp and transactions.cpp decode.
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"

namespace tillgate::store::postgres {

// "Unfinished" as the partial unique index defines it; the queries repeat the index's
// predicate word for word so that the planner can use the index.
#define TILLGATE_UNFINISHED "status IN ('PENDING', 'AWAITING_RECONNECT')"

// Column order shared by every query that returns a whole transaction (read_transaction).
#define TILLGATE_TRANSACTION_COLUMNS                                                         \
  "merchant_id, transaction_id, device_id, status, amount_minor, currency, payment_method, " \
  "webhook_mode, request_json, request_fingerprint, response_json, created_at, updated_at, " \
  "deadline, completed_at, voided_at, void_reason, cancel_requested_at, version"

// A transaction row read with TILLGATE_TRANSACTION_COLUMNS first (transactions.cpp).
[[nodiscard]] TransactionRecord read_transaction(const Statement::Use& use);

// The several nodes' leases, terminal presence and change feed (nodes.cpp).
struct NodeStatements {
  explicit NodeStatements(Connection& db);

  Statement renew_lease, end_lease, claim_terminal, mark_dropped, release_terminal;
  Statement release_node_terminals, find_presence, merchant_presence, claims_after, take_dead;
  Statement forget_dropped, latest_claim;
  Statement cancels_held_by, latest_change, changes_after;
};

// The webhook endpoints, outbox, deliveries and attempts (webhooks.cpp).
struct WebhookStatements {
  explicit WebhookStatements(Connection& db);

  Statement count_endpoints, insert_endpoint, find_endpoint, find_endpoint_deleted_at;
  Statement list_endpoints, update_endpoint, delete_endpoint, fail_endpoint_deliveries;
  Statement insert_event, subscribed_endpoints, insert_delivery, list_events;
  Statement find_payment_event, list_payment_events;
  Statement due_deliveries, release_claim, next_due_at, delivery_version, insert_attempt;
  Statement update_after_attempt, count_attempt, retry_target, mark_retry, find_delivery;
  Statement list_deliveries, list_attempts, find_nomba_deliveries, list_nomba_event_logs;
};

// The Nomba-compatible refresh tokens and the server secrets (tokens.cpp).
struct TokenStatements {
  explicit TokenStatements(Connection& db);

  Statement delete_expired_refresh_tokens, count_live_refresh_tokens, revoke_oldest_refresh_tokens;
  Statement insert_refresh_token, find_refresh_token, revoke_refresh_family, use_refresh_token;
  Statement refresh_key_state, insert_server_secret, find_server_secret;
  Statement delete_expired_revocations, insert_revocation, find_revocation;
  Statement remember_signature;  // the shared replay cache (migration 3)
};

// Every statement the store runs, prepared once when the store opens.
struct PostgresStore::Statements {
  explicit Statements(Connection& db);

  Statement ping, probe_write;
  Statement insert_merchant, find_merchant, list_merchants, set_merchant_nomba_amount_unit;
  Statement insert_api_key, find_api_key, revoke_api_key;
  Statement insert_device, find_device, list_devices, revoke_device;
  Statement transaction_exists, insert_transaction, find_transaction;
  Statement find_unfinished_for_device, list_unfinished, list_transactions, update_status;
  Statement insert_event, list_events, mark_cancel_requested;
  Statement insert_pairing_code, insert_new_pairing_code, find_usable_pairing_code;
  Statement mark_pairing_code_used;
  Statement has_active_webhook_endpoint;
  WebhookStatements webhooks;
  TokenStatements tokens;
  NodeStatements nodes;
};

}  // namespace tillgate::store::postgres
