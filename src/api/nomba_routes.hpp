#pragma once
// The Nomba-compatible edge (nomba-compat.md, docs/nomba.md): token issue, the push and the
// lookup, answered in Nomba's envelope. The same coordinator and store serve it as the
// main API; only the paths, the credentials and the answer's shape differ.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/nomba_auth.hpp"
#include "api/route_table.hpp"
#include "domain/time.hpp"
#include "net/rate_limiter.hpp"
#include "nomba/nomba_format.hpp"
#include "payments/coordinator.hpp"
#include "payments/terminal_port.hpp"
#include "store/async_store.hpp"
#include "webhooks/dispatcher.hpp"

namespace tillgate::api {

struct NombaRouteSettings {
  nomba::NombaAmountUnit amount_unit = nomba::NombaAmountUnit::minor;  // TILLGATE_NOMBA_AMOUNT_UNIT
  std::chrono::seconds access_token_ttl{};
  std::chrono::seconds refresh_token_ttl{};
  std::size_t max_refresh_tokens_per_merchant = 0;
  std::size_t max_json_depth = 0;
  bool rotate_refresh_tokens = false;  // TILLGATE_NOMBA_ROTATE_REFRESH_TOKENS
  std::size_t max_repush_ids = 100;    // TILLGATE_NOMBA_MAX_REPUSH_IDS
};

// A page of the Nomba edge's lists (transactions, terminals, event logs): `limit` is 1 to
// kNombaMaxPage, kNombaDefaultPage when not given.
inline constexpr std::int64_t kNombaDefaultPage = 20;
inline constexpr std::int64_t kNombaMaxPage = 100;
inline constexpr std::string_view kNombaLimitProblem = "must be an integer from 1 to 100";

class NombaRoutes {
 public:
  // merchant_requests: the per-merchant rate limit the router applies after
  // authentication; the client-credentials grant, which authenticates by itself, spends it
  // too.
  NombaRoutes(store::AsyncStore& store, payments::PaymentCoordinator& coordinator,
              payments::TerminalPort& terminals, NombaAuthenticator& authenticator,
              net::RateLimiter& merchant_requests, const domain::Clock& clock,
              webhooks::WebhookDispatcher& webhooks, NombaRouteSettings settings);

  void add_routes(RouteTable& table);

  // POST /v1/auth/token/issue: client_credentials (an API key of accountId) or
  // refresh_token. A refresh answers a new access token and the same refresh token
  // (with rotate_refresh_tokens: a new one, the presented one used up).
  RouteAnswer issue_token(RouteRequest request);
  // POST /v1/auth/token/refresh: grant_type refresh_token only (it may be left out).
  RouteAnswer refresh_token(RouteRequest request);
  // POST /v1/auth/token/revoke {clientId, access_token}: that token is refused from then on.
  RouteAnswer revoke_token(RouteRequest request);
  RouteAnswer push_payment(RouteRequest request);
  RouteAnswer lookup_payment(RouteRequest request);
  // nomba_lists.cpp: POST /v1/transactions/accounts (filters in the body) and GET (dates in
  // the query), newest first; GET /v1/accounts/terminals.
  RouteAnswer filter_transactions(RouteRequest request);
  RouteAnswer list_transactions(RouteRequest request);
  RouteAnswer list_terminals(RouteRequest request);
  // nomba_webhooks.cpp: POST /v1/webhooks/re-push {hooksRequestId} and bulk-re-push
  // {hooksRequestIds}: the deliveries of those events to the merchant's Nomba endpoints
  // are due again now (the main API's manual retry); POST /v1/webhooks/event-logs: those
  // deliveries newest first, each with its latest answer.
  RouteAnswer repush_webhook(RouteRequest request);
  RouteAnswer bulk_repush_webhooks(RouteRequest request);
  RouteAnswer webhook_event_logs(RouteRequest request);

 private:
  // A grant's outcome: the API key the tokens speak for and the refresh token to answer,
  // or the refusal.
  struct Grant {
    std::string api_key;
    std::string refresh_token;
    std::optional<net::HttpResponse> refusal;
  };
  // Both token routes: the body's grant, then the token answer. `refresh_only`: the
  // refresh route, where grant_type may be absent and client_credentials is refused.
  RouteAnswer grant_tokens(RouteRequest request, bool refresh_only);
  // Checks the API key of accountId and stores `refresh_token` as a new family.
  boost::asio::awaitable<Grant> grant_client_credentials(std::string account_id,
                                                         std::string client_id,
                                                         std::string client_secret,
                                                         std::string refresh_token,
                                                         domain::Timestamp now);
  // Checks the presented refresh token; with rotation, uses it up and stores
  // `refresh_token` as its successor.
  boost::asio::awaitable<Grant> grant_refresh_token(std::string account_id, std::string presented,
                                                    std::string refresh_token,
                                                    domain::Timestamp now);

  // Schedules every delivery of each request id now; the ids none was found for (unknown,
  // another merchant's, or only to disabled endpoints).
  boost::asio::awaitable<std::vector<std::string>> repush(std::string merchant_id,
                                                          std::vector<std::string> request_ids);

  RouteAnswer transactions_page(std::string merchant_id, std::string query, std::string body,
                                bool with_body);

  store::AsyncStore& store_;
  payments::PaymentCoordinator& coordinator_;
  payments::TerminalPort& terminals_;
  NombaAuthenticator& authenticator_;
  net::RateLimiter& merchant_requests_;
  const domain::Clock& clock_;
  webhooks::WebhookDispatcher& webhooks_;
  NombaRouteSettings settings_;
};

}  // namespace tillgate::api
