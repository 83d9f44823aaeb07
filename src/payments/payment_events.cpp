#include "payments/payment_events.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <exception>
#include <type_traits>

namespace tillgate::payments {

PaymentEvents::Subscription::Subscription(PaymentEvents& events, PaymentEventListener& listener)
    : events_(&events), listener_(&listener) {
  events_->add(listener);
}

PaymentEvents::Subscription::~Subscription() {
  reset();
}

PaymentEvents::Subscription::Subscription(Subscription&& other) noexcept
    : events_(other.events_), listener_(other.listener_) {
  other.events_ = nullptr;
  other.listener_ = nullptr;
}

PaymentEvents::Subscription& PaymentEvents::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    events_ = other.events_;
    listener_ = other.listener_;
    other.events_ = nullptr;
    other.listener_ = nullptr;
  }
  return *this;
}

void PaymentEvents::Subscription::reset() noexcept {
  if (events_ != nullptr) {
    events_->remove(*listener_);
  }
  events_ = nullptr;
  listener_ = nullptr;
}

PaymentEvents::~PaymentEvents() {
  assert(listeners_.empty() && "a subscription outlived its PaymentEvents");
}

PaymentEvents::Subscription PaymentEvents::subscribe(PaymentEventListener& listener) {
  return Subscription(*this, listener);
}

void PaymentEvents::add(PaymentEventListener& listener) {
  listeners_.push_back(&listener);
}

void PaymentEvents::remove(PaymentEventListener& listener) noexcept {
  const auto it = std::find(listeners_.begin(), listeners_.end(), &listener);
  if (it != listeners_.end()) {
    listeners_.erase(it);
  }
}

template <class Change>
void PaymentEvents::deliver(const Change& change) {
  // A copy: a listener may (un)subscribe while being called.
  const std::vector<PaymentEventListener*> snapshot = listeners_;
  for (PaymentEventListener* listener : snapshot) {
    if (std::find(listeners_.begin(), listeners_.end(), listener) == listeners_.end()) {
      continue;  // unsubscribed by an earlier listener of this publish
    }
    try {
      if constexpr (std::is_same_v<Change, PaymentStatusChanged>) {
        listener->status_changed(change);
      } else {
        listener->presence_changed(change);
      }
    } catch (const std::exception& error) {
      spdlog::error("payment event listener failed: {}", error.what());
    } catch (...) {
      spdlog::error("payment event listener failed with a non-standard exception");
    }
  }
}

void PaymentEvents::publish(const PaymentStatusChanged& change) {
  deliver(change);
}

void PaymentEvents::publish(const TerminalPresenceChanged& change) {
  deliver(change);
}

std::string_view to_string(TerminalPresence presence) {
  switch (presence) {
    case TerminalPresence::connected:
      return "connected";
    case TerminalPresence::reconnecting:
      return "reconnecting";
    case TerminalPresence::gone:
      return "gone";
  }
  return "gone";
}

}  // namespace tillgate::payments
