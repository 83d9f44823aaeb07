#pragma once
// Authentication of the Nomba-compatible edge (nomba-compat.md, "Authentication"): a
// Bearer access token that this gateway signed, presented with the accountId it was issued
// for, whose API key is still active.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "api/authentication.hpp"
#include "domain/secret.hpp"
#include "domain/time.hpp"
#include "store/async_store.hpp"

namespace tillgate::api {

class NombaAuthenticator {
 public:
  NombaAuthenticator(store::AsyncStore& store, const domain::Clock& clock);

  // Not a coroutine: reads the Authorization and accountId headers before it returns, so
  // `input` need only live until then. Every refusal is 401 UNAUTHORIZED with a message
  // that says what to send.
  [[nodiscard]] boost::asio::awaitable<AuthOutcome> authenticate(const AuthInput& input);

  // The access-token signing key, read from (or first written to) the store once: the
  // token grant signs with it too.
  boost::asio::awaitable<domain::Secret> signing_key();

 private:
  boost::asio::awaitable<AuthOutcome> verify(std::string token, std::string account_id);

  store::AsyncStore& store_;
  const domain::Clock& clock_;
  std::optional<domain::Secret> signing_key_;  // loaded by the first request that needs it
};

}  // namespace tillgate::api
