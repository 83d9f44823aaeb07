// HTTPS delivery through the real binary: the gateway verifies the receiver's certificate
// and host name; TILLGATE_WEBHOOK_CA_FILE adds a private CA. https:// needs no
// TILLGATE_WEBHOOK_ALLOW_HTTP.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

// A CA, a certificate for localhost/127.0.0.1 ("local") and one for other.example
// ("other"), made with the openssl command line.
class TestCa {
 public:
  TestCa() : dir_("tillgate-webhook-ca") {
    std::ofstream(dir_.path() / "req.cnf") << "[req]\n"
                                              "distinguished_name = dn\n"
                                              "x509_extensions = ca\n"
                                              "[dn]\n"
                                              "[ca]\n"
                                              "basicConstraints = critical,CA:TRUE\n"
                                              "keyUsage = critical,keyCertSign,cRLSign\n"
                                              "subjectKeyIdentifier = hash\n";
    std::ofstream(dir_.path() / "local.ext") << "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
                                                "extendedKeyUsage = serverAuth\n";
    std::ofstream(dir_.path() / "other.ext") << "subjectAltName = DNS:other.example\n"
                                                "extendedKeyUsage = serverAuth\n";
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        "cd '" + dir_.path().string() + "' && exec >openssl.log 2>&1 && set -e\n" +
        "openssl req -config req.cnf -x509 " + key +
        " -keyout ca.key -out ca.pem -days 2 -subj '/CN=Tillgate Test CA'\n" +
        "for name in local other; do\n"
        "  openssl req -config req.cnf -new " +
        key +
        " -keyout $name.key -out $name.csr -subj /CN=$name\n"
        "  openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
        " -extfile $name.ext -out $name.pem\n"
        "done\n";
    ok_ = std::system(script.c_str()) == 0;
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::string ca_file() const { return (dir_.path() / "ca.pem").string(); }
  [[nodiscard]] testing::ReceiverTlsFiles server_files(const std::string& name = "local") const {
    return {dir_.path() / (name + ".pem"), dir_.path() / (name + ".key")};
  }

 private:
  TempDir dir_;
  bool ok_ = false;
};

TestCa& test_ca() {
  static TestCa ca;
  return ca;
}

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
