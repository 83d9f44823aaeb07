#pragma once
// A Store that forwards every call to a real one (SQLite on a temporary file) and fails on
// demand: the Nth call from now, or each call with a seeded probability. A failure is a
// StoreError thrown before the real call runs, as a full disk or a lost database would
// make the real store throw; nothing is written by the failed call.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>

#include "store/store.hpp"

namespace tillgate::testing {

class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(std::unique_ptr<store::Store> real) : real_(std::move(real)) {}

  // The `n`th call from now (1: the next one) throws; 0 disarms.
  void fail_call(int n) { countdown_.store(n); }
  // From now, each call throws with probability `rate`, drawn from `seed`.
  void fail_randomly(double rate, std::uint64_t seed) {
    const std::lock_guard lock(mutex_);
    rate_ = rate;
    random_.seed(seed);
  }
  [[nodiscard]] int failures() const { return failures_.load(); }

  void ping() override;
  void probe_write(store::Timestamp at) override;
  void insert_merchant(const store::MerchantRecord& merchant) override;
  std::optional<store::MerchantRecord> find_merchant(const std::string& merchant_id) override;
  std::vector<store::MerchantRecord> list_merchants() override;
  void insert_api_key(const store::ApiKeyRecord& key) override;
  void create_merchant(const store::MerchantRecord& merchant,
                       const store::ApiKeyRecord& key) override;
  std::optional<store::ApiKeyRecord> find_api_key(const std::string& api_key) override;
  bool revoke_api_key(const std::string& merchant_id, const std::string& api_key,
                      store::Timestamp at) override;
  bool insert_device(const store::DeviceRecord& device) override;
  std::optional<store::DeviceRecord> find_device(const std::string& device_id) override;
  std::vector<store::DeviceRecord> list_devices(const std::string& merchant_id) override;
  bool revoke_device(const std::string& merchant_id, const std::string& device_id,
                     store::Timestamp at) override;
  store::DeviceRevokeOutcome revoke_merchant_device(const std::string& merchant_id,
                                                    const std::string& device_id,
                                                    store::Timestamp at) override;
  void insert_pairing_code(const store::PairingCodeRecord& code) override;
  bool insert_new_pairing_code(const store::PairingCodeRecord& code) override;
  std::optional<store::DeviceRecord> pair_device(const std::string& code_hash,
                                                 store::DeviceRecord device,
                                                 store::Timestamp at) override;
  bool has_active_webhook_endpoint(const std::string& merchant_id) override;
  store::EndpointInsertOutcome insert_webhook_endpoint(const store::WebhookEndpointRecord& endpoint,
                                                       std::size_t max_per_merchant) override;
  std::optional<store::WebhookEndpointRecord> find_webhook_endpoint(
      const std::string& merchant_id, const std::string& endpoint_id) override;
  std::vector<store::WebhookEndpointRecord> list_webhook_endpoints(
      const std::string& merchant_id) override;
  bool update_webhook_endpoint(const store::WebhookEndpointRecord& endpoint) override;
  store::EndpointDeleteOutcome delete_webhook_endpoint(const std::string& merchant_id,
                                                       const std::string& endpoint_id,
                                                       store::Timestamp at) override;
  store::DueDeliveries claim_due_webhook_deliveries(const store::DueQuery& query) override;
  void release_webhook_claims(const std::vector<store::WebhookClaim>& claims) override;
  bool record_webhook_attempt(const store::AttemptOutcome& outcome) override;
  store::RetryResult retry_webhook_delivery(const std::string& merchant_id,
                                            const std::string& delivery_id,
                                            store::Timestamp at) override;
  std::vector<store::WebhookDeliveryRecord> list_webhook_deliveries(
      const store::DeliveryQuery& query) override;
  bool set_merchant_nomba_amount_unit(const std::string& merchant_id,
                                      const std::optional<std::string>& unit) override;
  std::vector<std::string> find_nomba_deliveries(const std::string& merchant_id,
                                                 const std::string& request_id) override;
  std::vector<store::NombaEventLogRecord> list_nomba_event_logs(
      const store::NombaEventLogQuery& query) override;
  std::vector<store::WebhookEventRecord> list_webhook_events(
      const std::string& merchant_id, const std::string& transaction_id) override;
  std::optional<store::PaymentEventRecord> find_payment_event(const std::string& merchant_id,
                                                              const std::string& event_id) override;
  std::vector<store::PaymentEventRecord> list_payment_events(const std::string& merchant_id,
                                                             std::int64_t after_sequence,
                                                             std::size_t limit) override;
  store::InsertOutcome insert_transaction(const store::TransactionRecord& transaction) override;
  std::optional<store::TransactionRecord> find_transaction(
      const std::string& merchant_id, const std::string& transaction_id) override;
  std::optional<store::TransactionRecord> find_unfinished_for_device(
      const std::string& device_id) override;
  std::vector<store::TransactionRecord> list_transactions(
      const store::TransactionQuery& query) override;
  std::vector<store::TransactionRecord> list_unfinished() override;
  std::optional<store::ChangeResult> change_status(const store::StatusChange& change) override;
  std::optional<store::ChangeResult> request_cancel(const std::string& merchant_id,
                                                    const std::string& transaction_id,
                                                    store::Timestamp at) override;
  std::vector<store::TransactionEventRecord> list_events(
      const std::string& merchant_id, const std::string& transaction_id) override;
  void insert_refresh_token(const store::RefreshTokenRecord& token,
                            std::size_t max_live_per_merchant) override;
  store::RefreshResult rotate_refresh_token(const store::RefreshRotation& rotation) override;
  void revoke_access_token(const std::string& token_id, const std::string& merchant_id,
                           store::Timestamp expires_at, store::Timestamp at) override;
  bool is_access_token_revoked(const std::string& token_id) override;
  domain::Secret server_secret(const std::string& name, const domain::Secret& candidate,
                               store::Timestamp at) override;
  void begin_batch(BatchCalls calls) override;
  void begin_batch_call() override;
  bool end_batch_call(bool keep) override;
  void commit_batch() override;
  void rollback_batch() noexcept override;

 private:
  // Throws when this call is the one to fail.
  void maybe_fail(const char* operation);

  std::unique_ptr<store::Store> real_;
  std::atomic<int> countdown_{0};
  std::atomic<int> failures_{0};
  std::mutex mutex_;
  double rate_ = 0.0;
  std::mt19937_64 random_;
};

}  // namespace tillgate::testing
