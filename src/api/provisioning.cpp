#include "api/provisioning.hpp"

#include "crypto/crypto.hpp"
#include "domain/ids.hpp"

namespace tillgate::api {

store::MerchantRecord new_merchant(std::string name, domain::Timestamp now) {
  return store::MerchantRecord{domain::new_prefixed_id("mch_"), std::move(name), now};
}

store::ApiKeyRecord new_api_key(std::string merchant_id, domain::Timestamp now) {
  return store::ApiKeyRecord{domain::new_prefixed_id("tgk_"), std::move(merchant_id),
                             domain::new_secret("tgs_"), now, std::nullopt};
}

NewDevice new_device(std::string merchant_id, std::string device_id, std::string label,
                     domain::Timestamp now) {
  NewDevice device;
  device.device_secret = domain::new_secret("tds_");
  device.record.device_id = device_id.empty() ? domain::new_prefixed_id("dev_") : device_id;
  device.record.merchant_id = std::move(merchant_id);
  device.record.label = std::move(label);
  device.record.secret_hash = crypto::sha256_hex(device.device_secret.reveal());
  device.record.metadata_json = "{}";
  device.record.created_at = now;
  return device;
}

}  // namespace tillgate::api
