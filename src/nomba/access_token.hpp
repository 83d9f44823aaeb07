#pragma once
// The Nomba-compatible API's credentials (nomba-compat.md, "Authentication"): access tokens
// are HS256 JWTs signed with the server's key; refresh tokens are opaque random strings of
// which the store keeps only a hash. Pure: the caller supplies the clock and the key.
#include <boost/system/result.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "crypto/jwt.hpp"
#include "domain/time.hpp"

namespace tillgate::nomba {

// Who a token speaks for. The API key is named so that revoking it (admin API) ends every
// token issued with it: each request checks the key is still active.
struct AccessTokenClaims {
  std::string merchant_id;       // "sub"; the accountId the token is good for
  std::string api_key;           // "key"; the client_id the token was issued to
  domain::Timestamp issued_at;   // "iat", whole seconds
  domain::Timestamp expires_at;  // "exp", whole seconds
  std::string token_id;          // "jti", random: no two tokens are the same text
};

// The issuer claim every access token carries and every check requires.
inline constexpr std::string_view access_token_issuer = "tillgate";
// Clock difference tolerated between the node that issued a token and the one checking it.
inline constexpr std::chrono::seconds access_token_leeway{2};

// Claims for a token issued at `now` for `lifetime` (times truncated to whole seconds).
[[nodiscard]] AccessTokenClaims new_access_token_claims(std::string merchant_id,
                                                        std::string api_key, domain::Timestamp now,
                                                        std::chrono::seconds lifetime);

// {"iss":"tillgate","sub","key","iat","exp","jti"} signed with `key`.
[[nodiscard]] std::string sign_access_token(const AccessTokenClaims& claims, std::string_view key);

// The claims of a token this server signed with `key` and that is valid at `now`. A token
// whose signature matches but whose claims are not ours (issuer, missing sub or key) is
// `malformed`.
[[nodiscard]] boost::system::result<AccessTokenClaims, crypto::JwtError> read_access_token(
    std::string_view token, std::string_view key, domain::Timestamp now);

// "rt_" + 43 base64url characters: 256 bits from the CSPRNG.
[[nodiscard]] std::string new_refresh_token();
// What the store keeps of a refresh token: hex sha256 of the text as presented.
[[nodiscard]] std::string refresh_token_hash(std::string_view token);
// Longest refresh token text looked up at all (ours are 46 characters).
inline constexpr std::size_t max_refresh_token_length = 256;

// A fresh access-token signing key: 32 random bytes, base64url.
[[nodiscard]] std::string new_signing_key();

}  // namespace tillgate::nomba
