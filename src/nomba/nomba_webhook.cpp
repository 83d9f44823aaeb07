#include "nomba/nomba_webhook.hpp"

#include <array>
#include <stdexcept>
#include <utility>

#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "json/writer.hpp"

namespace tillgate::nomba {
namespace {

using domain::TransactionStatus;

constexpr std::string_view kTransactionType = "purchase";
// Room made at once for a webhook body (json::Writer): about its size with a card's details.
constexpr std::size_t kPayloadBytes = 768;

// The value at `path` in `payload`, as the signature string shows it.
std::string signed_value(const json::Value& payload, std::initializer_list<std::string_view> path) {
  const json::Value* value = &payload;
  for (const auto key : path) {
    value = value->find(key);
    if (value == nullptr) {
      return {};
    }
  }
  if (value->is_string()) {
    return value->as_string() == "null" ? std::string() : value->as_string();
  }
  if (value->is_number()) {
    return value->as_number().text;
  }
  if (value->is_bool()) {
    return value->as_bool() ? "true" : "false";
  }
  return {};  // null, object, array
}

json::Value parse_body(std::string_view body) {
  auto payload = json::parse(body);
  if (!payload || !payload->is_object()) {
    throw std::invalid_argument("a Nomba webhook body must be a JSON object");
  }
  return std::move(*payload);
}

std::string mac_base64(std::string_view secret, const json::Value& payload,
                       std::string_view nomba_timestamp) {
  return crypto::base64_encode(
      crypto::hmac_sha256(secret, nomba_signed_content(payload, nomba_timestamp)));
}

// When the payment ended: the terminal's completedAt when its result has one.
domain::Timestamp payment_time(const store::TransactionRecord& transaction) {
  if (transaction.outcome && transaction.outcome->completed_at) {
    if (const auto at = domain::parse_iso8601(*transaction.outcome->completed_at)) {
      return *at;
    }
  }
  return transaction.completed_at.value_or(transaction.updated_at);
}

}  // namespace

std::optional<std::string_view> nomba_event_type(TransactionStatus status) {
  switch (status) {
    case TransactionStatus::completed:
      return payment_success_event;
    case TransactionStatus::failed:
    case TransactionStatus::cancelled:
    case TransactionStatus::timeout:
      return payment_failed_event;
    case TransactionStatus::voided:
      return payment_reversal_event;
    case TransactionStatus::pending:
    case TransactionStatus::awaiting_reconnect:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string new_nomba_request_id(domain::Timestamp at) {
  return domain::new_uuid_v7(at);
}

std::string nomba_request_id_for_event(std::string_view event_id, domain::Timestamp at) {
  return domain::uuid_v7(
      at, crypto::sha256("tillgate nomba requestId\n" + std::string(event_id)).substr(0, 16));
}

std::optional<NombaWebhookInput> nomba_webhook_input(const store::TransactionRecord& transaction,
                                                     std::string_view terminal_label,
                                                     NombaAmountUnit unit, std::string request_id) {
  const auto event_type = nomba_event_type(transaction.status);
  if (!event_type) {
    return std::nullopt;
  }
  auto response = nomba_response_code(transaction);
  // A reversal happened when the terminal voided the late approval.
  const auto time = transaction.status == TransactionStatus::voided
                        ? transaction.voided_at.value_or(transaction.updated_at)
                        : payment_time(transaction);
  return NombaWebhookInput{
      .event_type = std::string(*event_type),
      .request_id = request_id.empty() ? new_nomba_request_id(time) : std::move(request_id),
      .merchant_id = transaction.merchant_id,
      .terminal_id = transaction.device_id,
      .terminal_label = std::string(terminal_label),
      .transaction_id = transaction.transaction_id,
      .merchant_tx_ref = transaction.transaction_id,
      .response_code = std::move(response.code),
      .response_code_message = std::move(response.message),
      .transaction_amount = render_nomba_amount(transaction, unit),
      .currency = transaction.currency,
      .time = time,
      .card = nomba_card_details(transaction),
  };
}

std::string nomba_ping_payload(std::string_view request_id) {
  return json::serialize(json::object({{"event_type", json::Value("ping")},
                                       {"requestId", json::Value(request_id)},
                                       {"data", json::Value(json::Object{})}}));
}

namespace {

// "539983******4297" -> "539983 **** **** 4297", as Nomba shows a card; anything shorter
// than 10 characters as it is.
std::string card_pan(const std::string& masked) {
  if (masked.size() < 10) {
    return masked;
  }
  return masked.substr(0, 6) + " **** **** " + masked.substr(masked.size() - 4);
}

// data.transaction, with the card details the terminal reported (nomba-compat.md section 5).
void write_transaction(json::Writer& out, const NombaWebhookInput& input) {
  out.key("transaction").begin_object();
  out.key("type").string(kTransactionType);
  out.key("transactionId").string(input.transaction_id);
  out.key("merchantTxRef").string(input.merchant_tx_ref);
  out.key("originatingFrom").string("pos");
  out.key("responseCode").string_or_null(input.response_code);
  out.key("responseCodeMessage").string_or_null(input.response_code_message);
  out.key("transactionAmount").value(input.transaction_amount);
  out.key("fee").integer(0);
  out.key("currency").string(input.currency);
  out.key("time").string(format_nomba_time(input.time));
  const auto write_known = [&out](json::Key key, const std::optional<std::string>& value) {
    if (value) {
      out.key(key).string(*value);
    }
  };
  write_known("terminalSerialNumber", input.terminal_serial_number);
  write_known("rrn", input.card.rrn);
  write_known("cardIssuer", input.card.scheme);
  out.end_object();
}

}  // namespace

std::string nomba_webhook_payload(const NombaWebhookInput& input) {
  std::string payload;
  json::Writer out(payload, kPayloadBytes);
  out.begin_object();
  out.key("event_type").string(input.event_type);
  out.key("requestId").string(input.request_id);
  out.key("data").begin_object();
  out.key("merchant").begin_object();
  out.key("userId").string(input.merchant_id);
  out.key("walletId").string(input.merchant_id);
  out.end_object();
  out.key("terminal").begin_object();
  out.key("terminalId").string(input.terminal_id);
  out.key("terminalLabel").string(input.terminal_label);
  out.end_object();
  write_transaction(out, input);
  // The card's number when the terminal reported it (nomba-compat.md section 5).
  if (input.card.masked_pan) {
    out.key("customer").begin_object();
    out.key("cardPan").string(card_pan(*input.card.masked_pan));
    out.end_object();
  }
  out.end_object();
  out.end_object();
  return payload;
}

std::string nomba_signed_content(const json::Value& payload, std::string_view nomba_timestamp) {
  const std::array<std::string, 8> values{
      signed_value(payload, {"event_type"}),
      signed_value(payload, {"requestId"}),
      signed_value(payload, {"data", "merchant", "userId"}),
      signed_value(payload, {"data", "merchant", "walletId"}),
      signed_value(payload, {"data", "transaction", "transactionId"}),
      signed_value(payload, {"data", "transaction", "type"}),
      signed_value(payload, {"data", "transaction", "time"}),
      signed_value(payload, {"data", "transaction", "responseCode"}),
  };
  std::string content;
  for (const auto& value : values) {
    content.append(value).append(":");
  }
  content.append(nomba_timestamp == "null" ? std::string_view{} : nomba_timestamp);
  return content;
}

std::string sign_nomba_webhook(std::string_view secret, std::string_view body,
                               std::string_view nomba_timestamp) {
  return mac_base64(secret, parse_body(body), nomba_timestamp);
}

webhooks::HeaderList nomba_signed_headers(std::string_view secret, std::string_view body,
                                          domain::Timestamp sent_at) {
  const auto timestamp = format_nomba_time(sent_at);
  const auto signature = sign_nomba_webhook(secret, body, timestamp);
  return webhooks::HeaderList{
      {"nomba-signature", signature},
      {"nomba-sig-value", signature},
      {"nomba-signature-algorithm", std::string(signature_algorithm)},
      {"nomba-signature-version", std::string(signature_version)},
      {"nomba-timestamp", timestamp},
      {"content-type", "application/json"},
  };
}

NombaWebhook render_nomba_webhook(const NombaWebhookInput& input, std::string_view secret,
                                  domain::Timestamp sent_at) {
  NombaWebhook webhook;
  webhook.body = nomba_webhook_payload(input);
  webhook.headers = nomba_signed_headers(secret, webhook.body, sent_at);
  return webhook;
}

std::string_view to_string(NombaVerifyFailure failure) {
  switch (failure) {
    case NombaVerifyFailure::malformed_body:
      return "malformed_body";
    case NombaVerifyFailure::invalid_timestamp:
      return "invalid_timestamp";
    case NombaVerifyFailure::timestamp_too_old:
      return "timestamp_too_old";
    case NombaVerifyFailure::timestamp_too_new:
      return "timestamp_too_new";
    case NombaVerifyFailure::invalid_signature:
      return "invalid_signature";
  }
  return "unknown";
}

std::optional<NombaVerifyFailure> verify_nomba_signature(
    std::string_view secret, std::string_view body, std::string_view signature,
    std::string_view nomba_timestamp, domain::Timestamp now, std::chrono::seconds tolerance) {
  const auto payload = json::parse(body);
  if (!payload || !payload->is_object()) {
    return NombaVerifyFailure::malformed_body;
  }
  const auto signed_at = domain::parse_iso8601(nomba_timestamp);
  if (!signed_at) {
    return NombaVerifyFailure::invalid_timestamp;
  }
  if (*signed_at < now - tolerance) {
    return NombaVerifyFailure::timestamp_too_old;
  }
  if (*signed_at > now + tolerance) {
    return NombaVerifyFailure::timestamp_too_new;
  }
  if (!crypto::constant_time_equal(signature, mac_base64(secret, *payload, nomba_timestamp))) {
    return NombaVerifyFailure::invalid_signature;
  }
  return std::nullopt;
}

std::vector<std::chrono::seconds> nomba_retry_schedule() {
  using std::chrono::seconds;
  return {seconds(120), seconds(280), seconds(640), seconds(1440), seconds(3200)};
}

}  // namespace tillgate::nomba
