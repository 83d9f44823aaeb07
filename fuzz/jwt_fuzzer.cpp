// crypto::verify_jwt_hs256 and nomba::read_access_token: the Nomba API's Bearer tokens
// (nomba-compat.md, "Authentication"). Input: one mode byte, then
//   mode even: a token as sent, verified as is (a fuzzer cannot forge the MAC, so this
//     explores every refusal before and at the signature, and base64url);
//   mode odd: "header JSON\nclaims JSON", which the target encodes and signs with the right
//     key, so verification gets past the MAC into the header and claims checks.
// The mode byte also picks the leeway (0 s, 2 s, 300 s, or 2 days, clamped to 1 day).
// "Now" is 2024-01-15T10:30:00Z. Properties beyond "no crash, no sanitizer report":
//  - base64url is canonical: whatever decodes re-encodes to the same text;
//  - an accepted token has a header that is a JSON object with alg exactly "HS256" and no
//    crit, the MAC computed here separately, and claims with a whole non-negative exp later
//    than now - leeway and no nbf/iat later than now + leeway; the claims returned are the
//    token's claims;
//  - for signed header/claims, each refusal is the one the rules give, in their order
//    (malformed header, wrong algorithm, crit, claims, missing exp, expired, not yet valid);
//  - changing any one character of an accepted token makes it refused;
//  - sign_jwt_hs256 of accepted claims verifies back to the same claims;
//  - read_access_token accepts only what verify accepts and whose claims are ours: iss
//    "tillgate", non-empty sub and key, integer iat and exp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "crypto/crypto.hpp"
#include "crypto/jwt.hpp"
#include "fuzz_support.hpp"
#include "json/json.hpp"
#include "nomba/access_token.hpp"

namespace {

using namespace tillgate;
using crypto::JwtError;

constexpr std::string_view kKey = "fuzz-signing-key";
constexpr std::array<std::chrono::seconds, 4> kLeeways{
    std::chrono::seconds(0), std::chrono::seconds(2), std::chrono::seconds(300),
    std::chrono::seconds(2 * 86400)};

std::optional<json::Value> json_object(std::string_view text) {
  auto value = json::parse(text, json::ParseLimits{crypto::max_jwt_json_depth});
  if (!value || !value->is_object()) {
    return std::nullopt;
  }
  return std::move(*value);
}

std::optional<std::int64_t> whole_seconds(const json::Value* value) {
  if (value == nullptr || !value->is_number()) {
    return std::nullopt;
  }
  const auto seconds = value->as_number().as_int64();
  if (!seconds || *seconds < 0 || *seconds > 253402300799) {
    return std::nullopt;
  }
  return seconds;
}

void check_base64url(std::string_view segment) {
  if (const auto decoded = crypto::base64url_decode(segment)) {
    FUZZ_CHECK(crypto::base64url_encode(*decoded) == segment);
  }
}

// What any accepted token must be, checked from its text alone.
void check_accepted(std::string_view token, const json::Value& claims,
                    std::chrono::seconds leeway) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  FUZZ_CHECK(first != std::string_view::npos && second != std::string_view::npos);
  FUZZ_CHECK(token.find('.', second + 1) == std::string_view::npos);
  const auto header_text = crypto::base64url_decode(token.substr(0, first));
  FUZZ_CHECK(header_text.has_value());
  const auto header = json_object(*header_text);
  FUZZ_CHECK(header && header->find_string("alg") == "HS256" && header->find("crit") == nullptr);
  const auto mac = crypto::base64url_decode(token.substr(second + 1));
  FUZZ_CHECK(mac && *mac == crypto::hmac_sha256(kKey, token.substr(0, second)));
  const auto claims_text = crypto::base64url_decode(token.substr(first + 1, second - first - 1));
  FUZZ_CHECK(claims_text && json_object(*claims_text) == claims);

  const auto clamped = std::min(leeway, std::chrono::seconds(86400));
  const auto now = fuzz::fixed_now();
  const auto exp = whole_seconds(claims.find("exp"));
  FUZZ_CHECK(exp && domain::Timestamp(std::chrono::seconds(*exp)) > now - clamped);
  for (const auto* name : {"nbf", "iat"}) {
    if (const auto* value = claims.find(name)) {
      const auto start = whole_seconds(value);
      FUZZ_CHECK(start && domain::Timestamp(std::chrono::seconds(*start)) <= now + clamped);
    }
  }
}

// The refusal the rules give for a correctly signed header and claims, or nullopt.
std::optional<JwtError> expected_error(std::string_view header_text, std::string_view claims_text,
                                       std::chrono::seconds leeway) {
  const auto header = json_object(header_text);
  if (!header || header->find("alg") == nullptr) {
    return JwtError::malformed;
  }
  if (header->find_string("alg") != "HS256") {
    return JwtError::wrong_algorithm;
  }
  if (header->find("crit") != nullptr) {
    return JwtError::malformed;
  }
  const auto claims = json_object(claims_text);
  if (!claims) {
    return JwtError::malformed;
  }
  if (claims->find("exp") == nullptr) {
    return JwtError::missing_exp;
  }
  const auto exp = whole_seconds(claims->find("exp"));
  if (!exp) {
    return JwtError::malformed;
  }
  std::optional<std::int64_t> start;
  for (const auto* name : {"nbf", "iat"}) {
    if (const auto* value = claims->find(name)) {
      const auto seconds = whole_seconds(value);
      if (!seconds) {
        return JwtError::malformed;
      }
      start = std::max(start.value_or(0), *seconds);
    }
  }
  const auto clamped = std::min(leeway, std::chrono::seconds(86400));
  const auto now = fuzz::fixed_now();
  if (domain::Timestamp(std::chrono::seconds(*exp)) <= now - clamped) {
    return JwtError::expired;
  }
  if (start && domain::Timestamp(std::chrono::seconds(*start)) > now + clamped) {
    return JwtError::not_yet_valid;
  }
  return std::nullopt;
}

void check_access_token(std::string_view token) {
  const auto now = fuzz::fixed_now();
  const auto read = nomba::read_access_token(token, kKey, now);
  const auto verified = crypto::verify_jwt_hs256(token, kKey, now, nomba::access_token_leeway);
  if (!verified) {
    FUZZ_CHECK(!read && read.error() == verified.error());
    return;
  }
  if (!read) {
    FUZZ_CHECK(read.error() == JwtError::malformed);
    return;
  }
  const auto& claims = *verified;
  FUZZ_CHECK(claims.find_string("iss") == nomba::access_token_issuer);
  FUZZ_CHECK(claims.find_string("sub") == read->merchant_id && !read->merchant_id.empty());
  FUZZ_CHECK(claims.find_string("key") == read->api_key && !read->api_key.empty());
  const auto* exp = claims.find("exp");
  FUZZ_CHECK(exp->as_number().as_int64() ==
             std::chrono::duration_cast<std::chrono::seconds>(read->expires_at.time_since_epoch())
                 .count());
}

void check_tampering(const std::string& token, std::size_t seed) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=";
  for (std::size_t i = 0; i < 4; ++i) {
    std::string tampered = token;
    const std::size_t at = (seed * 31 + i * 7919) % tampered.size();
    const char replacement = kAlphabet[(seed + i) % kAlphabet.size()];
    if (tampered[at] == replacement) {
      continue;
    }
    tampered[at] = replacement;
    FUZZ_CHECK(
        !crypto::verify_jwt_hs256(tampered, kKey, fuzz::fixed_now(), std::chrono::seconds(86400)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const unsigned mode = data[0];
  const auto leeway = kLeeways[(mode >> 1) % kLeeways.size()];
  const auto rest = fuzz::as_text(data + 1, size - 1);
  const auto now = fuzz::fixed_now();

  std::string token;
  std::optional<JwtError> expected;
  bool know_expected = false;
  if (mode % 2 == 0) {
    token = std::string(rest);
    std::string_view segments = rest;
    for (;;) {
      const auto dot = segments.find('.');
      check_base64url(segments.substr(0, dot));
      if (dot == std::string_view::npos) {
        break;
      }
      segments.remove_prefix(dot + 1);
    }
  } else {
    const auto fields = fuzz::split_fields(rest, 2);
    token = crypto::base64url_encode(fields[0]) + "." + crypto::base64url_encode(fields[1]);
    token += "." + crypto::base64url_encode(crypto::hmac_sha256(kKey, token));
    if (!fields[0].empty() && !fields[1].empty() && token.size() <= crypto::max_jwt_length) {
      expected = expected_error(fields[0], fields[1], leeway);
      know_expected = true;
    }
  }

  const auto verified = crypto::verify_jwt_hs256(token, kKey, now, leeway);
  if (know_expected) {
    FUZZ_CHECK(verified.has_value() == !expected.has_value());
    if (!verified) {
      FUZZ_CHECK(verified.error() == *expected);
    }
  }
  check_access_token(token);
  if (!verified) {
    FUZZ_CHECK(!crypto::to_string(verified.error()).empty());
    return 0;
  }
  check_accepted(token, *verified, leeway);
  check_tampering(token, size);

  try {
    const std::string resigned = crypto::sign_jwt_hs256(*verified, kKey);
    const auto again = crypto::verify_jwt_hs256(resigned, kKey, now, leeway);
    FUZZ_CHECK(again.has_value() && *again == *verified);
  } catch (const std::invalid_argument&) {
    // Longer than max_jwt_length with the standard header: refused to be made.
  }
  return 0;
}
