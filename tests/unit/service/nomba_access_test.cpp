// The Nomba edge's credentials (nomba/access_token.hpp) and push body (nomba/nomba_request.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "crypto/crypto.hpp"
#include "nomba/access_token.hpp"
#include "nomba/nomba_request.hpp"

namespace tillgate::nomba {
namespace {

using std::chrono::seconds;

const std::string kKey = "server-signing-key-for-tests-0123456789";

domain::Timestamp at_iso(std::string_view text) {
  return *domain::parse_iso8601(text);
}

const domain::Timestamp kNow = at_iso("2024-01-15T10:30:00.750Z");

bool has_field(const std::vector<views::FieldProblem>& problems, std::string_view field) {
  return std::any_of(problems.begin(), problems.end(),
                     [field](const views::FieldProblem& p) { return p.field == field; });
}

// ---- access tokens ---------------------------------------------------------------------

TEST(NombaAccessToken, ReadsBackWhatItSigned) {
  const auto claims = new_access_token_claims("mch_1", "key_1", kNow, seconds(1800));
  EXPECT_EQ(claims.issued_at, at_iso("2024-01-15T10:30:00.000Z"));  // whole seconds
  EXPECT_EQ(claims.expires_at, at_iso("2024-01-15T11:00:00.000Z"));
  const auto token = sign_access_token(claims, kKey);
  const auto read = read_access_token(token, kKey, kNow);
  ASSERT_TRUE(read) << crypto::to_string(read.error());
  EXPECT_EQ(read->merchant_id, "mch_1");
  EXPECT_EQ(read->api_key, "key_1");
  EXPECT_EQ(read->issued_at, claims.issued_at);
  EXPECT_EQ(read->expires_at, claims.expires_at);
  EXPECT_EQ(read->token_id, claims.token_id);
}

TEST(NombaAccessToken, EveryTokenIsDifferent) {
  std::set<std::string> tokens;
  for (int i = 0; i < 50; ++i) {
    tokens.insert(
        sign_access_token(new_access_token_claims("mch_1", "key_1", kNow, seconds(60)), kKey));
  }
  EXPECT_EQ(tokens.size(), 50U);
}

TEST(NombaAccessToken, ExpiresAfterItsLifeAndTheLeeway) {
  const auto token =
      sign_access_token(new_access_token_claims("mch_1", "key_1", kNow, seconds(60)), kKey);
  const auto issued = at_iso("2024-01-15T10:30:00.000Z");
  EXPECT_TRUE(read_access_token(token, kKey, issued + seconds(59)));
  EXPECT_TRUE(read_access_token(
      token, kKey, issued + seconds(60) + access_token_leeway - std::chrono::milliseconds(1)));
  const auto late = read_access_token(token, kKey, issued + seconds(60) + access_token_leeway);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), crypto::JwtError::expired);
}

TEST(NombaAccessToken, NotValidBeforeItWasIssued) {
  const auto token =
      sign_access_token(new_access_token_claims("mch_1", "key_1", kNow, seconds(60)), kKey);
  const auto early = read_access_token(token, kKey, kNow - seconds(10));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error(), crypto::JwtError::not_yet_valid);
}

TEST(NombaAccessToken, AnotherKeyOrAnAlteredClaimFailsTheSignature) {
  const auto token =
      sign_access_token(new_access_token_claims("mch_1", "key_1", kNow, seconds(60)), kKey);
  const auto wrong_key = read_access_token(token, "another-key", kNow);
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error(), crypto::JwtError::bad_signature);

  // Swap the claims for another merchant's, keeping the signature.
  const auto first_dot = token.find('.');
  const auto second_dot = token.find('.', first_dot + 1);
  auto claims_json =
      *crypto::base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  claims_json.replace(claims_json.find("mch_1"), 5, "mch_2");
  const auto forged = token.substr(0, first_dot + 1) + crypto::base64url_encode(claims_json) +
                      token.substr(second_dot);
  const auto read = read_access_token(forged, kKey, kNow);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error(), crypto::JwtError::bad_signature);
}

TEST(NombaAccessToken, AnUnsignedTokenIsRefusedForItsAlgorithm) {
  const auto header = crypto::base64url_encode(R"({"alg":"none","typ":"JWT"})");
  const auto claims = crypto::base64url_encode(
      R"({"iss":"tillgate","sub":"mch_1","key":"key_1","iat":1705314600,"exp":1805314600})");
  const auto read = read_access_token(header + "." + claims + ".", kKey, kNow);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error(), crypto::JwtError::wrong_algorithm);
}

TEST(NombaAccessToken, AJwtWithOurKeyButNotOurClaimsIsMalformed) {
  const auto exp = json::Value(std::int64_t{1805314600});
  const auto iat = json::Value(std::int64_t{1705314600});
  const std::vector<json::Value> foreign{
      json::object(
          {{"iss", "someone-else"}, {"sub", "mch_1"}, {"key", "k"}, {"iat", iat}, {"exp", exp}}),
      json::object({{"iss", "tillgate"}, {"key", "k"}, {"iat", iat}, {"exp", exp}}),
      json::object({{"iss", "tillgate"}, {"sub", "mch_1"}, {"iat", iat}, {"exp", exp}}),
      json::object({{"iss", "tillgate"}, {"sub", ""}, {"key", "k"}, {"iat", iat}, {"exp", exp}}),
      json::object({{"iss", "tillgate"}, {"sub", "mch_1"}, {"key", "k"}, {"exp", exp}}),
  };
  for (const auto& claims : foreign) {
    const auto read = read_access_token(crypto::sign_jwt_hs256(claims, kKey), kKey, kNow);
    ASSERT_FALSE(read) << json::serialize(claims);
    EXPECT_EQ(read.error(), crypto::JwtError::malformed) << json::serialize(claims);
  }
}

TEST(NombaAccessToken, GarbageIsMalformed) {
  for (const std::string_view token : {"", "abc", "a.b.c", "....", "Bearer x"}) {
    const auto read = read_access_token(token, kKey, kNow);
    ASSERT_FALSE(read) << token;
  }
}

// ---- refresh tokens and keys -------------------------------------------------------------

TEST(NombaRefreshToken, IsLongRandomAndStoredOnlyAsItsHash) {
  std::set<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    const auto token = new_refresh_token();
    ASSERT_EQ(token.size(), 46U) << token;
    ASSERT_TRUE(token.starts_with("rt_"));
    ASSERT_TRUE(crypto::base64url_decode(token.substr(3)).has_value());
    tokens.insert(token);
  }
  EXPECT_EQ(tokens.size(), 100U);
  const auto token = *tokens.begin();
  EXPECT_EQ(refresh_token_hash(token), crypto::sha256_hex(token));
  EXPECT_EQ(refresh_token_hash(token).size(), 64U);
  EXPECT_EQ(token.find(refresh_token_hash(token)), std::string::npos);
}

TEST(NombaSigningKey, Is256RandomBits) {
  const auto a = new_signing_key();
  const auto b = new_signing_key();
  EXPECT_NE(a, b);
  EXPECT_EQ(crypto::base64url_decode(a)->size(), 32U);
}

// ---- the push body ---------------------------------------------------------------------

TEST(NombaPushRequest, TheGuidesBodyIsAThousandNaira) {
  const auto request = parse_nomba_payment_request(
      R"({"merchantTxRef":"55555555","amount":1000,"currency":"NGN"})", NombaAmountUnit::major, 32);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->transaction_id, "55555555");
  EXPECT_EQ(request->amount.minor_units(), 100000);
  EXPECT_EQ(request->amount.currency().code, "NGN");
  EXPECT_EQ(request->payment_method, domain::PaymentMethod::card);
  EXPECT_TRUE(request->webhook_mode);               // answered at once
  EXPECT_FALSE(request->require_webhook_endpoint);  // the lookup serves too
  EXPECT_TRUE(request->products.empty());
  EXPECT_TRUE(request->customer_info.is_null());
}

TEST(NombaPushRequest, MinorUnitsReadTheSameNumberAsKobo) {
  const auto request = parse_nomba_payment_request(
      R"({"merchantTxRef":"r1","amount":1000,"currency":"NGN"})", NombaAmountUnit::minor, 32);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->amount.minor_units(), 1000);
  const auto fraction = parse_nomba_payment_request(
      R"({"merchantTxRef":"r1","amount":1000.5,"currency":"NGN"})", NombaAmountUnit::minor, 32);
  ASSERT_FALSE(fraction);
  EXPECT_TRUE(has_field(fraction.error(), "amount"));
}

TEST(NombaPushRequest, OtherMembersAreIgnored) {
  const auto request = parse_nomba_payment_request(
      R"({"merchantTxRef":"r1","amount":12.5,"currency":"NGN","orderId":"o-9","note":{"a":1}})",
      NombaAmountUnit::major, 32);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->amount.minor_units(), 1250);
}

TEST(NombaPushRequest, EveryProblemIsNamed) {
  const auto empty = parse_nomba_payment_request("{}", NombaAmountUnit::major, 32);
  ASSERT_FALSE(empty);
  EXPECT_TRUE(has_field(empty.error(), "merchantTxRef"));
  EXPECT_TRUE(has_field(empty.error(), "amount"));
  EXPECT_TRUE(has_field(empty.error(), "currency"));
  EXPECT_EQ(empty.error().size(), 3U);

  const auto wrong = parse_nomba_payment_request(
      R"({"merchantTxRef":"has space","amount":"ten","currency":"naira"})", NombaAmountUnit::major,
      32);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().size(), 3U);

  for (const std::string_view body : {R"({"merchantTxRef":12,"amount":1,"currency":"NGN"})",
                                      R"({"merchantTxRef":"","amount":1,"currency":"NGN"})",
                                      R"({"merchantTxRef":"r1","amount":0,"currency":"NGN"})",
                                      R"({"merchantTxRef":"r1","amount":-5,"currency":"NGN"})",
                                      R"({"merchantTxRef":"r1","amount":1e3,"currency":"NGN"})",
                                      R"({"merchantTxRef":"r1","amount":10.001,"currency":"NGN"})",
                                      R"({"merchantTxRef":"r1","amount":null,"currency":"NGN"})",
                                      R"({"merchantTxRef":"r1","amount":true,"currency":"NGN"})",
                                      R"({"merchantTxRef":"r1","amount":1,"currency":"ngn"})",
                                      R"({"merchantTxRef":"r1","amount":1,"currency":1})"}) {
    const auto parsed = parse_nomba_payment_request(body, NombaAmountUnit::major, 32);
    ASSERT_FALSE(parsed) << body;
    EXPECT_EQ(parsed.error().size(), 1U) << body;
  }
  // merchantTxRef follows transactionId's rules: 1 to 128 printable ASCII characters.
  const auto long_ref = parse_nomba_payment_request(
      R"({"merchantTxRef":")" + std::string(129, 'a') + R"(","amount":1,"currency":"NGN"})",
      NombaAmountUnit::major, 32);
  ASSERT_FALSE(long_ref);
  EXPECT_TRUE(has_field(long_ref.error(), "merchantTxRef"));
}

TEST(NombaPushRequest, NotAnObjectOrNotJsonOrTooDeep) {
  for (const std::string_view body : {"", "[]", "\"x\"", "{", "{\"merchantTxRef\":}"}) {
    const auto parsed = parse_nomba_payment_request(body, NombaAmountUnit::major, 32);
    ASSERT_FALSE(parsed) << body;
    EXPECT_TRUE(has_field(parsed.error(), "body")) << body;
  }
  const std::string deep = R"({"merchantTxRef":"r1","amount":1,"currency":"NGN","x":)" +
                           std::string(40, '[') + std::string(40, ']') + "}";
  const auto parsed = parse_nomba_payment_request(deep, NombaAmountUnit::major, 32);
  ASSERT_FALSE(parsed);
  EXPECT_TRUE(has_field(parsed.error(), "body"));
}

}  // namespace
}  // namespace tillgate::nomba
