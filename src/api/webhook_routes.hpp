#pragma once
// Webhook endpoints (create with a validation ping, list, get, partial update, delete) and
// deliveries (list with their attempts, manual retry): webhooks.md. Every lookup is scoped
// to the authenticated merchant, so another merchant's ids answer 404 as if absent.
#include <cstddef>
#include <optional>
#include <string>

#include "api/route_table.hpp"
#include "domain/enums.hpp"
#include "domain/secret.hpp"
#include "domain/time.hpp"
#include "store/async_store.hpp"
#include "views/payment_request_parser.hpp"

namespace tillgate::webhooks {
class WebhookDispatcher;
}

namespace tillgate::api {

struct WebhookRouteSettings {
  bool allow_http = false;        // TILLGATE_WEBHOOK_ALLOW_HTTP: http:// URLs, for development
  std::size_t max_endpoints = 0;  // per merchant, deleted ones not counted
  views::RequestLimits request_limits;
};

class WebhookRoutes {
 public:
  WebhookRoutes(store::AsyncStore& store, webhooks::WebhookDispatcher& webhooks,
                const domain::Clock& clock, WebhookRouteSettings settings);

  void add_routes(RouteTable& table);

  RouteAnswer create_endpoint(RouteRequest request);
  RouteAnswer list_endpoints(RouteRequest request);
  RouteAnswer get_endpoint(RouteRequest request);
  RouteAnswer update_endpoint(RouteRequest request);
  RouteAnswer delete_endpoint(RouteRequest request);
  RouteAnswer list_deliveries(RouteRequest request);
  RouteAnswer retry_delivery(RouteRequest request);

 private:
  // The endpoint must answer a signed ping with a 2xx; nullopt when it did, else the answer.
  boost::asio::awaitable<std::optional<net::HttpResponse>> validate_endpoint(
      std::string url, domain::Secret secret, domain::WebhookFormat format);
  [[nodiscard]] net::HttpResponse endpoint_limit_reached() const;
  [[nodiscard]] net::HttpResponse endpoint_not_found(const std::string& endpoint_id) const;

  store::AsyncStore& store_;
  webhooks::WebhookDispatcher& webhooks_;
  const domain::Clock& clock_;
  WebhookRouteSettings settings_;
};

}  // namespace tillgate::api
