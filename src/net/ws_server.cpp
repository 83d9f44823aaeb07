#include "net/ws_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/core/stream_traits.hpp>
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
      context_{group_, time, settings_, live_} {
  assert(positive(settings_.handshake_timeout) && positive(settings_.open_timeout) &&
         positive(settings_.heartbeat) && positive(settings_.pong_timeout) &&
         positive(settings_.write_timeout) && settings_.max_message_bytes > 0 &&
         settings_.max_outbox_frames > 0 && "every WsSettings member is required");
  assert(factory_);
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
  auto protocol = factory_(ticket.address());
  start_ws_session(context_, std::move(stream), std::move(request), std::move(protocol),
                   std::move(ticket));
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
