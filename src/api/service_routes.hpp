#pragma once
// The service endpoints (operations.md): liveness, readiness, metrics and the API's own
// document. No credentials, no rate limit: probes and scrapers poll them.
#include "api/route_table.hpp"
#include "domain/time.hpp"
#include "store/async_store.hpp"

namespace tillgate::metrics {
class GatewayMetrics;
}

namespace tillgate::api {

class ServiceRoutes {
 public:
  // metrics: what GET /metrics renders; none: GET /metrics answers 404.
  ServiceRoutes(store::AsyncStore& store, const domain::Clock& clock,
                metrics::GatewayMetrics* gateway_metrics);

  void add_routes(RouteTable& table);

  RouteAnswer healthz(RouteRequest request);
  RouteAnswer readyz(RouteRequest request);
  RouteAnswer render_metrics(RouteRequest request);
  RouteAnswer openapi(RouteRequest request);

 private:
  store::AsyncStore& store_;
  const domain::Clock& clock_;
  metrics::GatewayMetrics* metrics_;
};

}  // namespace tillgate::api
