#pragma once
// New merchants, API keys and devices with their generated ids and secrets: the one place
// that decides their form, used by the admin API and by `tillgate demo`.
#include <string>

#include "domain/time.hpp"
#include "store/store.hpp"

namespace tillgate::api {

[[nodiscard]] store::MerchantRecord new_merchant(std::string name, domain::Timestamp now);
// The record holds the secret in clear: HMAC verification needs it.
[[nodiscard]] store::ApiKeyRecord new_api_key(std::string merchant_id, domain::Timestamp now);

struct NewDevice {
  store::DeviceRecord record;    // holds only the secret's hash
  domain::Secret device_secret;  // shown once, never stored
};
// `device_id` empty: a generated "dev_..." id.
[[nodiscard]] NewDevice new_device(std::string merchant_id, std::string device_id,
                                   std::string label, domain::Timestamp now);

}  // namespace tillgate::api
