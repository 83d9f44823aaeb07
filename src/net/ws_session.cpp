#include "net/ws_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/system/system_error.hpp>
#include <cassert>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "net/deadline_queue.hpp"
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

// The first read of a message takes at most this many bytes: the buffer an idle session
// holds while it waits (Beast's frame buffer in the stream holds what the socket gave); the
// rest of the message follows into the same buffer, which goes with the message.
constexpr std::size_t kFirstReadBytes = 64;

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

// A session is one task of the surface's group, a chain of completion handlers
// (TaskGroup::Chain): the handshake, then the reads, each message handed to the protocol's
// on_frame() coroutine, and the next read once that ended. Its frames are written by a
// second chain of handlers that runs only while the outbox holds frames, and its deadlines
// wait in the surface's DeadlineQueue: an idle session holds no coroutine, timer or task
// beside its one pending read. The pending read, the handshake and the running on_frame()
// are bound to the task's cancellation slot, so the group's cancel() reaches whichever is
// pending, and the chain starts nothing after it.
template <class Stream>
class WsConnection final : public WsSession, private DeadlineQueue::Client {
 public:
  WsConnection(const WsSessionContext& context, Stream stream, std::shared_ptr<WsProtocol> protocol,
               Admission::Ticket ticket, TaskGroup::Chain task)
      : context_(context),
        task_(std::move(task)),
        ws_(std::move(stream)),
        protocol_(std::move(protocol)),
        ticket_(std::move(ticket)),
        room_(ws_.get_executor(), asio::steady_timer::time_point::max()),
        deadline_(*this) {}

  // The session's task: the handshake, then the reads.
  void begin(UpgradeRequest request);

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
  asio::ip::tcp::socket& socket() {
    if constexpr (std::is_same_v<Stream, asio::ip::tcp::socket>) {
      return ws_.next_layer();
    } else {
      return beast::get_lowest_layer(ws_).socket();
    }
  }
  std::shared_ptr<WsConnection> shared() {
    return std::static_pointer_cast<WsConnection>(shared_from_this());
  }
  void configure();
  void on_accepted(boost::system::error_code ec);
  bool open();
  void read_next(std::size_t limit);
  void on_read(boost::system::error_code ec);
  void on_frame_done(std::exception_ptr error);
  template <class Step>
  bool step(Step&& next);
  void write_next();
  void on_written(boost::system::error_code ec);
  bool enqueue(Outgoing item);
  [[nodiscard]] std::size_t queued() const { return outbox_.size() - outbox_head_; }
  // The frames the session holds: queued, and the one being written.
  [[nodiscard]] std::size_t held() const { return queued() + (writing_ ? 1 : 0); }
  Outgoing take_oldest();
  void cut_off_slow_reader();
  void log_failure(std::exception_ptr error) const;
  void finish();
  // The deadlines: the earliest that still matters, arming the clock for it, and what
  // happens when the clock fires.
  [[nodiscard]] std::optional<Timestamp> next_deadline() const;
  void arm_clock();
  void on_deadline() override;
  void on_time(Timestamp now);
  void on_heartbeat_time(Timestamp now);

  WsSessionContext context_;
  TaskGroup::Chain task_;  // the session in context_.group, until finish()
  websocket::stream<Stream> ws_;
  std::shared_ptr<WsProtocol> protocol_;
  Admission::Ticket ticket_;
  asio::steady_timer room_;  // never expires: cancelled to wake drained()
  // In the surface's DeadlineQueue for next_deadline().
  DeadlineQueue::Entry deadline_;
  // Frames to write, oldest first, from outbox_[outbox_head_]; the one being written is
  // `writing_`. A vector, not a deque: an empty one holds no memory (a deque holds a
  // block of half a kilobyte), and it is short (max_outbox_frames).
  std::vector<Outgoing> outbox_;
  std::size_t outbox_head_ = 0;
  std::optional<Outgoing> writing_;
  beast::flat_buffer read_buffer_;  // the message being read
  bool opened_ = false;             // the handshake completed and the protocol knows the session
  bool closing_ = false;            // nothing more is queued
  bool ended_ = false;              // finish() ran
  Heartbeat heartbeat_ = Heartbeat::off;
  bool pong_received_ = false;  // since the last ping
  std::optional<Timestamp> open_deadline_;
  std::optional<Timestamp> heartbeat_at_;  // the next ping, or the pong's deadline
  std::optional<Timestamp> write_deadline_;
  std::optional<Timestamp> armed_at_;  // what deadline_ is queued for
};

// The request is needed only here: Beast builds its answer from it before async_accept
// returns.
template <class Stream>
void WsConnection<Stream>::begin(UpgradeRequest request) {
  [[maybe_unused]] const bool inserted = context_.live.insert(this).second;
  assert(inserted && "a WebSocket session is started once");
  configure();
  ws_.async_accept(request, asio::bind_cancellation_slot(
                                task_.slot(), [self = shared()](boost::system::error_code ec) {
                                  self->on_accepted(ec);
                                }));
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

template <class Stream>
void WsConnection<Stream>::on_accepted(boost::system::error_code ec) {
  task_.slot().clear();  // what the completed operation left there
  if (ec) {
    spdlog::debug("WebSocket handshake with {} failed: {}", remote_address(), ec.message());
  }
  if (ec || task_.cancelled() || !step([this] { return open(); })) {
    finish();
    return;
  }
  read_next(kFirstReadBytes);
}

// One step of the chain that may throw (the protocol's, an allocation's): what it throws
// ends the session, as it ended the coroutine the session was before, instead of reaching
// the loop that runs the handlers. false when it threw.
template <class Stream>
template <class Step>
bool WsConnection<Stream>::step(Step&& next) {
  try {
    return std::forward<Step>(next)();
  } catch (...) {
    log_failure(std::current_exception());
    return false;
  }
}

// After the handshake: the protocol learns of the session and the open deadline starts.
// false when the group closed meanwhile (the surface is shutting down).
template <class Stream>
bool WsConnection<Stream>::open() {
  if (context_.group.closed()) {
    return false;
  }
  opened_ = true;
  open_deadline_ = context_.time.now() + context_.settings.open_timeout;
  protocol_->on_open(weak_from_this());
  arm_clock();
  return true;
}

// Reads (part of) a message: while it waits for one the session holds only
// kFirstReadBytes of its own (`limit`), the rest of the message follows with no limit but
// Beast's, max_message_bytes (above it Beast fails the read and closes with 1009 itself).
template <class Stream>
void WsConnection<Stream>::read_next(std::size_t limit) {
  ws_.async_read_some(read_buffer_, limit,
                      asio::bind_cancellation_slot(
                          task_.slot(), [self = shared()](boost::system::error_code ec,
                                                          std::size_t) { self->on_read(ec); }));
}

// The connection failed or closed, the group cancelled the session, the message goes on,
// or it is whole: the protocol's on_frame() runs, and the next read starts once it ended.
template <class Stream>
void WsConnection<Stream>::on_read(boost::system::error_code ec) {
  task_.slot().clear();  // what the completed operation left there
  if (ec || task_.cancelled()) {
    finish();
    return;
  }
  if (!ws_.is_message_done()) {
    read_next(0);
    return;
  }
  const bool started = step([this] {
    std::string text = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.clear();
    read_buffer_.shrink_to_fit();
    asio::co_spawn(
        ws_.get_executor(), protocol_->on_frame(std::move(text)),
        asio::bind_cancellation_slot(task_.slot(), [self = shared()](std::exception_ptr error) {
          self->on_frame_done(std::move(error));
        }));
    return true;
  });
  if (!started) {
    finish();
  }
}

// An exception from on_frame() ends the session (cancellation's at debug level).
template <class Stream>
void WsConnection<Stream>::on_frame_done(std::exception_ptr error) {
  task_.slot().clear();  // what the completed operation left there
  if (error) {
    log_failure(error);
  }
  if (error || task_.cancelled()) {
    finish();
    return;
  }
  read_next(kFirstReadBytes);
}

// Starts writing the oldest queued frame, unless one is being written: each write's
// completion starts the next, until the outbox is empty.
template <class Stream>
void WsConnection<Stream>::write_next() {
  if (writing_ || queued() == 0 || !socket().is_open()) {
    return;
  }
  writing_ = take_oldest();
  write_deadline_ = context_.time.now() + context_.settings.write_timeout;
  arm_clock();
  // The handler holds the session: the frame it writes lives in writing_ until then.
  auto done = [self = shared()](boost::system::error_code ec, std::size_t) {
    self->on_written(ec);
  };
  switch (writing_->kind) {
    case Outgoing::Kind::text:
      ws_.async_write(asio::buffer(writing_->text), std::move(done));
      break;
    case Outgoing::Kind::ping:
      ws_.async_ping(websocket::ping_data{},
                     [done = std::move(done)](boost::system::error_code ec) { done(ec, 0); });
      break;
    case Outgoing::Kind::close:
      ws_.async_close(websocket::close_reason(
                          static_cast<websocket::close_code>(writing_->close_code), writing_->text),
                      [done = std::move(done)](boost::system::error_code ec) { done(ec, 0); });
      break;
  }
}

template <class Stream>
Outgoing WsConnection<Stream>::take_oldest() {
  Outgoing oldest = std::move(outbox_[outbox_head_++]);
  if (outbox_head_ == outbox_.size()) {
    outbox_.clear();
    outbox_head_ = 0;
  } else if (outbox_head_ >= context_.settings.max_outbox_frames) {
    // A session whose outbox never empties (a paced replay) would otherwise keep every
    // frame it ever sent as a moved-from slot: the taken ones go once they are as many as
    // the outbox may hold, so the vector stays within twice the bound.
    outbox_.erase(outbox_.begin(), outbox_.begin() + static_cast<std::ptrdiff_t>(outbox_head_));
    outbox_head_ = 0;
  }
  return oldest;
}

template <class Stream>
void WsConnection<Stream>::on_written(boost::system::error_code ec) {
  const bool last = writing_ && writing_->kind == Outgoing::Kind::close;
  writing_.reset();
  write_deadline_.reset();  // the deadline queued for it fires for nothing and re-arms
  room_.cancel();           // a frame left the outbox
  if (ended_) {
    return;
  }
  if (ec) {
    abort();
    return;
  }
  if (!last) {
    write_next();
  }
}

template <class Stream>
bool WsConnection<Stream>::enqueue(Outgoing item) {
  if (closing_) {
    return false;
  }
  if (item.kind == Outgoing::Kind::close) {
    closing_ = true;
    room_.cancel();
  } else if (held() >= context_.settings.max_outbox_frames) {
    cut_off_slow_reader();
    return false;
  }
  outbox_.push_back(std::move(item));
  write_next();
  return true;
}

// The outbox is full: the peer is not reading. What is queued is dropped (a protocol whose
// frames matter makes them recoverable: a POS client resumes) and the close frame goes
// next, under the write deadline like any frame; a peer that reads nothing at all is then
// cut off by that deadline.
template <class Stream>
void WsConnection<Stream>::cut_off_slow_reader() {
  spdlog::warn("{} is not reading its frames ({} queued): closing with {}", protocol_->describe(),
               held(), kCloseSlowReader);
  outbox_.clear();
  outbox_head_ = 0;
  enqueue({Outgoing::Kind::close, "slow reader: outbox full", kCloseSlowReader});
}

template <class Stream>
asio::awaitable<bool> WsConnection<Stream>::drained(std::size_t frames) {
  const auto self = shared_from_this();  // the wait may outlast the caller's handle
  boost::system::error_code ec;
  while (!closing_ && held() > frames) {
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
void WsConnection<Stream>::on_deadline() {
  armed_at_.reset();
  on_time(context_.time.now());
  arm_clock();
}

template <class Stream>
std::optional<Timestamp> WsConnection<Stream>::next_deadline() const {
  if (closing_) {
    return write_deadline_;  // the close frame's write is all that is left to watch
  }
  const auto heartbeat = heartbeat_ == Heartbeat::off ? std::nullopt : heartbeat_at_;
  return earliest(earliest(open_deadline_, heartbeat), write_deadline_);
}

// Queued for an earlier deadline only: when one goes away (a write completed) the queue
// calls for nothing and the session queues its next, which costs less than moving the
// entry at every write. Refused only while the surface shuts down, whose grace bounds it.
template <class Stream>
void WsConnection<Stream>::arm_clock() {
  const auto next = next_deadline();
  if (ended_ || !next || (armed_at_ && *armed_at_ <= *next)) {
    return;
  }
  if (context_.deadlines.schedule(deadline_, *next)) {
    armed_at_ = next;
  }
}

template <class Stream>
void WsConnection<Stream>::on_time(Timestamp now) {
  if (write_deadline_ && now >= *write_deadline_) {
    spdlog::warn("{}: write stalled, disconnecting", protocol_->describe());
    write_deadline_.reset();  // the write fails now that the socket is closed
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

// The end, whatever caused it: the protocol is told, the socket closed (a write in
// flight fails and its handler lets the session go), the deadline taken out, the
// connection's admission ticket returned, and the session's task ended in its group.
template <class Stream>
void WsConnection<Stream>::finish() {
  assert(!ended_ && "a WebSocket session ends once");
  ended_ = true;
  closing_ = true;
  room_.cancel();
  context_.deadlines.remove(deadline_);
  armed_at_.reset();
  if (opened_) {
    step([this] {
      protocol_->on_close();
      return true;
    });
  }
  abort();
  [[maybe_unused]] const auto erased = context_.live.erase(this);
  assert(erased == 1);
  ticket_ = Admission::Ticket();
  task_.end();
}

template <class Stream>
bool start(const WsSessionContext& context, Stream stream, UpgradeRequest request,
           std::shared_ptr<WsProtocol> protocol, Admission::Ticket ticket) {
  auto task = context.group.join("ws session");
  if (!task) {
    return false;
  }
  auto session = std::make_shared<WsConnection<Stream>>(
      context, std::move(stream), std::move(protocol), std::move(ticket), std::move(task));
  session->begin(std::move(request));
  return true;
}

}  // namespace

// A plain session runs over the bare socket: beast::tcp_stream's timers and per-operation
// state (about 1 KB of an idle connection) do nothing for a session, whose deadlines are
// its own. (Under TLS the stream stays: the SSL stream is built on it.)
bool start_ws_session(const WsSessionContext& context, beast::tcp_stream stream,
                      UpgradeRequest request, std::shared_ptr<WsProtocol> protocol,
                      Admission::Ticket ticket) {
  stream.expires_never();
  return start(context, stream.release_socket(), std::move(request), std::move(protocol),
               std::move(ticket));
}

bool start_ws_session(const WsSessionContext& context, TlsStream stream, UpgradeRequest request,
                      std::shared_ptr<WsProtocol> protocol, Admission::Ticket ticket) {
  return start(context, std::move(stream), std::move(request), std::move(protocol),
               std::move(ticket));
}

}  // namespace tillgate::net
