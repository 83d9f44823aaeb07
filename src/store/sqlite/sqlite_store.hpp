#pragma once
// The SQLite backend of Store: one database file, one connection.
//
// Threading: an instance is used by one thread at a time (the gateway's store thread,
// see store.hpp). The connection is opened without SQLite's internal mutexes and the
// prepared statements are shared state, so concurrent calls are undefined behaviour.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "store/sqlite/statement.hpp"
#include "store/store.hpp"

namespace tillgate::store::sqlite {

struct SqliteOptions {
  // How long a write waits for another process's write lock before failing with
  // SQLITE_BUSY (thrown as StoreError).
  std::chrono::milliseconds busy_timeout{5000};
};

class SqliteStore final : public Store {
 public:
  // Opens (creating) the file, creating missing parent directories; sets WAL,
  // synchronous=FULL and foreign keys, and applies pending migrations.
  explicit SqliteStore(const std::filesystem::path& path, SqliteOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

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
  domain::Secret server_secret(const std::string& name, const domain::Secret& candidate,
                               Timestamp at) override;

  // Group commit: BEGIN IMMEDIATE / COMMIT / ROLLBACK, and a SAVEPOINT around each call.
  // While a batch is open, a commit hook refuses every commit but commit_batch's own, so
  // no write can become durable on its own in the middle of a batch (e.g. a statement run
  // in autocommit mode after SQLite rolled the batch's transaction back).
  void begin_batch(BatchCalls calls) override;
  void begin_batch_call() override;
  bool end_batch_call(bool keep) override;
  void commit_batch() override;
  void rollback_batch() noexcept override;
  // A deferred BEGIN / COMMIT around reads run together.
  void begin_reads() noexcept override;
  void end_reads() noexcept override;

  // Diagnostics (not part of Store): the integer value of a connection-level pragma as
  // this connection sees it, e.g. "synchronous" or "foreign_keys". Only [a-z_] names.
  [[nodiscard]] std::int64_t pragma_int(std::string_view name);

 private:
  struct Statements;

  [[nodiscard]] WriteTransaction begin_write(std::string_view operation);
  // Throws StoreError unless a batch is open and its transaction still is.
  void require_batch(std::string_view operation) const;
  static int commit_hook(void* self) noexcept;
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

  // Member order matters: statements are finalized before the connection closes.
  Connection connection_;
  std::unique_ptr<Statements> statements_;
  bool batch_open_ = false;  // between begin_batch and commit_batch/rollback_batch
  BatchCalls batch_calls_ = BatchCalls::isolated;
  bool batch_spoiled_ = false;     // shared batch: a write was left half done (WriteTransaction)
  bool committing_batch_ = false;  // commit_batch's COMMIT is running: the hook allows it
};

}  // namespace tillgate::store::sqlite
