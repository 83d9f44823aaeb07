#pragma once
// What the payment coordinator needs from webhooks, and no more: the outbox event that a
// status change causes (the store writes it in the same transaction as the change). That
// delivery starts at once is not the coordinator's business: the dispatcher's wake-up
// listens on the event seam (payment_events.hpp) for changes that carry an event. The
// app wires webhooks::WebhookDispatcher in; payments/ never includes webhooks/.
#include <optional>
#include <string_view>

#include "store/store.hpp"

namespace tillgate::payments {

class WebhookOutbox {
 public:
  virtual ~WebhookOutbox() = default;

  // The event announcing the status `change` gives the transaction `before` (on
  // `terminal`, null when its record is gone); nullopt when the new status announces nothing (it
  // is not final). Called on the coordinator's executor just before the change is sent to
  // the store (so the store thread, which every payment's writes wait for, does not build
  // the bodies): it must be pure (no state of its own, nothing but the arguments and fixed
  // settings).
  [[nodiscard]] virtual std::optional<store::WebhookEventRecord> event_for(
      const store::TransactionRecord& before, const store::StatusChange& change,
      const store::DeviceRecord* terminal) const = 0;
};

}  // namespace tillgate::payments
