#include "api/router.hpp"

#include <spdlog/spdlog.h>

#include "api/answers.hpp"
#include "metrics/gateway_metrics.hpp"
#include "nomba/nomba_format.hpp"
#include "store/async_store.hpp"

namespace tillgate::api {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;
using views::ApiError;
using views::ErrorCode;

namespace {

bool spends_merchant_budget(Auth auth) {
  return auth == Auth::merchant || auth == Auth::nomba;
}

ApiError problem(ErrorCode code, std::string message) {
  return ApiError{code, std::move(message), {}, std::nullopt, std::nullopt};
}

}  // namespace

Router::Router(const RouteTable& routes, Authenticators authenticators, RouterBudgets budgets,
               const domain::Clock& clock, metrics::GatewayMetrics* gateway_metrics)
    : routes_(routes),
      authenticators_(authenticators),
      budgets_(budgets),
      clock_(clock),
      metrics_(gateway_metrics) {}

HttpResponse Router::answer(Auth auth, const ApiError& error) const {
  return answers_in_nomba_envelope(auth) ? nomba::nomba_error_response(error)
                                         : views::error_response(error, clock_.now());
}

HttpResponse Router::too_many_failures(Auth auth, std::chrono::seconds retry_after) const {
  return answer(auth,
                ApiError{ErrorCode::rate_limited,
                         "too many failed authentications from your address: retry after " +
                             std::to_string(retry_after.count()) + " s (the Retry-After header)",
                         {},
                         std::nullopt,
                         static_cast<int>(retry_after.count())});
}

HttpResponse Router::no_route(Auth auth, const HttpRequest& request) const {
  const std::string route = request.method + " " + request.path;
  switch (auth) {
    case Auth::admin:
      return answer(auth, problem(ErrorCode::route_not_found, "no admin route " + route));
    case Auth::nomba_token:  // the token grant's path: the one route there is a POST
      return answer(auth, problem(ErrorCode::route_not_found,
                                  "no route " + route + ": tokens are issued with POST"));
    case Auth::none:
    case Auth::merchant:
    case Auth::nomba:
      break;
  }
  return answer(auth, problem(ErrorCode::route_not_found, "no route " + route));
}

HttpResponse Router::refusal(int status, std::string_view code, std::string_view message,
                             std::string_view path) const {
  auto response = views::error_response(status, code, message, clock_.now());
  // A client of the Nomba edge reads the Nomba envelope, even for a refusal this early.
  const bool nomba = answers_in_nomba_envelope(routes_.match({}, path).auth);
  return nomba ? nomba::nomba_error_response(response) : response;
}

HttpResponse Router::refuse(int status, std::string_view code, std::string_view message,
                            std::string_view path) {
  // Refused before it was routed (its method may not even be known): counted, not timed.
  if (metrics_ != nullptr) {
    metrics_->request_answered(metrics::kRouteRefused, metrics::kMethodUnknown, status);
  }
  return refusal(status, code, message, path);
}

// Not a coroutine: what a request waits in here is dispatch's small frame, and while it
// authenticates, route_request's.
asio::awaitable<HttpResponse> Router::handle(HttpRequest request) {
  const auto started = std::chrono::steady_clock::now();
  // A request signed for the main API is the main API's, even on a Nomba path.
  const auto excluded =
      MerchantAuthenticator::is_signed(request) ? std::optional(Auth::nomba) : std::nullopt;
  auto match = routes_.match(request.method, request.path, excluded);
  Labels labels{match.auth,
                match.route != nullptr ? std::string_view(match.route->path_template)
                                       : metrics::kRouteUnmatched,
                method_label(request.method),
                request.remote_address,
                request.path,
                request.method};
  auto routing = route_request(std::move(request), std::move(match));
  return dispatch(std::move(routing), std::move(labels), started);
}

// An address out of its failed-authentication budget is refused before any check, so
// guessing costs it time.
std::optional<HttpResponse> Router::blocked(Auth auth, const std::string& address) const {
  if (auth == Auth::none) {
    return std::nullopt;
  }
  const auto retry_after = budgets_.auth_failures.blocked(address, net::RateLimiter::Clock::now());
  return retry_after ? std::optional(too_many_failures(auth, *retry_after)) : std::nullopt;
}

// The answer to an authenticated (or refused) request that does not reach its route: the
// refusal, the merchant's rate limit, or no such route.
std::optional<HttpResponse> Router::not_routed(Auth auth, const AuthOutcome& outcome,
                                               const RouteTable::Match& match,
                                               const HttpRequest& request) const {
  if (!outcome.accepted()) {
    return answer(auth, *outcome.refusal);
  }
  if (spends_merchant_budget(auth)) {
    if (auto refused = over_rate(budgets_.merchant_requests, outcome.merchant_id, clock_.now())) {
      return answers_in_nomba_envelope(auth) ? nomba::nomba_error_response(*refused)
                                             : std::move(*refused);
    }
  }
  if (match.route == nullptr) {
    return no_route(auth, request);
  }
  return std::nullopt;
}

asio::awaitable<AuthOutcome> Router::authenticate(Auth auth, const AuthInput& input) {
  switch (auth) {
    case Auth::merchant:
      return authenticators_.merchant.authenticate(input);
    case Auth::nomba:
      return authenticators_.nomba.authenticate(input);
    case Auth::admin:
      return ready(authenticators_.admin.authenticate(input));
    case Auth::none:
    case Auth::nomba_token:  // its route checks the credentials in its body
      break;
  }
  return ready(AuthOutcome::accept({}));
}

asio::awaitable<Router::Routed> Router::route_request(HttpRequest request,
                                                      RouteTable::Match match) {
  const Auth auth = match.auth;
  if (auto early = blocked(auth, request.remote_address)) {
    co_return std::move(*early);
  }
  auto authenticating = authenticate(auth, request);
  auto outcome = co_await std::move(authenticating);
  if (auto early = not_routed(auth, outcome, match, request)) {
    co_return std::move(*early);
  }
  RouteRequest routed{std::move(request), std::move(outcome.merchant_id),
                      std::move(match.parameters)};
  co_return match.route->handler(std::move(routed));
}

// Every answer is counted under its route template (never the raw path), method and
// status, and timed from `started`; a failure (of the authentication or the route) is
// answered 500 here so that it is counted too.
asio::awaitable<HttpResponse> Router::dispatch(asio::awaitable<Routed> routing, Labels labels,
                                               std::chrono::steady_clock::time_point started) {
  const Auth auth = labels.auth;
  HttpResponse response;
  try {
    try {
      auto routed = co_await std::move(routing);
      if (auto* handling = std::get_if<RouteAnswer>(&routed)) {
        response = co_await std::move(*handling);
      } else {
        response = std::move(std::get<HttpResponse>(routed));
      }
      if (auth != Auth::none && response.status == 401) {
        (void)budgets_.auth_failures.admit(labels.address, net::RateLimiter::Clock::now());
      }
    } catch (const store::StoreOverloaded&) {
      response = answer(auth, problem(ErrorCode::service_unavailable,
                                      "the gateway is overloaded; retry shortly"));
    } catch (const store::StoreError& failure) {
      if (!failure.unavailable()) {
        throw;  // a bug or damaged data: 500 below
      }
      // The write did not commit, so nothing changed (a payment not stored was not pushed):
      // the client may repeat the same request after Retry-After.
      spdlog::error("store unavailable: {}", failure.what());
      response = answer(
          auth, views::store_unavailable("the gateway cannot store this request now; nothing was "
                                         "changed, retry after the Retry-After seconds"));
    }
  } catch (const std::exception& failure) {
    spdlog::error("request {} {} failed: {}", labels.method_text, labels.path, failure.what());
    response =
        refusal(500, "INTERNAL_ERROR",
                "the gateway could not complete the request; it is safe to retry", labels.path);
  }
  if (metrics_ != nullptr) {
    metrics_->request_answered(labels.route, labels.method, response.status,
                               std::chrono::steady_clock::now() - started);
  }
  co_return response;
}

}  // namespace tillgate::api
