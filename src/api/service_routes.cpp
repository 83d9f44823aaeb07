#include "api/service_routes.hpp"

#include <spdlog/spdlog.h>

#include "api/answers.hpp"
#include "api/openapi.hpp"
#include "metrics/gateway_metrics.hpp"

namespace tillgate::api {

using net::HttpResponse;

ServiceRoutes::ServiceRoutes(store::AsyncStore& store, const domain::Clock& clock,
                             metrics::GatewayMetrics* gateway_metrics)
    : store_(store), clock_(clock), metrics_(gateway_metrics) {}

void ServiceRoutes::add_routes(RouteTable& table) {
  table.add(*this, {
                       {"GET", "/healthz", Auth::none, &ServiceRoutes::healthz},
                       {"GET", "/readyz", Auth::none, &ServiceRoutes::readyz},
                       {"GET", "/metrics", Auth::none, &ServiceRoutes::render_metrics},
                       {"GET", "/openapi.json", Auth::none, &ServiceRoutes::openapi},
                   });
}

RouteAnswer ServiceRoutes::healthz(RouteRequest /*request*/) {
  co_return json_answer(200, json::object({{"status", "ok"}}));
}

// Ready while a write commits: a store that answers reads but cannot write (disk full,
// read-only) would take payments it cannot keep. The probe shares the batch's commit.
RouteAnswer ServiceRoutes::readyz(RouteRequest /*request*/) {
  const domain::Timestamp now = clock_.now();
  try {
    co_await store_.call(&store::Store::probe_write, now);
    co_return json_answer(200, json::object({{"status", "ready"}}));
  } catch (const std::exception& failure) {
    spdlog::warn("readiness check failed: {}", failure.what());
  }
  co_return views::error_response(
      views::store_unavailable("the store cannot take writes now; nothing is lost"), clock_.now());
}

RouteAnswer ServiceRoutes::render_metrics(RouteRequest /*request*/) {
  if (metrics_ == nullptr) {
    co_return error_answer(views::ErrorCode::route_not_found,
                           "metrics are not collected by this router", clock_.now());
  }
  HttpResponse response;
  response.body = metrics_->registry().render();
  response.content_type = std::string(metrics::kContentType);
  co_return response;
}

RouteAnswer ServiceRoutes::openapi(RouteRequest /*request*/) {
  HttpResponse document;
  document.body = std::string(openapi_document());
  co_return document;
}

}  // namespace tillgate::api
