#pragma once
// The PostgreSQL backend of Store (libpq): one connection, the same schema meaning and the
// same answers as the SQLite backend (sqlite/), whose method bodies these mirror.
//
// Threading: an instance is used by one thread at a time (the gateway's store thread,
// see store.hpp): the connection and the prepared statements are shared state.
//
// Writers take turns: every write transaction first takes one advisory lock (pg.hpp,
// kWriteLockKey), as SQLite's BEGIN IMMEDIATE takes the write lock, so the checks and
// compare-and-sets here hold against other gateways on the same database too.
//
// A lost connection, or a call the server has not answered within its bound
// (ConnectionOptions::statement_timeout), fails the call in progress with
// StoreUnavailable; the next call connects again (after a bounded backoff), except inside
// an open batch, which fails whole.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/node_store.hpp"
#include "store/store.hpp"

namespace tillgate::store::postgres {

class Connection;
struct ConnectionOptions;
class WriteTransaction;

class PostgresStore final : public Store, public NodeStore {
 public:
  // Connects to the database the URL names (postgresql://... or postgres://...) and applies
  // pending migrations. Throws StoreError (unavailable() when the server cannot be
  // reached); the message never holds the URL.
  PostgresStore(const std::string& url, const ConnectionOptions& options);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  void ping() override;
  void probe_write(Timestamp at) override;

  void insert_merchant(const MerchantRecord& merchant) override;
  std::optional<MerchantRecord> find_merchant(const std::string& merchant_id) override;
  std::vector<MerchantRecord> list_merchants() override;
  void insert_api_key(const ApiKeyRecord& key) override;
  void create_merchant(const MerchantRecord& merchant, const ApiKeyRecord& key) override;
  std::optional<ApiKeyRecord> find_api_key(const std::string& api_key) override;
  bool revoke_api_key(const std::string& merchant_id, const std::string& api_key,
                      Timestamp at) override;

  bool insert_device(const DeviceRecord& device) override;
  std::optional<DeviceRecord> find_device(const std::string& device_id) override;
  std::vector<DeviceRecord> list_devices(const std::string& merchant_id) override;
  bool revoke_device(const std::string& merchant_id, const std::string& device_id,
                     Timestamp at) override;
  DeviceRevokeOutcome revoke_merchant_device(const std::string& merchant_id,
                                             const std::string& device_id, Timestamp at) override;

  void insert_pairing_code(const PairingCodeRecord& code) override;
  bool insert_new_pairing_code(const PairingCodeRecord& code) override;
  std::optional<DeviceRecord> pair_device(const std::string& code_hash, DeviceRecord device,
                                          Timestamp at) override;
  bool has_active_webhook_endpoint(const std::string& merchant_id) override;
  EndpointInsertOutcome insert_webhook_endpoint(const WebhookEndpointRecord& endpoint,
                                                std::size_t max_per_merchant) override;
  std::optional<WebhookEndpointRecord> find_webhook_endpoint(
      const std::string& merchant_id, const std::string& endpoint_id) override;
  std::vector<WebhookEndpointRecord> list_webhook_endpoints(
      const std::string& merchant_id) override;
  bool update_webhook_endpoint(const WebhookEndpointRecord& endpoint) override;
  EndpointDeleteOutcome delete_webhook_endpoint(const std::string& merchant_id,
                                                const std::string& endpoint_id,
                                                Timestamp at) override;
  DueDeliveries claim_due_webhook_deliveries(const DueQuery& query) override;
  void release_webhook_claims(const std::vector<WebhookClaim>& claims) override;
  bool record_webhook_attempt(const AttemptOutcome& outcome) override;
  RetryResult retry_webhook_delivery(const std::string& merchant_id, const std::string& delivery_id,
                                     Timestamp at) override;
  std::vector<WebhookDeliveryRecord> list_webhook_deliveries(const DeliveryQuery& query) override;
  bool set_merchant_nomba_amount_unit(const std::string& merchant_id,
                                      const std::optional<std::string>& unit) override;
  std::vector<std::string> find_nomba_deliveries(const std::string& merchant_id,
                                                 const std::string& request_id) override;
  std::vector<NombaEventLogRecord> list_nomba_event_logs(const NombaEventLogQuery& query) override;
  std::vector<WebhookEventRecord> list_webhook_events(const std::string& merchant_id,
                                                      const std::string& transaction_id) override;
  std::optional<PaymentEventRecord> find_payment_event(const std::string& merchant_id,
                                                       const std::string& event_id) override;
  std::vector<PaymentEventRecord> list_payment_events(const std::string& merchant_id,
                                                      std::int64_t after_sequence,
                                                      std::size_t limit) override;

  InsertOutcome insert_transaction(const TransactionRecord& transaction) override;
  std::optional<TransactionRecord> find_transaction(const std::string& merchant_id,
                                                    const std::string& transaction_id) override;
  std::optional<TransactionRecord> find_unfinished_for_device(
      const std::string& device_id) override;
  std::vector<TransactionRecord> list_unfinished() override;
  std::vector<TransactionRecord> list_transactions(const TransactionQuery& query) override;
  std::optional<ChangeResult> change_status(const StatusChange& change) override;
  std::optional<ChangeResult> request_cancel(const std::string& merchant_id,
                                             const std::string& transaction_id,
                                             Timestamp at) override;
  std::vector<TransactionEventRecord> list_events(const std::string& merchant_id,
                                                  const std::string& transaction_id) override;

  // Throws std::invalid_argument for max_live_per_merchant 0 (nothing written): a new
  // token cannot be inserted while holding none.
  void insert_refresh_token(const RefreshTokenRecord& token,
                            std::size_t max_live_per_merchant) override;
  RefreshResult rotate_refresh_token(const RefreshRotation& rotation) override;
  void revoke_access_token(const std::string& token_id, const std::string& merchant_id,
                           Timestamp expires_at, Timestamp at) override;
  bool is_access_token_revoked(const std::string& token_id) override;
  bool remember_signature(const RememberedSignature& signature) override;
  domain::Secret server_secret(const std::string& name, const domain::Secret& candidate,
                               Timestamp at) override;

  // Several nodes (node_store.hpp, nodes.cpp).
  NodeStore* nodes() override { return this; }
  bool renew_node_lease(const std::string& node_id, Timestamp now, Timestamp lease_until) override;
  void end_node_lease(const std::string& node_id, Timestamp at) override;
  std::int64_t claim_terminal(const TerminalPresenceRecord& presence) override;
  void mark_terminal_dropped(const std::string& device_id, const std::string& node_id,
                             const std::string& connection_id, Timestamp at) override;
  void release_terminal(const std::string& device_id, const std::string& node_id) override;
  void release_node_terminals(const std::string& node_id) override;
  std::optional<TerminalPresenceRecord> find_terminal_presence(
      const std::string& device_id) override;
  std::vector<TerminalPresenceRecord> list_merchant_terminal_presence(
      const std::string& merchant_id) override;
  std::int64_t latest_claim_sequence() override;
  std::vector<TerminalPresenceRecord> list_terminal_claims_after(std::int64_t claim_sequence,
                                                                 std::size_t limit) override;
  std::vector<TerminalPresenceRecord> take_terminals_of_dead_nodes(const std::string& node_id,
                                                                   Timestamp now,
                                                                   std::size_t limit) override;
  void forget_dropped_terminals(Timestamp before) override;
  std::vector<TransactionRecord> list_cancels_held_by(const std::string& node_id) override;
  std::int64_t latest_change_sequence() override;
  std::vector<FeedChange> list_changes_after(std::int64_t sequence, const std::string& node_id,
                                             std::size_t limit) override;

  // Group commit: BEGIN and the write lock / COMMIT / ROLLBACK, and a SAVEPOINT around
  // each call of an isolated batch.
  void begin_batch(BatchCalls calls) override;
  void begin_batch_call() override;
  bool end_batch_call(bool keep) override;
  void commit_batch() override;
  void rollback_batch() noexcept override;

 private:
  struct Statements;

  [[nodiscard]] WriteTransaction begin_write(std::string_view operation);
  // Throws StoreError unless a batch is open and its transaction still is.
  void require_batch(std::string_view operation) const;
  [[nodiscard]] std::optional<TransactionRecord> select_transaction(
      std::string_view operation, const std::string& merchant_id,
      const std::string& transaction_id);
  void append_event(std::string_view operation, const TransactionEventRecord& event);
  // The outbox half of change_status: the event and its deliveries (webhooks.cpp); answers
  // the event's commit sequence.
  std::int64_t append_webhook_event(std::string_view operation, const WebhookEventRecord& event);
  [[nodiscard]] std::vector<WebhookAttemptRecord> latest_attempts(std::string_view operation,
                                                                  std::int64_t delivery_seq,
                                                                  std::int64_t limit);

  // Member order matters: statements refer to the connection.
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<Statements> statements_;
  bool batch_open_ = false;  // between begin_batch and commit_batch/rollback_batch
  BatchCalls batch_calls_ = BatchCalls::isolated;
  bool batch_spoiled_ = false;  // shared batch: a write was left half done (WriteTransaction)
};

}  // namespace tillgate::store::postgres
