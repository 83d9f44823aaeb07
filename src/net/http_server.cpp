#include "net/http_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cassert>
#include <list>
#include <optional>
#include <type_traits>

#include "net/admission.hpp"
#include "net/deadline_queue.hpp"
#include "net/task_group.hpp"
#include "net/time_source.hpp"
#include "net/tls_stream.hpp"
#include "net/upgrade.hpp"
#include "net/upgrade_router.hpp"

namespace tillgate::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct Connection final : DeadlineQueue::Client {
  explicit Connection(tcp::socket& lowest) : socket(&lowest), idle(*this) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

  // The idle timeout came while a plain connection waited for a request: its wait ends.
  void on_deadline() override {
    boost::system::error_code ec;
    socket->cancel(ec);
  }

  tcp::socket* socket;        // the lowest layer, plain or under TLS
  bool busy = false;          // a request is being handled; shutdown lets it finish
  bool upgraded = false;      // the stream was handed to the WebSocket side
  DeadlineQueue::Entry idle;  // queued while a plain connection waits for a request
};

// The first read of a request: one read takes a typical request whole.
constexpr std::size_t kFirstReadBytes = 4096;

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, TlsStream>;

using Request = http::request<http::string_body>;

// A request's path: its target without the query.
std::string_view path_of(const Request& message) {
  const std::string_view target = message.target();
  return target.substr(0, target.find('?'));
}

// The caps of the listener, and its refusal lines naming the settings behind them.
AdmissionSettings admission_settings(const HttpServerLimits& limits) {
  AdmissionSettings s;
  s.what = "connections";
  s.max_connections = limits.max_connections;
  s.max_connections_per_address = limits.max_connections_per_address;
  s.connections_full = "the limit of open connections (TILLGATE_MAX_HTTP_CONNECTIONS) is reached";
  s.address_full = "an address reached its limit (TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP)";
  return s;
}

// Takes the body out of `message`: the handler's request is the one copy of it.
HttpRequest to_request(Request& message, std::string remote) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  const auto question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) {
    request.query = request.target.substr(question + 1);
  }
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (auto& c : name) {
      c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.remote_address = std::move(remote);
  return request;
}

http::response<http::string_body> to_message(const HttpResponse& response, unsigned version,
                                             bool keep_alive) {
  http::response<http::string_body> message{static_cast<http::status>(response.status), version};
  message.set(http::field::content_type, response.content_type);
  message.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : response.headers) {
    message.set(name, value);
  }
  message.body() = response.body;
  message.keep_alive(keep_alive);
  message.prepare_payload();
  return message;
}

}  // namespace

struct HttpServer::Impl {
  Impl(asio::io_context& io, HttpServerLimits limits, RequestHandler& handler,
       const UpgradeRouter& upgrades, TimeSource& time, std::shared_ptr<const ServerTls> tls)
      : io_(io),
        limits_(limits),
        handler_(handler),
        upgrades_(upgrades),
        tls_(std::move(tls)),
        acceptor_(io),
        admission_(admission_settings(limits)),
        group_(io.get_executor(), "http server"),
        time_(time),
        idle_deadlines_(group_, time) {}

  asio::io_context& io_;
  HttpServerLimits limits_;
  RequestHandler& handler_;
  const UpgradeRouter& upgrades_;
  std::shared_ptr<const ServerTls> tls_;  // null: plain HTTP
  tcp::acceptor acceptor_;
  std::list<Connection*> connections_;
  // Connections from their accept until the HTTP session ends (an upgraded connection is
  // the WebSocket surface's to count from then on).
  Admission admission_;
  // The accept loop and every connection: shutdown waits for them, and an exception that
  // ends one is logged by the group, not lost.
  TaskGroup group_;
  TimeSource& time_;
  // The idle timeouts of the plain connections waiting for a request (their queue's task
  // runs in group_): a waiting connection holds a queue node, not a timer and its operation.
  DeadlineQueue idle_deadlines_;
  bool stopping_ = false;

  asio::awaitable<void> accept_loop();
  void admit(tcp::socket socket);
  template <class Stream>
  Stream open_stream(tcp::socket socket);
  template <class Stream>
  asio::awaitable<void> serve_connection(tcp::socket socket, Admission::Ticket ticket);
  asio::awaitable<bool> handshake(TlsStream& stream, const std::string& remote);
  template <class Stream>
  asio::awaitable<void> close_connection(Stream& stream);
  asio::awaitable<boost::system::error_code> read_first_bytes(tcp::socket& socket,
                                                              beast::flat_buffer& buffer,
                                                              Connection& connection);
  template <class Stream>
  asio::awaitable<std::optional<Request>> read_request(Stream& stream, beast::flat_buffer& buffer,
                                                       Connection& connection);
  template <class Stream>
  asio::awaitable<void> refuse_request(Stream& stream, const boost::system::error_code& ec,
                                       const http::request_parser<http::string_body>& parser);
  template <class Stream>
  bool hand_off(Stream& stream, Request& message, Connection& connection);
  asio::awaitable<HttpResponse> start_handler(Request& message, const std::string& remote,
                                              std::string& method, std::string& path);
  template <class Stream>
  asio::awaitable<bool> answer(Stream& stream, Request& message, Connection& connection,
                               const std::string& remote);
  template <class Stream>
  asio::awaitable<bool> write_answer(Stream& stream, const HttpResponse& response, unsigned version,
                                     bool keep_alive);
  template <class Stream>
  asio::awaitable<void> write_refusal(Stream& stream, int status, std::string code,
                                      std::string message, std::string path);
};

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  // After a failed accept (EMFILE, ENFILE, ENOBUFS: out of descriptors or memory) the
  // pending connection is still there, so retrying at once would spin and log without
  // end: wait, doubling from 10 ms to 1 s, while the connections we have are served.
  constexpr std::chrono::milliseconds kFirstAcceptRetry{10};
  constexpr std::chrono::milliseconds kMaxAcceptRetry{1000};
  auto accept_retry = kFirstAcceptRetry;
  asio::steady_timer accept_backoff(io_);
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) {
        break;
      }
      if (accept_retry == kFirstAcceptRetry) {
        spdlog::warn("accept failed: {}; retrying with backoff up to {} ms", ec.message(),
                     kMaxAcceptRetry.count());
      }
      accept_backoff.expires_after(accept_retry);
      co_await accept_backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      accept_retry = std::min(accept_retry * 2, kMaxAcceptRetry);
      continue;
    }
    accept_retry = kFirstAcceptRetry;
    admit(std::move(socket));
  }
}

// The caps, then the connection's own task; a refused connection is closed unread.
void HttpServer::Impl::admit(tcp::socket socket) {
  boost::system::error_code ec;
  // Answers and terminal frames are small writes that often follow one another: with
  // Nagle's algorithm the second waits for the peer's delayed ACK, about 40 ms.
  socket.set_option(tcp::no_delay(true), ec);
  const auto endpoint = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string("unknown") : endpoint.address().to_string();
  auto ticket = admission_.admit(std::move(remote), Admission::Clock::now());
  if (!ticket) {
    socket.close(ec);
    return;
  }
  if (tls_) {
    group_.spawn("connection", serve_connection<TlsStream>(std::move(socket), std::move(ticket)));
  } else {
    group_.spawn("connection",
                 serve_connection<beast::tcp_stream>(std::move(socket), std::move(ticket)));
  }
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::write_refusal(Stream& stream, int status, std::string code,
                                                      std::string message, std::string path) {
  auto response = to_message(handler_.refuse(status, code, message, path), 11, false);
  beast::get_lowest_layer(stream).expires_after(limits_.write_timeout);
  boost::system::error_code ec;
  co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
}

// Until a plain connection's next request begins (its bytes can be read), under the idle
// timeout, then its first bytes. It holds no read buffer while it waits: the buffer is
// taken once the bytes are there and freed when the request is parsed, so an idle
// keep-alive connection, or a burst of connections whose requests are on their way, keeps
// no 4 KiB block each (issue 18). The socket is non-blocking (serve_connection()): the
// bytes are read at once, with no completion to wait for; would_block only after a
// readiness with nothing to read, and then it waits again.
asio::awaitable<boost::system::error_code> HttpServer::Impl::read_first_bytes(
    tcp::socket& socket, beast::flat_buffer& buffer, Connection& connection) {
  const auto idle_until = time_.now() + limits_.idle_timeout;
  boost::system::error_code ec;
  do {
    if (!idle_deadlines_.schedule(connection.idle, idle_until)) {
      co_return asio::error::operation_aborted;  // the server is shutting down
    }
    co_await socket.async_wait(tcp::socket::wait_read,
                               asio::redirect_error(asio::use_awaitable, ec));
    idle_deadlines_.remove(connection.idle);
    if (ec || stopping_) {
      co_return ec ? ec : asio::error::operation_aborted;
    }
    buffer.commit(socket.read_some(buffer.prepare(kFirstReadBytes), ec));
    if (ec == asio::error::would_block) {
      buffer.shrink_to_fit();
    }
  } while (ec == asio::error::would_block);
  co_return ec;
}

// The next request, under the idle timeout until its first byte and the read timeout for
// the whole of it; nullopt when the connection must end (refused, timed out, closed).
template <class Stream>
asio::awaitable<std::optional<Request>> HttpServer::Impl::read_request(Stream& stream,
                                                                       beast::flat_buffer& buffer,
                                                                       Connection& connection) {
  boost::system::error_code ec;
  auto& transport = beast::get_lowest_layer(stream);
  if (buffer.size() == 0) {
    // Idle keep-alive: wait for the first byte of the next request. Under TLS the read
    // itself waits (the TLS layer may hold bytes already read from the socket).
    if constexpr (is_tls<Stream>) {
      transport.expires_after(limits_.idle_timeout);
      const std::size_t n = co_await stream.async_read_some(
          buffer.prepare(kFirstReadBytes), asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
    } else {
      ec = co_await read_first_bytes(transport.socket(), buffer, connection);
    }
    if (ec || stopping_) {
      co_return std::nullopt;
    }
  }
  connection.busy = true;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser.body_limit(limits_.max_body_bytes);
  transport.expires_after(limits_.read_timeout);  // the whole request, however slowly it drips in
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_await refuse_request(stream, ec, parser);
    co_return std::nullopt;
  }
  co_return parser.release();
}

// Answers a request that could not be read whole, when there is anyone left to answer.
template <class Stream>
asio::awaitable<void> HttpServer::Impl::refuse_request(
    Stream& stream, const boost::system::error_code& ec,
    const http::request_parser<http::string_body>& parser) {
  // Refusal texts are named before co_await: see the GCC 12 note in CMakeLists.txt.
  if (ec == http::error::body_limit) {
    std::string code = "PAYLOAD_TOO_LARGE";
    std::string text =
        "request body is larger than " + std::to_string(limits_.max_body_bytes) + " bytes";
    // The start line is read before any header, so the target is known here.
    std::string path(path_of(parser.get()));
    co_await write_refusal(stream, 413, std::move(code), std::move(text), std::move(path));
    co_return;
  }
  if (ec == http::error::header_limit) {
    std::string code = "HEADERS_TOO_LARGE";
    std::string text = "request headers are too large";
    std::string no_path;
    co_await write_refusal(stream, 431, std::move(code), std::move(text), std::move(no_path));
    co_return;
  }
  if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
      ec == ssl::error::stream_truncated) {
    co_return;
  }
  std::string code = "BAD_REQUEST";
  std::string text = "malformed HTTP request: " + ec.message();
  std::string no_path;
  co_await write_refusal(stream, 400, std::move(code), std::move(text), std::move(no_path));
}

// A WebSocket upgrade to a routed path: the stream goes to its handler (true). Any other
// request, an upgrade to another path included, is answered here.
template <class Stream>
bool HttpServer::Impl::hand_off(Stream& stream, Request& message, Connection& connection) {
  if (!beast::websocket::is_upgrade(message)) {
    return false;
  }
  UpgradeHandler* handler = upgrades_.find(path_of(message));
  if (handler == nullptr) {
    return false;
  }
  beast::get_lowest_layer(stream).expires_never();
  connection.upgraded = true;
  handler->upgrade(std::move(stream), std::move(message));
  return true;
}

// The handler's call for `message`, which is gone once it returns: the handler may wait
// long (a long-poll), and its request (an HttpRequest, which has the body) holds what it
// needs. Not a coroutine: neither lives in answer()'s frame. `method` and `path` are set
// for answer()'s log line.
asio::awaitable<HttpResponse> HttpServer::Impl::start_handler(Request& message,
                                                              const std::string& remote,
                                                              std::string& method,
                                                              std::string& path) {
  HttpRequest request = to_request(message, remote);
  message = {};
  method = request.method;
  path = request.path;
  return handler_.handle(std::move(request));
}

// The handler's response (500 when it threw); false when the connection must end.
template <class Stream>
asio::awaitable<bool> HttpServer::Impl::answer(Stream& stream, Request& message,
                                               Connection& connection, const std::string& remote) {
  const unsigned version = message.version();
  const bool wants_keep_alive = message.keep_alive();
  std::string method;
  std::string path;
  HttpResponse response;
  try {
    auto handling = start_handler(message, remote, method, path);
    response = co_await std::move(handling);
  } catch (const std::exception& error) {
    spdlog::error("request {} {} failed: {}", method, path, error.what());
    response =
        handler_.refuse(500, "INTERNAL_ERROR",
                        "the gateway could not complete the request; it is safe to retry", path);
  }
  const bool keep_alive = wants_keep_alive && !stopping_;
  const bool written = co_await write_answer(stream, response, version, keep_alive);
  connection.busy = false;
  co_return written&& keep_alive;
}

// The response, under the write timeout; false when it could not be written. Its Beast
// message lives in this frame, not in answer()'s while the handler runs.
template <class Stream>
asio::awaitable<bool> HttpServer::Impl::write_answer(Stream& stream, const HttpResponse& response,
                                                     unsigned version, bool keep_alive) {
  auto reply = to_message(response, version, keep_alive);
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(limits_.write_timeout);
  co_await http::async_write(stream, reply, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}
// The TLS handshake is part of reading the first request: it has the read timeout, and the
// connection counts toward the caps from its accept. Plain HTTP sent here fails it.
asio::awaitable<bool> HttpServer::Impl::handshake(TlsStream& stream, const std::string& remote) {
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(limits_.read_timeout);
  co_await stream.async_handshake(ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    spdlog::debug("TLS handshake with {} failed: {}", remote, ec.message());
    co_return false;
  }
  co_return !stopping_;
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::close_connection(Stream& stream) {
  boost::system::error_code ec;
  auto& transport = beast::get_lowest_layer(stream);
  if (!transport.socket().is_open()) {
    co_return;
  }
  if constexpr (is_tls<Stream>) {
    if (SSL_is_init_finished(stream.native_handle()) == 1) {
      // Our close_notify, without waiting for the client's (RFC 8446 6.1 lets the closing
      // side close at once): only a write, bounded like every write.
      SSL_set_shutdown(stream.native_handle(), SSL_RECEIVED_SHUTDOWN);
      transport.expires_after(limits_.write_timeout);
      co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  if (transport.socket().is_open()) {
    transport.socket().shutdown(tcp::socket::shutdown_send, ec);
    transport.close();
  }
}

template <class Stream>
Stream HttpServer::Impl::open_stream(tcp::socket socket) {
  if constexpr (is_tls<Stream>) {
    return Stream(std::move(socket), tls_->impl().context);
  } else {
    return Stream(std::move(socket));
  }
}

// The connection's task, from its accept to its close (or its hand-off to the WebSocket
// side): one frame, with the stream. `ticket` holds the connection's place in the caps
// until the HTTP session ends.
template <class Stream>
asio::awaitable<void> HttpServer::Impl::serve_connection(tcp::socket socket,
                                                         Admission::Ticket ticket) {
  Stream stream = open_stream<Stream>(std::move(socket));
  if constexpr (!is_tls<Stream>) {
    // For read_first_bytes(); the stream's own reads and writes are asynchronous either way.
    boost::system::error_code ec;
    stream.socket().non_blocking(true, ec);
  }
  const std::string& remote = ticket.address();
  beast::flat_buffer buffer(limits_.max_header_bytes);
  Connection connection(beast::get_lowest_layer(stream).socket());
  const auto position = connections_.insert(connections_.end(), &connection);
  try {
    bool ready = true;
    if constexpr (is_tls<Stream>) {
      ready = co_await handshake(stream, remote);
    }
    // Request after request, in this frame (a long-poll's connection keeps no frame of
    // its own between this one and the answer's).
    while (ready) {
      auto message = co_await read_request(stream, buffer, connection);
      if (!message || hand_off(stream, *message, connection)) {
        break;
      }
      // The handler may wait long (a long-poll): the read buffer, when it holds no
      // pipelined bytes, is freed for that time (the next request's read allocates it again).
      if (buffer.size() == 0) {
        buffer.shrink_to_fit();
      }
      ready = co_await answer(stream, *message, connection, remote);
    }
    if (!connection.upgraded) {  // an upgraded stream is moved from: not ours to close
      co_await close_connection(stream);
    }
  } catch (const std::exception& error) {
    spdlog::error("http connection from {} failed: {}", remote, error.what());
  }
  connections_.erase(position);
}

HttpServer::HttpServer(asio::io_context& io, HttpServerLimits limits, RequestHandler& handler,
                       const UpgradeRouter& upgrades, TimeSource& time,
                       std::shared_ptr<const ServerTls> tls)
    : impl_(std::make_unique<Impl>(io, limits, handler, upgrades, time, std::move(tls))) {
  // No member has a default (the app's Limits holds them): a zero is a caller's mistake.
  assert(limits.max_body_bytes > 0 && limits.max_header_bytes > 0 &&
         limits.read_timeout.count() > 0 && limits.idle_timeout.count() > 0 &&
         limits.write_timeout.count() > 0 && limits.max_connections > 0 &&
         limits.max_connections_per_address > 0 && "every HttpServerLimits member is required");
}

HttpServer::~HttpServer() {
  assert(impl_->connections_.empty() && "an HttpServer is destroyed with open connections");
}

std::uint16_t HttpServer::listen(const std::string& host, std::uint16_t port) {
  const tcp::endpoint endpoint{asio::ip::make_address(host), port};
  impl_->acceptor_.open(endpoint.protocol());
  impl_->acceptor_.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor_.bind(endpoint);
  impl_->acceptor_.listen(asio::socket_base::max_listen_connections);
  return impl_->acceptor_.local_endpoint().port();
}

void HttpServer::start() {
  [[maybe_unused]] const bool started = impl_->group_.spawn("accept loop", impl_->accept_loop());
  assert(started && "HttpServer::start() after shutdown()");
}

asio::awaitable<void> HttpServer::shutdown(std::chrono::seconds grace) {
  Impl& impl = *impl_;
  impl.stopping_ = true;
  impl.group_.close();
  boost::system::error_code ec;
  impl.acceptor_.close(ec);  // the accept loop ends
  for (Connection* connection : impl.connections_) {
    if (!connection->busy) {
      connection->socket->cancel(ec);  // idle keep-alive or handshake: nothing in flight
    }
  }
  impl.idle_deadlines_.wind_down();  // its task ends with the last idle wait
  const std::chrono::milliseconds wait_for = grace;
  if (co_await impl.group_.wait(wait_for)) {
    co_return;
  }
  for (Connection* connection : impl.connections_) {
    connection->socket->close(ec);
  }
}

asio::awaitable<bool> HttpServer::wait_stopped(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  assert(impl.stopping_ && "HttpServer::wait_stopped() before shutdown()");
  if (co_await impl.group_.wait(timeout)) {
    co_return true;
  }
  impl.group_.cancel();
  const bool stopped = co_await impl.group_.wait(std::chrono::milliseconds(1000));
  if (!stopped) {
    spdlog::error("http server: {} connections still open after the shutdown",
                  impl.connections_.size());
  }
  co_return stopped;
}

std::size_t HttpServer::open_connections() const {
  return impl_->connections_.size();
}

}  // namespace tillgate::net
