#pragma once
// The event seam: the payment coordinator publishes here every status change it committed
// (with the durable payment event it wrote, if any) and every change of a terminal's
// presence. The long-poll waiters, the webhook outbox's wake-up and, later, the POS
// WebSocket and other nodes subscribe here instead of being special cases of the
// coordinator.
//
// Single-threaded, on the network thread, like the coordinator. A listener is called
// synchronously, after the change is durable: it must be quick and must not throw (an
// exception is logged and swallowed). A listener may subscribe or unsubscribe others, or
// itself, while being called: a publish goes to the listeners subscribed when it began
// that are still subscribed when their turn comes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/ids.hpp"
#include "domain/time.hpp"
#include "domain/transaction.hpp"
#include "store/store.hpp"

namespace tillgate::payments {

struct PaymentStatusChanged {
  store::TransactionRecord transaction;  // as committed, after the change
  // Both nullopt: the transaction was created (PENDING).
  std::optional<domain::TransactionStatus> from;
  std::optional<domain::TransactionEvent> cause;
  // The durable payment event the change wrote with itself (the webhook event id, the
  // `eventId` clients deduplicate on); nullopt when the change announces nothing.
  std::optional<domain::EventId> event_id;
  // That event's commit sequence (store::PaymentEventRecord::sequence): a resumed POS
  // session drops the live events it has already replayed from the store.
  std::optional<std::int64_t> event_sequence = std::nullopt;
};

enum class TerminalPresence {
  connected,     // said hello
  reconnecting,  // dropped; inside the reconnect grace
  gone,          // the grace passed without a new hello, or the device was revoked
};

struct TerminalPresenceChanged {
  domain::MerchantId merchant_id;
  domain::DeviceId device_id;
  TerminalPresence presence = TerminalPresence::connected;
  domain::Timestamp at;
};

class PaymentEventListener {
 public:
  virtual ~PaymentEventListener() = default;
  virtual void status_changed(const PaymentStatusChanged& /*change*/) {}
  virtual void presence_changed(const TerminalPresenceChanged& /*change*/) {}
};

class PaymentEvents {
 public:
  // Unsubscribes when destroyed; outlives neither the PaymentEvents nor the listener.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(PaymentEvents& events, PaymentEventListener& listener);
    ~Subscription();
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    void reset() noexcept;
    PaymentEvents* events_ = nullptr;
    PaymentEventListener* listener_ = nullptr;
  };

  PaymentEvents() = default;
  // Asserts that every subscription ended first.
  ~PaymentEvents();
  PaymentEvents(const PaymentEvents&) = delete;
  PaymentEvents& operator=(const PaymentEvents&) = delete;

  [[nodiscard]] Subscription subscribe(PaymentEventListener& listener);

  void publish(const PaymentStatusChanged& change);
  void publish(const TerminalPresenceChanged& change);

  [[nodiscard]] std::size_t listeners() const { return listeners_.size(); }

 private:
  void add(PaymentEventListener& listener);
  void remove(PaymentEventListener& listener) noexcept;
  template <class Change>
  void deliver(const Change& change);

  std::vector<PaymentEventListener*> listeners_;
};

[[nodiscard]] std::string_view to_string(TerminalPresence presence);

}  // namespace tillgate::payments
