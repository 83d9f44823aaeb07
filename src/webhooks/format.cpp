#include "webhooks/format.hpp"

#include <stdexcept>

#include "webhooks/events.hpp"

namespace tillgate::webhooks {

WebhookFormats::WebhookFormats(std::unique_ptr<WebhookFormat> standard) {
  formats_.push_back(std::move(standard));
}

void WebhookFormats::add(std::unique_ptr<WebhookFormat> format) {
  if (find(format->kind()) != nullptr) {
    throw std::invalid_argument("webhook format " + std::string(domain::to_string(format->kind())) +
                                " is registered twice");
  }
  formats_.push_back(std::move(format));
}

const WebhookFormat* WebhookFormats::find(domain::WebhookFormat kind) const {
  for (const auto& format : formats_) {
    if (format->kind() == kind) {
      return format.get();
    }
  }
  return nullptr;
}

std::optional<store::WebhookEventRecord> outbox_event(const WebhookFormats& formats,
                                                      const store::TransactionRecord& after,
                                                      const store::DeviceRecord* terminal,
                                                      domain::Timestamp at) {
  auto event = payment_event(after, at);
  if (!event) {
    return event;
  }
  for (const auto& format : formats.all()) {
    if (format.get() == &formats.standard()) {
      continue;
    }
    if (auto sent = format->event_body(after, terminal, *event)) {
      event->format_payloads.emplace(format->kind(), std::move(sent->body));
      if (sent->key) {
        event->format_keys.emplace(format->kind(), std::move(*sent->key));
      }
    }
  }
  return event;
}

}  // namespace tillgate::webhooks
