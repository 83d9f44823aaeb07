#include "ws_test_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <optional>
#include <stdexcept>

namespace tillgate::ft {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct WsTestClient::Impl {
  std::string host;
  std::uint16_t port;
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  bool read_pending = false;
  std::optional<error_code> read_result;
  bool closed = false;

  Impl(std::string h, std::uint16_t p) : host(std::move(h)), port(p) {}

  // Runs handlers until `done` or the deadline; false at the deadline.
  template <typename Done>
  bool run_until(Done&& done, std::chrono::steady_clock::time_point deadline) {
    while (!done()) {
      if (ioc.stopped()) {
        ioc.restart();
      }
      if (ioc.run_one_until(deadline) == 0) {
        if (done()) {
          return true;
        }
        if (std::chrono::steady_clock::now() >= deadline || ioc.stopped()) {
          return done();
        }
      }
    }
    return true;
  }

  void abort() {
    error_code ignored;
    beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws).socket().close(ignored);
    closed = true;
  }
};

WsTestClient::WsTestClient(std::string host, std::uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}

WsTestClient::~WsTestClient() {
  impl_->abort();
  // Let the aborted operations complete before the stream goes away.
  impl_->ioc.restart();
  impl_->ioc.poll();
}

void WsTestClient::connect(std::string_view target, std::chrono::milliseconds timeout) {
  if (const auto refused = try_connect(target, {}, timeout)) {
    throw std::runtime_error("ws handshake refused: HTTP " + std::to_string(refused->status));
  }
}

std::optional<WsRefused> WsTestClient::try_connect(
    std::string_view target, const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto& layer = beast::get_lowest_layer(im.ws);
  layer.expires_after(timeout);
  std::optional<error_code> result;
  const tcp::endpoint endpoint(asio::ip::make_address(im.host), im.port);
  layer.async_connect(endpoint, [&result](error_code ec) { result = ec; });
  im.run_until([&] { return result.has_value(); }, deadline + std::chrono::seconds(1));
  if (!result || *result) {
    throw std::runtime_error("ws connect failed: " + (result ? result->message() : "timeout"));
  }
  layer.expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  im.ws.set_option(timeouts);
  im.ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) {
      req.set(name, value);
    }
  }));
  im.ws.read_message_max(16 * 1024 * 1024);
  result.reset();
  websocket::response_type response;
  im.ws.async_handshake(response, im.host + ":" + std::to_string(im.port), std::string(target),
                        [&result](error_code ec) { result = ec; });
  im.run_until([&] { return result.has_value(); }, deadline + std::chrono::seconds(1));
  if (!result || *result) {
    im.abort();
    if (result && response.result_int() != 0 && response.result_int() != 101) {
      return WsRefused{static_cast<int>(response.result_int()), response.body()};
    }
    throw std::runtime_error("ws handshake failed: " + (result ? result->message() : "timeout"));
  }
  im.ws.text(true);
  return std::nullopt;
}

bool WsTestClient::send_text(std::string_view text, std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  if (im.closed) {
    return false;
  }
  std::optional<error_code> result;
  im.ws.async_write(asio::buffer(text.data(), text.size()),
                    [&result](error_code ec, std::size_t) { result = ec; });
  if (!im.run_until([&] { return result.has_value(); },
                    std::chrono::steady_clock::now() + timeout)) {
    im.abort();
    im.run_until([&] { return result.has_value(); },
                 std::chrono::steady_clock::now() + std::chrono::seconds(1));
    return false;
  }
  return !*result;
}

bool WsTestClient::send_json(const json::Value& frame, std::chrono::milliseconds timeout) {
  return send_text(json::serialize(frame), timeout);
}

WsEvent WsTestClient::read(std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  if (!im.read_pending) {
    if (im.closed) {
      return {WsEvent::Kind::closed, {}, 1006, "already closed"};
    }
    im.read_pending = true;
    im.read_result.reset();
    im.ws.async_read(im.buffer, [&im](error_code ec, std::size_t) { im.read_result = ec; });
  }
  if (!im.run_until([&] { return im.read_result.has_value(); },
                    std::chrono::steady_clock::now() + timeout)) {
    return {WsEvent::Kind::timeout, {}, 0, {}};
  }
  im.read_pending = false;
  const auto ec = *im.read_result;
  if (!ec) {
    WsEvent event{WsEvent::Kind::message, beast::buffers_to_string(im.buffer.data()), 0, {}};
    im.buffer.consume(im.buffer.size());
    return event;
  }
  im.closed = true;
  if (ec == websocket::error::closed) {
    const auto& reason = im.ws.reason();
    return {WsEvent::Kind::closed, {}, static_cast<int>(reason.code), reason.reason.c_str()};
  }
  im.abort();
  return {WsEvent::Kind::closed, {}, 1006, ec.message()};
}

void WsTestClient::close(std::uint16_t code, std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  if (im.closed) {
    return;
  }
  std::optional<error_code> result;
  im.ws.async_close(websocket::close_reason(code), [&result](error_code ec) { result = ec; });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!im.run_until([&] { return result.has_value(); }, deadline)) {
    im.abort();
    im.run_until([&] { return result.has_value(); },
                 std::chrono::steady_clock::now() + std::chrono::seconds(1));
    return;
  }
  // The peer's close frame ends a pending read, or a new read.
  while (!im.closed) {
    if (read(std::chrono::duration_cast<std::chrono::milliseconds>(
                 deadline - std::chrono::steady_clock::now()))
            .kind == WsEvent::Kind::timeout) {
      break;
    }
  }
  im.abort();
}

void WsTestClient::drop() {
  impl_->abort();
}

bool WsTestClient::is_open() const {
  return !impl_->closed;
}

}  // namespace tillgate::ft
