#pragma once
// The HTTP request handler: matches a request in the route table, authenticates it as its
// route says, spends the budgets (failed authentications per address, requests per
// merchant), calls the route's handler, and counts and times every answer. What each
// route does is in its surface (service_, admin_, payment_, device_, webhook_,
// nomba_routes); the gateway wires them (app/gateway.cpp).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "api/admin_auth.hpp"
#include "api/merchant_authenticator.hpp"
#include "api/nomba_auth.hpp"
#include "api/route_table.hpp"
#include "domain/time.hpp"
#include "net/http_server.hpp"
#include "net/rate_limiter.hpp"

namespace tillgate::metrics {
class GatewayMetrics;
}

namespace tillgate::api {

// The checks a route's Auth names.
struct Authenticators {
  MerchantAuthenticator& merchant;
  NombaAuthenticator& nomba;
  const AdminAuthenticator& admin;
};

// The budgets the router spends; both shared with others, so one owner (the app) holds them.
struct RouterBudgets {
  // Failed authentications (any 401) per client address, shared with the terminals' failed
  // hellos: an address without a token is answered 429 before its credentials are looked at.
  net::RateLimiter& auth_failures;
  // Requests per merchant, spent after authentication (nobody can spend a merchant's budget
  // without its credentials); the Nomba client-credentials grant spends it too.
  net::RateLimiter& merchant_requests;
};

class Router final : public net::RequestHandler {
 public:
  // gateway_metrics: where every answer is counted; none: not counted.
  Router(const RouteTable& routes, Authenticators authenticators, RouterBudgets budgets,
         const domain::Clock& clock, metrics::GatewayMetrics* gateway_metrics);

  boost::asio::awaitable<net::HttpResponse> handle(net::HttpRequest request) override;
  net::HttpResponse refuse(int status, std::string_view code, std::string_view message,
                           std::string_view path) override;

 private:
  // What an answer is counted and logged under, copied from its request.
  struct Labels {
    Auth auth = Auth::none;
    std::string_view route;   // the route's template, or metrics::kRouteUnmatched
    std::string_view method;  // method_label()
    std::string address;
    std::string path;
    std::string method_text;
  };
  // A request once authenticated: its answer already (refused, over a budget, no route),
  // or its route's coroutine, not started yet.
  using Routed = std::variant<net::HttpResponse, RouteAnswer>;

  // Authenticates and spends the budgets: the request's frame while it does, gone before
  // the route runs (a long-poll waits in its route for long).
  boost::asio::awaitable<Routed> route_request(net::HttpRequest request, RouteTable::Match match);
  // Awaits `routing`, then the route, and counts and times the answer: a small frame, the
  // one a long-poll keeps here while it waits.
  boost::asio::awaitable<net::HttpResponse> dispatch(boost::asio::awaitable<Routed> routing,
                                                     Labels labels,
                                                     std::chrono::steady_clock::time_point started);
  [[nodiscard]] std::optional<net::HttpResponse> blocked(Auth auth,
                                                         const std::string& address) const;
  [[nodiscard]] std::optional<net::HttpResponse> not_routed(Auth auth, const AuthOutcome& outcome,
                                                            const RouteTable::Match& match,
                                                            const net::HttpRequest& request) const;
  // Not a coroutine: every authenticator reads what it needs from `input` at once.
  boost::asio::awaitable<AuthOutcome> authenticate(Auth auth, const AuthInput& input);
  // The 404 of a request no route takes, once it is authenticated as its path's API is.
  [[nodiscard]] net::HttpResponse no_route(Auth auth, const net::HttpRequest& request) const;
  // `error` as a route with `auth` answers it: in Nomba's envelope on the Nomba edge.
  [[nodiscard]] net::HttpResponse answer(Auth auth, const views::ApiError& error) const;
  [[nodiscard]] net::HttpResponse too_many_failures(Auth auth,
                                                    std::chrono::seconds retry_after) const;
  // The error answer to a request refused outside a route (Nomba envelope on its paths).
  [[nodiscard]] net::HttpResponse refusal(int status, std::string_view code,
                                          std::string_view message, std::string_view path) const;

  const RouteTable& routes_;
  Authenticators authenticators_;
  RouterBudgets budgets_;
  const domain::Clock& clock_;
  metrics::GatewayMetrics* metrics_;
};

}  // namespace tillgate::api
