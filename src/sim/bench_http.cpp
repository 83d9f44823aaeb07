#include "sim/bench_http.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>
#include <optional>

#include "domain/time.hpp"
#include "json/json.hpp"
#include "net/task_group.hpp"
#include "sim/source_address.hpp"
#include "webhooks/signature.hpp"

namespace tillgate::sim::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {
// Bounds on what the gateway may send back: its answers are small.
constexpr std::uint64_t max_response_body_bytes = 16 * 1024 * 1024;
constexpr std::uint32_t max_response_header_bytes = 64 * 1024;
// A webhook body is a few hundred bytes; the gateway's own request limit is 64 KiB.
constexpr std::uint64_t max_webhook_body_bytes = 64 * 1024;
constexpr std::uint32_t max_webhook_header_bytes = 16 * 1024;
}  // namespace

struct Connection::Impl {
  Impl(asio::any_io_executor e, tcp::endpoint s, std::string source)
      : executor(std::move(e)),
        server(std::move(s)),
        source_address(std::move(source)),
        host_header(server.address().to_string() + ":" + std::to_string(server.port())) {
    if (server.address().is_v6()) {
      host_header = "[" + server.address().to_string() + "]:" + std::to_string(server.port());
    }
  }

  void close() {
    if (stream) {
      error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
      stream.reset();
    }
    buffer.clear();
  }

  asio::any_io_executor executor;
  tcp::endpoint server;
  std::string source_address;
  std::string host_header;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

Connection::Connection(asio::any_io_executor executor, tcp::endpoint server,
                       std::string source_address)
    : impl(std::make_unique<Impl>(std::move(executor), std::move(server),
                                  std::move(source_address))) {}

Connection::~Connection() {
  impl->close();
}

asio::awaitable<error_code> connect(std::shared_ptr<Connection> connection,
                                    std::chrono::milliseconds timeout) {
  auto& c = *connection->impl;
  c.close();
  c.stream.emplace(c.executor);
  error_code ec;
  if (!c.source_address.empty()) {
    try {
      bind_source_address(c.stream->socket(), c.server.protocol(), c.source_address);
    } catch (const boost::system::system_error& e) {
      c.close();
      co_return e.code();
    }
  }
  c.stream->expires_after(timeout);
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  co_await c.stream->async_connect(c.server, token);
  if (ec) {
    c.close();
    co_return ec;
  }
  c.stream->expires_never();
  error_code ignored;
  c.stream->socket().set_option(tcp::no_delay(true), ignored);
  co_return ec;
}

asio::awaitable<Response> exchange(std::shared_ptr<Connection> connection,
                                   std::shared_ptr<const Request> request,
                                   std::chrono::milliseconds timeout) {
  auto& c = *connection->impl;
  Response response;
  if (!c.stream || !c.stream->socket().is_open()) {
    response.error = co_await connect(connection, timeout);
    if (response.error) {
      response.failed_at = "connect";
      co_return response;
    }
  }
  http::request<http::string_body> message;
  const auto verb = http::string_to_verb(request->method);
  if (verb == http::verb::unknown) {
    message.method_string(request->method);
  } else {
    message.method(verb);
  }
  message.target(request->target);
  message.version(11);
  message.set(http::field::host, c.host_header);
  bool has_content_type = false;
  for (const auto& [name, value] : request->headers) {
    has_content_type = has_content_type || client::iequals(name, "content-type");
    message.set(name, value);
  }
  if (!request->body.empty()) {
    message.body() = request->body;
    if (!has_content_type) {
      message.set(http::field::content_type, "application/json");
    }
  }
  message.keep_alive(true);
  message.prepare_payload();

  error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  c.stream->expires_after(timeout);
  co_await http::async_write(*c.stream, message, token);
  if (ec) {
    c.close();
    response.error = ec;
    response.failed_at = "write";
    co_return response;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_body_bytes);
  parser.header_limit(max_response_header_bytes);
  co_await http::async_read(*c.stream, c.buffer, parser, token);
  if (ec) {
    c.close();
    response.error = ec;
    response.failed_at = "read";
    co_return response;
  }
  c.stream->expires_never();
  auto& answer = parser.get();
  response.status = static_cast<int>(answer.result_int());
  const bool keep_alive = answer.keep_alive();
  response.body = std::move(answer.body());
  if (!keep_alive) {
    c.close();
  }
  co_return response;
}

// ---------------------------------------------------------------------------------------
// Webhook receiver

struct WebhookReceiver::State {
  State(asio::any_io_executor e, std::function<void(Delivery)> callback, std::size_t max,
        std::chrono::milliseconds timeout)
      : executor(std::move(e)),
        acceptor(executor),
        on_delivery(std::move(callback)),
        max_connections(max),
        read_timeout(timeout),
        tasks(executor, "bench webhook receiver") {}

  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  std::function<void(Delivery)> on_delivery;
  std::size_t max_connections;
  std::chrono::milliseconds read_timeout;
  std::string secret;
  std::size_t open_connections = 0;
  std::uint64_t requests = 0;
  bool stopping = false;
  // The accept loop and the connections. Last, so destroyed first: its destructor asserts
  // that they all ended before anything they use goes.
  net::TaskGroup tasks;
};

namespace {

Delivery read_delivery(const WebhookReceiver::State& s,
                       const http::request<http::string_body>& message) {
  Delivery delivery;
  const auto body = std::string_view(message.body());
  if (const auto parsed = json::parse(body); parsed && parsed->is_object()) {
    delivery.event_type = std::string(parsed->find_string("eventType").value_or(""));
    if (const auto* data = parsed->find("data"); data != nullptr && data->is_object()) {
      delivery.transaction_id = std::string(data->find_string("transactionId").value_or(""));
      delivery.status = std::string(data->find_string("status").value_or(""));
    }
  }
  if (s.secret.empty()) {
    delivery.problem = "the endpoint's secret is not known yet";
    return delivery;
  }
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto failure =
      webhooks::verify_webhook(s.secret, std::string_view(message["webhook-id"]),
                               std::string_view(message["webhook-timestamp"]), body,
                               std::string_view(message["webhook-signature"]), now);
  if (failure) {
    delivery.problem = std::string(webhooks::to_string(*failure));
  } else {
    delivery.authentic = true;
  }
  return delivery;
}

asio::awaitable<void> serve_webhook_connection(std::shared_ptr<WebhookReceiver::State> s,
                                               tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  ++s->open_connections;
  beast::flat_buffer buffer;
  error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  while (!s->stopping) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_webhook_body_bytes);
    parser.header_limit(max_webhook_header_bytes);
    stream.expires_after(s->read_timeout);
    co_await http::async_read(stream, buffer, parser, token);
    if (ec) {
      break;
    }
    auto& message = parser.get();
    ++s->requests;
    auto delivery = read_delivery(*s, message);
    if (s->on_delivery) {
      s->on_delivery(std::move(delivery));
    }
    http::response<http::string_body> answer{http::status::no_content, message.version()};
    answer.keep_alive(message.keep_alive());
    answer.prepare_payload();
    stream.expires_after(s->read_timeout);
    co_await http::async_write(stream, answer, token);
    if (ec || !message.keep_alive()) {
      break;
    }
  }
  --s->open_connections;
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
}

asio::awaitable<void> accept_webhooks(std::shared_ptr<WebhookReceiver::State> s) {
  asio::steady_timer pause(s->executor);
  while (!s->stopping) {
    error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    tcp::socket socket = co_await s->acceptor.async_accept(token);
    if (ec) {
      if (s->stopping || ec == asio::error::operation_aborted) {
        break;
      }
      pause.expires_after(std::chrono::milliseconds(10));  // e.g. EMFILE: do not spin
      co_await pause.async_wait(token);
      continue;
    }
    if (s->open_connections >= s->max_connections) {
      socket.close(ec);
      continue;
    }
    s->tasks.spawn("connection", serve_webhook_connection(s, std::move(socket)));
  }
}

}  // namespace

WebhookReceiver::WebhookReceiver(asio::any_io_executor executor,
                                 std::function<void(Delivery)> on_delivery,
                                 std::size_t max_connections,
                                 std::chrono::milliseconds read_timeout)
    : state_(std::make_shared<State>(std::move(executor), std::move(on_delivery), max_connections,
                                     read_timeout)) {}

WebhookReceiver::~WebhookReceiver() {
  stop();
}

std::uint16_t WebhookReceiver::start() {
  const tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 0};
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(asio::socket_base::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen(asio::socket_base::max_listen_connections);
  state_->tasks.spawn("accept loop", accept_webhooks(state_));
  return state_->acceptor.local_endpoint().port();
}

void WebhookReceiver::set_secret(std::string secret) {
  state_->secret = std::move(secret);
}

void WebhookReceiver::stop() {
  if (state_->stopping) {
    return;
  }
  state_->stopping = true;
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->tasks.close();
  state_->tasks.cancel();  // a connection waiting for its next request ends at once
  state_->on_delivery = nullptr;
}

asio::awaitable<bool> WebhookReceiver::wait(std::chrono::milliseconds timeout) {
  return state_->tasks.wait(timeout);
}

std::uint64_t WebhookReceiver::requests() const {
  return state_->requests;
}

}  // namespace tillgate::sim::bench
