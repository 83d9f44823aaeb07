#include "net/ws_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/system/system_error.hpp>
#include <cassert>
#include <deque>
#include <exception>
#include <optional>
#include <utility>

#include "net/task_group.hpp"
#include "net/time_source.hpp"
#include "net/tls_stream.hpp"

namespace tillgate::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using domain::Timestamp;

WsSession::~WsSession() = default;
WsProtocol::~WsProtocol() = default;

namespace {

struct Outgoing {
  enum class Kind { text, ping, close } kind = Kind::text;
  std::string text;  // the frame, or the close reason
  std::uint16_t close_code = 0;
};

// The heartbeat's state once established: waiting to ping, or waiting for the pong.
enum class Heartbeat { off, ping_due, pong_due };

std::optional<Timestamp> earliest(std::optional<Timestamp> a, std::optional<Timestamp> b) {
  if (!a) {
    return b;
  }
  if (!b) {
    return a;
  }
  return std::min(*a, *b);
}

template <class Stream>
class WsConnection final : public WsSession {
 public:
  WsConnection(const WsSessionContext& context, Stream stream, std::shared_ptr<WsProtocol> protocol,
               Admission::Ticket ticket)
      : context_(context),
        ws_(std::move(stream)),
        protocol_(std::move(protocol)),
        ticket_(std::move(ticket)),
        wake_writer_(ws_.get_executor(), asio::steady_timer::time_point::max()),
        room_(ws_.get_executor(), asio::steady_timer::time_point::max()),
        clock_(context.time.make_timer(ws_.get_executor())) {}

  // The session's first task: the handshake, the other two tasks, then the read loop.
  static asio::awaitable<void> run(std::shared_ptr<WsConnection> self, UpgradeRequest request);

  bool send_text(std::string frame) override {
    return enqueue({Outgoing::Kind::text, std::move(frame), 0});
  }
  void close(std::uint16_t code, std::string reason) override {
    enqueue({Outgoing::Kind::close, std::move(reason), code});
  }
  void abort() override {
    closing_ = true;
    room_.cancel();
    boost::system::error_code ec;
    socket().close(ec);
  }
  asio::awaitable<bool> drained(std::size_t frames) override;
  void establish() override;
  [[nodiscard]] bool closing() const override { return closing_; }
  [[nodiscard]] const std::string& remote_address() const override { return ticket_.address(); }

 private:
  asio::ip::tcp::socket& socket() { return beast::get_lowest_layer(ws_).socket(); }
  void configure();
  asio::awaitable<bool> handshake(UpgradeRequest request);
  bool start_tasks();
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop(std::shared_ptr<WsConnection> self);
  asio::awaitable<bool> write(Outgoing item);
  asio::awaitable<void> clock_loop(std::shared_ptr<WsConnection> self);
  bool enqueue(Outgoing item);
  void cut_off_slow_reader();
  void log_failure(std::exception_ptr error) const;
  void finish();
  // The deadlines: the earliest that still matters, arming the clock for it, and what
  // happens when the clock fires.
  [[nodiscard]] std::optional<Timestamp> next_deadline() const;
  void arm_clock();
  void on_time(Timestamp now);
  void on_heartbeat_time(Timestamp now);

  WsSessionContext context_;
  websocket::stream<Stream> ws_;
  std::shared_ptr<WsProtocol> protocol_;
  Admission::Ticket ticket_;
  asio::steady_timer wake_writer_;  // never expires: cancelled to wake the write loop
  asio::steady_timer room_;         // never expires: cancelled to wake drained()
  std::unique_ptr<Timer> clock_;    // armed for next_deadline()
  std::deque<Outgoing> outbox_;
  bool opened_ = false;   // the handshake completed and the protocol knows the session
  bool closing_ = false;  // nothing more is queued
  bool ended_ = false;    // finish() ran
  Heartbeat heartbeat_ = Heartbeat::off;
  bool pong_received_ = false;  // since the last ping
  std::optional<Timestamp> open_deadline_;
  std::optional<Timestamp> heartbeat_at_;  // the next ping, or the pong's deadline
  std::optional<Timestamp> write_deadline_;
  std::optional<Timestamp> armed_at_;  // what clock_ is armed for
};

template <class Stream>
asio::awaitable<void> WsConnection<Stream>::run(std::shared_ptr<WsConnection> self,
                                                UpgradeRequest request) {
  [[maybe_unused]] const bool inserted = self->context_.live.insert(self.get()).second;
  assert(inserted && "a WebSocket session is started once");
  try {
    const bool open = co_await self->handshake(std::move(request));
    if (open && self->start_tasks()) {
      co_await self->read_loop();
    }
  } catch (...) {
    self->log_failure(std::current_exception());
  }
  self->finish();  // whatever ended the session, cancellation included
}

template <class Stream>
void WsConnection<Stream>::configure() {
  ws_.read_message_max(context_.settings.max_message_bytes);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = context_.settings.handshake_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();  // the heartbeat's job
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  // Owned by ws_, which this session owns: `this` outlives the callback.
  ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) {
      pong_received_ = true;
    }
  });
}

// The request lives only in this frame, not for the whole session.
template <class Stream>
asio::awaitable<bool> WsConnection<Stream>::handshake(UpgradeRequest request) {
  configure();
  boost::system::error_code ec;
  co_await ws_.async_accept(request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    spdlog::debug("WebSocket handshake with {} failed: {}", remote_address(), ec.message());
  }
  co_return !ec;
}

// After the handshake: the protocol learns of the session, the open deadline starts, and
// the write loop and the clock join the group. false when the group closed meanwhile.
template <class Stream>
bool WsConnection<Stream>::start_tasks() {
  if (context_.group.closed()) {
    return false;
  }
  opened_ = true;
  open_deadline_ = context_.time.now() + context_.settings.open_timeout;
  protocol_->on_open(weak_from_this());
  auto self = std::static_pointer_cast<WsConnection>(shared_from_this());
  // Helpers of the session: its end (finish(), also when the group cancels it) wakes and
  // stops both, so they need no cancellation of their own.
  [[maybe_unused]] const bool writing = context_.group.spawn_helper("ws writer", write_loop(self));
  [[maybe_unused]] const bool timing = context_.group.spawn_helper("ws clock", clock_loop(self));
  assert(writing && timing && "the group closed while a session was starting");
  return true;
}

template <class Stream>
asio::awaitable<void> WsConnection<Stream>::read_loop() {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  while (true) {
    buffer.clear();
    // Over max_message_bytes Beast fails the read and closes with 1009 itself.
    co_await ws_.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return;
    }
    std::string text = beast::buffers_to_string(buffer.data());
    co_await protocol_->on_frame(std::move(text));
  }
}

template <class Stream>
asio::awaitable<void> WsConnection<Stream>::write_loop(
    [[maybe_unused]] std::shared_ptr<WsConnection> self) {
  boost::system::error_code ec;
  while (socket().is_open()) {
    if (outbox_.empty()) {
      co_await wake_writer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      wake_writer_.expires_at(asio::steady_timer::time_point::max());
      continue;
    }
    Outgoing item = std::move(outbox_.front());
    outbox_.pop_front();
    const bool last = item.kind == Outgoing::Kind::close;
    write_deadline_ = context_.time.now() + context_.settings.write_timeout;
    arm_clock();
    const bool written = co_await write(std::move(item));
    write_deadline_.reset();  // the clock, armed for it, finds nothing due and re-arms
    room_.cancel();           // a frame left the outbox
    if (!written) {
      abort();
    }
    if (last || !written) {
      co_return;
    }
  }
}

// One frame; false when the write failed.
template <class Stream>
asio::awaitable<bool> WsConnection<Stream>::write(Outgoing item) {
  boost::system::error_code ec;
  switch (item.kind) {
    case Outgoing::Kind::text:
      co_await ws_.async_write(asio::buffer(item.text),
                               asio::redirect_error(asio::use_awaitable, ec));
      break;
    case Outgoing::Kind::ping: {
      const websocket::ping_data payload;  // named: see the GCC 12 rule in architecture.md
      co_await ws_.async_ping(payload, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    case Outgoing::Kind::close: {
      const websocket::close_reason reason(static_cast<websocket::close_code>(item.close_code),
                                           item.text);
      co_await ws_.async_close(reason, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
  }
  co_return !ec;
}

template <class Stream>
bool WsConnection<Stream>::enqueue(Outgoing item) {
  if (closing_) {
    return false;
  }
  if (item.kind == Outgoing::Kind::close) {
    closing_ = true;
    room_.cancel();
  } else if (outbox_.size() >= context_.settings.max_outbox_frames) {
    cut_off_slow_reader();
    return false;
  }
  outbox_.push_back(std::move(item));
  wake_writer_.cancel();
  return true;
}

// The outbox is full: the peer is not reading. What is queued is dropped (a protocol whose
// frames matter makes them recoverable: a POS client resumes) and the close frame goes
// next, under the write deadline like any frame; a peer that reads nothing at all is then
// cut off by that deadline.
template <class Stream>
void WsConnection<Stream>::cut_off_slow_reader() {
  spdlog::warn("{} is not reading its frames ({} queued): closing with {}", protocol_->describe(),
               outbox_.size(), kCloseSlowReader);
  outbox_.clear();
  enqueue({Outgoing::Kind::close, "slow reader: outbox full", kCloseSlowReader});
}

template <class Stream>
asio::awaitable<bool> WsConnection<Stream>::drained(std::size_t frames) {
  const auto self = shared_from_this();  // the wait may outlast the caller's handle
  boost::system::error_code ec;
  while (!closing_ && outbox_.size() > frames) {
    co_await room_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return !closing_;
}

template <class Stream>
void WsConnection<Stream>::establish() {
  assert(opened_ && heartbeat_ == Heartbeat::off && "a session is established once, when open");
  open_deadline_.reset();
  heartbeat_ = Heartbeat::ping_due;
  heartbeat_at_ = context_.time.now() + context_.settings.heartbeat;
  arm_clock();
}

template <class Stream>
asio::awaitable<void> WsConnection<Stream>::clock_loop(
    [[maybe_unused]] std::shared_ptr<WsConnection> self) {
  while (!ended_) {
    arm_clock();
    // false: re-armed for an earlier deadline, or cancelled (finish(), or the group's
    // cancellation, after which the next co_await throws).
    const bool fired = co_await clock_->wait();
    if (ended_) {
      co_return;
    }
    if (fired) {
      armed_at_.reset();
      clock_->cancel();  // a due timer's next wait would complete at once
      on_time(context_.time.now());
    }
  }
}

template <class Stream>
std::optional<Timestamp> WsConnection<Stream>::next_deadline() const {
  if (closing_) {
    return write_deadline_;  // the close frame's write is all that is left to watch
  }
  const auto heartbeat = heartbeat_ == Heartbeat::off ? std::nullopt : heartbeat_at_;
  return earliest(earliest(open_deadline_, heartbeat), write_deadline_);
}

// Armed for an earlier deadline only: when one goes away (a write completed) the clock
// fires for nothing and re-arms, which costs less than waking it at every write.
template <class Stream>
void WsConnection<Stream>::arm_clock() {
  const auto next = next_deadline();
  if (ended_ || !next || (armed_at_ && *armed_at_ <= *next)) {
    return;
  }
  armed_at_ = next;
  clock_->expires_at(*next);
}

template <class Stream>
void WsConnection<Stream>::on_time(Timestamp now) {
  if (write_deadline_ && now >= *write_deadline_) {
    spdlog::warn("{}: write stalled, disconnecting", protocol_->describe());
    abort();
    return;
  }
  if (closing_) {
    return;
  }
  if (open_deadline_ && now >= *open_deadline_) {
    open_deadline_.reset();
    protocol_->on_open_timeout();
  }
  on_heartbeat_time(now);
}

template <class Stream>
void WsConnection<Stream>::on_heartbeat_time(Timestamp now) {
  if (heartbeat_ == Heartbeat::off || closing_ || now < *heartbeat_at_) {
    return;
  }
  if (heartbeat_ == Heartbeat::ping_due) {
    pong_received_ = false;
    heartbeat_ = Heartbeat::pong_due;
    heartbeat_at_ = now + context_.settings.pong_timeout;
    enqueue({Outgoing::Kind::ping, {}, 0});
    return;
  }
  if (!pong_received_) {
    spdlog::info("{}: no pong within {} ms, connection is dead", protocol_->describe(),
                 context_.settings.pong_timeout.count());
    abort();
    return;
  }
  heartbeat_ = Heartbeat::ping_due;
  heartbeat_at_ = now + context_.settings.heartbeat;
}

template <class Stream>
void WsConnection<Stream>::log_failure(std::exception_ptr error) const {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted) {
      spdlog::debug("{}: session cancelled", protocol_->describe());
    } else {
      spdlog::error("{}: session failed: {}", protocol_->describe(), e.what());
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: session failed: {}", protocol_->describe(), e.what());
  } catch (...) {
    spdlog::error("{}: session failed: an exception not derived from std::exception",
                  protocol_->describe());
  }
}

// The end, whatever caused it: the protocol is told, the socket closed, the other two
// tasks woken to end, and the connection's admission ticket returned.
template <class Stream>
void WsConnection<Stream>::finish() {
  assert(!ended_ && "a WebSocket session ends once");
  ended_ = true;
  closing_ = true;
  wake_writer_.cancel();
  room_.cancel();
  clock_->cancel();
  if (opened_) {
    protocol_->on_close();
  }
  abort();
  [[maybe_unused]] const auto erased = context_.live.erase(this);
  assert(erased == 1);
  ticket_ = Admission::Ticket();
}

template <class Stream>
bool start(const WsSessionContext& context, Stream stream, UpgradeRequest request,
           std::shared_ptr<WsProtocol> protocol, Admission::Ticket ticket) {
  if (context.group.closed()) {
    return false;
  }
  auto session = std::make_shared<WsConnection<Stream>>(context, std::move(stream),
                                                        std::move(protocol), std::move(ticket));
  return context.group.spawn("ws session", WsConnection<Stream>::run(session, std::move(request)));
}

}  // namespace

bool start_ws_session(const WsSessionContext& context, beast::tcp_stream stream,
                      UpgradeRequest request, std::shared_ptr<WsProtocol> protocol,
                      Admission::Ticket ticket) {
  return start(context, std::move(stream), std::move(request), std::move(protocol),
               std::move(ticket));
}

bool start_ws_session(const WsSessionContext& context, TlsStream stream, UpgradeRequest request,
                      std::shared_ptr<WsProtocol> protocol, Admission::Ticket ticket) {
  return start(context, std::move(stream), std::move(request), std::move(protocol),
               std::move(ticket));
}

}  // namespace tillgate::net
