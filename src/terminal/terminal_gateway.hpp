#pragma once
// The terminal side: accepts WebSocket upgrades at /v1/terminal/ws, runs one session per
// connection, keeps the registry (deviceId -> live session, connectionId -> deviceId), and
// implements the coordinator's TerminalPort. Everything runs on the network thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "domain/time.hpp"
#include "net/rate_limiter.hpp"
#include "net/upgrade.hpp"
#include "payments/terminal_port.hpp"
#include "store/async_store.hpp"

namespace tillgate::payments {
class PaymentCoordinator;
}

namespace tillgate::terminal {

struct TerminalSettings {
  std::chrono::seconds hello_timeout{5};
  std::chrono::seconds heartbeat{30};
  std::chrono::seconds pong_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t max_outbox_frames = 64;
  std::size_t max_connections = 100'000;
  // Open terminal connections from one client address (a shop's NAT holds several).
  std::size_t max_connections_per_address = 1'000;
  std::chrono::seconds reconnect_grace{60};
};

class TerminalGateway final : public payments::TerminalPort, public net::UpgradeHandler {
 public:
  // `auth_failures`: failed authentications per client address, shared with the HTTP side
  // (one budget per address): a failed hello spends a token, and an address without one
  // has its connections refused until it refills.
  TerminalGateway(boost::asio::any_io_executor executor, store::AsyncStore& store,
                  const domain::Clock& clock, net::RateLimiter& auth_failures,
                  TerminalSettings settings);
  ~TerminalGateway() override;

  void set_coordinator(payments::PaymentCoordinator& coordinator);

  // net::UpgradeHandler
  [[nodiscard]] bool accepts_upgrade(std::string_view path) const override;
  void upgrade(boost::beast::tcp_stream stream,
               boost::beast::http::request<boost::beast::http::string_body> request) override;
  void upgrade(net::TlsStream stream,
               boost::beast::http::request<boost::beast::http::string_body> request) override;

  // payments::TerminalPort
  bool send_payment_request(const store::TransactionRecord& transaction) override;
  bool send_payment_cancel(const std::string& device_id, const std::string& transaction_id,
                           std::string_view reason) override;
  bool send_payment_void(const std::string& device_id, const std::string& transaction_id,
                         std::string_view reason) override;
  [[nodiscard]] std::optional<payments::TerminalConnection> connection(
      const std::string& device_id) const override;
  [[nodiscard]] bool reachable(const std::string& device_id) const override;
  [[nodiscard]] std::optional<std::string> device_for_connection(
      const std::string& connection_id) const override;
  void revoke(const std::string& device_id) override;

  // Closes the device's live connection with `code` (4001 when revoked).
  void disconnect(const std::string& device_id, std::uint16_t code, std::string_view reason);
  // Closes every connection (1001 going away) and waits at most `grace` for them to end.
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  [[nodiscard]] std::size_t connected() const;

  struct State;  // shared with the sessions, which may outlive a call

 private:
  std::shared_ptr<State> state_;
};

}  // namespace tillgate::terminal
