#pragma once
// Webhooks in Nomba's format (nomba-compat.md, "Webhooks in Nomba format"): for endpoints
// created with format "nomba". Pure: the caller supplies the time, the ids and the secret.
//
// Which final statuses send what:
//   COMPLETED                  -> payment_success  (responseCode "00")
//   FAILED, CANCELLED, TIMEOUT -> payment_failed   (responseCode as nomba_response_code:
//                                                    terminal's or 05, 17, 68)
//   VOIDED                     -> payment_reversal (responseCode "06"), after the
//                                 payment_failed of its TIMEOUT: the card was charged late
//                                 and the terminal reversed it (the lookup shows REVERSED)
//   PENDING, AWAITING_RECONNECT-> nothing (not final)
// A Nomba integration waits for a webhook to learn the outcome, so every unpaid ending
// must send one, or its order stays open until it polls; the responseCode tells them
// apart.
//
// The payload is fixed when the event is written to the outbox (same body, same
// requestId, on every attempt); the signature covers nomba-timestamp, the time of each
// attempt, so the headers are made per attempt from the stored body.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"
#include "domain/transaction.hpp"
#include "json/json.hpp"
#include "nomba/nomba_format.hpp"
#include "store/store.hpp"
#include "webhooks/events.hpp"

namespace tillgate::nomba {

inline constexpr std::string_view payment_success_event = "payment_success";
inline constexpr std::string_view payment_failed_event = "payment_failed";
inline constexpr std::string_view payment_reversal_event = "payment_reversal";
inline constexpr std::string_view signature_algorithm = "HmacSHA256";
inline constexpr std::string_view signature_version = "1.0.0";
// How far nomba-timestamp may be from the verifier's clock, either way (as the Standard
// Webhooks default: webhooks/signature.hpp).
inline constexpr std::chrono::seconds default_nomba_tolerance{300};

// payment_success, payment_failed or nothing (see the table above).
[[nodiscard]] std::optional<std::string_view> nomba_event_type(domain::TransactionStatus status);

// Everything the payload shows.
struct NombaWebhookInput {
  std::string event_type;   // payment_success | payment_failed
  std::string request_id;   // a UUID, the same on every attempt (receivers deduplicate on it)
  std::string merchant_id;  // shown as both merchant.userId and merchant.walletId
  std::string terminal_id;
  std::string terminal_label;
  std::string transaction_id;                // the paymentId
  std::string merchant_tx_ref;               // equal to transaction_id (nomba_format.hpp, "Views")
  std::optional<std::string> response_code;  // null is sent as null
  std::optional<std::string> response_code_message;  // null is sent as null
  json::Value transaction_amount;                    // render_nomba_amount's number
  std::string currency;
  domain::Timestamp time;   // when the payment ended
  NombaCardDetails card{};  // rrn, cardIssuer and customer.cardPan when known
  // transaction.terminalSerialNumber: the serial the terminal reported when pairing.
  std::optional<std::string> terminal_serial_number = std::nullopt;
};

// The input for `transaction`'s status (after the change), or nullopt when that status
// sends nothing. `time` is the terminal's completedAt when its result has one (the
// moment the card was charged or refused), otherwise the record's completed_at, otherwise
// updated_at. A request id is generated when `request_id` is empty.
[[nodiscard]] std::optional<NombaWebhookInput> nomba_webhook_input(
    const store::TransactionRecord& transaction, std::string_view terminal_label,
    NombaAmountUnit unit, std::string request_id = {});

// A fresh request id: a UUID (version 7, canonical lower case).
[[nodiscard]] std::string new_nomba_request_id(domain::Timestamp at);
// A request id derived from an outbox event id and its time: the same UUID every time, so a
// payload rendered again keeps the requestId receivers deduplicate on. An RFC 9562 version
// 7 UUID: the Unix milliseconds of `at`, then 74 bits of SHA-256 of the event id. Time
// first keeps the outbox's index on it written beside the last event, not on a random page.
[[nodiscard]] std::string nomba_request_id_for_event(std::string_view event_id,
                                                     domain::Timestamp at);

// The exact body, members in the order of nomba-compat.md:
// {"event_type","requestId","data":{"merchant":{"userId","walletId"},
//  "terminal":{"terminalId","terminalLabel"},"transaction":{"type":"purchase",
//  "transactionId","merchantTxRef","originatingFrom":"pos","responseCode",
//  "responseCodeMessage","transactionAmount","fee":0,"currency","time"
//  [,"terminalSerialNumber"][,"rrn"]
//  [,"cardIssuer"]}[,"customer":{"cardPan"}]}}, the bracketed members when the terminal
// reported the card; time RFC 3339 UTC in whole seconds.
[[nodiscard]] std::string nomba_webhook_payload(const NombaWebhookInput& input);

// The signed string: event_type : requestId : merchant.userId : merchant.walletId :
// transaction.transactionId : transaction.type : transaction.time :
// transaction.responseCode : nomba-timestamp, each value read from `payload`. A value that
// is missing, JSON null or the string "null" counts as empty; strings as they are;
// numbers as their JSON text; booleans as true/false; objects and arrays as empty.
[[nodiscard]] std::string nomba_signed_content(const json::Value& payload,
                                               std::string_view nomba_timestamp);

// base64 (standard, padded) of HMAC-SHA256 over nomba_signed_content, keyed with the
// endpoint's whole secret string ("whsec_..." as shown to the merchant, not decoded).
// Throws std::invalid_argument when `body` is not a JSON object (our bodies always are).
[[nodiscard]] std::string sign_nomba_webhook(std::string_view secret, std::string_view body,
                                             std::string_view nomba_timestamp);

// nomba-signature, nomba-sig-value (the same value), nomba-signature-algorithm
// (HmacSHA256), nomba-signature-version (1.0.0), nomba-timestamp (`sent_at` as RFC 3339,
// UTC in whole seconds) and content-type: application/json.
[[nodiscard]] webhooks::HeaderList nomba_signed_headers(std::string_view secret,
                                                        std::string_view body,
                                                        domain::Timestamp sent_at);

// The endpoint check sent when a "nomba" endpoint is created or its URL changes (Nomba has
// no such event): {"event_type":"ping","requestId":<request_id>,"data":{}}, signed with the
// same headers as every Nomba webhook, so a receiver's verifier can be tested with it.
[[nodiscard]] std::string nomba_ping_payload(std::string_view request_id);

// A body with its headers, ready to send.
struct NombaWebhook {
  std::string body;
  webhooks::HeaderList headers;
};
[[nodiscard]] NombaWebhook render_nomba_webhook(const NombaWebhookInput& input,
                                                std::string_view secret, domain::Timestamp sent_at);

enum class NombaVerifyFailure {
  malformed_body,     // not a JSON object
  invalid_timestamp,  // nomba-timestamp is not RFC 3339 / ISO 8601
  timestamp_too_old,  // more than `tolerance` before now
  timestamp_too_new,  // more than `tolerance` after now
  invalid_signature,  // the signature does not match
};
[[nodiscard]] std::string_view to_string(NombaVerifyFailure failure);

// Checks a received webhook as a receiver would (for our tests and documentation): the
// timestamp within `tolerance` of `now`, the signature (nomba-signature or
// nomba-sig-value) equal, in constant time, to the one computed. nullopt when authentic.
[[nodiscard]] std::optional<NombaVerifyFailure> verify_nomba_signature(
    std::string_view secret, std::string_view body, std::string_view signature,
    std::string_view nomba_timestamp, domain::Timestamp now,
    std::chrono::seconds tolerance = default_nomba_tolerance);

// Nomba's published retry table, read as the waits between attempts (nomba-compat.md v2):
// 120, 280, 640, 1440 and 3200 s after the 1st, 2nd, ... failed attempt (5 retries, each
// wait jittered by at most 10% as every schedule is), then the delivery is failed.
[[nodiscard]] std::vector<std::chrono::seconds> nomba_retry_schedule();

}  // namespace tillgate::nomba
