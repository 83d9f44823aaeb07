#include "crypto/jwt.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "crypto/crypto.hpp"

namespace tillgate::crypto {
namespace {

constexpr std::string_view kAlgorithm = "HS256";
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::size_t kMacBytes = 32;
// 9999-12-31T23:59:59Z: any later NumericDate is nonsense, and the bound keeps the
// conversion to milliseconds far from overflow.
constexpr std::int64_t kMaxNumericDate = 253402300799;
constexpr std::chrono::seconds kMaxLeeway = std::chrono::hours(24);

// A whole, non-negative number of seconds; nullopt for any other JSON value.
std::optional<std::int64_t> numeric_date(const json::Value& value) {
  if (!value.is_number()) {
    return std::nullopt;
  }
  const auto seconds = value.as_number().as_int64();
  if (!seconds || *seconds < 0 || *seconds > kMaxNumericDate) {
    return std::nullopt;
  }
  return seconds;
}

std::optional<json::Value> decode_json_object(std::string_view segment) {
  const auto text = base64url_decode(segment);
  if (!text) {
    return std::nullopt;
  }
  auto value = json::parse(*text, json::ParseLimits{max_jwt_json_depth});
  if (!value || !value->is_object()) {
    return std::nullopt;
  }
  return std::move(*value);
}

// The three segments of a compact JWS, and the part the MAC covers ("header.claims").
struct JwtSegments {
  std::string_view header;
  std::string_view claims;
  std::string_view signature;
  std::string_view signed_part;
};

// Exactly three segments, header and claims not empty (a JWE's five, or a fourth, is
// refused); nullopt for anything else.
std::optional<JwtSegments> split_token(std::string_view token) {
  if (token.empty() || token.size() > max_jwt_length) {
    return std::nullopt;
  }
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  JwtSegments segments{token.substr(0, first), token.substr(first + 1, second - first - 1),
                       token.substr(second + 1), token.substr(0, second)};
  if (segments.header.empty() || segments.claims.empty()) {
    return std::nullopt;
  }
  return segments;
}

// The header names HS256 and no critical extension.
std::optional<JwtError> check_header(std::string_view segment) {
  const auto header = decode_json_object(segment);
  if (!header) {
    return JwtError::malformed;
  }
  const auto* alg = header->find("alg");
  if (alg == nullptr) {
    return JwtError::malformed;
  }
  if (!alg->is_string() || alg->as_string() != kAlgorithm) {
    return JwtError::wrong_algorithm;
  }
  // Critical extensions must be understood by the recipient (RFC 7515 section 4.1.11);
  // this one understands none (so, e.g., an unencoded "b64":false payload is refused).
  if (header->find("crit") != nullptr) {
    return JwtError::malformed;
  }
  return std::nullopt;
}

// The MAC over header.claims matches, compared in constant time.
std::optional<JwtError> check_signature(const JwtSegments& segments, std::string_view key) {
  // The claims segment must at least be base64url before the MAC is worth computing.
  const auto signature = base64url_decode(segments.signature);
  if (!signature || !base64url_decode(segments.claims)) {
    return JwtError::malformed;
  }
  const auto expected = hmac_sha256(key, segments.signed_part);
  if (signature->size() != kMacBytes || !constant_time_equal(*signature, expected)) {
    return JwtError::bad_signature;
  }
  return std::nullopt;
}

// exp is required and must be after now - leeway; nbf and iat, when present, must not be
// after now + leeway.
std::optional<JwtError> check_time_claims(const json::Value& claims, JwtTime now,
                                          std::chrono::seconds leeway) {
  const auto now_ms = now.time_since_epoch().count();
  // Clamped to [0, 1 day]: no sane skew is larger, and the arithmetic stays in range.
  const auto leeway_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::clamp(leeway, std::chrono::seconds(0), kMaxLeeway))
                             .count();
  const auto* exp_value = claims.find("exp");
  if (exp_value == nullptr) {
    return JwtError::missing_exp;
  }
  const auto exp = numeric_date(*exp_value);
  if (!exp) {
    return JwtError::malformed;
  }
  const std::array<std::string_view, 2> not_before_claims{"nbf", "iat"};
  std::optional<std::int64_t> latest_start;
  for (const auto name : not_before_claims) {
    if (const auto* value = claims.find(name)) {
      const auto seconds = numeric_date(*value);
      if (!seconds) {
        return JwtError::malformed;
      }
      latest_start = std::max(latest_start.value_or(0), *seconds);
    }
  }
  if (*exp * 1000 <= now_ms - leeway_ms) {
    return JwtError::expired;
  }
  if (latest_start && *latest_start * 1000 > now_ms + leeway_ms) {
    return JwtError::not_yet_valid;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(JwtError error) {
  switch (error) {
    case JwtError::malformed:
      return "malformed";
    case JwtError::wrong_algorithm:
      return "wrong_algorithm";
    case JwtError::bad_signature:
      return "bad_signature";
    case JwtError::missing_exp:
      return "missing_exp";
    case JwtError::expired:
      return "expired";
    case JwtError::not_yet_valid:
      return "not_yet_valid";
  }
  return "unknown";
}

void throw_exception_from_error(JwtError error, const boost::source_location&) {
  throw std::invalid_argument("JWT refused: " + std::string(to_string(error)));
}

std::string sign_jwt_hs256(const json::Value& claims, std::string_view key) {
  if (!claims.is_object()) {
    throw std::invalid_argument("JWT claims must be a JSON object");
  }
  if (key.empty()) {
    throw std::invalid_argument("JWT signing key must not be empty");
  }
  std::string token = base64url_encode(kHeader) + "." + base64url_encode(json::serialize(claims));
  token += "." + base64url_encode(hmac_sha256(key, token));
  if (token.size() > max_jwt_length) {
    throw std::invalid_argument("JWT would be longer than " + std::to_string(max_jwt_length) +
                                " characters");
  }
  return token;
}

boost::system::result<json::Value, JwtError> verify_jwt_hs256(std::string_view token,
                                                              std::string_view key, JwtTime now,
                                                              std::chrono::seconds leeway) {
  if (key.empty()) {
    throw std::invalid_argument("JWT verification key must not be empty");
  }
  const auto segments = split_token(token);
  if (!segments) {
    return JwtError::malformed;
  }
  // In this order: nothing of the claims is parsed before the signature matched.
  if (const auto problem = check_header(segments->header)) {
    return *problem;
  }
  if (const auto problem = check_signature(*segments, key)) {
    return *problem;
  }
  auto claims = decode_json_object(segments->claims);
  if (!claims) {
    return JwtError::malformed;
  }
  if (const auto problem = check_time_claims(*claims, now, leeway)) {
    return *problem;
  }
  return std::move(*claims);
}

}  // namespace tillgate::crypto
