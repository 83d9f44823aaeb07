#pragma once
// Every HTTP route: service endpoints, the admin API, and the merchant API (Modulus facade).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "api/merchant_auth.hpp"
#include "api/query.hpp"
#include "api/route_template.hpp"
#include "domain/time.hpp"
#include "net/http_server.hpp"
#include "net/rate_limiter.hpp"
#include "nomba/nomba_format.hpp"
#include "payments/coordinator.hpp"
#include "payments/terminal_port.hpp"
#include "store/async_store.hpp"

namespace tillgate::webhooks {
class WebhookDispatcher;
}
namespace tillgate::metrics {
class GatewayMetrics;
}

namespace tillgate::api {

using net::RateLimiter;

struct RouterSettings {
  std::optional<std::string> admin_token;      // nullopt: the admin API is off
  std::chrono::seconds pairing_code_ttl{600};  // TILLGATE_PAIRING_CODE_TTL_S
  std::chrono::seconds signature_skew{300};
  std::size_t max_replay_entries = 1'000'000;
  RequestLimits request_limits;
  int rate_limit_rps = 100;     // per merchant (TILLGATE_RATE_LIMIT_RPS), bursts of twice that
  int pair_rate_limit_rps = 5;  // POST /v1/devices/pair per client address, bursts of twice
  std::size_t max_rate_limit_keys = 100'000;
  bool webhook_allow_http = false;         // TILLGATE_WEBHOOK_ALLOW_HTTP
  std::size_t max_webhook_endpoints = 16;  // per merchant (webhooks.md)
  // The Nomba-compatible edge (nomba-compat.md).
  nomba::NombaAmountUnit nomba_amount_unit = nomba::NombaAmountUnit::major;
  std::chrono::seconds nomba_access_token_ttl{1800};
  std::chrono::seconds nomba_refresh_token_ttl{30 * 24 * 3600};
  std::size_t max_refresh_tokens_per_merchant = 100;
  // Where every answer is counted, and what GET /metrics renders (none: not counted, and
  // GET /metrics answers 404).
  metrics::GatewayMetrics* metrics = nullptr;
};

class Router final : public net::RequestHandler {
 public:
  Router(store::AsyncStore& store, payments::PaymentCoordinator& coordinator,
         payments::TerminalPort& terminals, webhooks::WebhookDispatcher& webhooks,
         const domain::Clock& clock, net::RateLimiter& auth_failures, RouterSettings settings);

  boost::asio::awaitable<net::HttpResponse> handle(net::HttpRequest request) override;
  net::HttpResponse refuse(int status, std::string_view code, std::string_view message,
                           std::string_view path) override;

 private:
  // Routes the request; handle() wraps it to count and time the answer.
  boost::asio::awaitable<net::HttpResponse> dispatch(net::HttpRequest request);
  // The error answer to a request refused outside a route (Nomba envelope on its paths).
  [[nodiscard]] net::HttpResponse refusal(int status, std::string_view code,
                                          std::string_view message, std::string_view path) const;
  [[nodiscard]] net::HttpResponse metrics_response() const;
  boost::asio::awaitable<net::HttpResponse> handle_admin(net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> handle_merchant(net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> route_merchant(std::string merchant_id,
                                                           net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> create_payment(std::string merchant_id,
                                                           std::string terminal_id,
                                                           net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> get_transaction(std::string merchant_id,
                                                            std::string transaction_id);
  boost::asio::awaitable<net::HttpResponse> list_terminals(std::string merchant_id);
  boost::asio::awaitable<net::HttpResponse> list_transactions(std::string merchant_id,
                                                              std::string query);
  boost::asio::awaitable<net::HttpResponse> cancel_transaction(std::string merchant_id,
                                                               std::string transaction_id);
  // Pairing and revocation (device_routes.cpp).
  boost::asio::awaitable<net::HttpResponse> create_pairing_code(std::string merchant_id,
                                                                net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> pair_device(net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> delete_device(std::string merchant_id,
                                                          std::string device_id);
  // Webhook endpoints and deliveries (webhook_routes.cpp).
  boost::asio::awaitable<net::HttpResponse> route_webhooks(std::string merchant_id,
                                                           net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> create_webhook_endpoint(std::string merchant_id,
                                                                    net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> list_webhook_endpoints(std::string merchant_id);
  boost::asio::awaitable<net::HttpResponse> get_webhook_endpoint(std::string merchant_id,
                                                                 std::string endpoint_id);
  boost::asio::awaitable<net::HttpResponse> update_webhook_endpoint(std::string merchant_id,
                                                                    std::string endpoint_id,
                                                                    net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> delete_webhook_endpoint(std::string merchant_id,
                                                                    std::string endpoint_id);
  boost::asio::awaitable<net::HttpResponse> list_webhook_deliveries(std::string merchant_id,
                                                                    std::string query);
  boost::asio::awaitable<net::HttpResponse> retry_webhook_delivery(std::string merchant_id,
                                                                   std::string delivery_id);
  // The endpoint must answer a signed ping with a 2xx; nullopt when it did, else the answer.
  boost::asio::awaitable<std::optional<net::HttpResponse>> validate_endpoint(std::string url,
                                                                             std::string secret,
                                                                             std::string format);
  boost::asio::awaitable<net::HttpResponse> create_merchant(net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> create_api_key(std::string merchant_id);
  boost::asio::awaitable<net::HttpResponse> create_device(std::string merchant_id,
                                                          net::HttpRequest request);

  // The error for a submit that failed; `reference_name` is the idempotency key's field
  // ("transactionId", or "merchantTxRef" on the Nomba edge).
  static ApiError submit_problem(const payments::SubmitOutcome& outcome,
                                 const std::string& terminal_id, std::string_view reference_name);
  // The Nomba-compatible edge (nomba_routes.cpp, nomba-compat.md).
  static bool is_nomba_request(const net::HttpRequest& request);
  static bool is_nomba_path(std::string_view path);
  boost::asio::awaitable<net::HttpResponse> handle_nomba(net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> route_nomba(net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> issue_nomba_token(net::HttpRequest request);
  // The merchant a Bearer access token speaks for, or the refusal to answer.
  struct NombaCaller {
    std::optional<std::string> merchant_id;
    net::HttpResponse refusal;
  };
  boost::asio::awaitable<NombaCaller> authenticate_nomba(std::string authorization,
                                                         std::string account_id);
  boost::asio::awaitable<net::HttpResponse> push_nomba_payment(std::string merchant_id,
                                                               std::string terminal_id,
                                                               net::HttpRequest request);
  boost::asio::awaitable<net::HttpResponse> lookup_nomba_payment(std::string merchant_id,
                                                                 std::string query);
  // The access-token signing key, read from (or first written to) the store once.
  boost::asio::awaitable<std::string> nomba_signing_key();
  // {"code":<kind>,"description","data":null} with `status`.
  [[nodiscard]] static net::HttpResponse nomba_refusal(nomba::NombaErrorKind kind, int status,
                                                       std::string description);

  net::HttpResponse json_response(int status, const json::Value& body) const;
  net::HttpResponse error(ErrorCode code, std::string message) const;
  // 429 RATE_LIMITED with Retry-After for an address out of its failed-authentication budget.
  [[nodiscard]] net::HttpResponse too_many_failures(std::chrono::seconds retry_after) const;
  // 429 RATE_LIMITED with Retry-After when `key` is over its rate; nullopt when admitted.
  std::optional<net::HttpResponse> over_rate(RateLimiter& limiter, std::string_view key);

  store::AsyncStore& store_;
  payments::PaymentCoordinator& coordinator_;
  payments::TerminalPort& terminals_;
  webhooks::WebhookDispatcher& webhooks_;
  const domain::Clock& clock_;
  RouterSettings settings_;
  ReplayCache replay_cache_;
  RateLimiter merchant_limiter_;
  RateLimiter pairing_limiter_;
  // Failed authentications (any 401) per client address, shared with the terminals' failed
  // hellos: an address without a token is answered 429 before its credentials are looked at.
  RateLimiter& auth_failure_limiter_;
  // The documented operations, for the route label of every answer.
  RouteTemplates routes_;
  std::optional<std::string> nomba_signing_key_;  // loaded by the first Nomba request
};

}  // namespace tillgate::api
