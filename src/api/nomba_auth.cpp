#include "api/nomba_auth.hpp"

#include <spdlog/spdlog.h>

#include "crypto/crypto.hpp"
#include "nomba/access_token.hpp"

namespace tillgate::api {

namespace {

constexpr std::string_view kSigningKeyName = "nomba_access_token_hs256";

// "Bearer <token>" (the scheme in any case, as RFC 7235 allows), or the bare token that
// Nomba's reference text shows -> the token. Nothing else (another scheme, spaces inside).
std::optional<std::string_view> access_token_of(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  while (!authorization.empty() && authorization.back() == ' ') {
    authorization.remove_suffix(1);
  }
  bool bearer = authorization.size() > kScheme.size();
  for (std::size_t i = 0; bearer && i < kScheme.size(); ++i) {
    const char c = authorization[i];
    bearer = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == kScheme[i];
  }
  if (bearer) {
    authorization.remove_prefix(kScheme.size());
    while (!authorization.empty() && authorization.front() == ' ') {
      authorization.remove_prefix(1);
    }
  }
  if (authorization.empty() || authorization.find(' ') != std::string_view::npos) {
    return std::nullopt;
  }
  return authorization;
}

AuthOutcome refused(std::string message) {
  return AuthOutcome::refuse(views::ErrorCode::unauthorized, std::move(message));
}

}  // namespace

NombaAuthenticator::NombaAuthenticator(store::AsyncStore& store, const domain::Clock& clock)
    : store_(store), clock_(clock) {}

boost::asio::awaitable<AuthOutcome> NombaAuthenticator::authenticate(const AuthInput& input) {
  const auto token = access_token_of(input.header("authorization").value_or(""));
  if (!token) {
    return ready(
        refused("send Authorization: Bearer <access_token> from POST /v1/auth/token/issue, and the "
                "accountId header"));
  }
  // Optional here (Nomba's push sends none); when sent it must be the token's account. The
  // routes that require it (the lookup) check that it was sent.
  return verify(std::string(*token), std::string(input.header("accountid").value_or("")));
}

boost::asio::awaitable<domain::Secret> NombaAuthenticator::signing_key() {
  if (!signing_key_) {
    const std::string name(kSigningKeyName);
    const domain::Secret candidate(nomba::new_signing_key());
    const auto now = clock_.now();
    auto key = co_await store_.call(&store::Store::server_secret, name, candidate, now);
    signing_key_ = std::move(key);
  }
  co_return *signing_key_;
}

boost::asio::awaitable<AuthOutcome> NombaAuthenticator::verify(std::string token,
                                                               std::string account_id) {
  const auto key = co_await signing_key();
  const auto claims = nomba::read_access_token(token, key.reveal(), clock_.now());
  if (!claims) {
    spdlog::info("nomba access token refused: {}", crypto::to_string(claims.error()));
    if (claims.error() == crypto::JwtError::expired) {
      // TIMESTAMP_EXPIRED is Nomba's "02": refresh the token (nomba_format.hpp).
      co_return AuthOutcome::refuse(views::ErrorCode::timestamp_expired,
                                    "the access token expired: get a new one from POST "
                                    "/v1/auth/token/refresh with your refresh_token");
    }
    co_return refused(
        "the access token is not valid: send the access_token that POST "
        "/v1/auth/token/issue returned, unchanged");
  }
  if (!account_id.empty() && claims->merchant_id != account_id) {
    spdlog::info("nomba access token of account {} presented for account {}", claims->merchant_id,
                 account_id);
    co_return refused("the access token was issued for another accountId");
  }
  // Revoking the API key ends the tokens issued with it.
  const auto api_key = co_await store_.read(&store::Store::find_api_key, claims->api_key);
  if (!api_key || api_key->revoked_at || api_key->merchant_id != claims->merchant_id) {
    co_return refused("the API key this access token was issued with is revoked");
  }
  // POST /v1/auth/token/revoke ends one token, on every node: the store says.
  const std::string token_id = claims->token_id;
  const bool revoked = co_await store_.read(&store::Store::is_access_token_revoked, token_id);
  if (revoked) {
    co_return refused("the access token was revoked: issue a new one");
  }
  co_return AuthOutcome::accept(claims->merchant_id);
}

}  // namespace tillgate::api
