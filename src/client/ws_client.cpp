#include "client/ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <variant>

#include "net/tls_stream.hpp"

namespace tillgate::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

std::optional<HttpEndpoint> parse_ws_url(std::string_view url) {
  constexpr std::string_view plain = "ws://";
  constexpr std::string_view secure = "wss://";
  if (url.substr(0, plain.size()) == plain) {
    return parse_http_url("http://" + std::string(url.substr(plain.size())));
  }
  if (url.substr(0, secure.size()) == secure) {
    return parse_http_url("https://" + std::string(url.substr(secure.size())));
  }
  return parse_http_url(url);
}

struct WsClient::Impl {
  using PlainWs = websocket::stream<beast::tcp_stream>;
  using TlsWs = websocket::stream<net::TlsStream>;

  HttpEndpoint endpoint;
  WsClientSettings settings;
  asio::io_context ioc;
  std::optional<ssl::context> tls;
  std::variant<std::monostate, PlainWs, TlsWs> ws;
  beast::flat_buffer buffer;
  bool read_pending = false;
  std::optional<error_code> read_result;
  bool open = false;

  Impl(HttpEndpoint e, WsClientSettings s) : endpoint(std::move(e)), settings(s) {}

  [[nodiscard]] bool has_stream() const { return !std::holds_alternative<std::monostate>(ws); }

  beast::tcp_stream& transport() {
    if (auto* secure = std::get_if<TlsWs>(&ws)) {
      return beast::get_lowest_layer(*secure);
    }
    return beast::get_lowest_layer(std::get<PlainWs>(ws));
  }

  template <typename F>
  void with_ws(F&& f) {
    if (auto* secure = std::get_if<TlsWs>(&ws)) {
      f(*secure);
    } else if (auto* plain = std::get_if<PlainWs>(&ws)) {
      f(*plain);
    }
  }

  // Runs handlers until `done` or the deadline; false at the deadline.
  template <typename Done>
  bool run_until(Done&& done, Clock::time_point deadline) {
    while (!done()) {
      if (ioc.stopped()) {
        ioc.restart();
      }
      if (ioc.run_one_until(deadline) == 0 && !done() &&
          (Clock::now() >= deadline || ioc.stopped())) {
        return false;
      }
    }
    return true;
  }

  // Runs the operation `start` begins (it calls its handler with an error_code) to its end
  // or the deadline; at the deadline the connection is dropped, which ends it.
  template <typename Start>
  error_code run(Start&& start, std::chrono::milliseconds timeout) {
    std::optional<error_code> result;
    start([&result](error_code ec, auto&&...) { result = ec; });
    if (!run_until([&] { return result.has_value(); }, Clock::now() + timeout)) {
      abort();
      (void)run_until([&] { return result.has_value(); }, Clock::now() + timeout);
      return asio::error::timed_out;
    }
    return *result;
  }

  // Closes the socket without a close frame; pending operations then end.
  void abort() {
    if (has_stream()) {
      error_code ignored;
      transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
      transport().socket().close(ignored);
    }
    open = false;
  }

  // Drops the connection and lets its aborted operations finish before it goes away.
  void reset() {
    abort();
    ioc.restart();
    ioc.poll();
    ws.emplace<std::monostate>();
    buffer.clear();
    read_pending = false;
    read_result.reset();
  }

  std::vector<tcp::endpoint> resolve() {
    error_code ec;
    const auto address = asio::ip::make_address(endpoint.host, ec);
    if (!ec) {
      return {tcp::endpoint(address, endpoint.port)};
    }
    tcp::resolver resolver(ioc);
    std::vector<tcp::endpoint> found;
    ec = run(
        [&](auto handler) {
          resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                 [&found, handler](error_code resolve_ec, auto results) {
                                   for (const auto& entry : results) {
                                     found.push_back(entry.endpoint());
                                   }
                                   handler(resolve_ec);
                                 });
        },
        settings.timeout);
    resolver.cancel();
    if (ec || found.empty()) {
      throw WsError("cannot resolve " + endpoint.host + ": " + ec.message());
    }
    return found;
  }

  [[nodiscard]] std::string where() const {
    return endpoint.host + ":" + std::to_string(endpoint.port);
  }

  void open_transport() {
    const auto endpoints = resolve();
    if (tls) {
      ws.emplace<TlsWs>(ioc, *tls);
    } else {
      ws.emplace<PlainWs>(ioc);
    }
    transport().expires_after(settings.timeout);
    auto ec = run(
        [&](auto handler) {
          transport().async_connect(
              endpoints,
              [handler](error_code connect_ec, const tcp::endpoint&) { handler(connect_ec); });
        },
        settings.timeout);
    if (ec) {
      throw WsError("cannot connect to " + where() + ": " + ec.message());
    }
    error_code ignored;
    transport().socket().set_option(tcp::no_delay(true), ignored);
    if (auto* secure = std::get_if<TlsWs>(&ws)) {
      try {
        net::prepare_client_tls(secure->next_layer(), endpoint.host);
      } catch (const std::exception& e) {
        throw WsError(e.what());
      }
      transport().expires_after(settings.timeout);
      ec = run(
          [&](auto handler) {
            secure->next_layer().async_handshake(ssl::stream_base::client,
                                                 [handler](error_code h) { handler(h); });
          },
          settings.timeout);
      if (ec) {
        throw WsError("TLS handshake with " + where() +
                      " failed: " + net::describe_client_tls_failure(secure->next_layer(), ec));
      }
    }
    transport().expires_never();  // the WebSocket's own timeouts take over
  }

  std::optional<WsRefusal> upgrade(std::string_view target, const HeaderList& headers) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = settings.timeout;
    timeouts.idle_timeout = settings.idle_timeout;
    timeouts.keep_alive_pings = true;
    const auto decorate = [headers](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "tillgate-client/" TILLGATE_VERSION);
      for (const auto& [name, value] : headers) {
        req.set(name, value);
      }
    };
    websocket::response_type response;
    const std::string host = where();
    error_code ec;
    with_ws([&](auto& stream) {
      stream.set_option(timeouts);
      stream.set_option(websocket::stream_base::decorator(decorate));
      stream.read_message_max(settings.max_frame_bytes);
      stream.text(true);
      ec = run(
          [&](auto handler) {
            stream.async_handshake(response, host, target, [handler](error_code h) { handler(h); });
          },
          settings.timeout + settings.timeout);
    });
    if (!ec) {
      open = true;
      return std::nullopt;
    }
    const auto status = response.result_int();
    if (status != 0 && status != 101) {
      return WsRefusal{static_cast<int>(status), response.body()};
    }
    throw WsError("WebSocket handshake with " + host + " failed: " + ec.message());
  }
};

WsClient::WsClient(const HttpEndpoint& endpoint, WsClientSettings settings,
                   const std::string& ca_file)
    : impl_(std::make_unique<Impl>(endpoint, settings)) {
  if (endpoint.tls) {
    try {
      impl_->tls.emplace(net::make_client_tls_context(ca_file));
    } catch (const std::exception& e) {
      throw WsError(e.what());
    }
  }
}

WsClient::~WsClient() {
  impl_->reset();
}

std::optional<WsRefusal> WsClient::connect(std::string_view target, const HeaderList& headers) {
  impl_->reset();
  try {
    impl_->open_transport();
    auto refused = impl_->upgrade(target, headers);
    if (refused) {
      impl_->reset();
    }
    return refused;
  } catch (...) {
    impl_->reset();
    throw;
  }
}

void WsClient::send(std::string_view text) {
  auto& im = *impl_;
  if (!im.open) {
    throw WsError("the connection is closed");
  }
  error_code ec;
  im.with_ws([&](auto& stream) {
    ec = im.run(
        [&](auto handler) {
          stream.async_write(asio::buffer(text.data(), text.size()),
                             [handler](error_code w, std::size_t) { handler(w); });
        },
        im.settings.timeout);
  });
  if (ec) {
    im.abort();
    throw WsError("cannot send to " + im.where() + ": " + ec.message());
  }
}

WsFrame WsClient::read(std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  if (!im.read_pending) {
    if (!im.open) {
      return {WsFrame::Kind::closed, {}, 1006, "not connected"};
    }
    im.read_pending = true;
    im.read_result.reset();
    im.with_ws([&im](auto& stream) {
      stream.async_read(im.buffer, [&im](error_code ec, std::size_t) { im.read_result = ec; });
    });
  }
  if (!im.run_until([&] { return im.read_result.has_value(); }, Clock::now() + timeout)) {
    return {WsFrame::Kind::timeout, {}, 0, {}};
  }
  im.read_pending = false;
  const auto ec = *im.read_result;
  if (!ec) {
    WsFrame frame{WsFrame::Kind::message, beast::buffers_to_string(im.buffer.data()), 0, {}};
    im.buffer.consume(im.buffer.size());
    return frame;
  }
  WsFrame closed{WsFrame::Kind::closed, {}, 1006, ec.message()};
  if (ec == websocket::error::closed) {
    im.with_ws([&closed](auto& stream) {
      closed.close_code = static_cast<int>(stream.reason().code);
      closed.reason = std::string(stream.reason().reason.c_str());
    });
  }
  im.abort();
  return closed;
}

void WsClient::close(std::uint16_t code) {
  auto& im = *impl_;
  if (im.open) {
    im.with_ws([&](auto& stream) {
      (void)im.run(
          [&](auto handler) {
            stream.async_close(websocket::close_reason(code),
                               [handler](error_code c) { handler(c); });
          },
          im.settings.timeout);
    });
  }
  im.reset();
}

bool WsClient::is_open() const {
  return impl_->open;
}

}  // namespace tillgate::client
