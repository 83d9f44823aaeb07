// The Standard Webhooks signing scheme (webhooks.md, "Signing"): secret format, the
// published test vector, agreement with the openssl command line, and verification.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "../../support/run_shell.hpp"
#include "../../support/temp_dir.hpp"
#include "crypto/crypto.hpp"
#include "webhooks/signature.hpp"

namespace tillgate {
namespace {

using namespace std::chrono_literals;
using webhooks::WebhookVerifyFailure;

domain::Timestamp at_unix(std::int64_t seconds) {
  return domain::Timestamp(std::chrono::seconds(seconds));
}

using tillgate::testing::run_shell;

TEST(WebhookSignature, GeneratedSecretsAreWhsecAndBase64Of32RandomBytes) {
  const auto secret = webhooks::generate_webhook_secret();
  ASSERT_TRUE(secret.starts_with("whsec_"));
  EXPECT_EQ(secret.size(), 6u + 44u);  // 32 bytes -> 44 base64 characters with one '='
  EXPECT_EQ(secret.back(), '=');
  const auto key = webhooks::webhook_secret_key(secret);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ("whsec_" + crypto::base64_encode(*key), secret);
  EXPECT_NE(webhooks::generate_webhook_secret(), secret);
}

TEST(WebhookSignature, SecretKeyNeedsThePrefixAndValidBase64) {
  EXPECT_FALSE(webhooks::webhook_secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  EXPECT_FALSE(webhooks::webhook_secret_key("whsec_"));
  EXPECT_FALSE(webhooks::webhook_secret_key("whsec_not base64!"));
  EXPECT_FALSE(webhooks::webhook_secret_key("whsec_abc"));  // length not a multiple of 4
  EXPECT_EQ(webhooks::webhook_secret_key("whsec_AAEC"), std::string("\x00\x01\x02", 3));
}

TEST(WebhookSignature, SignedContentIsIdDotTimestampDotBody) {
  EXPECT_EQ(webhooks::webhook_signed_content("evt_1", "1700000000", R"({"a":1})"),
            R"(evt_1.1700000000.{"a":1})");
}

// The vector published with the Standard Webhooks / Svix reference libraries (their
// "sign function works" tests): a receiver's library accepts what we send only if this
// reproduces exactly.
TEST(WebhookSignature, ReproducesThePublishedStandardWebhooksVector) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const std::string body = R"({"test": 2432232314})";
  const std::string expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  EXPECT_EQ(webhooks::sign_webhook(secret, id, 1614265330, body), expected);
  EXPECT_FALSE(
      webhooks::verify_webhook(secret, id, "1614265330", body, expected, at_unix(1614265330)));
}

// An independent implementation: the openssl tool, given the decoded key in hex.
TEST(WebhookSignature, AgreesWithTheOpensslCommandLine) {
  testing::TempDir dir("tillgate-webhook-sig");
  const auto secret = webhooks::generate_webhook_secret();
  const auto key = *webhooks::webhook_secret_key(secret);
  const std::string id = "evt_0190c7a4b2e07a1f9c3d5e6f7a8b9c0d";
  const std::int64_t timestamp = 1714000000;
  // Quotes, a dollar sign, a newline and UTF-8: nothing a shell or a line-reader may alter.
  const std::string body =
      "{\"eventType\":\"payment.completed\",\"data\":{\"amount\":\"99.99\",\"note\":\"$HOME 'x'\n"
      "caf\xc3\xa9\"}}";
  const auto message_file = dir.path() / "message";
  std::ofstream(message_file, std::ios::binary)
      << webhooks::webhook_signed_content(id, std::to_string(timestamp), body);
  int status = 0;
  const auto mac =
      run_shell("openssl dgst -sha256 -mac HMAC -macopt hexkey:" + crypto::hex_encode(key) +
                    " -binary < '" + message_file.string() + "' | base64",
                status);
  ASSERT_EQ(status, 0) << "openssl or base64 failed";
  ASSERT_EQ(mac.size(), 44u) << mac;
  EXPECT_EQ(webhooks::sign_webhook(secret, id, timestamp, body), "v1," + mac);
}

TEST(WebhookSignature, SigningWithAMalformedSecretIsABug) {
  EXPECT_THROW((void)webhooks::sign_webhook("tgs_not_a_webhook_secret", "evt_1", 1, "{}"),
               std::invalid_argument);
}

class WebhookVerify : public ::testing::Test {
 protected:
  const std::string secret_ = webhooks::generate_webhook_secret();
  const std::string id_ = "evt_1";
  const std::int64_t sent_ = 1714000000;
  const std::string ts_ = std::to_string(sent_);
  const std::string body_ = R"({"eventType":"ping","data":{}})";
  const std::string good_ = webhooks::sign_webhook(secret_, id_, sent_, body_);

  std::optional<WebhookVerifyFailure> verify(std::string_view header,
                                             std::int64_t now_unix = 1714000000) const {
    return webhooks::verify_webhook(secret_, id_, ts_, body_, header, at_unix(now_unix));
  }
};

TEST_F(WebhookVerify, AcceptsTheSignatureAmongSeveral) {
  EXPECT_FALSE(verify(good_));
  EXPECT_FALSE(verify("v1,bm9wZQ== " + good_));
  EXPECT_FALSE(verify(good_ + " v1,bm9wZQ=="));
  // Other versions are ignored, whatever they hold.
  EXPECT_FALSE(verify("v1a," + good_.substr(3) + " " + good_));
  EXPECT_EQ(verify("v2," + good_.substr(3)), WebhookVerifyFailure::no_valid_signature);
  EXPECT_EQ(verify(""), WebhookVerifyFailure::no_valid_signature);
  EXPECT_EQ(verify("v1,bm9wZQ== v1,"), WebhookVerifyFailure::no_valid_signature);
}

TEST_F(WebhookVerify, RefusesAnythingTampered) {
  const auto now = at_unix(sent_);
  EXPECT_EQ(webhooks::verify_webhook(secret_, id_, ts_, body_ + " ", good_, now),
            WebhookVerifyFailure::no_valid_signature);
  EXPECT_EQ(webhooks::verify_webhook(secret_, "evt_2", ts_, body_, good_, now),
            WebhookVerifyFailure::no_valid_signature);
  EXPECT_EQ(webhooks::verify_webhook(secret_, id_, std::to_string(sent_ + 1), body_, good_, now),
            WebhookVerifyFailure::no_valid_signature);
  EXPECT_EQ(
      webhooks::verify_webhook(webhooks::generate_webhook_secret(), id_, ts_, body_, good_, now),
      WebhookVerifyFailure::no_valid_signature);
  auto flipped = good_;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(flipped), WebhookVerifyFailure::no_valid_signature);
}

TEST_F(WebhookVerify, TimestampToleranceBothWays) {
  EXPECT_FALSE(verify(good_, sent_ + 300));
  EXPECT_FALSE(verify(good_, sent_ - 300));
  EXPECT_EQ(verify(good_, sent_ + 301), WebhookVerifyFailure::timestamp_too_old);
  EXPECT_EQ(verify(good_, sent_ - 301), WebhookVerifyFailure::timestamp_too_new);
  EXPECT_FALSE(webhooks::verify_webhook(secret_, id_, ts_, body_, good_, at_unix(sent_ + 3600),
                                        std::chrono::seconds(3600)));
}

TEST_F(WebhookVerify, RefusesMalformedTimestampsAndSecrets) {
  const auto now = at_unix(sent_);
  for (const std::string bad : {"", "abc", "-1714000000", "1714000000.5", " 1714000000",
                                "1714000000 ", "+1714000000", "9999999999999999999",
                                // Found by fuzz/webhook_signature_fuzzer: a sign was
                                // accepted on zero, which is no plain decimal.
                                "-0", "-000", "-0000000000"}) {
    EXPECT_EQ(webhooks::verify_webhook(secret_, id_, bad, body_, good_, now),
              WebhookVerifyFailure::invalid_timestamp)
        << "'" << bad << "'";
  }
  EXPECT_EQ(webhooks::verify_webhook("whsec_%%%%", id_, ts_, body_, good_, now),
            WebhookVerifyFailure::malformed_secret);
  EXPECT_EQ(webhooks::to_string(WebhookVerifyFailure::timestamp_too_old), "timestamp_too_old");
}

}  // namespace
}  // namespace tillgate
