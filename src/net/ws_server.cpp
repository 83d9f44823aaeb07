#include "net/ws_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/write.hpp>
#include <cassert>
#include <utility>
#include <vector>

#include "net/rate_limiter.hpp"
#include "net/time_source.hpp"
#include "net/tls_stream.hpp"

namespace tillgate::net {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// After the grace and the cut-off: closed sockets fail their operations at once, so the
// tasks end within a few turns of the loop unless one waits on something slower (a store
// call).
constexpr std::chrono::milliseconds kCutOffWait{1000};

[[maybe_unused]] bool positive(std::chrono::milliseconds d) {
  return d > std::chrono::milliseconds::zero();
}

}  // namespace

WsServer::WsServer(asio::any_io_executor executor, TimeSource& time, std::string name,
                   WsSettings settings, AdmissionSettings admission,
                   const RateLimiter* auth_failures, WsProtocolFactory factory)
    : settings_(settings),
      admission_(std::move(admission), auth_failures),
      factory_(std::move(factory)),
      group_(std::move(executor), std::move(name)),
      deadlines_(group_, time),
      context_{group_, time, deadlines_, settings_, live_} {
  assert(positive(settings_.handshake_timeout) && positive(settings_.open_timeout) &&
         positive(settings_.heartbeat) && positive(settings_.pong_timeout) &&
         positive(settings_.write_timeout) && settings_.max_message_bytes > 0 &&
         settings_.max_outbox_frames > 0 && "every WsSettings member is required");
  assert(factory_);
}

WsServer::WsServer(asio::any_io_executor executor, TimeSource& time, std::string name,
                   WsSettings settings, AdmissionSettings admission,
                   const RateLimiter* auth_failures, WsGate gate)
    : WsServer(std::move(executor), time, std::move(name), settings, std::move(admission),
               auth_failures, [](const std::string&) { return std::shared_ptr<WsProtocol>(); }) {
  gate_ = std::move(gate);
}

WsServer::~WsServer() {
  assert(live_.empty() && "a WsServer is destroyed with live sessions: shutdown() first");
}

template <class Stream>
void WsServer::admit_and_start(Stream stream, UpgradeRequest request) {
  // A refused connection closes as `stream` goes out of scope, before the handshake.
  if (group_.closed()) {
    return;
  }
  boost::system::error_code ec;
  const auto endpoint = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
  std::string remote = ec ? std::string("unknown") : endpoint.address().to_string();
  auto ticket = admission_.admit(std::move(remote), Admission::Clock::now());
  if (!ticket) {
    return;
  }
  if (gate_) {
    (void)group_.spawn("ws gate",
                       gate_then_start(std::move(stream), std::move(request), std::move(ticket)));
    return;
  }
  auto protocol = factory_(ticket.address());
  start_ws_session(context_, std::move(stream), std::move(request), std::move(protocol),
                   std::move(ticket));
}

// The gate's answer: the session, or the refusal written as a plain HTTP answer (bounded by
// the handshake timeout), after which the connection closes.
template <class Stream>
asio::awaitable<void> WsServer::gate_then_start(Stream stream, UpgradeRequest request,
                                                Admission::Ticket ticket) {
  auto answer = co_await gate_(request, ticket.address());
  if (auto* protocol = std::get_if<std::shared_ptr<WsProtocol>>(&answer)) {
    start_ws_session(context_, std::move(stream), std::move(request), std::move(*protocol),
                     std::move(ticket));
    co_return;
  }
  auto& refusal = std::get<WsRefusal>(answer);
  namespace http = beast::http;
  http::response<http::string_body> response{static_cast<http::status>(refusal.status),
                                             request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() = std::move(refusal.body);
  response.prepare_payload();
  auto& socket_layer = beast::get_lowest_layer(stream);
  socket_layer.expires_after(settings_.handshake_timeout);
  boost::system::error_code ec;
  co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
  socket_layer.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_layer.close();
}

void WsServer::upgrade(beast::tcp_stream stream, UpgradeRequest request) {
  admit_and_start(std::move(stream), std::move(request));
}

void WsServer::upgrade(TlsStream stream, UpgradeRequest request) {
  admit_and_start(std::move(stream), std::move(request));
}

// Over a copy: what an action sets off completes through the executor, but a copy keeps
// this loop right whatever a session does to the set.
void WsServer::for_each_session(const std::function<void(WsSession&)>& action) {
  const std::vector<WsSession*> sessions(live_.begin(), live_.end());
  for (WsSession* session : sessions) {
    if (live_.contains(session)) {
      action(*session);
    }
  }
}

asio::awaitable<bool> WsServer::shutdown(std::chrono::milliseconds grace, std::uint16_t code,
                                         std::string reason) {
  group_.close();
  for_each_session([&](WsSession& session) { session.close(code, reason); });
  if (co_await group_.wait(grace)) {
    co_return true;
  }
  for_each_session([](WsSession& session) { session.abort(); });
  group_.cancel();
  const bool ended = co_await group_.wait(kCutOffWait);
  if (!ended) {
    spdlog::error("{}: {} tasks still running after the shutdown", group_.name(), group_.size());
  }
  co_return ended;
}

}  // namespace tillgate::net
