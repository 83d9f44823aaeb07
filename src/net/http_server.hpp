#pragma once
// The listener and HTTP/1.1 sessions (keep-alive, header/body limits, read, idle and write
// deadlines, graceful shutdown). WebSocket upgrades are handed to the UpgradeHandler that an
// UpgradeRouter names for their path.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "net/http_message.hpp"
#include "net/tls.hpp"

namespace tillgate::net {

struct HttpServerLimits {
  // No defaults: the app sets every field from app::Limits / app::Config, where each
  // default is written once; a test states the values it needs.
  std::size_t max_body_bytes{};
  std::size_t max_header_bytes{};
  std::chrono::seconds read_timeout{};  // a whole request; also the TLS handshake
  std::chrono::seconds idle_timeout{};
  std::chrono::seconds write_timeout{};
  std::size_t max_connections{};
  // Open connections from one client address: one host cannot take every connection.
  std::size_t max_connections_per_address{};
};

// Answers one parsed request. Runs on the server's (single) network thread.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual boost::asio::awaitable<HttpResponse> handle(HttpRequest request) = 0;
  // The response for a request refused before it reached the handler (413, 400, 431...).
  // `path` is the request's path when it was read that far, else empty.
  virtual HttpResponse refuse(int status, std::string_view code, std::string_view message,
                              std::string_view path) = 0;
};

class UpgradeRouter;  // net/upgrade_router.hpp: which handler takes a WebSocket upgrade
class TimeSource;     // net/time_source.hpp: the idle timeouts' time and timer

class HttpServer {
 public:
  // With `tls`, every connection starts with a TLS handshake (HTTPS, and WSS upgrades);
  // without, plain HTTP. An upgrade to a path `upgrades` does not know is answered by
  // `handler` like any other request. The idle timeouts of plain-HTTP connections wait in
  // one DeadlineQueue on `time`'s timer (the read and write timeouts are the streams' own).
  HttpServer(boost::asio::io_context& io, HttpServerLimits limits, RequestHandler& handler,
             const UpgradeRouter& upgrades, TimeSource& time,
             std::shared_ptr<const ServerTls> tls = nullptr);
  // Asserts that shutdown() and wait_stopped() ran to the end (no connection is left).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns the real port (useful when 0 was asked). Throws on failure.
  std::uint16_t listen(const std::string& host, std::uint16_t port);
  void start();
  // Stops accepting, closes idle keep-alive connections, and waits (at most `grace`) for
  // requests in flight; then closes the sockets of whatever is left. A request still in its
  // handler (a long-poll) ends when the handler returns: see wait_stopped().
  boost::asio::awaitable<void> shutdown(std::chrono::seconds grace);
  // After shutdown(), once the application has woken what its handlers wait for (the
  // coordinator's long-polls): waits at most `timeout` for the last connection to end, then
  // cancels those left and waits a second more. true when none is left.
  boost::asio::awaitable<bool> wait_stopped(std::chrono::milliseconds timeout);

  [[nodiscard]] std::size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillgate::net
