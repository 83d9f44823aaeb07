#pragma once
// JSON Web Tokens signed with HS256 (RFC 7519 over RFC 7515 compact serialisation), the
// only algorithm the gateway issues or accepts: the Nomba-compatible API's access tokens
// (nomba-compat.md, "Authentication"). Pure: the caller supplies the clock and the key.
//
// Verification is strict. The header must name alg "HS256" (anything else, "none"
// included, is refused before the signature is looked at), may not carry "crit", and
// every segment must be canonical unpadded base64url. The claims are parsed only after
// the signature matched. Time claims are whole seconds since the epoch (NumericDate
// without a fraction): "exp" is required; "nbf" and "iat" are checked when present.
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "json/json.hpp"

namespace tillgate::crypto {

// Wall-clock time as the domain keeps it (domain::Timestamp is the same type); crypto sits
// below the domain and does not include it.
using JwtTime = std::chrono::sys_time<std::chrono::milliseconds>;

// Longer tokens are refused unread (and sign_jwt_hs256 refuses to make one).
inline constexpr std::size_t max_jwt_length = 4096;
// Nesting allowed in the header and claims JSON.
inline constexpr std::size_t max_jwt_json_depth = 8;

enum class JwtError {
  malformed,        // not three base64url segments of JSON objects, too long, bad claim types
  wrong_algorithm,  // header alg is not "HS256" ("none", "RS256", "hs256", ...)
  bad_signature,    // the MAC does not match (wrong key, altered header or claims)
  missing_exp,      // no "exp" claim
  expired,          // exp <= now - leeway
  not_yet_valid,    // nbf or iat later than now + leeway
};

// "malformed", "wrong_algorithm", ...: for logs, never shown with the token itself.
[[nodiscard]] std::string_view to_string(JwtError error);

// Found by ADL so result<json::Value, JwtError>::value() compiles; it throws
// std::invalid_argument. Prefer checking the result: a bad token is an expected input.
[[noreturn]] void throw_exception_from_error(JwtError error, const boost::source_location& loc);

// base64url(header) + "." + base64url(claims) + "." + base64url(HMAC-SHA256), no padding,
// with the header {"alg":"HS256","typ":"JWT"} and the claims serialised compactly in
// their member order. Throws std::invalid_argument when `claims` is not an object, `key`
// is empty, or the token would be longer than max_jwt_length.
[[nodiscard]] std::string sign_jwt_hs256(const json::Value& claims, std::string_view key);

// The claims (a JSON object) of a token signed with `key`, valid at `now` give or take
// `leeway` (clock skew, clamped to 0 .. 24 h). The signature is compared in
// constant time. Throws std::invalid_argument when `key` is empty (a configuration bug).
[[nodiscard]] boost::system::result<json::Value, JwtError> verify_jwt_hs256(
    std::string_view token, std::string_view key, JwtTime now,
    std::chrono::seconds leeway = std::chrono::seconds(0));

}  // namespace tillgate::crypto
