#include "faulty_store.hpp"

#include <string>

namespace tillgate::testing {

void FaultyStore::maybe_fail(const char* operation) {
  bool fail = false;
  const int left = countdown_.load();
  if (left > 0) {
    fail = countdown_.fetch_sub(1) == 1;
  }
  if (!fail) {
    const std::lock_guard lock(mutex_);
    fail = rate_ > 0.0 && std::uniform_real_distribution<double>(0.0, 1.0)(random_) < rate_;
  }
  if (fail) {
    failures_.fetch_add(1);
    throw store::StoreUnavailable(std::string("injected store failure in ") + operation);
  }
}

void FaultyStore::ping() {
  maybe_fail("ping");
  real_->ping();
}

void FaultyStore::insert_merchant(const store::MerchantRecord& merchant) {
  maybe_fail("insert_merchant");
  real_->insert_merchant(merchant);
}

std::optional<store::MerchantRecord> FaultyStore::find_merchant(const std::string& merchant_id) {
  maybe_fail("find_merchant");
  return real_->find_merchant(merchant_id);
}

std::vector<store::MerchantRecord> FaultyStore::list_merchants() {
  maybe_fail("list_merchants");
  return real_->list_merchants();
}

void FaultyStore::insert_api_key(const store::ApiKeyRecord& key) {
  maybe_fail("insert_api_key");
  real_->insert_api_key(key);
}

void FaultyStore::create_merchant(const store::MerchantRecord& merchant,
                                  const store::ApiKeyRecord& key) {
  maybe_fail("create_merchant");
  real_->create_merchant(merchant, key);
}

std::optional<store::ApiKeyRecord> FaultyStore::find_api_key(const std::string& api_key) {
  maybe_fail("find_api_key");
  return real_->find_api_key(api_key);
}

bool FaultyStore::revoke_api_key(const std::string& merchant_id, const std::string& api_key,
                                 store::Timestamp at) {
  maybe_fail("revoke_api_key");
  return real_->revoke_api_key(merchant_id, api_key, at);
}

bool FaultyStore::insert_device(const store::DeviceRecord& device) {
  maybe_fail("insert_device");
  return real_->insert_device(device);
}

std::optional<store::DeviceRecord> FaultyStore::find_device(const std::string& device_id) {
  maybe_fail("find_device");
  return real_->find_device(device_id);
}

std::vector<store::DeviceRecord> FaultyStore::list_devices(const std::string& merchant_id) {
  maybe_fail("list_devices");
  return real_->list_devices(merchant_id);
}

bool FaultyStore::revoke_device(const std::string& merchant_id, const std::string& device_id,
                                store::Timestamp at) {
  maybe_fail("revoke_device");
  return real_->revoke_device(merchant_id, device_id, at);
}

store::DeviceRevokeOutcome FaultyStore::revoke_merchant_device(const std::string& merchant_id,
                                                               const std::string& device_id,
                                                               store::Timestamp at) {
  maybe_fail("revoke_merchant_device");
  return real_->revoke_merchant_device(merchant_id, device_id, at);
}

void FaultyStore::insert_pairing_code(const store::PairingCodeRecord& code) {
  maybe_fail("insert_pairing_code");
  real_->insert_pairing_code(code);
}

bool FaultyStore::insert_new_pairing_code(const store::PairingCodeRecord& code) {
  maybe_fail("insert_new_pairing_code");
  return real_->insert_new_pairing_code(code);
}

std::optional<store::DeviceRecord> FaultyStore::pair_device(const std::string& code_hash,
                                                            store::DeviceRecord device,
                                                            store::Timestamp at) {
  maybe_fail("pair_device");
  return real_->pair_device(code_hash, std::move(device), at);
}

bool FaultyStore::has_active_webhook_endpoint(const std::string& merchant_id) {
  maybe_fail("has_active_webhook_endpoint");
  return real_->has_active_webhook_endpoint(merchant_id);
}

store::EndpointInsertOutcome FaultyStore::insert_webhook_endpoint(
    const store::WebhookEndpointRecord& endpoint, std::size_t max_per_merchant) {
  maybe_fail("insert_webhook_endpoint");
  return real_->insert_webhook_endpoint(endpoint, max_per_merchant);
}

std::optional<store::WebhookEndpointRecord> FaultyStore::find_webhook_endpoint(
    const std::string& merchant_id, const std::string& endpoint_id) {
  maybe_fail("find_webhook_endpoint");
  return real_->find_webhook_endpoint(merchant_id, endpoint_id);
}

std::vector<store::WebhookEndpointRecord> FaultyStore::list_webhook_endpoints(
    const std::string& merchant_id) {
  maybe_fail("list_webhook_endpoints");
  return real_->list_webhook_endpoints(merchant_id);
}

bool FaultyStore::update_webhook_endpoint(const store::WebhookEndpointRecord& endpoint) {
  maybe_fail("update_webhook_endpoint");
  return real_->update_webhook_endpoint(endpoint);
}

store::EndpointDeleteOutcome FaultyStore::delete_webhook_endpoint(const std::string& merchant_id,
                                                                  const std::string& endpoint_id,
                                                                  store::Timestamp at) {
  maybe_fail("delete_webhook_endpoint");
  return real_->delete_webhook_endpoint(merchant_id, endpoint_id, at);
}

store::DueDeliveries FaultyStore::claim_due_webhook_deliveries(const store::DueQuery& query) {
  maybe_fail("claim_due_webhook_deliveries");
  return real_->claim_due_webhook_deliveries(query);
}

void FaultyStore::release_webhook_claims(const std::vector<store::WebhookClaim>& claims) {
  maybe_fail("release_webhook_claims");
  real_->release_webhook_claims(claims);
}

bool FaultyStore::record_webhook_attempt(const store::AttemptOutcome& outcome) {
  maybe_fail("record_webhook_attempt");
  return real_->record_webhook_attempt(outcome);
}

store::RetryResult FaultyStore::retry_webhook_delivery(const std::string& merchant_id,
                                                       const std::string& delivery_id,
                                                       store::Timestamp at) {
  maybe_fail("retry_webhook_delivery");
  return real_->retry_webhook_delivery(merchant_id, delivery_id, at);
}

bool FaultyStore::set_merchant_nomba_amount_unit(const std::string& merchant_id,
                                                 const std::optional<std::string>& unit) {
  maybe_fail("set_merchant_nomba_amount_unit");
  return real_->set_merchant_nomba_amount_unit(merchant_id, unit);
}

std::vector<std::string> FaultyStore::find_nomba_deliveries(const std::string& merchant_id,
                                                            const std::string& request_id) {
  maybe_fail("find_nomba_deliveries");
  return real_->find_nomba_deliveries(merchant_id, request_id);
}

std::vector<store::NombaEventLogRecord> FaultyStore::list_nomba_event_logs(
    const store::NombaEventLogQuery& query) {
  maybe_fail("list_nomba_event_logs");
  return real_->list_nomba_event_logs(query);
}

std::vector<store::WebhookDeliveryRecord> FaultyStore::list_webhook_deliveries(
    const store::DeliveryQuery& query) {
  maybe_fail("list_webhook_deliveries");
  return real_->list_webhook_deliveries(query);
}

std::vector<store::WebhookEventRecord> FaultyStore::list_webhook_events(
    const std::string& merchant_id, const std::string& transaction_id) {
  maybe_fail("list_webhook_events");
  return real_->list_webhook_events(merchant_id, transaction_id);
}

std::optional<store::PaymentEventRecord> FaultyStore::find_payment_event(
    const std::string& merchant_id, const std::string& event_id) {
  maybe_fail("find_payment_event");
  return real_->find_payment_event(merchant_id, event_id);
}

std::vector<store::PaymentEventRecord> FaultyStore::list_payment_events(
    const std::string& merchant_id, std::int64_t after_sequence, std::size_t limit) {
  maybe_fail("list_payment_events");
  return real_->list_payment_events(merchant_id, after_sequence, limit);
}

store::InsertOutcome FaultyStore::insert_transaction(const store::TransactionRecord& transaction) {
  maybe_fail("insert_transaction");
  return real_->insert_transaction(transaction);
}

std::optional<store::TransactionRecord> FaultyStore::find_transaction(
    const std::string& merchant_id, const std::string& transaction_id) {
  maybe_fail("find_transaction");
  return real_->find_transaction(merchant_id, transaction_id);
}

std::optional<store::TransactionRecord> FaultyStore::find_unfinished_for_device(
    const std::string& device_id) {
  maybe_fail("find_unfinished_for_device");
  return real_->find_unfinished_for_device(device_id);
}

std::vector<store::TransactionRecord> FaultyStore::list_transactions(
    const store::TransactionQuery& query) {
  maybe_fail("list_transactions");
  return real_->list_transactions(query);
}

std::vector<store::TransactionRecord> FaultyStore::list_unfinished() {
  maybe_fail("list_unfinished");
  return real_->list_unfinished();
}

std::optional<store::ChangeResult> FaultyStore::change_status(const store::StatusChange& change) {
  maybe_fail("change_status");
  return real_->change_status(change);
}

std::optional<store::ChangeResult> FaultyStore::request_cancel(const std::string& merchant_id,
                                                               const std::string& transaction_id,
                                                               store::Timestamp at) {
  maybe_fail("request_cancel");
  return real_->request_cancel(merchant_id, transaction_id, at);
}

std::vector<store::TransactionEventRecord> FaultyStore::list_events(
    const std::string& merchant_id, const std::string& transaction_id) {
  maybe_fail("list_events");
  return real_->list_events(merchant_id, transaction_id);
}

void FaultyStore::insert_refresh_token(const store::RefreshTokenRecord& token,
                                       std::size_t max_live_per_merchant) {
  maybe_fail("insert_refresh_token");
  real_->insert_refresh_token(token, max_live_per_merchant);
}

store::RefreshResult FaultyStore::rotate_refresh_token(const store::RefreshRotation& rotation) {
  maybe_fail("rotate_refresh_token");
  return real_->rotate_refresh_token(rotation);
}

domain::Secret FaultyStore::server_secret(const std::string& name, const domain::Secret& candidate,
                                          store::Timestamp at) {
  maybe_fail("server_secret");
  return real_->server_secret(name, candidate, at);
}

void FaultyStore::begin_batch(BatchCalls calls) {
  real_->begin_batch(calls);
}

void FaultyStore::begin_batch_call() {
  real_->begin_batch_call();
}

bool FaultyStore::end_batch_call(bool keep) {
  return real_->end_batch_call(keep);
}

void FaultyStore::commit_batch() {
  real_->commit_batch();
}

void FaultyStore::rollback_batch() noexcept {
  real_->rollback_batch();
}

void FaultyStore::probe_write(store::Timestamp at) {
  maybe_fail("probe_write");
  real_->probe_write(at);
}

void FaultyStore::revoke_access_token(const std::string& token_id, const std::string& merchant_id,
                                      store::Timestamp expires_at, store::Timestamp at) {
  maybe_fail("revoke_access_token");
  real_->revoke_access_token(token_id, merchant_id, expires_at, at);
}

bool FaultyStore::is_access_token_revoked(const std::string& token_id) {
  maybe_fail("is_access_token_revoked");
  return real_->is_access_token_revoked(token_id);
}

}  // namespace tillgate::testing
