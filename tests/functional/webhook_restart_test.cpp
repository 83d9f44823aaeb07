// webhooks.md: "a crash can delay a webhook, never lose it". The gateway is killed (kill -9)
// after the status change committed and before the webhook was delivered; after a restart
// the webhook arrives, once per eventId.
#include <gtest/gtest.h>

#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class WebhookRestartTest : public WebhookTest {};

TEST_F(WebhookRestartTest, AWebhookPendingAtAKillArrivesAfterTheRestart) {
  WebhookReceiver receiver;
  const auto merchant = create_merchant();
  create_endpoint(merchant, receiver.url());
  const auto device = create_device(merchant);
  {
    auto terminal = connect_terminal(device);
    receiver.set_down(true);  // nothing can be delivered before the kill
    pay_and_answer(merchant, device, terminal, "T-CRASH-1", "SUCCESS");
    pay_and_answer(merchant, device, terminal, "T-CRASH-2", "FAILED");
    // payment.result.ack came: both changes (and their outbox rows) are committed.
    gateway().kill9();
  }
  EXPECT_TRUE(received_events(receiver).empty());
  receiver.set_down(false);
  gateway().start();
  ASSERT_TRUE(wait_for_events(receiver, {"T-CRASH-1", "T-CRASH-2"}, 15s));
  const auto events = expect_once_per_transaction(receiver, {"T-CRASH-1", "T-CRASH-2"});
  EXPECT_EQ(events.at("T-CRASH-1").event_type, "payment.completed");
  EXPECT_EQ(events.at("T-CRASH-2").event_type, "payment.failed");
  ASSERT_TRUE(eventually([&] {
    const auto listed = deliveries(merchant, "?status=succeeded");
    return listed.find("deliveries")->as_array().size() == 2U;
  }));
}

TEST_F(WebhookRestartTest, AGracefulStopKeepsPendingDeliveriesForTheNextStart) {
  WebhookReceiver receiver;
  const auto merchant = create_merchant();
  create_endpoint(merchant, receiver.url());
  const auto device = create_device(merchant);
  {
    auto terminal = connect_terminal(device);
    receiver.script({ReceiverReply::with_status(503)});
    pay_and_answer(merchant, device, terminal, "T-STOP", "SUCCESS");
    ASSERT_TRUE(eventually([&] { return receiver.request_count() == 2U; }));  // ping, 503
    receiver.set_down(true);
    gateway().stop();
  }
  receiver.set_down(false);
  gateway().start();
  ASSERT_TRUE(eventually([&] { return receiver.request_count() == 3U; }, 15s));
  const auto events = expect_once_per_transaction(receiver, {"T-STOP"});
  EXPECT_EQ(events.at("T-STOP").copies, 2);
}

}  // namespace
}  // namespace tillgate::ft
