#pragma once
// The prepared statements of SqliteStore (private to the backend). Column orders here are
// the ones the row readers in sqlite_store.cpp and transactions.cpp decode.
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/statement.hpp"

namespace tillgate::store::sqlite {

// The webhook endpoints, outbox, deliveries and attempts (webhooks.cpp).
struct WebhookStatements {
  explicit WebhookStatements(sqlite3* db);

  Statement count_endpoints, insert_endpoint, find_endpoint, find_endpoint_deleted_at;
  Statement list_endpoints, update_endpoint, delete_endpoint, fail_endpoint_deliveries;
  Statement insert_event, subscribed_endpoints, insert_delivery, list_events;
  Statement find_payment_event, list_payment_events;
  Statement due_deliveries, claim_deliveries, release_claim, next_due_at, delivery_version,
      insert_attempt;
  Statement update_after_attempt, count_attempt, retry_target, mark_retry, find_delivery;
  Statement list_deliveries, list_attempts, find_nomba_deliveries, list_nomba_event_logs;
};

// The Nomba-compatible refresh tokens and the server secrets (tokens.cpp).
struct TokenStatements {
  explicit TokenStatements(sqlite3* db);

  Statement delete_expired_refresh_tokens, count_live_refresh_tokens, revoke_oldest_refresh_tokens;
  Statement insert_refresh_token, find_refresh_token, revoke_refresh_family, use_refresh_token;
  Statement refresh_key_state, insert_server_secret, find_server_secret;
  Statement delete_expired_revocations, insert_revocation, find_revocation;
};

// Every statement the store runs, prepared once when the store opens.
struct SqliteStore::Statements {
  explicit Statements(sqlite3* db);

  Statement begin, begin_reads, commit, rollback, ping, probe_write;
  // Nested write transactions (WriteTransaction inside a batch) and batch calls.
  Statement savepoint_write, release_write, rollback_to_write;
  Statement savepoint_call, release_call, rollback_to_call;
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
};

}  // namespace tillgate::store::sqlite
