// Pairing codes and the webhook-endpoint check of PostgresStore.
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/store_statements.hpp"

namespace tillgate::store::postgres {

void PostgresStore::insert_pairing_code(const PairingCodeRecord& code) {
  statements_->insert_pairing_code.use("insert_pairing_code")
      .bind(code.code_hash, code.merchant_id, code.label, code.created_at, code.expires_at)
      .run();
}

bool PostgresStore::insert_new_pairing_code(const PairingCodeRecord& code) {
  auto use = statements_->insert_new_pairing_code.use("insert_new_pairing_code");
  use.bind(code.code_hash, code.merchant_id, code.label, code.created_at, code.expires_at).run();
  return use.changes() == 1;  // 0: ON CONFLICT (code_hash) DO NOTHING, the hash is taken
}

std::optional<DeviceRecord> PostgresStore::pair_device(const std::string& code_hash,
                                                       DeviceRecord device, Timestamp at) {
  constexpr std::string_view kOperation = "pair_device";
  // Check, insert and mark under one write lock: a code pairs at most one device even when
  // two terminals present it at once.
  auto transaction = begin_write(kOperation);
  {
    auto use = statements_->find_usable_pairing_code.use(kOperation);
    if (!use.bind(code_hash, at).step()) {
      return std::nullopt;
    }
    device.merchant_id = use.text(0);
    device.label = use.text(1);
  }
  {
    auto use = statements_->insert_device.use(kOperation);
    use.bind(device.device_id, device.merchant_id, device.label, device.secret_hash,
             device.metadata_json, device.created_at, device.revoked_at)
        .run();
    if (use.changes() != 1) {
      throw StoreError("pair_device: device id " + device.device_id + " is taken");
    }
  }
  statements_->mark_pairing_code_used.use(kOperation).bind(code_hash, at, device.device_id).run();
  transaction.commit();
  return device;
}

bool PostgresStore::has_active_webhook_endpoint(const std::string& merchant_id) {
  auto use = statements_->has_active_webhook_endpoint.use("has_active_webhook_endpoint");
  return use.bind(merchant_id).step();
}

}  // namespace tillgate::store::postgres
