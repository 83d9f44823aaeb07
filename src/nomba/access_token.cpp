#include "nomba/access_token.hpp"

#include "crypto/crypto.hpp"
#include "json/json.hpp"

namespace tillgate::nomba {
namespace {

std::int64_t epoch_seconds(domain::Timestamp at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

domain::Timestamp from_epoch_seconds(std::int64_t seconds) {
  return domain::Timestamp(std::chrono::seconds(seconds));
}

domain::Timestamp whole_seconds(domain::Timestamp at) {
  return from_epoch_seconds(epoch_seconds(at));
}

}  // namespace

AccessTokenClaims new_access_token_claims(std::string merchant_id, std::string api_key,
                                          domain::Timestamp now, std::chrono::seconds lifetime) {
  const auto issued_at = whole_seconds(now);
  return AccessTokenClaims{std::move(merchant_id), std::move(api_key), issued_at,
                           issued_at + lifetime,
                           crypto::base64url_encode(crypto::random_bytes(16))};
}

std::string sign_access_token(const AccessTokenClaims& claims, std::string_view key) {
  const auto body = json::object({{"iss", json::Value(access_token_issuer)},
                                  {"sub", json::Value(claims.merchant_id)},
                                  {"key", json::Value(claims.api_key)},
                                  {"iat", json::Value(epoch_seconds(claims.issued_at))},
                                  {"exp", json::Value(epoch_seconds(claims.expires_at))},
                                  {"jti", json::Value(claims.token_id)}});
  return crypto::sign_jwt_hs256(body, key);
}

boost::system::result<AccessTokenClaims, crypto::JwtError> read_access_token(
    std::string_view token, std::string_view key, domain::Timestamp now) {
  auto verified = crypto::verify_jwt_hs256(token, key, now, access_token_leeway);
  if (!verified) {
    return verified.error();
  }
  const json::Value& claims = *verified;
  const auto issuer = claims.find_string("iss");
  const auto subject = claims.find_string("sub");
  const auto api_key = claims.find_string("key");
  const auto token_id = claims.find_string("jti");
  const auto* issued = claims.find("iat");
  const auto* expires = claims.find("exp");
  if (!issuer || *issuer != access_token_issuer || !subject || subject->empty() || !api_key ||
      api_key->empty() || issued == nullptr || expires == nullptr) {
    return crypto::JwtError::malformed;
  }
  const auto issued_s = issued->is_number() ? issued->as_number().as_int64() : std::nullopt;
  const auto expires_s = expires->is_number() ? expires->as_number().as_int64() : std::nullopt;
  if (!issued_s || !expires_s) {
    return crypto::JwtError::malformed;
  }
  return AccessTokenClaims{std::string(*subject), std::string(*api_key),
                           from_epoch_seconds(*issued_s), from_epoch_seconds(*expires_s),
                           std::string(token_id.value_or(""))};
}

std::string new_refresh_token() {
  return "rt_" + crypto::base64url_encode(crypto::random_bytes(32));
}

std::string refresh_token_hash(std::string_view token) {
  return crypto::sha256_hex(token);
}

std::string new_signing_key() {
  return crypto::base64url_encode(crypto::random_bytes(32));
}

}  // namespace tillgate::nomba
