#pragma once
// A webhook format: how the endpoints created with it are served (webhooks.md "format";
// nomba-compat.md section 5). The body an outbox event sends them, the headers that sign
// one attempt, the validation ping, and the retry schedule. The dispatcher and the
// endpoint routes ask the endpoint's format and never branch on its name; the standard
// format is in this folder, the Nomba one in src/nomba, and the app registers both.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/enums.hpp"
#include "domain/time.hpp"
#include "store/store.hpp"
#include "webhooks/events.hpp"

namespace tillgate::webhooks {

// What a format's endpoints are sent for one outbox event: the body, and the name the
// format's own API finds the event by (the Nomba body's requestId), kept with the event in
// an indexed column; nullopt: none.
struct EventBody {
  std::string body;
  std::optional<std::string> key = std::nullopt;
};

class WebhookFormat {
 public:
  virtual ~WebhookFormat() = default;

  // The endpoints' `format` this strategy serves.
  [[nodiscard]] virtual domain::WebhookFormat kind() const = 0;

  // The body this format's endpoints get for the outbox event `event`, which announces
  // `after` (the transaction as its change leaves it, on `terminal`: null when its record
  // is gone); nullopt when they get no delivery for it. Called on the store thread just
  // before the change is written: pure (arguments and fixed settings only).
  [[nodiscard]] virtual std::optional<EventBody> event_body(
      const store::TransactionRecord& after, const store::DeviceRecord* terminal,
      const store::WebhookEventRecord& event) const = 0;

  // The headers of one attempt to send `body`, the body of event `event_id`, at
  // `sent_at`, signed with the endpoint's `secret`. Throws std::invalid_argument for a
  // malformed secret.
  [[nodiscard]] virtual HeaderList sign(std::string_view secret, std::string_view event_id,
                                        std::string_view body, domain::Timestamp sent_at) const = 0;

  // The body of the validation ping sent when an endpoint is created or its URL changes
  // (its event id is `event_id`).
  [[nodiscard]] virtual std::string ping_body(std::string_view event_id,
                                              domain::Timestamp at) const = 0;

  // The waits after the 1st, 2nd, ... failed attempt; then the delivery is failed.
  [[nodiscard]] virtual const std::vector<std::chrono::seconds>& retry_schedule() const = 0;
};

// The formats the gateway serves. The standard format is always there.
class WebhookFormats {
 public:
  explicit WebhookFormats(std::unique_ptr<WebhookFormat> standard);
  // Throws std::invalid_argument when a format of that kind is already registered.
  void add(std::unique_ptr<WebhookFormat> format);
  // nullptr when that format is not served.
  [[nodiscard]] const WebhookFormat* find(domain::WebhookFormat kind) const;
  [[nodiscard]] const WebhookFormat& standard() const { return *formats_.front(); }
  [[nodiscard]] const std::vector<std::unique_ptr<WebhookFormat>>& all() const { return formats_; }

 private:
  std::vector<std::unique_ptr<WebhookFormat>> formats_;  // the standard one first
};

// The outbox event announcing `after`, with the body of every format that sends one
// (webhooks::payment_event is the standard body); nullopt when the status announces
// nothing.
[[nodiscard]] std::optional<store::WebhookEventRecord> outbox_event(
    const WebhookFormats& formats, const store::TransactionRecord& after,
    const store::DeviceRecord* terminal, domain::Timestamp at);

}  // namespace tillgate::webhooks
