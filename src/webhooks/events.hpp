#pragma once
// The webhook events (webhooks.md, "Events"): their types, the payload announcing a
// transaction's final (or VOIDED) status, the ping, and the signed headers of an attempt.
// Pure: the caller supplies the time; ids come from the CSPRNG.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/time.hpp"
#include "store/store.hpp"

namespace tillgate::webhooks {

// The events an endpoint can subscribe to, in the order webhooks.md lists them; an
// endpoint created without `events` gets all of them.
inline constexpr std::array<std::string_view, 5> payment_event_types{
    "payment.completed", "payment.failed", "payment.cancelled", "payment.timeout",
    "payment.voided"};
// Sent when an endpoint is created or its URL changes; never stored in the outbox.
inline constexpr std::string_view ping_event_type = "ping";

[[nodiscard]] bool is_payment_event_type(std::string_view name);

// payment.completed for COMPLETED, ... payment.voided for VOIDED; nullopt for PENDING and
// AWAITING_RECONNECT, which announce nothing.
[[nodiscard]] std::optional<std::string_view> event_type_for(domain::TransactionStatus status);

// "evt_" + 26 lower-case base32 characters: 48 bits of `at`, 80 random bits, in time order
// (domain::new_time_ordered_id: the outbox's key index is written beside the last event).
[[nodiscard]] std::string new_event_id(domain::Timestamp at);

// The outbox event announcing `transaction`'s status, with a fresh eventId and the payload
// {"eventType","eventId","timestamp","data":{transactionId, status, amount, currency,
// paymentMethod, authorizationCode, errorCode, errorMessage, receiptData, terminalId,
// metadata}}; nullopt when the status announces nothing.
[[nodiscard]] std::optional<store::WebhookEventRecord> payment_event(
    const store::TransactionRecord& transaction, domain::Timestamp at);

// {"eventType":"ping","eventId":"evt_...","timestamp":"...","data":{}}
[[nodiscard]] std::string ping_payload(std::string_view event_id, domain::Timestamp at);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// webhook-id (= eventId), webhook-timestamp (unix seconds), webhook-signature (v1,...) and
// content-type: application/json. Throws std::invalid_argument for a malformed secret.
[[nodiscard]] HeaderList signed_headers(std::string_view secret, std::string_view event_id,
                                        std::int64_t unix_seconds, std::string_view body);

}  // namespace tillgate::webhooks
