// The demo's webhook receiver verifies each delivery as webhooks.md says (and refuses the
// rest); its server part is exercised by DemoTest against the real binary.
#include "app/demo_receiver.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>

#include "domain/time.hpp"
#include "webhooks/signature.hpp"

namespace tillgate::app {
namespace {

net::HttpRequest delivery(const std::string& secret, std::int64_t unix_seconds,
                          const std::string& body) {
  net::HttpRequest request;
  request.method = "POST";
  request.path = "/webhooks";
  request.body = body;
  request.headers = {
      {"webhook-id", "evt_1"},
      {"webhook-timestamp", std::to_string(unix_seconds)},
      {"webhook-signature", webhooks::sign_webhook(secret, "evt_1", unix_seconds, body)}};
  return request;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(DemoWebhookReceiver, AcceptsOnlyDeliveriesSignedWithItsSecretAndFresh) {
  boost::asio::io_context io;
  const auto secret = webhooks::generate_webhook_secret();
  DemoWebhookReceiver receiver(io, secret, [](std::string_view) {});
  const std::string body = R"({"eventType":"payment.completed","data":{}})";
  EXPECT_EQ(receiver.check(delivery(secret, now_seconds(), body)), "");

  const auto other = webhooks::generate_webhook_secret();
  EXPECT_NE(receiver.check(delivery(other, now_seconds(), body)), "");
  EXPECT_NE(receiver.check(delivery(secret, now_seconds() - 3600, body)), "");
  auto tampered = delivery(secret, now_seconds(), body);
  tampered.body += " ";
  EXPECT_NE(receiver.check(tampered), "");
  auto unsigned_request = delivery(secret, now_seconds(), body);
  unsigned_request.headers.pop_back();
  EXPECT_EQ(receiver.check(unsigned_request),
            "missing webhook-id, webhook-timestamp or webhook-signature");
}

}  // namespace
}  // namespace tillgate::app
