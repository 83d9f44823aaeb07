#pragma once
// The terminal side, assembled: the WebSocket surface at kTerminalWebSocketPath (a
// net::WsServer with the terminals' caps, speaking the terminal protocol of
// terminal_session.hpp), the registry of live terminals, and the coordinator's
// TerminalPort over it. Everything runs on the network thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <string_view>

#include "net/ws_server.hpp"
#include "terminal/terminal_port_adapter.hpp"
#include "terminal/terminal_registry.hpp"
#include "terminal/terminal_session.hpp"

namespace tillgate::net {
class RateLimiter;
class TimeSource;
}  // namespace tillgate::net
namespace tillgate::payments {
class PaymentCoordinator;
}
namespace tillgate::store {
class AsyncStore;
}

namespace tillgate::terminal {

// Where terminals connect (terminal-protocol.md).
inline constexpr std::string_view kTerminalWebSocketPath = "/v1/terminal/ws";

struct TerminalSettings {
  // No defaults: the app sets every field from app::Limits / app::Config, where each
  // default is written once; a test states the values it needs.
  std::chrono::seconds hello_timeout{};  // also the WebSocket handshake's
  std::chrono::seconds heartbeat{};
  std::chrono::seconds pong_timeout{};  // less than heartbeat (checked at start)
  std::chrono::seconds write_timeout{};
  std::size_t max_frame_bytes{};
  std::size_t max_outbox_frames{};
  std::size_t max_connections{};
  // Open terminal connections from one client address (a shop's NAT holds several).
  std::size_t max_connections_per_address{};
};

class TerminalService {
 public:
  // `auth_failures`: failed authentications per client address, shared with the HTTP side
  // (one budget per address): a failed hello spends a token, and an address without one
  // has its connections refused until it refills. `time` gives the sessions' deadlines.
  TerminalService(boost::asio::any_io_executor executor, store::AsyncStore& store,
                  net::TimeSource& time, net::RateLimiter& auth_failures,
                  TerminalSettings settings);
  TerminalService(const TerminalService&) = delete;
  TerminalService& operator=(const TerminalService&) = delete;

  // Before the first connection.
  void set_coordinator(payments::PaymentCoordinator& coordinator);

  // Takes the upgrades of kTerminalWebSocketPath.
  [[nodiscard]] net::UpgradeHandler& upgrade_handler() { return server_; }
  [[nodiscard]] payments::TerminalPort& port() { return port_; }

  // Refuses new connections, closes every connection (1001 going away) and waits at most
  // `grace` for them to end; then cuts off the rest.
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  // Terminals authenticated and connected.
  [[nodiscard]] std::size_t connected() const { return registry_.size(); }

 private:
  TerminalRegistry registry_;
  TerminalContext context_;
  TerminalPortAdapter port_;
  net::WsServer server_;
};

}  // namespace tillgate::terminal
