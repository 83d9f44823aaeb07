#include "api/merchant_auth.hpp"

#include "crypto/crypto.hpp"

namespace tillgate::api {

std::optional<AuthFailure> read_signed_headers(const AuthInput& input, domain::Timestamp now,
                                               std::chrono::seconds skew, SignedHeaders& out) {
  const auto api_key = input.header("x-api-key");
  const auto timestamp = input.header("x-timestamp");
  const auto signature = input.header("x-signature");
  if (!api_key || !timestamp || !signature || api_key->empty() || signature->empty()) {
    return AuthFailure::unauthorized;
  }
  const auto signed_at = domain::parse_iso8601(*timestamp);
  if (!signed_at || *signed_at < now - skew || *signed_at > now + skew) {
    return AuthFailure::timestamp_expired;
  }
  out = SignedHeaders{std::string(*api_key), std::string(*timestamp), std::string(*signature),
                      *signed_at};
  return std::nullopt;
}

std::string string_to_sign(std::string_view method, std::string_view target,
                           std::string_view timestamp, std::string_view body) {
  std::string text;
  text.reserve(method.size() + target.size() + timestamp.size() + 67);
  text.append(method).append("\n").append(target).append("\n").append(timestamp).append("\n");
  text.append(crypto::sha256_hex(body));
  return text;
}

bool signature_matches(const AuthInput& input, const SignedHeaders& headers,
                       std::string_view api_secret) {
  return signature_matches(
      string_to_sign(input.method, input.target, headers.timestamp, input.body), headers.signature,
      api_secret);
}

bool signature_matches(std::string_view text_to_sign, std::string_view signature,
                       std::string_view api_secret) {
  const std::string expected = crypto::base64_encode(crypto::hmac_sha256(api_secret, text_to_sign));
  return crypto::constant_time_equal(expected, signature);
}

std::string replay_digest(const SignedHeaders& headers) {
  return crypto::sha256(headers.api_key + '\n' + headers.signature);
}

domain::Timestamp replay_expiry(const SignedHeaders& headers, std::chrono::seconds skew) {
  return headers.signed_at + skew + std::chrono::seconds(1);
}

void ReplayCache::forget_expired(domain::Timestamp now) {
  while (!expiry_.empty() && expiry_.top().forget_at <= now) {
    seen_.erase(expiry_.top().digest);
    expiry_.pop();
  }
}

std::optional<AuthFailure> ReplayCache::remember(const SignedHeaders& headers,
                                                 domain::Timestamp now, std::chrono::seconds skew) {
  forget_expired(now);
  std::string digest = replay_digest(headers);
  if (seen_.contains(digest)) {
    return AuthFailure::replayed_request;
  }
  if (seen_.size() >= max_entries_) {
    return AuthFailure::replay_cache_full;
  }
  seen_.insert(digest);
  expiry_.push(Entry{replay_expiry(headers, skew), std::move(digest)});
  return std::nullopt;
}

}  // namespace tillgate::api
