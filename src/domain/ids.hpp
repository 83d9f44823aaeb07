#pragma once
// Identifier formats. Random parts come from the OpenSSL CSPRNG.
#include <string>
#include <string_view>

#include "domain/secret.hpp"
#include "domain/strong_id.hpp"
#include "domain/time.hpp"

namespace tillgate::domain {

// RFC 9562 UUIDv7, canonical lower-case "018f...-...." form, time-ordered by `at`.
[[nodiscard]] std::string new_uuid_v7(Timestamp at);
// The same form from 16 given bytes instead of random ones (e.g. a hash, for an id derived
// from another): their first 6 bytes give way to `at`, their version and variant bits to
// RFC 9562's. Throws std::invalid_argument for another size.
[[nodiscard]] std::string uuid_v7(Timestamp at, std::string bits);
[[nodiscard]] bool is_uuid_v7(std::string_view text);

// Merchant-supplied or generated transaction ids: 1-128 printable ASCII characters
// ('!' to '~': no space, no control character), merchant-api.md section 4 (v2).
[[nodiscard]] bool is_valid_transaction_id(std::string_view text);

// Device ids chosen by an operator: 1-64 chars of [A-Za-z0-9._:-].
[[nodiscard]] bool is_valid_device_id(std::string_view text);

// prefix + 26 lower-case base32 chars (128 random bits): "mch_", "tgk_", "dev_", "conn_", "req_".
[[nodiscard]] std::string new_prefixed_id(std::string_view prefix);

// The same shape (prefix + 26 lower-case base32 chars, 128 bits), its first 48 bits the
// Unix milliseconds of `at` and the other 80 random, in an alphabet ordered as ASCII: ids
// made later sort later. For ids that are keys of an index written on every payment (the
// outbox's events and deliveries): each insert lands beside the last instead of on a
// random page, so a commit writes one index page for the batch, not one per payment.
[[nodiscard]] std::string new_time_ordered_id(std::string_view prefix, Timestamp at);

// A secret of 256 random bits, prefix + 52 lower-case base32 chars: "tgs_..." API secrets,
// "tds_..." device secrets.
[[nodiscard]] Secret new_secret(std::string_view prefix);

// ---- Strong id types (strong_id.hpp) ------------------------------------------------------
// One type per kind of identifier, each holding the id's text as issued or as received.
// Credentials are not ids: API secrets ("tgs_"), device secrets ("tds_"), webhook secrets
// ("whsec_") and the admin token are domain::Secret (secret.hpp), which never reaches a log.

struct MerchantIdTag {};
// "mch_" + 26 lower-case base32 chars (new_prefixed_id).
using MerchantId = StrongId<MerchantIdTag>;

struct DeviceIdTag {};
// A payment terminal: chosen by an operator (is_valid_device_id: 1-64 chars of
// [A-Za-z0-9._:-]) or generated, "dev_" + 26 lower-case base32 chars.
using DeviceId = StrongId<DeviceIdTag>;

struct TransactionIdTag {};
// Supplied by the merchant (is_valid_transaction_id: 1-128 printable ASCII characters) or
// generated as a UUIDv7 (new_uuid_v7). Unique per merchant, not globally.
using TransactionId = StrongId<TransactionIdTag>;

struct ConnectionIdTag {};
// One WebSocket connection of a terminal: "conn_" + 26 lower-case base32 chars.
using ConnectionId = StrongId<ConnectionIdTag>;

struct EndpointIdTag {};
// A merchant's webhook endpoint: "wh_" + 26 lower-case base32 chars.
using EndpointId = StrongId<EndpointIdTag>;

struct DeliveryIdTag {};
// One webhook event's delivery to one endpoint: "dlv_" + 26 lower-case base32 chars.
using DeliveryId = StrongId<DeliveryIdTag>;

struct EventIdTag {};
// A webhook event: "evt_" + 26 lower-case base32 chars; the webhook-id header of every
// attempt (a Nomba-format body carries a request id derived from it instead).
using EventId = StrongId<EventIdTag>;

struct ApiKeyIdTag {};
// The public half of a merchant's API key: "tgk_" + 26 lower-case base32 chars. Sent in
// requests and safe to log; its secret half ("tgs_...") is a Secret.
using ApiKeyId = StrongId<ApiKeyIdTag>;

}  // namespace tillgate::domain
