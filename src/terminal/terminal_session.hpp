#pragma once
// The terminal protocol (terminal-protocol.md) over one WebSocket session of the core
// (net/ws_session.hpp): hello within the open timeout, authentication against the store,
// hello.ok, then payment.ack, payment.result and payment.voided handed to the coordinator.
// An unknown device, a wrong secret, a revoked device or a first frame other than hello
// is refused (UNAUTHORIZED, close 4001) and spends a token of the address's
// failed-authentication budget; invalid JSON closes with 1007; a frame about another
// terminal's transaction is a PROTOCOL_ERROR frame and the session carries on.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "domain/time.hpp"
#include "net/ws_session.hpp"
#include "terminal/codec.hpp"

namespace tillgate::net {
class RateLimiter;
}
namespace tillgate::payments {
class PaymentCoordinator;
}
namespace tillgate::store {
class AsyncStore;
}

namespace tillgate::terminal {

class TerminalRegistry;

// WebSocket close codes of the terminal protocol.
inline constexpr std::uint16_t kCloseUnauthorized = 4001;  // refused or revoked
inline constexpr std::uint16_t kCloseReplaced = 4002;      // a newer connection of the device

// What every terminal session shares; owned by TerminalService, outlives the sessions.
struct TerminalContext {
  store::AsyncStore& store;
  const domain::Clock& clock;
  // Failed authentications per client address, shared with the HTTP side.
  net::RateLimiter& auth_failures;
  TerminalRegistry& registry;
  std::chrono::seconds heartbeat;                       // announced in hello.ok
  payments::PaymentCoordinator* coordinator = nullptr;  // set before the first connection
  bool stopping = false;  // the gateway is shutting down: a revocation tells no one
};

class TerminalSession final : public net::WsProtocol,
                              public std::enable_shared_from_this<TerminalSession> {
 public:
  TerminalSession(TerminalContext& context, std::string remote_address);

  // net::WsProtocol
  void on_open(std::weak_ptr<net::WsSession> session) override;
  boost::asio::awaitable<void> on_frame(std::string text) override;
  void on_open_timeout() override;
  void on_close() override;
  [[nodiscard]] std::string describe() const override;

  // Queues a frame for the terminal; false when it cannot be (see WsSession::send_text).
  bool send(std::string frame);
  void close(std::uint16_t code, std::string reason);

  // Known once authenticated (empty before).
  [[nodiscard]] const std::string& device_id() const { return device_id_; }
  [[nodiscard]] const std::string& merchant_id() const { return merchant_id_; }
  [[nodiscard]] const std::string& connection_id() const { return connection_id_; }
  [[nodiscard]] domain::Timestamp connected_at() const { return connected_at_; }
  [[nodiscard]] domain::Timestamp last_activity() const { return last_activity_; }

 private:
  [[nodiscard]] bool closing() const;
  boost::asio::awaitable<void> handle_hello(InboundMessage message);
  boost::asio::awaitable<bool> authenticate(Hello hello);
  boost::asio::awaitable<void> dispatch(InboundMessage message);
  boost::asio::awaitable<void> record_result(PaymentResult result);
  void refuse(std::string message);
  void protocol_error(std::string message);

  TerminalContext& context_;
  std::string remote_address_;
  std::weak_ptr<net::WsSession> session_;
  bool authenticated_ = false;
  std::string device_id_;
  std::string merchant_id_;
  std::string connection_id_;
  domain::Timestamp connected_at_{};
  domain::Timestamp last_activity_{};
};

}  // namespace tillgate::terminal
