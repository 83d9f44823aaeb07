// HS256 JWTs (crypto/jwt.hpp): the published RFC 7515 example, agreement with the openssl
// command line, and every way a token must be refused.
#include "crypto/jwt.hpp"
#include "domain/time.hpp"

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

namespace tillgate::crypto {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1714000000;
const std::string kKey = "0123456789abcdef0123456789abcdef";

domain::Timestamp at_unix(std::int64_t seconds) {
  return domain::Timestamp(std::chrono::seconds(seconds));
}

json::Value claims_expiring(std::int64_t exp) {
  return json::object({{"sub", "mch_1"}, {"iat", json::Value(kNow)}, {"exp", json::Value(exp)}});
}

// A token with any header and claims text, MAC'd with `key`: what an attacker (or a
// different library) could send.
std::string forge(std::string_view header, std::string_view claims, std::string_view key) {
  std::string token = base64url_encode(header) + "." + base64url_encode(claims);
  return token + "." + base64url_encode(hmac_sha256(key, token));
}

std::string segment(const std::string& token, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) {
    start = token.find('.', start) + 1;
  }
  return token.substr(start, token.find('.', start) - start);
}

boost::system::result<json::Value, JwtError> verify(std::string_view token,
                                                    std::string_view key = kKey,
                                                    std::int64_t now = kNow,
                                                    std::chrono::seconds leeway = 0s) {
  return verify_jwt_hs256(token, key, at_unix(now), leeway);
}

JwtError error_of(const boost::system::result<json::Value, JwtError>& result) {
  EXPECT_FALSE(result.has_value());
  return result.has_value() ? JwtError::malformed : result.error();
}

using tillgate::testing::run_shell;

TEST(Jwt, RoundTripsTheClaims) {
  const auto claims = json::object({{"sub", "mch_1"},
                                    {"scope", json::Value(json::Array{"nomba"})},
                                    {"iat", json::Value(kNow)},
                                    {"exp", json::Value(kNow + 1800)}});
  const auto token = sign_jwt_hs256(claims, kKey);
  EXPECT_EQ(segment(token, 0), base64url_encode(R"({"alg":"HS256","typ":"JWT"})"));
  EXPECT_EQ(segment(token, 0), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
  EXPECT_EQ(base64url_decode(segment(token, 1)), json::serialize(claims));
  EXPECT_EQ(token.find('='), std::string::npos);
  const auto verified = verify(token);
  ASSERT_TRUE(verified.has_value()) << to_string(verified.error());
  EXPECT_EQ(*verified, claims);
}

// RFC 7515 Appendix A.1: the published HS256 example, with its header (CRLF and spaces
// inside the JSON), its claims and its key (the JWK "k" value), byte for byte.
TEST(Jwt, AcceptsTheRfc7515AppendixA1Example) {
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
      "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
      ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const auto key = base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(base64url_decode(segment(token, 0)), "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
  // exp is 1300819380 (2011-03-22T18:43:00Z): valid the second before, expired at it.
  const auto verified = verify(token, *key, 1300819379);
  ASSERT_TRUE(verified.has_value()) << to_string(verified.error());
  EXPECT_EQ(verified->find_string("iss"), "joe");
  ASSERT_NE(verified->find("http://example.com/is_root"), nullptr);
  EXPECT_EQ(*verified->find("http://example.com/is_root"), json::Value(true));
  EXPECT_EQ(error_of(verify(token, *key, 1300819380)), JwtError::expired);
  EXPECT_EQ(error_of(verify(token, kKey, 1300819379)), JwtError::bad_signature);
}

// An independent implementation: the openssl tool, given the key in hex.
TEST(Jwt, SignatureAgreesWithTheOpensslCommandLine) {
  testing::TempDir dir("tillgate-jwt");
  const auto key = random_bytes(32);
  const auto token = sign_jwt_hs256(
      json::object(
          {{"sub", "mch_1"}, {"note", "$HOME 'x' caf\xc3\xa9"}, {"exp", json::Value(kNow)}}),
      key);
  const auto signing_input = token.substr(0, token.rfind('.'));
  const auto input_file = dir.path() / "signing_input";
  std::ofstream(input_file, std::ios::binary) << signing_input;
  int status = 0;
  const auto mac =
      run_shell("openssl dgst -sha256 -mac HMAC -macopt hexkey:" + hex_encode(key) +
                    " -binary < '" + input_file.string() + "' | base64 | tr '+/' '-_' | tr -d '='",
                status);
  ASSERT_EQ(status, 0) << "openssl, base64 or tr failed";
  ASSERT_EQ(mac.size(), 43u) << mac;
  EXPECT_EQ(segment(token, 2), mac);
}

TEST(Jwt, RefusesAWrongKey) {
  const auto token = sign_jwt_hs256(claims_expiring(kNow + 60), kKey);
  EXPECT_EQ(error_of(verify(token, "another key")), JwtError::bad_signature);
  EXPECT_EQ(error_of(verify(token, kKey + "x")), JwtError::bad_signature);
}

TEST(Jwt, RefusesATamperedPayload) {
  const auto token = sign_jwt_hs256(claims_expiring(kNow + 60), kKey);
  const auto other_claims = base64url_encode(
      json::serialize(json::object({{"sub", "mch_2"}, {"exp", json::Value(kNow + 60)}})));
  const auto tampered = segment(token, 0) + "." + other_claims + "." + segment(token, 2);
  EXPECT_EQ(error_of(verify(tampered)), JwtError::bad_signature);
}

TEST(Jwt, RefusesAnyAlgorithmButHs256) {
  const auto claims = json::serialize(claims_expiring(kNow + 60));
  const auto good = sign_jwt_hs256(claims_expiring(kNow + 60), kKey);
  const auto claims_segment = base64url_encode(claims);
  // alg "none" with no signature, and with the genuine one: never a signature check.
  EXPECT_EQ(error_of(verify(base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                            claims_segment + ".")),
            JwtError::wrong_algorithm);
  EXPECT_EQ(error_of(verify(base64url_encode(R"({"alg":"none"})") + "." + claims_segment + "." +
                            segment(good, 2))),
            JwtError::wrong_algorithm);
  // Even MAC'd with the right key, another alg name is refused.
  for (const std::string_view header :
       {R"({"alg":"none"})", R"({"alg":"RS256","typ":"JWT"})", R"({"alg":"HS512"})",
        R"({"alg":"hs256"})", R"({"alg":"HS256 "})", R"({"alg":null})", R"({"alg":256})"}) {
    EXPECT_EQ(error_of(verify(forge(header, claims, kKey))), JwtError::wrong_algorithm) << header;
  }
  EXPECT_EQ(error_of(verify(forge(R"({"typ":"JWT"})", claims, kKey))), JwtError::malformed);
  // A critical extension this verifier does not know.
  EXPECT_EQ(error_of(verify(forge(R"({"alg":"HS256","crit":["b64"],"b64":false})", claims, kKey))),
            JwtError::malformed);
  // A duplicate alg (JSON that some parsers read last-wins) is not JSON here.
  EXPECT_EQ(error_of(verify(forge(R"({"alg":"HS256","alg":"none"})", claims, kKey))),
            JwtError::malformed);
  // Any other header, correctly MAC'd, is fine: typ is not required.
  EXPECT_TRUE(verify(forge(R"({"alg":"HS256"})", claims, kKey)).has_value());
}

TEST(Jwt, RefusesTruncatedTokensAndExtraSegments) {
  const auto token = sign_jwt_hs256(claims_expiring(kNow + 60), kKey);
  const auto header_and_claims = token.substr(0, token.rfind('.'));
  EXPECT_EQ(error_of(verify(header_and_claims)), JwtError::malformed);
  EXPECT_EQ(error_of(verify(header_and_claims + ".")), JwtError::bad_signature);
  // A shortened MAC: malformed or a mismatch, depending on its last character's bits.
  EXPECT_FALSE(verify(token.substr(0, token.size() - 4)).has_value());
  EXPECT_FALSE(verify(token.substr(0, token.size() - 1)).has_value());
  EXPECT_EQ(error_of(verify(token.substr(0, token.size() / 2))), JwtError::malformed);
  EXPECT_EQ(error_of(verify(segment(token, 0))), JwtError::malformed);
  EXPECT_EQ(error_of(verify(token + ".")), JwtError::malformed);
  EXPECT_EQ(error_of(verify(token + "." + segment(token, 2))), JwtError::malformed);
  EXPECT_EQ(error_of(verify("." + segment(token, 1) + "." + segment(token, 2))),
            JwtError::malformed);
  EXPECT_EQ(error_of(verify(segment(token, 0) + ".." + segment(token, 2))), JwtError::malformed);
  EXPECT_EQ(error_of(verify("")), JwtError::malformed);
  EXPECT_EQ(error_of(verify("..")), JwtError::malformed);
}

TEST(Jwt, RefusesAnythingButCanonicalUnpaddedBase64Url) {
  const auto token = sign_jwt_hs256(claims_expiring(kNow + 60), kKey);
  const auto h = segment(token, 0);
  const auto c = segment(token, 1);
  const auto s = segment(token, 2);
  EXPECT_EQ(error_of(verify(h + "." + c + "." + s + "=")), JwtError::malformed);
  EXPECT_EQ(error_of(verify(h + "=." + c + "." + s)), JwtError::malformed);
  EXPECT_EQ(error_of(verify(h + "." + c + " ." + s)), JwtError::malformed);
  EXPECT_EQ(error_of(verify(" " + token)), JwtError::malformed);
  // The standard alphabet's '+' and '/' in place of '-' and '_'.
  auto standard = s;
  standard[0] = '+';
  EXPECT_EQ(error_of(verify(h + "." + c + "." + standard)), JwtError::malformed);
  standard[0] = '/';
  EXPECT_EQ(error_of(verify(h + "." + c + "." + standard)), JwtError::malformed);
  // 32 bytes leave 2 unused bits in the last character, which must be zero: otherwise the
  // same MAC would have a second spelling.
  auto non_canonical = s;
  non_canonical.back() = static_cast<char>(non_canonical.back() + 1);
  EXPECT_EQ(error_of(verify(h + "." + c + "." + non_canonical)), JwtError::malformed);
  // A header or claims segment that is base64url but not a JSON object.
  EXPECT_EQ(error_of(verify(forge("not json", json::serialize(claims_expiring(kNow + 60)), kKey))),
            JwtError::malformed);
  EXPECT_EQ(error_of(verify(forge(R"(["alg","HS256"])", "{}", kKey))), JwtError::malformed);
  EXPECT_EQ(error_of(verify(forge(R"({"alg":"HS256"})", "[1,2]", kKey))), JwtError::malformed);
  EXPECT_EQ(error_of(verify(forge(R"({"alg":"HS256"})", "{\"exp\":", kKey))), JwtError::malformed);
}

TEST(Jwt, RefusesOversizedTokensAndDeepJson) {
  const auto token = sign_jwt_hs256(claims_expiring(kNow + 60), kKey);
  EXPECT_EQ(error_of(verify(token + std::string(max_jwt_length, 'A'))), JwtError::malformed);
  std::string deep = R"({"exp":)" + std::to_string(kNow + 60) + R"(,"x":)";
  for (std::size_t i = 0; i < max_jwt_json_depth; ++i) {
    deep += "[";
  }
  deep += std::string(max_jwt_json_depth, ']') + "}";
  EXPECT_EQ(error_of(verify(forge(R"({"alg":"HS256"})", deep, kKey))), JwtError::malformed);
  std::string big(max_jwt_length, 'x');
  EXPECT_THROW((void)sign_jwt_hs256(json::object({{"exp", json::Value(kNow)}, {"pad", big}}), kKey),
               std::invalid_argument);
}

TEST(Jwt, ExpiresAtExpMinusLeeway) {
  EXPECT_TRUE(verify(sign_jwt_hs256(claims_expiring(kNow + 1), kKey)).has_value());
  EXPECT_EQ(error_of(verify(sign_jwt_hs256(claims_expiring(kNow), kKey))), JwtError::expired);
  EXPECT_EQ(error_of(verify(sign_jwt_hs256(claims_expiring(kNow - 3600), kKey))),
            JwtError::expired);
  // Milliseconds count: a token for exp = kNow + 1 is expired at kNow + 1.000 s, not before.
  const auto token = sign_jwt_hs256(claims_expiring(kNow + 1), kKey);
  EXPECT_TRUE(verify_jwt_hs256(token, kKey, at_unix(kNow + 1) - 1ms).has_value());
  EXPECT_EQ(error_of(verify_jwt_hs256(token, kKey, at_unix(kNow + 1))), JwtError::expired);
  // Leeway: exp 30 s ago is accepted with 31 s of leeway, not with 30.
  const auto past = sign_jwt_hs256(claims_expiring(kNow - 30), kKey);
  EXPECT_TRUE(verify(past, kKey, kNow, 31s).has_value());
  EXPECT_EQ(error_of(verify(past, kKey, kNow, 30s)), JwtError::expired);
  EXPECT_EQ(error_of(verify(past, kKey, kNow, -60s)), JwtError::expired);
}

TEST(Jwt, NotYetValidWhenNbfOrIatIsInTheFuture) {
  const auto with = [](std::string_view name, std::int64_t at) {
    return sign_jwt_hs256(json::object({{name, json::Value(at)}, {"exp", json::Value(kNow + 600)}}),
                          kKey);
  };
  EXPECT_TRUE(verify(with("nbf", kNow)).has_value());
  EXPECT_TRUE(verify(with("iat", kNow)).has_value());
  EXPECT_EQ(error_of(verify(with("nbf", kNow + 1))), JwtError::not_yet_valid);
  EXPECT_EQ(error_of(verify(with("iat", kNow + 1))), JwtError::not_yet_valid);
  EXPECT_TRUE(verify(with("nbf", kNow + 10), kKey, kNow, 10s).has_value());
  EXPECT_EQ(error_of(verify(with("iat", kNow + 11), kKey, kNow, 10s)), JwtError::not_yet_valid);
}

TEST(Jwt, NeedsAnExpOfWholeSeconds) {
  const auto claims_with = [](std::string_view exp_json) {
    return forge(R"({"alg":"HS256"})", R"({"sub":"mch_1","exp":)" + std::string(exp_json) + "}",
                 kKey);
  };
  EXPECT_EQ(error_of(verify(forge(R"({"alg":"HS256"})", R"({"sub":"mch_1"})", kKey))),
            JwtError::missing_exp);
  EXPECT_TRUE(verify(claims_with(std::to_string(kNow + 60))).has_value());
  for (const std::string_view bad : {R"("1714000060")", "1714000060.5", "1.71400006e9", "-1",
                                     "null", "true", "{}", "99999999999999999999"}) {
    EXPECT_EQ(error_of(verify(claims_with(bad))), JwtError::malformed) << bad;
  }
  EXPECT_EQ(
      error_of(verify(forge(R"({"alg":"HS256"})", R"({"exp":1714000060,"nbf":"soon"})", kKey))),
      JwtError::malformed);
}

TEST(Jwt, RefusesToSignWhatCannotBeVerified) {
  EXPECT_THROW((void)sign_jwt_hs256(json::Value(json::Array{}), kKey), std::invalid_argument);
  EXPECT_THROW((void)sign_jwt_hs256(claims_expiring(kNow), ""), std::invalid_argument);
  EXPECT_THROW((void)verify_jwt_hs256("a.b.c", "", at_unix(kNow)), std::invalid_argument);
  EXPECT_EQ(to_string(JwtError::wrong_algorithm), "wrong_algorithm");
  EXPECT_EQ(to_string(JwtError::not_yet_valid), "not_yet_valid");
}

}  // namespace
}  // namespace tillgate::crypto
