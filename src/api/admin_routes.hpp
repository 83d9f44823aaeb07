#pragma once
// The admin API (operations.md): merchants, their API keys and their devices. The router
// has checked the admin token; each route under /admin/v1/merchants/{merchantId} answers
// 404 MERCHANT_NOT_FOUND for a merchant that does not exist.
#include <optional>
#include <string>

#include "api/route_table.hpp"
#include "domain/time.hpp"
#include "store/async_store.hpp"
#include "views/payment_request_parser.hpp"

namespace tillgate::api {

class AdminRoutes {
 public:
  AdminRoutes(store::AsyncStore& store, const domain::Clock& clock, views::RequestLimits limits);

  void add_routes(RouteTable& table);

  RouteAnswer create_merchant(RouteRequest request);
  RouteAnswer list_merchants(RouteRequest request);
  RouteAnswer get_merchant(RouteRequest request);
  // PATCH /admin/v1/merchants/{merchantId} {"nombaAmountUnit": "minor"|"major"|null}: the
  // unit of this merchant's Nomba pushes (null: the gateway's TILLGATE_NOMBA_AMOUNT_UNIT).
  RouteAnswer update_merchant(RouteRequest request);
  RouteAnswer create_api_key(RouteRequest request);
  RouteAnswer revoke_api_key(RouteRequest request);
  RouteAnswer create_device(RouteRequest request);

 private:
  // The merchant of the path, or the 404 to answer.
  struct MerchantLookup {
    std::optional<store::MerchantRecord> merchant;
    net::HttpResponse not_found;
  };
  boost::asio::awaitable<MerchantLookup> find_merchant(std::string merchant_id);

  store::AsyncStore& store_;
  const domain::Clock& clock_;
  views::RequestLimits limits_;
};

}  // namespace tillgate::api
