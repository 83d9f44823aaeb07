#include "net/http_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <list>
#include <type_traits>
#include <unordered_map>

#include "net/tls_stream.hpp"
#include "net/upgrade.hpp"

namespace tillgate::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct Connection {
  tcp::socket* socket = nullptr;  // the lowest layer, plain or under TLS
  bool busy = false;              // a request is being handled; shutdown lets it finish
  bool upgraded = false;          // the stream was handed to the WebSocket side
};

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, TlsStream>;

HttpRequest to_request(const http::request<http::string_body>& message, std::string remote) {
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
  request.body = message.body();
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

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, HttpServerLimits limits, RequestHandler& handler,
       UpgradeHandler& upgrades, std::shared_ptr<const ServerTls> tls)
      : io_(io),
        limits_(limits),
        handler_(handler),
        upgrades_(upgrades),
        tls_(std::move(tls)),
        acceptor_(io) {}

  asio::io_context& io_;
  HttpServerLimits limits_;
  RequestHandler& handler_;
  UpgradeHandler& upgrades_;
  std::shared_ptr<const ServerTls> tls_;  // null: plain HTTP
  tcp::acceptor acceptor_;
  std::list<Connection*> connections_;
  // Accepted connections per client address, counted from the accept until the HTTP
  // session ends (an upgraded connection is the terminal side's to count from then on).
  std::unordered_map<std::string, std::size_t> per_address_;
  std::size_t accepted_ = 0;  // like per_address_, all addresses together
  bool stopping_ = false;
  // Refusals are logged at most once a second, with how many there were: a flood of
  // connections must not become a flood of log lines.
  std::size_t refusals_unlogged_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> run_connection(tcp::socket socket, std::string remote);
  void note_refusal(std::string_view why);
  template <class Stream>
  asio::awaitable<void> serve_connection(Stream& stream, const std::string& remote);
  asio::awaitable<bool> handshake(TlsStream& stream, const std::string& remote);
  template <class Stream>
  asio::awaitable<void> close_connection(Stream& stream);
  template <class Stream>
  asio::awaitable<bool> serve_one(Stream& stream, beast::flat_buffer& buffer,
                                  Connection& connection, const std::string& remote);
  template <class Stream>
  asio::awaitable<void> write_refusal(Stream& stream, int status, std::string code,
                                      std::string message, std::string path);
};

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  auto self = shared_from_this();
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
    // Answers and terminal frames are small writes that often follow one another: with
    // Nagle's algorithm the second waits for the peer's delayed ACK, about 40 ms.
    socket.set_option(tcp::no_delay(true), ec);
    const auto endpoint = socket.remote_endpoint(ec);
    std::string remote = ec ? std::string("unknown") : endpoint.address().to_string();
    if (accepted_ >= limits_.max_connections) {
      note_refusal("the limit of open connections (TILLGATE_MAX_HTTP_CONNECTIONS) is reached");
      socket.close(ec);
      continue;
    }
    auto& from_address = per_address_[remote];
    if (from_address >= limits_.max_connections_per_address) {
      note_refusal("an address reached its limit (TILLGATE_MAX_HTTP_CONNECTIONS_PER_IP)");
      socket.close(ec);
      continue;
    }
    ++from_address;
    ++accepted_;
    asio::co_spawn(io_, run_connection(std::move(socket), std::move(remote)), asio::detached);
  }
}

void HttpServer::Impl::note_refusal(std::string_view why) {
  ++refusals_unlogged_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ >= std::chrono::seconds(1)) {
    spdlog::warn("{} connections refused in the last second or so: {}", refusals_unlogged_, why);
    refusals_unlogged_ = 0;
    last_refusal_log_ = now;
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

// Serves one request; false when the connection must end.
template <class Stream>
asio::awaitable<bool> HttpServer::Impl::serve_one(Stream& stream, beast::flat_buffer& buffer,
                                                  Connection& connection,
                                                  const std::string& remote) {
  boost::system::error_code ec;
  auto& transport = beast::get_lowest_layer(stream);
  if (buffer.size() == 0) {
    // Idle keep-alive: wait for the first byte of the next request.
    transport.expires_after(limits_.idle_timeout);
    const std::size_t n = co_await stream.async_read_some(
        buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || stopping_) {
      co_return false;
    }
    buffer.commit(n);
  }
  connection.busy = true;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser.body_limit(limits_.max_body_bytes);
  transport.expires_after(limits_.read_timeout);  // the whole request, however slowly it drips in
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  // Refusal texts are named before co_await: see the GCC 12 note in CMakeLists.txt.
  if (ec == http::error::body_limit) {
    std::string code = "PAYLOAD_TOO_LARGE";
    std::string text =
        "request body is larger than " + std::to_string(limits_.max_body_bytes) + " bytes";
    // The start line is read before any header, so the target is known here.
    const std::string_view target = parser.get().target();
    std::string path(target.substr(0, target.find('?')));
    co_await write_refusal(stream, 413, std::move(code), std::move(text), std::move(path));
    co_return false;
  }
  if (ec == http::error::header_limit) {
    std::string code = "HEADERS_TOO_LARGE";
    std::string text = "request headers are too large";
    std::string no_path;
    co_await write_refusal(stream, 431, std::move(code), std::move(text), std::move(no_path));
    co_return false;
  }
  if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
      ec == ssl::error::stream_truncated) {
    co_return false;
  }
  if (ec) {
    std::string code = "BAD_REQUEST";
    std::string text = "malformed HTTP request: " + ec.message();
    std::string no_path;
    co_await write_refusal(stream, 400, std::move(code), std::move(text), std::move(no_path));
    co_return false;
  }
  auto message = parser.release();
  if (beast::websocket::is_upgrade(message)) {
    const auto path = std::string_view(message.target()).substr(0, message.target().find('?'));
    if (upgrades_.accepts_upgrade(path)) {
      transport.expires_never();
      connection.upgraded = true;
      upgrades_.upgrade(std::move(stream), std::move(message));
      co_return false;
    }
  }
  HttpResponse response;
  try {
    HttpRequest request = to_request(message, remote);
    response = co_await handler_.handle(std::move(request));
  } catch (const std::exception& error) {
    spdlog::error("request {} {} failed: {}", std::string(message.method_string()),
                  std::string(message.target().substr(0, message.target().find('?'))),
                  error.what());
    response = handler_.refuse(500, "INTERNAL_ERROR",
                               "the gateway could not complete the request; it is safe to retry",
                               message.target().substr(0, message.target().find('?')));
  }
  const bool keep_alive = message.keep_alive() && !stopping_;
  auto reply = to_message(response, message.version(), keep_alive);
  transport.expires_after(limits_.write_timeout);
  co_await http::async_write(stream, reply, asio::redirect_error(asio::use_awaitable, ec));
  connection.busy = false;
  co_return !ec && keep_alive;
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
asio::awaitable<void> HttpServer::Impl::serve_connection(Stream& stream,
                                                         const std::string& remote) {
  beast::flat_buffer buffer(limits_.max_header_bytes);
  Connection connection{&beast::get_lowest_layer(stream).socket(), false, false};
  const auto position = connections_.insert(connections_.end(), &connection);
  try {
    bool ready = true;
    if constexpr (is_tls<Stream>) {
      ready = co_await handshake(stream, remote);
    }
    if (ready) {
      while (co_await serve_one(stream, buffer, connection, remote)) {
      }
    }
    if (!connection.upgraded) {  // an upgraded stream is moved from: not ours to close
      co_await close_connection(stream);
    }
  } catch (const std::exception& error) {
    spdlog::error("http connection from {} failed: {}", remote, error.what());
  }
  connections_.erase(position);
}

asio::awaitable<void> HttpServer::Impl::run_connection(tcp::socket socket, std::string remote) {
  auto self = shared_from_this();
  if (tls_) {
    TlsStream stream(std::move(socket), tls_->impl().context);
    co_await serve_connection(stream, remote);
  } else {
    beast::tcp_stream stream(std::move(socket));
    co_await serve_connection(stream, remote);
  }
  --accepted_;
  if (const auto it = per_address_.find(remote); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
}

HttpServer::HttpServer(asio::io_context& io, HttpServerLimits limits, RequestHandler& handler,
                       UpgradeHandler& upgrades, std::shared_ptr<const ServerTls> tls)
    : impl_(std::make_shared<Impl>(io, limits, handler, upgrades, std::move(tls))) {}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::listen(const std::string& host, std::uint16_t port) {
  const tcp::endpoint endpoint{asio::ip::make_address(host), port};
  impl_->acceptor_.open(endpoint.protocol());
  impl_->acceptor_.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor_.bind(endpoint);
  impl_->acceptor_.listen(asio::socket_base::max_listen_connections);
  return impl_->acceptor_.local_endpoint().port();
}

void HttpServer::start() {
  asio::co_spawn(impl_->io_, impl_->accept_loop(), asio::detached);
}

asio::awaitable<void> HttpServer::shutdown(std::chrono::seconds grace) {
  auto impl = impl_;
  impl->stopping_ = true;
  boost::system::error_code ec;
  impl->acceptor_.close(ec);
  for (Connection* connection : impl->connections_) {
    if (!connection->busy) {
      connection->socket->cancel(ec);  // idle keep-alive or handshake: nothing in flight
    }
  }
  asio::steady_timer timer(impl->io_);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!impl->connections_.empty() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  for (Connection* connection : impl->connections_) {
    connection->socket->close(ec);
  }
}

std::size_t HttpServer::open_connections() const {
  return impl_->connections_.size();
}

}  // namespace tillgate::net
