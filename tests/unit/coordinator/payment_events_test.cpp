// The event seam on its own: delivery order, RAII subscriptions, listeners that
// (un)subscribe or throw while a change is being published.
#include "payments/payment_events.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tillgate::payments {
namespace {

PaymentStatusChanged change_of(const std::string& transaction_id) {
  PaymentStatusChanged change;
  change.transaction.transaction_id = transaction_id;
  return change;
}

class Listener final : public PaymentEventListener {
 public:
  explicit Listener(std::vector<std::string>& log, std::string name)
      : log_(log), name_(std::move(name)) {}
  void status_changed(const PaymentStatusChanged& change) override {
    log_.push_back(name_ + ":" + change.transaction.transaction_id);
    if (on_status) {
      on_status();
    }
  }
  void presence_changed(const TerminalPresenceChanged& change) override {
    log_.push_back(name_ + ":" + std::string(to_string(change.presence)));
  }
  std::function<void()> on_status;

 private:
  std::vector<std::string>& log_;
  std::string name_;
};

TEST(PaymentEvents, DeliversToEveryListenerInSubscriptionOrderUntilUnsubscribed) {
  PaymentEvents events;
  std::vector<std::string> log;
  Listener a(log, "a");
  Listener b(log, "b");
  auto sub_a = events.subscribe(a);
  {
    auto sub_b = events.subscribe(b);
    events.publish(change_of("t1"));
    events.publish(TerminalPresenceChanged{
        domain::MerchantId("m"), domain::DeviceId("d"), TerminalPresence::reconnecting, {}});
    EXPECT_EQ(events.listeners(), 2U);
  }
  events.publish(change_of("t2"));
  EXPECT_EQ(log,
            (std::vector<std::string>{"a:t1", "b:t1", "a:reconnecting", "b:reconnecting", "a:t2"}));
  EXPECT_EQ(events.listeners(), 1U);
}

TEST(PaymentEvents, AListenerThatUnsubscribesAnotherMidPublishStopsItsDelivery) {
  PaymentEvents events;
  std::vector<std::string> log;
  Listener a(log, "a");
  Listener b(log, "b");
  auto sub_a = events.subscribe(a);
  auto sub_b = events.subscribe(b);
  a.on_status = [&] { sub_b = PaymentEvents::Subscription(); };
  events.publish(change_of("t1"));
  EXPECT_EQ(log, (std::vector<std::string>{"a:t1"}));
}

TEST(PaymentEvents, AListenerSubscribedMidPublishGetsOnlyLaterChanges) {
  PaymentEvents events;
  std::vector<std::string> log;
  Listener a(log, "a");
  Listener late(log, "late");
  PaymentEvents::Subscription late_sub;
  auto sub_a = events.subscribe(a);
  a.on_status = [&] {
    if (events.listeners() == 1) {
      late_sub = events.subscribe(late);
    }
  };
  events.publish(change_of("t1"));
  events.publish(change_of("t2"));
  EXPECT_EQ(log, (std::vector<std::string>{"a:t1", "a:t2", "late:t2"}));
}

TEST(PaymentEvents, AThrowingListenerDoesNotKeepTheOthersFromTheChange) {
  PaymentEvents events;
  std::vector<std::string> log;
  Listener bad(log, "bad");
  Listener good(log, "good");
  bad.on_status = [] { throw std::runtime_error("listener bug"); };
  auto sub_bad = events.subscribe(bad);
  auto sub_good = events.subscribe(good);
  EXPECT_NO_THROW(events.publish(change_of("t1")));
  EXPECT_EQ(log, (std::vector<std::string>{"bad:t1", "good:t1"}));
}

TEST(PaymentEvents, AMovedSubscriptionUnsubscribesOnce) {
  PaymentEvents events;
  std::vector<std::string> log;
  Listener a(log, "a");
  auto first = events.subscribe(a);
  PaymentEvents::Subscription second(std::move(first));
  EXPECT_EQ(events.listeners(), 1U);
  second = PaymentEvents::Subscription();
  EXPECT_EQ(events.listeners(), 0U);
}

}  // namespace
}  // namespace tillgate::payments
