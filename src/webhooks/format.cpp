#include "webhooks/format.hpp"

#include <stdexcept>

#include "webhooks/events.hpp"

namespace tillgate::webhooks {

WebhookFormats::WebhookFormats(std::unique_ptr<WebhookFormat> standard) {
  formats_.push_back(std::move(standard));
}

void WebhookFormats::add(std::unique_ptr<WebhookFormat> format) {
  if (find(format->name()) != nullptr) {
    throw std::invalid_argument("webhook format " + std::string(format->name()) +
                                " is registered twice");
  }
  formats_.push_back(std::move(format));
}

const WebhookFormat* WebhookFormats::find(std::string_view name) const {
  for (const auto& format : formats_) {
    if (format->name() == name) {
      return format.get();
    }
  }
  return nullptr;
}

std::optional<store::WebhookEventRecord> outbox_event(const WebhookFormats& formats,
                                                      const store::TransactionRecord& after,
                                                      std::string_view terminal_label,
                                                      domain::Timestamp at) {
  auto event = payment_event(after, at);
  if (!event) {
    return event;
  }
  for (const auto& format : formats.all()) {
    if (format.get() == &formats.standard()) {
      continue;
    }
    if (auto body = format->event_body(after, terminal_label, *event)) {
      event->format_payloads.emplace(std::string(format->name()), std::move(*body));
    }
  }
  return event;
}

}  // namespace tillgate::webhooks
