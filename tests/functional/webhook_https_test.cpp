// HTTPS delivery through the real binary: the gateway verifies the receiver's certificate
// and host name; TILLGATE_WEBHOOK_CA_FILE adds a private CA. https:// needs no
// TILLGATE_WEBHOOK_ALLOW_HTTP.
#include <gtest/gtest.h>

#include "../support/test_ca.hpp"
#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using testing::test_ca;

class WebhookHttpsTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_WEBHOOK_CA_FILE", test_ca().ca_file()},
            {"TILLGATE_WEBHOOK_ALLOW_PRIVATE", "1"},
            {"TILLGATE_WEBHOOK_ATTEMPT_TIMEOUT_MS", "2000"}};
  }
  void SetUp() override {
    ASSERT_TRUE(test_ca().ok()) << "openssl could not make the test certificates";
    GatewayTest::SetUp();
  }
};

TEST_F(WebhookHttpsTest, DeliversOverVerifiedTlsToTheNameInTheCertificate) {
  WebhookReceiver receiver(test_ca().server_files());
  const auto merchant = create_merchant();
  const auto create = [&](const std::string& url) {
    return signed_request(merchant, "POST", "/v1/webhooks/endpoints",
                          R"({"url":")" + url + R"("})");
  };
  // A certificate from the trusted CA, but for another name: refused.
  WebhookReceiver impostor(test_ca().server_files("other"));
  const auto wrong_name = expect_error(create(impostor.url()), 422, "ENDPOINT_VALIDATION_FAILED");
  EXPECT_NE(string_at(wrong_name, "message").find("IP address mismatch"), std::string::npos)
      << string_at(wrong_name, "message");
  EXPECT_EQ(impostor.request_count(), 0U);

  const auto res = create(receiver.url("/webhook", "localhost"));
  ASSERT_EQ(res.status, 201) << res.body;
  const auto device = create_device(merchant);
  auto terminal = connect_terminal(device);
  const auto pay = signed_request(
      merchant, "POST", payments_path(device.device_id),
      R"({"amount":"3.00","currency":"EUR","paymentMethod":"CARD","webhookMode":true,)"
      R"("transactionId":"T-TLS"})");
  ASSERT_EQ(pay.status, 202) << pay.body;
  (void)read_frame(*terminal.ws, "payment.request");
  ASSERT_TRUE(terminal.ws->send_json(result_frame("T-TLS", "SUCCESS", "AUTH-TLS")));
  (void)read_frame(*terminal.ws, "payment.result.ack");
  ASSERT_TRUE(wait_for_events(receiver, {"T-TLS"}));
  const auto events = expect_once_per_transaction(receiver, {"T-TLS"});
  EXPECT_EQ(events.at("T-TLS").request.header("host"),
            "localhost:" + std::to_string(receiver.port()));
}

// Without the CA file the same receiver is not trusted.
class WebhookHttpsUntrustedTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_WEBHOOK_ALLOW_PRIVATE", "1"}}; }
};

TEST_F(WebhookHttpsUntrustedTest, AnUnknownCaIsRefused) {
  ASSERT_TRUE(test_ca().ok());
  WebhookReceiver receiver(test_ca().server_files());
  const auto merchant = create_merchant();
  const auto error =
      expect_error(signed_request(merchant, "POST", "/v1/webhooks/endpoints",
                                  R"({"url":")" + receiver.url("/webhook", "localhost") + R"("})"),
                   422, "ENDPOINT_VALIDATION_FAILED");
  EXPECT_NE(string_at(error, "message").find("certificate verify failed"), std::string::npos)
      << string_at(error, "message");
  EXPECT_EQ(receiver.request_count(), 0U);
  EXPECT_GE(receiver.tls_handshake_failures(), 1U);
}

}  // namespace
}  // namespace tillgate::ft
