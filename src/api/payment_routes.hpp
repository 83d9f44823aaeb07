#pragma once
// The merchant API's payments (merchant-api.md): push a payment to a terminal and wait for
// its result (or not, in webhook mode), read and list transactions, cancel one, and list
// the merchant's terminals with their connection state.
#include <string>
#include <string_view>

#include "api/route_table.hpp"
#include "domain/time.hpp"
#include "payments/coordinator.hpp"
#include "payments/terminal_port.hpp"
#include "store/async_store.hpp"
#include "views/errors.hpp"
#include "views/payment_request_parser.hpp"

namespace tillgate::api {

class PaymentRoutes {
 public:
  PaymentRoutes(store::AsyncStore& store, payments::PaymentCoordinator& coordinator,
                payments::TerminalPort& terminals, const domain::Clock& clock,
                views::RequestLimits limits);

  void add_routes(RouteTable& table);

  RouteAnswer create_payment(RouteRequest request);
  RouteAnswer get_transaction(RouteRequest request);
  RouteAnswer list_transactions(RouteRequest request);
  RouteAnswer cancel_transaction(RouteRequest request);
  RouteAnswer list_terminals(RouteRequest request);

 private:
  RouteAnswer answer_submitted(boost::asio::awaitable<payments::SubmitOutcome> submit,
                               std::string terminal_id, bool webhook_mode);
  [[nodiscard]] net::HttpResponse submitted(const payments::SubmitOutcome& outcome,
                                            const std::string& terminal_id,
                                            bool webhook_mode) const;

  store::AsyncStore& store_;
  payments::PaymentCoordinator& coordinator_;
  payments::TerminalPort& terminals_;
  const domain::Clock& clock_;
  views::RequestLimits limits_;
};

// The error for a submit that failed; `reference_name` is the idempotency key's field
// ("transactionId", or "merchantTxRef" on the Nomba edge).
[[nodiscard]] views::ApiError submit_problem(const payments::SubmitOutcome& outcome,
                                             const std::string& terminal_id,
                                             std::string_view reference_name);

// "online" (connected), "reconnecting" (inside its reconnect grace) or "offline": the one
// reading of a terminal's state that every terminal list shows. `elsewhere`: the merchant's
// terminals on other nodes (PaymentCoordinator::terminals_elsewhere), none on one node.
[[nodiscard]] const char* terminal_status(const domain::DeviceId& device_id,
                                          const payments::TerminalPort& terminals,
                                          const payments::PaymentCoordinator& coordinator,
                                          const payments::TerminalsElsewhere& elsewhere = {});

// One terminal of GET /v1/terminals (also the POS WebSocket's terminalsResponse), with its
// connection as the gateway sees it now (here or, several nodes, on another node: its
// activity there is not known here) and its presence as the coordinator knows it.
[[nodiscard]] json::Value terminal_view(const store::DeviceRecord& device,
                                        payments::TerminalPort& terminals,
                                        const payments::PaymentCoordinator& coordinator,
                                        const payments::TerminalsElsewhere& elsewhere = {});

}  // namespace tillgate::api
