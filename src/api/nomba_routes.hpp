#pragma once
// The Nomba-compatible edge (nomba-compat.md, docs/nomba.md): token issue, the push and the
// lookup, answered in Nomba's envelope. The same coordinator and store serve it as the
// main API; only the paths, the credentials and the answer's shape differ.
#include <chrono>
#include <cstddef>
#include <string>

#include "api/nomba_auth.hpp"
#include "api/route_table.hpp"
#include "domain/time.hpp"
#include "net/rate_limiter.hpp"
#include "nomba/nomba_format.hpp"
#include "payments/coordinator.hpp"
#include "store/async_store.hpp"

namespace tillgate::api {

struct NombaRouteSettings {
  nomba::NombaAmountUnit amount_unit = nomba::NombaAmountUnit::major;  // TILLGATE_NOMBA_AMOUNT_UNIT
  std::chrono::seconds access_token_ttl{};
  std::chrono::seconds refresh_token_ttl{};
  std::size_t max_refresh_tokens_per_merchant = 0;
  std::size_t max_json_depth = 0;
};

class NombaRoutes {
 public:
  // merchant_requests: the per-merchant rate limit the router applies after
  // authentication; the client-credentials grant, which authenticates by itself, spends it
  // too.
  NombaRoutes(store::AsyncStore& store, payments::PaymentCoordinator& coordinator,
              NombaAuthenticator& authenticator, net::RateLimiter& merchant_requests,
              const domain::Clock& clock, NombaRouteSettings settings);

  void add_routes(RouteTable& table);

  // POST /v1/auth/token/issue: client_credentials (an API key of accountId) or
  // refresh_token (single use: the pair it returns replaces it).
  RouteAnswer issue_token(RouteRequest request);
  RouteAnswer push_payment(RouteRequest request);
  RouteAnswer lookup_payment(RouteRequest request);

 private:
  // A grant's outcome: the API key the tokens speak for, or the refusal.
  struct Grant {
    std::string api_key;
    std::optional<net::HttpResponse> refusal;
  };
  // Checks the API key of accountId and stores `refresh_token` as a new family.
  boost::asio::awaitable<Grant> grant_client_credentials(std::string account_id,
                                                         std::string client_id,
                                                         std::string client_secret,
                                                         std::string refresh_token,
                                                         domain::Timestamp now);
  // Uses up the presented refresh token and stores `refresh_token` as its successor.
  boost::asio::awaitable<Grant> grant_refresh_token(std::string account_id, std::string presented,
                                                    std::string refresh_token,
                                                    domain::Timestamp now);

  store::AsyncStore& store_;
  payments::PaymentCoordinator& coordinator_;
  NombaAuthenticator& authenticator_;
  net::RateLimiter& merchant_requests_;
  const domain::Clock& clock_;
  NombaRouteSettings settings_;
};

}  // namespace tillgate::api
