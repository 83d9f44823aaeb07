#pragma once
// The load generator's network pieces (src/sim/load_generator.cpp): an asynchronous
// keep-alive HTTP/1.1 connection with a deadline on every operation, and the webhook
// receiver that webhook mode registers as the merchant's endpoint. Both run on one
// io_context thread; nothing here is thread-safe.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "client/http_client.hpp"

namespace tillgate::sim::bench {

struct Request {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  client::HeaderList headers;  // Host, Content-Length (and Content-Type for a body) added
};

struct Response {
  int status = 0;  // 0: no response (see error)
  std::string body;
  // Set when no whole response arrived: what failed ("connect", "write", "read") and why.
  boost::system::error_code error;
  std::string failed_at;
};

// One keep-alive connection to the gateway, optionally from a chosen source address.
// Opened on first use and again after the server closed it.
struct Connection {
  Connection(boost::asio::any_io_executor executor, boost::asio::ip::tcp::endpoint server,
             std::string source_address);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  struct Impl;
  std::unique_ptr<Impl> impl;
};

// Opens the connection now (within `timeout`); the error, or success.
boost::asio::awaitable<boost::system::error_code> connect(std::shared_ptr<Connection> connection,
                                                          std::chrono::milliseconds timeout);

// Sends `request` and reads the whole response, the two together within `timeout`.
// A failure closes the connection (the next exchange reconnects). Never throws.
boost::asio::awaitable<Response> exchange(std::shared_ptr<Connection> connection,
                                          std::shared_ptr<const Request> request,
                                          std::chrono::milliseconds timeout);

// A webhook delivery as the receiver saw it.
struct Delivery {
  bool authentic = false;  // signature and timestamp verified with the endpoint's secret
  std::string problem;     // why not, when !authentic
  std::string event_type;  // "payment.completed", "ping", ...
  std::string transaction_id;
  std::string status;  // data.status
};

// Accepts the gateway's webhook deliveries on 127.0.0.1 (any free port), checks each
// signature (Standard Webhooks, webhooks.md) once the endpoint's secret is known, answers
// 204, and hands every delivery to `on_delivery`. Bounded: at most `max_connections` open
// at once (more are closed at accept), each request within `read_timeout`, bodies of at
// most 64 KiB.
//
// Its accept loop and every connection are tasks of a net::TaskGroup the receiver owns.
// The lifecycle: start(); at the end stop() and co_await wait(timeout); only then may the
// receiver be destroyed (the group's destructor asserts that no task is live). Like the
// group, stop() is called from a handler or coroutine running on the executor: from
// outside, co_spawn delivers the cancellation later, possibly to a task already gone.
class WebhookReceiver {
 public:
  WebhookReceiver(boost::asio::any_io_executor executor, std::function<void(Delivery)> on_delivery,
                  std::size_t max_connections = 1024,
                  std::chrono::milliseconds read_timeout = std::chrono::seconds(10));
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // Binds 127.0.0.1:0 and starts accepting; returns the port.
  std::uint16_t start();
  // The endpoint's "whsec_..." secret: deliveries are verified from now on (the creation
  // ping arrives before the secret is known and is answered without a check).
  void set_secret(std::string secret);
  // Stops accepting, cancels every connection and hands no more deliveries on. Idempotent.
  void stop();
  // After stop(): completes when the accept loop and every connection have ended, or when
  // `timeout` has passed; true when they all ended.
  boost::asio::awaitable<bool> wait(std::chrono::milliseconds timeout);
  [[nodiscard]] std::uint64_t requests() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace tillgate::sim::bench
