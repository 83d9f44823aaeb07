#include "webhooks/events.hpp"

#include <algorithm>

#include "domain/ids.hpp"
#include "json/json.hpp"
#include "json/writer.hpp"
#include "views/transaction_view.hpp"
#include "webhooks/signature.hpp"

namespace tillgate::webhooks {

bool is_payment_event_type(std::string_view name) {
  return std::find(payment_event_types.begin(), payment_event_types.end(), name) !=
         payment_event_types.end();
}

std::optional<std::string_view> event_type_for(domain::TransactionStatus status) {
  using domain::TransactionStatus;
  switch (status) {
    case TransactionStatus::pending:
    case TransactionStatus::awaiting_reconnect:
      return std::nullopt;
    case TransactionStatus::completed:
      return "payment.completed";
    case TransactionStatus::failed:
      return "payment.failed";
    case TransactionStatus::cancelled:
      return "payment.cancelled";
    case TransactionStatus::timeout:
      return "payment.timeout";
    case TransactionStatus::voided:
      return "payment.voided";
  }
  return std::nullopt;
}

std::string new_event_id(domain::Timestamp at) {
  return domain::new_time_ordered_id("evt_", at);
}

std::optional<store::WebhookEventRecord> payment_event(const store::TransactionRecord& transaction,
                                                       domain::Timestamp at) {
  const auto event_type = event_type_for(transaction.status);
  if (!event_type) {
    return std::nullopt;
  }
  std::string event_id = new_event_id(at);
  // The merchant's payment response (the same fields GET /v1/transactions shows), without
  // its own timestamp, with the terminal: written straight into the body.
  std::string payload;
  json::Writer out(payload, views::kPaymentBodyBytes);
  out.begin_object();
  out.key("eventType").string(*event_type);
  out.key("eventId").string(event_id);
  out.key("timestamp").string(domain::format_iso8601(at));
  out.key("data").begin_object();
  views::write_payment_response_members(out, transaction, views::PaymentResponseForm::event_data);
  out.end_object();
  out.end_object();
  // Built before event_id is moved into the record.
  auto notification = views::payment_notification(transaction, event_id);
  return store::WebhookEventRecord{.event_id = std::move(event_id),
                                   .merchant_id = transaction.merchant_id,
                                   .transaction_id = transaction.transaction_id,
                                   .event_type = std::string(*event_type),
                                   .payload = std::move(payload),
                                   .created_at = at,
                                   .notification = std::move(notification)};
}

std::string ping_payload(std::string_view event_id, domain::Timestamp at) {
  return json::serialize(json::object({
      {"eventType", json::Value(ping_event_type)},
      {"eventId", json::Value(event_id)},
      {"timestamp", json::Value(domain::format_iso8601(at))},
      {"data", json::Value(json::Object{})},
  }));
}

HeaderList signed_headers(std::string_view secret, std::string_view event_id,
                          std::int64_t unix_seconds, std::string_view body) {
  return HeaderList{
      {"webhook-id", std::string(event_id)},
      {"webhook-timestamp", std::to_string(unix_seconds)},
      {"webhook-signature", sign_webhook(secret, event_id, unix_seconds, body)},
      {"content-type", "application/json"},
  };
}

}  // namespace tillgate::webhooks
