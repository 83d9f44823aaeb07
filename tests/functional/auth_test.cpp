// HMAC request authentication, merchant-api.md section 1, and the admin token.
#include <gmock/gmock.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "crypto/crypto.hpp"
#include "domain/time.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
using client::HeaderList;

std::string timestamp_at(std::chrono::system_clock::duration offset) {
  return domain::format_iso8601(std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() + offset));
}

HeaderList without_header(HeaderList headers, std::string_view name) {
  std::erase_if(headers, [name](const auto& h) { return client::iequals(h.first, name); });
  return headers;
}

class AuthTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    merchant_ = create_merchant("Auth Shop");
    device_ = create_device(merchant_, "till-auth");
  }

  client::HttpResponse send(std::string_view method, std::string_view target, std::string_view body,
                            const HeaderList& headers) {
    auto client = http();
    return client.request(method, target, body, headers);
  }

  Merchant merchant_;
  Device device_;
};

TEST_F(AuthTest, SignedRequestIsAccepted) {
  const auto res = signed_request(merchant_, "GET", "/v1/terminals");
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(AuthTest, EachMissingHeaderIsUnauthorized) {
  const auto headers = client::sign_request(merchant_.credentials, "GET", "/v1/terminals", "");
  for (const auto* name : {"x-api-key", "x-timestamp", "x-signature"}) {
    SCOPED_TRACE(name);
    expect_error(send("GET", "/v1/terminals", "", without_header(headers, name)), 401,
                 "UNAUTHORIZED");
  }
  expect_error(send("GET", "/v1/terminals", "", {}), 401, "UNAUTHORIZED");
}

TEST_F(AuthTest, UnknownKeyIsUnauthorized) {
  const client::MerchantCredentials stranger{"tgk_" + random_hex(13), "tgs_" + random_hex(26)};
  const auto headers = client::sign_request(stranger, "GET", "/v1/terminals", "");
  expect_error(send("GET", "/v1/terminals", "", headers), 401, "UNAUTHORIZED");
}

TEST_F(AuthTest, RevokedKeyIsUnauthorized) {
  const auto created = admin("POST", "/admin/v1/merchants/" + merchant_.merchant_id + "/keys");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto body = parse_json(created.body);
  Merchant second = merchant_;
  second.credentials = {string_at(body, "apiKey"), string_at(body, "apiSecret")};
  ASSERT_FALSE(second.credentials.api_key.empty()) << created.body;
  EXPECT_EQ(signed_request(second, "GET", "/v1/terminals").status, 200);

  const auto revoked = admin("DELETE", "/admin/v1/merchants/" + merchant_.merchant_id + "/keys/" +
                                           second.credentials.api_key);
  EXPECT_GE(revoked.status, 200) << revoked.body;
  EXPECT_LT(revoked.status, 300) << revoked.body;
  expect_error(signed_request(second, "GET", "/v1/terminals"), 401, "UNAUTHORIZED");
  // The merchant's other key is untouched.
  EXPECT_EQ(signed_request(merchant_, "GET", "/v1/terminals").status, 200);
}

TEST_F(AuthTest, WrongSecretIsInvalidSignature) {
  auto wrong = merchant_.credentials;
  wrong.api_secret += "x";
  const auto headers = client::sign_request(wrong, "GET", "/v1/terminals", "");
  expect_error(send("GET", "/v1/terminals", "", headers), 401, "INVALID_SIGNATURE");
}

TEST_F(AuthTest, TamperedBodyIsInvalidSignature) {
  const auto signed_body = payment_body("1.00", "USD");
  const auto sent_body = payment_body("100.00", "USD");
  const auto target = payments_path(device_.device_id);
  const auto headers = client::sign_request(merchant_.credentials, "POST", target, signed_body);
  expect_error(send("POST", target, sent_body, headers), 401, "INVALID_SIGNATURE");
}

TEST_F(AuthTest, TamperedPathOrQueryIsInvalidSignature) {
  {
    SCOPED_TRACE("query changed");
    const auto headers =
        client::sign_request(merchant_.credentials, "GET", "/v1/transactions?limit=5", "");
    expect_error(send("GET", "/v1/transactions?limit=6", "", headers), 401, "INVALID_SIGNATURE");
  }
  {
    SCOPED_TRACE("query dropped");
    const auto headers =
        client::sign_request(merchant_.credentials, "GET", "/v1/transactions?limit=5", "");
    expect_error(send("GET", "/v1/transactions", "", headers), 401, "INVALID_SIGNATURE");
  }
  {
    SCOPED_TRACE("path changed");
    const auto headers = client::sign_request(merchant_.credentials, "GET", "/v1/terminals", "");
    expect_error(send("GET", "/v1/transactions", "", headers), 401, "INVALID_SIGNATURE");
  }
  {
    SCOPED_TRACE("method changed");
    const auto target = payments_path(device_.device_id);
    const auto body = payment_body("1.00", "USD");
    const auto headers = client::sign_request(merchant_.credentials, "PUT", target, body);
    expect_error(send("POST", target, body, headers), 401, "INVALID_SIGNATURE");
  }
}

TEST_F(AuthTest, SignedQueryIsAccepted) {
  const auto res = signed_request(merchant_, "GET", "/v1/transactions?limit=5");
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(AuthTest, TimestampOutsideTheWindowIsExpired) {
  for (const auto offset : {-301s, 301s}) {
    SCOPED_TRACE(offset.count());
    const auto stamp = timestamp_at(offset);
    const auto headers =
        client::sign_request(merchant_.credentials, "GET", "/v1/terminals", "", stamp);
    expect_error(send("GET", "/v1/terminals", "", headers), 401, "TIMESTAMP_EXPIRED");
  }
}

TEST_F(AuthTest, TimestampInsideTheWindowIsAccepted) {
  for (const auto offset : {-290s, 290s}) {
    SCOPED_TRACE(offset.count());
    const auto stamp = timestamp_at(offset);
    const auto headers =
        client::sign_request(merchant_.credentials, "GET", "/v1/terminals", "", stamp);
    const auto res = send("GET", "/v1/terminals", "", headers);
    EXPECT_EQ(res.status, 200) << res.body;
  }
}

TEST_F(AuthTest, UnparseableTimestampIsExpired) {
  for (const auto* stamp : {"yesterday", "2024-13-45T99:99:99.000Z", "1700000000"}) {
    SCOPED_TRACE(stamp);
    const auto headers =
        client::sign_request(merchant_.credentials, "GET", "/v1/terminals", "", stamp);
    expect_error(send("GET", "/v1/terminals", "", headers), 401, "TIMESTAMP_EXPIRED");
  }
}

TEST_F(AuthTest, TimestampWithoutMillisecondsIsAccepted) {
  auto stamp = timestamp_at(0s);  // "YYYY-MM-DDTHH:MM:SS.mmmZ"
  stamp.erase(19, 4);             // "YYYY-MM-DDTHH:MM:SSZ"
  ASSERT_EQ(stamp.size(), 20u) << stamp;
  const auto headers =
      client::sign_request(merchant_.credentials, "GET", "/v1/terminals", "", stamp);
  const auto res = send("GET", "/v1/terminals", "", headers);
  EXPECT_EQ(res.status, 200) << res.body;
}

// merchant-api.md section 1: a signature already accepted is refused for POST, PUT and
// DELETE; (v2) a repeated GET is answered.
TEST_F(AuthTest, ExactReplayIsRefusedForWritesOnly) {
  const std::string body = R"({"label":"replayed"})";
  const auto headers =
      client::sign_request(merchant_.credentials, "POST", "/v1/devices/codes", body);
  const auto first = send("POST", "/v1/devices/codes", body, headers);
  ASSERT_EQ(first.status, 201) << first.body;
  remember_secrets_in(first);
  expect_error(send("POST", "/v1/devices/codes", body, headers), 401, "REPLAYED_REQUEST");
  const auto del = client::sign_request(merchant_.credentials, "DELETE", "/v1/devices/nope", "");
  expect_error(send("DELETE", "/v1/devices/nope", "", del), 404, "TERMINAL_NOT_FOUND");
  expect_error(send("DELETE", "/v1/devices/nope", "", del), 401, "REPLAYED_REQUEST");
}

TEST_F(AuthTest, RepeatedSignedGetIsAnswered) {
  // What a Modulus client signing with whole seconds sends twice within one second.
  auto stamp = timestamp_at(0s);
  stamp.erase(19, 4);
  const auto headers =
      client::sign_request(merchant_.credentials, "GET", "/v1/terminals", "", stamp);
  for (int i = 0; i < 3; ++i) {
    const auto res = send("GET", "/v1/terminals", "", headers);
    EXPECT_EQ(res.status, 200) << res.body;
  }
  // Still bound to its path: the same headers on another read are not accepted.
  expect_error(send("GET", "/v1/transactions", "", headers), 401, "INVALID_SIGNATURE");
}

// The server's HMAC check against an independent implementation: the openssl tool.
TEST_F(AuthTest, SignatureMadeWithOpensslIsAccepted) {
  const auto body = payment_body("42.00", "USD", "TXN-OPENSSL-1");
  const auto target = payments_path(device_.device_id);
  const auto stamp = timestamp_at(0s);
  const auto body_file = gateway().dir() / "body.bin";
  std::ofstream(body_file, std::ios::binary) << body;
  // "SHA2-256(file)= hex" or "hex *file": the hex digest is the first 64-hex-digit run.
  const auto digest_line = run_shell("openssl dgst -sha256 -r '" + body_file.string() + "'");
  const auto body_hash = digest_line.substr(0, 64);
  ASSERT_EQ(body_hash.find_first_not_of("0123456789abcdef"), std::string::npos) << digest_line;
  const std::string to_sign = "POST\n" + target + "\n" + stamp + "\n" + body_hash;
  const auto sign_file = gateway().dir() / "to_sign.txt";
  std::ofstream(sign_file, std::ios::binary) << to_sign;
  const auto signature =
      run_shell("openssl dgst -sha256 -hmac '" + merchant_.credentials.api_secret + "' -binary '" +
                sign_file.string() + "' | base64 -w0");
  ASSERT_FALSE(signature.empty());
  const HeaderList headers{{"x-api-key", merchant_.credentials.api_key},
                           {"x-timestamp", stamp},
                           {"x-signature", signature}};
  // Authenticated, validated, then refused only because the terminal never connected.
  expect_error(send("POST", target, body, headers), 503, "TERMINAL_OFFLINE");
}

TEST_F(AuthTest, AdminApiNeedsTheToken) {
  auto client = http();
  expect_error(client.request("GET", "/admin/v1/merchants"), 401, "UNAUTHORIZED");
  expect_error(client.request("GET", "/admin/v1/merchants", "",
                              {{"Authorization", "Bearer wrong-" + gateway().admin_token()}}),
               401, "UNAUTHORIZED");
  expect_error(client.request("POST", "/admin/v1/merchants", R"({"name":"x"})",
                              {{"Authorization", "Bearer nope"}}),
               401, "UNAUTHORIZED");
  const auto ok = client.request("GET", "/admin/v1/merchants", "",
                                 {{"Authorization", "Bearer " + gateway().admin_token()}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(AuthTest, MerchantCredentialsDoNotOpenTheAdminApi) {
  auto client = http();
  const auto headers =
      client::sign_request(merchant_.credentials, "GET", "/admin/v1/merchants", "");
  expect_error(client.request("GET", "/admin/v1/merchants", "", headers), 401, "UNAUTHORIZED");
}

// The log scan every GatewayTest ends with (test_support.hpp, remember_secret) finds what
// the gateway does log: a merchant id stands in for a leaked secret here.
TEST_F(AuthTest, TheLogScanFindsARememberedValueThatIsLogged) {
  const auto merchant = create_merchant("Scanned Shop");
  remember_secret(merchant.merchant_id);
  EXPECT_THAT(secrets_in(gateway().stderr_text()), ::testing::Contains(merchant.merchant_id));
  EXPECT_THAT(secrets_in(gateway().stderr_text()),
              ::testing::Not(::testing::Contains(merchant.credentials.api_secret)));
  forget_secret(merchant.merchant_id);  // not a secret: the scan at the end must not fail
}

}  // namespace
}  // namespace tillgate::ft
