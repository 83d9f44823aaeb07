#pragma once
// Identifier formats. Random parts come from the OpenSSL CSPRNG.
#include <string>
#include <string_view>

#include "domain/time.hpp"

namespace tillgate::domain {

// RFC 9562 UUIDv7, canonical lower-case "018f...-...." form, time-ordered by `at`.
[[nodiscard]] std::string new_uuid_v7(Timestamp at);
[[nodiscard]] bool is_uuid_v7(std::string_view text);

// Merchant-supplied or generated transaction ids: 1-64 chars of [A-Za-z0-9._:-].
[[nodiscard]] bool is_valid_transaction_id(std::string_view text);

// Device ids chosen by an operator: same alphabet and length rule as transaction ids.
[[nodiscard]] bool is_valid_device_id(std::string_view text);

// prefix + 26 lower-case base32 chars (128 random bits): "mch_", "tgk_", "dev_", "conn_", "req_".
[[nodiscard]] std::string new_prefixed_id(std::string_view prefix);

// A secret of 256 random bits, prefix + 52 lower-case base32 chars: "tgs_..." API secrets,
// "tds_..." device secrets.
[[nodiscard]] std::string new_secret(std::string_view prefix);

}  // namespace tillgate::domain
