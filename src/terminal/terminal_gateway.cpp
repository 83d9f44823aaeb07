#include "terminal/terminal_gateway.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "net/rate_limiter.hpp"
#include "net/tls_stream.hpp"
#include "payments/coordinator.hpp"
#include "terminal/codec.hpp"

namespace tillgate::terminal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using payments::PaymentCoordinator;

namespace {

constexpr std::uint16_t kCloseUnauthorized = 4001;
constexpr std::uint16_t kCloseReplaced = 4002;

struct Outgoing {
  enum class Kind { text, ping, close } kind = Kind::text;
  std::string text;  // the frame, or the close reason
  std::uint16_t close_code = 0;
};

class SessionBase;

}  // namespace

struct TerminalGateway::State {
  State(asio::any_io_executor executor, store::AsyncStore& store, const domain::Clock& clock,
        net::RateLimiter& auth_failures, TerminalSettings settings)
      : executor_(std::move(executor)),
        store_(store),
        clock_(clock),
        settings_(settings),
        auth_failures_(auth_failures) {}

  asio::any_io_executor executor_;
  store::AsyncStore& store_;
  const domain::Clock& clock_;
  TerminalSettings settings_;
  PaymentCoordinator* coordinator_ = nullptr;
  std::unordered_map<std::string, std::shared_ptr<SessionBase>> by_device_;
  std::unordered_map<std::string, std::string> device_by_connection_;
  std::unordered_set<SessionBase*> sessions_;  // every open session, authenticated or not
  std::unordered_map<std::string, std::size_t> sessions_per_address_;
  net::RateLimiter& auth_failures_;  // failed authentications per client address (shared)
  // Refusals are logged at most once a second, with their count.
  std::size_t refusals_unlogged_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  // When each device's last connection dropped; bounded by the number of devices.
  std::unordered_map<std::string, domain::Timestamp> disconnected_at_;
  bool stopping_ = false;

  bool send(const std::string& device_id, std::string frame);
  void note_refusal(std::string_view why);
};

namespace {

// What the registry and the gateway see of a session, whatever its transport: the outbox,
// the timers, the identity and the protocol. Session<Stream> adds the WebSocket over a
// plain (ws://) or TLS (wss://) connection.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  SessionBase(std::shared_ptr<TerminalGateway::State> state, const asio::any_io_executor& executor,
              std::string remote_address)
      : state_(std::move(state)),
        remote_address_(std::move(remote_address)),
        signal_(executor),
        write_deadline_(executor),
        heartbeat_(executor) {
    signal_.expires_at(asio::steady_timer::time_point::max());
  }
  virtual ~SessionBase() = default;
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  // Queues a frame; a terminal that lets its queue fill up is cut off, never buffered for.
  bool enqueue(Outgoing item) {
    if (closing_) {
      return false;
    }
    if (item.kind == Outgoing::Kind::close) {
      closing_ = true;
    } else if (outbox_.size() >= state_->settings_.max_outbox_frames) {
      spdlog::warn("terminal {} is not reading its frames: disconnecting", device_id_);
      abort();
      return false;
    }
    outbox_.push_back(std::move(item));
    signal_.cancel();
    return true;
  }
  bool send_text(std::string frame) { return enqueue({Outgoing::Kind::text, std::move(frame), 0}); }
  void close(std::uint16_t code, std::string reason) {
    enqueue({Outgoing::Kind::close, std::move(reason), code});
  }
  // Closes the socket: every pending operation fails.
  void abort() {
    closing_ = true;
    boost::system::error_code ec;
    socket().close(ec);
  }

  const std::string& device_id() const { return device_id_; }
  const std::string& connection_id() const { return connection_id_; }
  domain::Timestamp connected_at() const { return connected_at_; }
  domain::Timestamp last_activity() const { return last_activity_; }

 protected:
  [[nodiscard]] virtual asio::ip::tcp::socket& socket() = 0;
  asio::awaitable<void> heartbeat_loop(std::shared_ptr<SessionBase> self);
  asio::awaitable<bool> authenticate(Hello hello);
  asio::awaitable<void> dispatch(InboundMessage message);
  // One decoded frame (or the reason it could not be); sends hello.ok after a good hello.
  asio::awaitable<void> handle_frame(std::string text);
  // Until hello.ok, the heartbeat timer is the hello deadline.
  void start_hello_deadline();
  void refuse(std::string message) {
    send_text(encode_error("UNAUTHORIZED", message));
    close(kCloseUnauthorized, "unauthorized");
  }
  void protocol_error(std::string message) { send_text(encode_error("PROTOCOL_ERROR", message)); }
  // The end of a session: out of the registry, socket closed.
  void finish();
  void detach();

  std::shared_ptr<TerminalGateway::State> state_;
  std::string remote_address_;
  asio::steady_timer signal_;          // cancelled to wake the writer
  asio::steady_timer write_deadline_;  // closes the socket if a write stalls
  asio::steady_timer heartbeat_;
  std::deque<Outgoing> outbox_;
  bool closing_ = false;
  bool authenticated_ = false;
  std::string device_id_;
  std::string merchant_id_;
  std::string connection_id_;
  domain::Timestamp connected_at_{};
  domain::Timestamp last_activity_{};
  std::chrono::steady_clock::time_point last_pong_{};
};

template <class Stream>
class Session final : public SessionBase {
 public:
  Session(std::shared_ptr<TerminalGateway::State> state, Stream stream, std::string remote_address)
      : SessionBase(std::move(state), stream.get_executor(), std::move(remote_address)),
        ws_(std::move(stream)) {}

  static asio::awaitable<void> run(std::shared_ptr<Session> self,
                                   beast::http::request<beast::http::string_body> request);

 private:
  asio::ip::tcp::socket& socket() override { return beast::get_lowest_layer(ws_).socket(); }
  asio::awaitable<void> write_loop(std::shared_ptr<Session> self);
  asio::awaitable<void> read_loop();

  websocket::stream<Stream> ws_;
};

template <class Stream>
asio::awaitable<void> Session<Stream>::write_loop([[maybe_unused]] std::shared_ptr<Session> self) {
  boost::system::error_code ec;
  while (true) {
    if (outbox_.empty()) {
      if (closing_ && !socket().is_open()) {
        co_return;
      }
      co_await signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      signal_.expires_at(asio::steady_timer::time_point::max());
      if (!socket().is_open()) {
        co_return;
      }
      continue;
    }
    Outgoing item = std::move(outbox_.front());
    outbox_.pop_front();
    write_deadline_.expires_after(state_->settings_.write_timeout);
    write_deadline_.async_wait([weak = weak_from_this()](boost::system::error_code timer_ec) {
      if (auto session = weak.lock(); session && !timer_ec) {
        spdlog::warn("terminal {}: write stalled, disconnecting", session->device_id());
        session->abort();
      }
    });
    switch (item.kind) {
      case Outgoing::Kind::text:
        co_await ws_.async_write(asio::buffer(item.text),
                                 asio::redirect_error(asio::use_awaitable, ec));
        break;
      case Outgoing::Kind::ping:
        co_await ws_.async_ping({}, asio::redirect_error(asio::use_awaitable, ec));
        break;
      case Outgoing::Kind::close:
        co_await ws_.async_close(
            websocket::close_reason(static_cast<websocket::close_code>(item.close_code), item.text),
            asio::redirect_error(asio::use_awaitable, ec));
        write_deadline_.cancel();
        co_return;
    }
    write_deadline_.cancel();
    if (ec) {
      abort();
      co_return;
    }
  }
}

asio::awaitable<void> SessionBase::heartbeat_loop(
    [[maybe_unused]] std::shared_ptr<SessionBase> self) {
  boost::system::error_code ec;
  while (!closing_) {
    heartbeat_.expires_after(state_->settings_.heartbeat);
    co_await heartbeat_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || closing_) {
      co_return;
    }
    const auto ping_sent = std::chrono::steady_clock::now();
    enqueue({Outgoing::Kind::ping, {}, 0});
    heartbeat_.expires_after(state_->settings_.pong_timeout);
    co_await heartbeat_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || closing_) {
      co_return;
    }
    if (last_pong_ < ping_sent) {
      spdlog::info("terminal {}: no pong within {} s, connection is dead", device_id_,
                   state_->settings_.pong_timeout.count());
      abort();
      co_return;
    }
  }
}

asio::awaitable<bool> SessionBase::authenticate(Hello hello) {
  auto find_device_in_store = [id = hello.device_id](store::Store& store) {
    return store.find_device(id);
  };
  auto device = co_await state_->store_.read(std::move(find_device_in_store));
  const std::string presented_hash = crypto::sha256_hex(hello.device_secret);
  // Compare even for unknown devices, so timing does not reveal which device ids exist.
  const bool secret_ok = crypto::constant_time_equal(
      device ? device->secret_hash : std::string(presented_hash.size(), '0'), presented_hash);
  if (!device || !secret_ok || device->revoked_at || closing_) {
    co_return false;
  }
  device_id_ = device->device_id;
  merchant_id_ = device->merchant_id;
  connection_id_ = domain::new_prefixed_id("conn_");
  connected_at_ = last_activity_ = state_->clock_.now();
  authenticated_ = true;
  auto& current = state_->by_device_[device_id_];
  if (current) {
    spdlog::info("terminal {}: new connection replaces {}", device_id_, current->connection_id());
    state_->device_by_connection_.erase(current->connection_id());
    current->close(kCloseReplaced, "replaced by a newer connection");
  }
  current = shared_from_this();
  state_->device_by_connection_[connection_id_] = device_id_;
  state_->disconnected_at_.erase(device_id_);
  co_return true;
}

asio::awaitable<void> SessionBase::dispatch(InboundMessage message) {
  auto& coordinator = *state_->coordinator_;
  if (auto* ack = std::get_if<PaymentAck>(&message)) {
    if (!co_await coordinator.acknowledge(merchant_id_, device_id_, ack->transaction_id)) {
      protocol_error("transaction " + ack->transaction_id + " is not this terminal's");
    }
  } else if (auto* result = std::get_if<PaymentResult>(&message)) {
    const std::string transaction_id = result->transaction_id;
    payments::TerminalResult recorded{result->transaction_id, result->event,
                                      std::move(result->response_json)};
    const auto outcome =
        co_await coordinator.record_result(merchant_id_, device_id_, std::move(recorded));
    if (!outcome.belongs_to_terminal) {
      protocol_error("transaction " + transaction_id + " is not this terminal's");
    } else {
      // Only now: the result is durably recorded.
      send_text(encode_result_ack(transaction_id, outcome.recorded_status));
    }
  } else if (auto* voided = std::get_if<PaymentVoided>(&message)) {
    if (!co_await coordinator.acknowledge(merchant_id_, device_id_, voided->transaction_id)) {
      protocol_error("transaction " + voided->transaction_id + " is not this terminal's");
    } else {
      spdlog::info("terminal {} reversed transaction {}", device_id_, voided->transaction_id);
    }
  } else {
    protocol_error("hello was already accepted on this connection");
  }
}

asio::awaitable<void> SessionBase::handle_frame(std::string text) {
  last_activity_ = state_->clock_.now();
  if (closing_) {
    co_return;  // draining until the close handshake completes
  }
  auto decoded = decode(text);
  if (!decoded) {
    if (decoded.error().invalid_json) {
      close(static_cast<std::uint16_t>(websocket::close_code::bad_payload), "invalid JSON");
    } else if (!authenticated_) {
      refuse("hello must be the first frame");
    } else {
      protocol_error(decoded.error().message);
    }
    co_return;
  }
  if (!authenticated_) {
    auto* hello = std::get_if<Hello>(&*decoded);
    if (hello == nullptr) {
      refuse("hello must be the first frame");
    } else if (!co_await authenticate(std::move(*hello))) {
      (void)state_->auth_failures_.admit(remote_address_, net::RateLimiter::Clock::now());
      refuse("unknown device, wrong secret, or revoked device");
    } else {
      heartbeat_.cancel();  // it was the hello deadline
      send_text(encode_hello_ok(connection_id_,
                                static_cast<int>(state_->settings_.heartbeat.count()),
                                state_->clock_.now()));
      asio::co_spawn(signal_.get_executor(), heartbeat_loop(shared_from_this()), asio::detached);
      co_await state_->coordinator_->terminal_connected(device_id_);
    }
    co_return;
  }
  co_await dispatch(std::move(*decoded));
}

template <class Stream>
asio::awaitable<void> Session<Stream>::read_loop() {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  while (true) {
    buffer.clear();
    co_await ws_.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return;
    }
    std::string text = beast::buffers_to_string(buffer.data());
    co_await handle_frame(std::move(text));
  }
}

void SessionBase::start_hello_deadline() {
  heartbeat_.expires_after(state_->settings_.hello_timeout);
  heartbeat_.async_wait([weak = weak_from_this()](boost::system::error_code timer_ec) {
    if (auto session = weak.lock(); session && !timer_ec && !session->authenticated_) {
      session->refuse("no hello within the hello timeout");
    }
  });
}

void SessionBase::finish() {
  closing_ = true;
  heartbeat_.cancel();
  signal_.cancel();
  detach();
  abort();
}

void SessionBase::detach() {
  state_->sessions_.erase(this);
  if (const auto it = state_->sessions_per_address_.find(remote_address_);
      it != state_->sessions_per_address_.end() && --it->second == 0) {
    state_->sessions_per_address_.erase(it);
  }
  if (!authenticated_) {
    return;
  }
  state_->device_by_connection_.erase(connection_id_);
  const auto it = state_->by_device_.find(device_id_);
  if (it != state_->by_device_.end() && it->second.get() == this) {
    state_->by_device_.erase(it);
    state_->disconnected_at_[device_id_] = state_->clock_.now();
    // Only the current connection's loss matters: a replaced one has a successor.
    state_->coordinator_->terminal_disconnected(device_id_);
  }
}

template <class Stream>
asio::awaitable<void> Session<Stream>::run(std::shared_ptr<Session> self,
                                           beast::http::request<beast::http::string_body> request) {
  auto& settings = self->state_->settings_;
  self->ws_.read_message_max(settings.max_frame_bytes);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = settings.hello_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  self->ws_.set_option(timeouts);
  self->ws_.control_callback([raw = self.get()](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) {
      raw->last_pong_ = std::chrono::steady_clock::now();
    }
  });
  boost::system::error_code ec;
  co_await self->ws_.async_accept(request, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    asio::co_spawn(self->ws_.get_executor(), self->write_loop(self), asio::detached);
    self->start_hello_deadline();
    try {
      co_await self->read_loop();
    } catch (const std::exception& error) {
      spdlog::error("terminal session {} failed: {}", self->device_id_, error.what());
    }
  }
  self->finish();
}

}  // namespace

void TerminalGateway::State::note_refusal(std::string_view why) {
  ++refusals_unlogged_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ >= std::chrono::seconds(1)) {
    spdlog::warn("{} terminal connections refused in the last second or so: {}", refusals_unlogged_,
                 why);
    refusals_unlogged_ = 0;
    last_refusal_log_ = now;
  }
}

bool TerminalGateway::State::send(const std::string& device_id, std::string frame) {
  const auto it = by_device_.find(device_id);
  return it != by_device_.end() && it->second->send_text(std::move(frame));
}

TerminalGateway::TerminalGateway(asio::any_io_executor executor, store::AsyncStore& store,
                                 const domain::Clock& clock, net::RateLimiter& auth_failures,
                                 TerminalSettings settings)
    : state_(std::make_shared<State>(std::move(executor), store, clock, auth_failures, settings)) {}

TerminalGateway::~TerminalGateway() = default;

void TerminalGateway::set_coordinator(PaymentCoordinator& coordinator) {
  state_->coordinator_ = &coordinator;
}

bool TerminalGateway::accepts_upgrade(std::string_view path) const {
  return path == "/v1/terminal/ws";
}

namespace {

// The caps and the failed-hello budget, then a session over `stream` (plain or TLS).
template <class Stream>
void start_session(const std::shared_ptr<TerminalGateway::State>& state, Stream stream,
                   beast::http::request<beast::http::string_body> request) {
  // Refused connections close as the stream goes out of scope, before the handshake.
  if (state->stopping_) {
    return;
  }
  boost::system::error_code ec;
  const auto endpoint = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
  std::string remote = ec ? std::string("unknown") : endpoint.address().to_string();
  if (state->sessions_.size() >= state->settings_.max_connections) {
    state->note_refusal("the limit of terminal connections (TILLGATE_MAX_TERMINAL_CONNECTIONS)");
    return;
  }
  auto& from_address = state->sessions_per_address_[remote];
  if (from_address >= state->settings_.max_connections_per_address) {
    state->note_refusal("an address reached its limit (TILLGATE_MAX_TERMINAL_CONNECTIONS_PER_IP)");
    return;
  }
  if (state->auth_failures_.blocked(remote, net::RateLimiter::Clock::now())) {
    if (from_address == 0) {
      state->sessions_per_address_.erase(remote);
    }
    state->note_refusal("an address failed too many hellos (TILLGATE_AUTH_FAILURE_RATE_LIMIT_RPS)");
    return;
  }
  ++from_address;
  auto session = std::make_shared<Session<Stream>>(state, std::move(stream), std::move(remote));
  state->sessions_.insert(session.get());
  asio::co_spawn(state->executor_, Session<Stream>::run(session, std::move(request)),
                 asio::detached);
}

}  // namespace

void TerminalGateway::upgrade(beast::tcp_stream stream,
                              beast::http::request<beast::http::string_body> request) {
  start_session(state_, std::move(stream), std::move(request));
}

void TerminalGateway::upgrade(net::TlsStream stream,
                              beast::http::request<beast::http::string_body> request) {
  start_session(state_, std::move(stream), std::move(request));
}

bool TerminalGateway::send_payment_request(const store::TransactionRecord& transaction) {
  return state_->send(transaction.device_id, encode_payment_request(transaction));
}

bool TerminalGateway::send_payment_cancel(const std::string& device_id,
                                          const std::string& transaction_id,
                                          std::string_view reason) {
  return state_->send(device_id, encode_payment_cancel(transaction_id, reason));
}

bool TerminalGateway::send_payment_void(const std::string& device_id,
                                        const std::string& transaction_id,
                                        std::string_view reason) {
  return state_->send(device_id, encode_payment_void(transaction_id, reason));
}

std::optional<payments::TerminalConnection> TerminalGateway::connection(
    const std::string& device_id) const {
  const auto it = state_->by_device_.find(device_id);
  if (it == state_->by_device_.end()) {
    return std::nullopt;
  }
  return payments::TerminalConnection{it->second->connection_id(), it->second->connected_at(),
                                      it->second->last_activity()};
}

bool TerminalGateway::reachable(const std::string& device_id) const {
  if (state_->by_device_.contains(device_id)) {
    return true;
  }
  const auto it = state_->disconnected_at_.find(device_id);
  return it != state_->disconnected_at_.end() &&
         state_->clock_.now() - it->second < state_->settings_.reconnect_grace;
}

std::optional<std::string> TerminalGateway::device_for_connection(
    const std::string& connection_id) const {
  const auto it = state_->device_by_connection_.find(connection_id);
  if (it == state_->device_by_connection_.end()) {
    return std::nullopt;
  }
  return it->second;
}

// The session leaves the registry at once (so the device is neither connected nor inside a
// reconnect grace), then closes with 4001. Its unfinished payment, if any, runs out as
// after a drop: the terminal can no longer answer.
void TerminalGateway::revoke(const std::string& device_id) {
  state_->disconnected_at_.erase(device_id);
  const auto it = state_->by_device_.find(device_id);
  if (it == state_->by_device_.end()) {
    return;
  }
  const auto session = it->second;
  state_->by_device_.erase(it);
  state_->device_by_connection_.erase(session->connection_id());
  session->close(kCloseUnauthorized, "device revoked");
  if (state_->coordinator_ != nullptr && !state_->stopping_) {
    state_->coordinator_->terminal_disconnected(device_id);
  }
}

void TerminalGateway::disconnect(const std::string& device_id, std::uint16_t code,
                                 std::string_view reason) {
  if (const auto it = state_->by_device_.find(device_id); it != state_->by_device_.end()) {
    it->second->close(code, std::string(reason));
  }
}

asio::awaitable<void> TerminalGateway::shutdown(std::chrono::milliseconds grace) {
  auto state = state_;
  state->stopping_ = true;
  for (auto& [device_id, session] : state->by_device_) {
    session->close(static_cast<std::uint16_t>(websocket::close_code::going_away),
                   "gateway shutting down");
  }
  asio::steady_timer timer(state->executor_);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  boost::system::error_code ec;
  while (!state->sessions_.empty() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  for (SessionBase* session :
       std::vector<SessionBase*>(state->sessions_.begin(), state->sessions_.end())) {
    session->abort();
  }
  // Aborted sockets fail their pending reads at once; let each session run to its end so
  // nothing is left suspended when the loop stops.
  const auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!state->sessions_.empty() && std::chrono::steady_clock::now() < drain_deadline) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

std::size_t TerminalGateway::connected() const {
  return state_->by_device_.size();
}

}  // namespace tillgate::terminal
