#pragma once
// The merchant POS WebSocket API, assembled (docs/pos-websocket.md): the WebSocket surface
// at kPosWebSocketPath (a net::WsServer whose gate authenticates the merchant at the
// handshake: x-api-key as header or query, optionally HMAC-signed, and x-group-id), the
// open connections (one per API key), and the push of the merchant's payment events and
// terminal presence from the event seam (payments/payment_events.hpp). Everything runs on
// the network thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <string_view>

#include "net/task_group.hpp"
#include "net/ws_server.hpp"
#include "payments/payment_events.hpp"
#include "pos/pos_session.hpp"

namespace tillgate::api {
class MerchantAuthenticator;
}
namespace tillgate::net {
class RateLimiter;
class TimeSource;
}  // namespace tillgate::net

namespace tillgate::pos {

// Where POS clients connect (distinct from the terminals' /v1/terminal/ws).
inline constexpr std::string_view kPosWebSocketPath = "/v1";

struct PosSettings {
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds heartbeat{30};
  std::chrono::seconds pong_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_outbox_frames = 256;  // TILLGATE_POS_WS_MAX_OUTBOX
  // Resume: the oldest event a client may resume after (TILLGATE_POS_WS_RESUME_WINDOW_S),
  // and the events one store read replays (TILLGATE_POS_WS_RESUME_PAGE, at most
  // max_outbox_frames).
  std::chrono::seconds resume_window{86'400};
  std::size_t resume_page = 100;
  std::size_t max_connections = 10'000;
  std::size_t max_connections_per_address = 1'000;
  // TILLGATE_POS_WS_AUTH=signed: x-timestamp and x-signature are required at the handshake.
  bool require_signature = false;
  // Frames received by action (tillgate_pos_frames_total); none: nothing is counted.
  metrics::GatewayMetrics* metrics = nullptr;
};

class PosService final : public payments::PaymentEventListener {
 public:
  // `auth_failures`: failed authentications per client address, shared with the HTTP side;
  // a refused handshake spends a token. Every reference outlives the service.
  PosService(boost::asio::any_io_executor executor, store::AsyncStore& store, net::TimeSource& time,
             net::RateLimiter& auth_failures, api::MerchantAuthenticator& merchant_auth,
             payments::TerminalPort& terminals, payments::PaymentCoordinator& coordinator,
             payments::PaymentEvents& events, net::RateLimiter& merchant_requests,
             views::RequestLimits limits, PosSettings settings);
  PosService(const PosService&) = delete;
  PosService& operator=(const PosService&) = delete;

  // Takes the upgrades of kPosWebSocketPath.
  [[nodiscard]] net::UpgradeHandler& upgrade_handler() { return server_; }

  // Refuses new connections, closes every connection (1001 going away) and waits at most
  // `grace` for them to end; then cuts off the rest.
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  [[nodiscard]] std::size_t connected() const { return context_.registry.size(); }

  // payments::PaymentEventListener
  void status_changed(const payments::PaymentStatusChanged& change) override;
  void presence_changed(const payments::TerminalPresenceChanged& change) override;

 private:
  boost::asio::awaitable<net::WsGateAnswer> gate(const net::UpgradeRequest& request,
                                                 const std::string& remote_address);
  boost::asio::awaitable<void> announce_connected(payments::TerminalPresenceChanged change);
  void send_to_merchant(const std::string& merchant_id, const std::string& frame);

  store::AsyncStore& store_;
  net::TimeSource& time_;
  net::RateLimiter& auth_failures_;
  api::MerchantAuthenticator& merchant_auth_;
  PosSettings settings_;
  PosContext context_;
  net::TaskGroup tasks_;  // reads behind terminalStatusUpdate "connected"
  net::WsServer server_;
  payments::PaymentEvents::Subscription subscription_;
};

}  // namespace tillgate::pos
