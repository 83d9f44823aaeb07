#include "nomba/nomba_webhook_format.hpp"

#include <stdexcept>

#include "nomba/nomba_webhook.hpp"

namespace tillgate::nomba {

NombaWebhookFormat::NombaWebhookFormat(std::vector<std::chrono::seconds> retry_schedule,
                                       NombaAmountUnit amount_unit)
    : retry_schedule_(std::move(retry_schedule)), amount_unit_(amount_unit) {
  if (retry_schedule_.empty()) {
    throw std::invalid_argument("the Nomba webhook retry schedule is empty");
  }
}

std::optional<webhooks::EventBody> NombaWebhookFormat::event_body(
    const store::TransactionRecord& after, const store::DeviceRecord* terminal,
    const store::WebhookEventRecord& event) const {
  auto request_id = nomba_request_id_for_event(event.event_id, event.created_at);
  auto input = nomba_webhook_input(after, terminal != nullptr ? terminal->label : std::string(),
                                   amount_unit_, request_id);
  if (!input) {
    return std::nullopt;
  }
  if (terminal != nullptr) {
    input->terminal_serial_number = device_serial_number(*terminal);
  }
  return webhooks::EventBody{.body = nomba_webhook_payload(*input), .key = std::move(request_id)};
}

webhooks::HeaderList NombaWebhookFormat::sign(std::string_view secret, std::string_view,
                                              std::string_view body,
                                              domain::Timestamp sent_at) const {
  return nomba_signed_headers(secret, body, sent_at);
}

std::string NombaWebhookFormat::ping_body(std::string_view event_id, domain::Timestamp at) const {
  return nomba_ping_payload(nomba_request_id_for_event(event_id, at));
}

}  // namespace tillgate::nomba
