#pragma once
// Pairing (merchant-api.md section 5): a merchant asks for a one-time code, a new terminal
// trades it for its device id and secret; and revocation of a merchant's device.
#include <chrono>
#include <cstddef>

#include "api/route_table.hpp"
#include "domain/time.hpp"
#include "net/rate_limiter.hpp"
#include "payments/terminal_port.hpp"
#include "store/async_store.hpp"
#include "views/payment_request_parser.hpp"

namespace tillgate::api {

struct DeviceRouteSettings {
  std::chrono::seconds pairing_code_ttl{};  // TILLGATE_PAIRING_CODE_TTL_S
  // POST /v1/devices/pair per client address (TILLGATE_PAIR_RATE_LIMIT_RPS), bursts of
  // twice that: the route takes no credentials.
  int pair_rate_limit_rps = 0;
  std::size_t max_rate_limit_keys = 0;  // addresses with a tracked bucket
  views::RequestLimits request_limits;
};

class DeviceRoutes {
 public:
  DeviceRoutes(store::AsyncStore& store, payments::TerminalPort& terminals,
               const domain::Clock& clock, const DeviceRouteSettings& settings);

  void add_routes(RouteTable& table);

  RouteAnswer create_pairing_code(RouteRequest request);
  RouteAnswer pair_device(RouteRequest request);
  RouteAnswer revoke_device(RouteRequest request);

 private:
  // Inserts `record` under a fresh code, drawing again while a code's hash is taken;
  // returns the code.
  boost::asio::awaitable<std::string> insert_new_code(store::PairingCodeRecord record);

  store::AsyncStore& store_;
  payments::TerminalPort& terminals_;
  const domain::Clock& clock_;
  std::chrono::seconds pairing_code_ttl_;
  views::RequestLimits limits_;
  net::RateLimiter pairing_limiter_;  // per client address
};

}  // namespace tillgate::api
