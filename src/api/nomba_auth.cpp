#include "api/nomba_auth.hpp"

#include <spdlog/spdlog.h>

#include "crypto/crypto.hpp"
#include "nomba/access_token.hpp"

namespace tillgate::api {

namespace {

constexpr std::string_view kSigningKeyName = "nomba_access_token_hs256";

// "Bearer <token>" (the scheme in any case, as RFC 7235 allows) -> the token.
std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) {
      return std::nullopt;
    }
  }
  auto token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  return token.empty() ? std::nullopt : std::optional(token);
}

AuthOutcome refused(std::string message) {
  return AuthOutcome::refuse(views::ErrorCode::unauthorized, std::move(message));
}

}  // namespace

NombaAuthenticator::NombaAuthenticator(store::AsyncStore& store, const domain::Clock& clock)
    : store_(store), clock_(clock) {}

boost::asio::awaitable<AuthOutcome> NombaAuthenticator::authenticate(const AuthInput& input) {
  const auto token = bearer_token(input.header("authorization").value_or(""));
  if (!token) {
    return ready(
        refused("send Authorization: Bearer <access_token> from POST /v1/auth/token/issue, and the "
                "accountId header"));
  }
  std::string account_id(input.header("accountid").value_or(""));
  if (account_id.empty()) {
    return ready(refused("send the accountId header: your merchant id"));
  }
  return verify(std::string(*token), std::move(account_id));
}

boost::asio::awaitable<std::string> NombaAuthenticator::signing_key() {
  if (!signing_key_) {
    const std::string name(kSigningKeyName);
    const std::string candidate = nomba::new_signing_key();
    const auto now = clock_.now();
    auto key = co_await store_.call(&store::Store::server_secret, name, candidate, now);
    signing_key_ = std::move(key);
  }
  co_return *signing_key_;
}

boost::asio::awaitable<AuthOutcome> NombaAuthenticator::verify(std::string token,
                                                               std::string account_id) {
  const auto key = co_await signing_key();
  const auto claims = nomba::read_access_token(token, key, clock_.now());
  if (!claims) {
    spdlog::info("nomba access token refused: {}", crypto::to_string(claims.error()));
    co_return refused(claims.error() == crypto::JwtError::expired
                          ? "the access token expired: get a new one from POST "
                            "/v1/auth/token/issue with grant_type refresh_token"
                          : "the access token is not valid: send the access_token that POST "
                            "/v1/auth/token/issue returned, unchanged");
  }
  if (claims->merchant_id != account_id) {
    spdlog::info("nomba access token of account {} presented for account {}", claims->merchant_id,
                 account_id);
    co_return refused("the access token was issued for another accountId");
  }
  // Revoking the API key ends the tokens issued with it.
  const auto api_key = co_await store_.read(&store::Store::find_api_key, claims->api_key);
  if (!api_key || api_key->revoked_at || api_key->merchant_id != account_id) {
    co_return refused("the API key this access token was issued with is revoked");
  }
  co_return AuthOutcome::accept(std::move(account_id));
}

}  // namespace tillgate::api
