#include "webhooks/standard_format.hpp"

#include <stdexcept>

#include "webhooks/events.hpp"

namespace tillgate::webhooks {

namespace {

std::int64_t unix_seconds(domain::Timestamp at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

}  // namespace

StandardWebhookFormat::StandardWebhookFormat(std::vector<std::chrono::seconds> retry_schedule)
    : retry_schedule_(std::move(retry_schedule)) {
  if (retry_schedule_.empty()) {
    throw std::invalid_argument("the standard webhook retry schedule is empty");
  }
}

// The standard body is the event's own payload (webhooks::payment_event).
std::optional<EventBody> StandardWebhookFormat::event_body(
    const store::TransactionRecord&, const store::DeviceRecord*,
    const store::WebhookEventRecord& event) const {
  return EventBody{.body = event.payload};
}

HeaderList StandardWebhookFormat::sign(std::string_view secret, std::string_view event_id,
                                       std::string_view body, domain::Timestamp sent_at) const {
  return signed_headers(secret, event_id, unix_seconds(sent_at), body);
}

std::string StandardWebhookFormat::ping_body(std::string_view event_id,
                                             domain::Timestamp at) const {
  return ping_payload(event_id, at);
}

}  // namespace tillgate::webhooks
