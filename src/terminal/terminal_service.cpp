#include "terminal/terminal_service.hpp"

#include <boost/beast/websocket/rfc6455.hpp>
#include <memory>
#include <string>
#include <utility>

#include "net/rate_limiter.hpp"
#include "net/time_source.hpp"

namespace tillgate::terminal {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;

namespace {

net::WsSettings session_settings(const TerminalSettings& s) {
  net::WsSettings ws;
  ws.handshake_timeout = s.hello_timeout;
  ws.open_timeout = s.hello_timeout;
  ws.heartbeat = s.heartbeat;
  ws.pong_timeout = s.pong_timeout;
  ws.write_timeout = s.write_timeout;
  ws.max_message_bytes = s.max_frame_bytes;
  ws.max_outbox_frames = s.max_outbox_frames;
  return ws;
}

// The terminals' caps, and refusal lines naming the settings behind them.
net::AdmissionSettings admission_settings(const TerminalSettings& s) {
  net::AdmissionSettings a;
  a.what = "terminal connections";
  a.max_connections = s.max_connections;
  a.max_connections_per_address = s.max_connections_per_address;
  a.connections_full = "the limit of terminal connections (TILLGATE_MAX_TERMINAL_CONNECTIONS)";
  a.address_full = "an address reached its limit (TILLGATE_MAX_TERMINAL_CONNECTIONS_PER_IP)";
  a.budget_spent = "an address failed too many hellos (TILLGATE_AUTH_FAILURE_RATE_LIMIT_RPS)";
  return a;
}

}  // namespace

TerminalService::TerminalService(asio::any_io_executor executor, store::AsyncStore& store,
                                 net::TimeSource& time, net::RateLimiter& auth_failures,
                                 TerminalSettings settings)
    : context_{store, time, auth_failures, registry_, settings.heartbeat},
      port_(context_),
      server_(std::move(executor), time, "terminal sessions", session_settings(settings),
              admission_settings(settings), &auth_failures,
              [this](const std::string& remote_address) {
                return std::make_shared<TerminalSession>(context_, remote_address);
              }) {}

void TerminalService::set_coordinator(payments::PaymentCoordinator& coordinator) {
  context_.coordinator = &coordinator;
}

asio::awaitable<void> TerminalService::shutdown(std::chrono::milliseconds grace) {
  context_.stopping = true;
  std::string reason = "gateway shutting down";
  const auto going_away = static_cast<std::uint16_t>(websocket::close_code::going_away);
  co_await server_.shutdown(grace, going_away, std::move(reason));
}

}  // namespace tillgate::terminal
