#include "client/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <charconv>

#include "net/tls_stream.hpp"

namespace tillgate::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Bounds on what we accept from a server: generous for tests, never unbounded.
constexpr std::size_t max_response_body_bytes = 16 * 1024 * 1024;
constexpr std::uint32_t max_response_header_bytes = 64 * 1024;

bool is_connection_lost(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message || ec == ssl::error::stream_truncated;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

std::optional<HttpEndpoint> parse_http_url(std::string_view url) {
  constexpr std::string_view plain = "http://";
  constexpr std::string_view secure = "https://";
  HttpEndpoint endpoint;
  if (url.substr(0, plain.size()) == plain) {
    url.remove_prefix(plain.size());
  } else if (url.substr(0, secure.size()) == secure) {
    url.remove_prefix(secure.size());
    endpoint.tls = true;
    endpoint.port = 443;
  } else {
    return std::nullopt;
  }
  url = url.substr(0, url.find('/'));
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos) {
    endpoint.host = std::string(url);
  } else {
    endpoint.host = std::string(url.substr(0, colon));
    const auto digits = url.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  if (endpoint.host.size() > 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
    endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
  }
  if (endpoint.host.empty()) {
    return std::nullopt;
  }
  return endpoint;
}

struct HttpClient::Impl {
  std::string host;
  std::uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<ssl::context> tls;           // https://
  std::optional<beast::tcp_stream> stream;   // the connection, plain
  std::optional<net::TlsStream> tls_stream;  // or under TLS
  beast::flat_buffer buffer;
  bool reused = false;  // a full exchange already happened on this connection

  Impl(std::string h, std::uint16_t p, std::chrono::milliseconds t)
      : host(std::move(h)), port(p), timeout(t) {}

  [[nodiscard]] bool has_connection() const { return stream || tls_stream; }
  // The TCP layer of the connection (one must exist).
  beast::tcp_stream& transport() {
    return tls_stream ? beast::get_lowest_layer(*tls_stream) : *stream;
  }
  // Calls `f` with the connection's stream, plain or TLS.
  template <typename F>
  auto with_stream(F&& f) {
    if (tls_stream) {
      return f(*tls_stream);
    }
    return f(*stream);
  }

  // Runs the io_context until the operation started by `start` completes. The stream's
  // own deadline (expires_after) guarantees that it does.
  template <typename Start>
  error_code run(Start&& start) {
    std::optional<error_code> result;
    start([&result](error_code ec, auto&&...) { result = ec; });
    while (!result) {
      if (ioc.stopped()) {
        ioc.restart();
      }
      if (ioc.run_one() == 0 && !result) {
        return asio::error::operation_aborted;
      }
    }
    return *result;
  }

  std::vector<tcp::endpoint> resolve() {
    error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {
      return {tcp::endpoint(address, port)};
    }
    tcp::resolver resolver(ioc);
    asio::steady_timer deadline(ioc, timeout);
    deadline.async_wait([&resolver](error_code wait_ec) {
      if (!wait_ec) {
        resolver.cancel();
      }
    });
    std::vector<tcp::endpoint> endpoints;
    ec = run([&](auto handler) {
      resolver.async_resolve(
          host, std::to_string(port),
          [&endpoints, handler](error_code resolve_ec, tcp::resolver::results_type results) {
            for (const auto& entry : results) {
              endpoints.push_back(entry.endpoint());
            }
            handler(resolve_ec);
          });
    });
    deadline.cancel();
    if (ec) {
      throw HttpError("cannot resolve " + host + ": " + ec.message());
    }
    return endpoints;
  }

  void connect() {
    close();
    const auto endpoints = resolve();
    if (tls) {
      tls_stream.emplace(ioc, *tls);
      try {
        net::prepare_client_tls(*tls_stream, host);
      } catch (const std::exception& e) {
        tls_stream.reset();
        throw HttpError(e.what());
      }
    } else {
      stream.emplace(ioc);
    }
    transport().expires_after(timeout);
    auto ec = run([&](auto handler) {
      transport().async_connect(endpoints, [handler](error_code connect_ec, const tcp::endpoint&) {
        handler(connect_ec);
      });
    });
    if (ec) {
      close();
      throw HttpError("cannot connect to " + host + ":" + std::to_string(port) + ": " +
                      ec.message());
    }
    if (tls_stream) {
      transport().expires_after(timeout);
      ec = run([&](auto handler) {
        tls_stream->async_handshake(ssl::stream_base::client,
                                    [handler](error_code handshake_ec) { handler(handshake_ec); });
      });
      if (ec) {
        const auto why = net::describe_client_tls_failure(*tls_stream, ec);
        close();
        throw HttpError("TLS handshake with " + host + ":" + std::to_string(port) +
                        " failed: " + why);
      }
    }
    buffer.clear();
    reused = false;
  }

  // Drops the connection (no TLS close_notify: nothing is pending, and the server does not
  // need it to end the connection).
  void close() {
    if (has_connection()) {
      error_code ignored;
      transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
      transport().socket().close(ignored);
      stream.reset();
      tls_stream.reset();
    }
    buffer.clear();
    reused = false;
  }

  void ensure_connected() {
    if (!has_connection() || !transport().socket().is_open()) {
      connect();
    }
  }

  error_code write_bytes(std::string_view raw) {
    transport().expires_after(timeout);
    if (tls_stream) {
      return run([&](auto handler) {
        asio::async_write(*tls_stream, asio::buffer(raw.data(), raw.size()),
                          [handler](error_code ec, std::size_t) { handler(ec); });
      });
    }
    return run([&](auto handler) {
      asio::async_write(stream->socket(), asio::buffer(raw.data(), raw.size()),
                        [handler](error_code ec, std::size_t) { handler(ec); });
    });
  }

  // Reads one response; `got_some` tells a stale keep-alive connection (nothing read)
  // from a server that failed mid-response.
  error_code read_response(http::response<http::string_body>& out, bool& got_some) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_body_bytes);
    parser.header_limit(max_response_header_bytes);
    transport().expires_after(timeout);
    const auto ec = run([&](auto handler) {
      with_stream([&](auto& s) {
        http::async_read(s, buffer, parser,
                         [handler](error_code read_ec, std::size_t) { handler(read_ec); });
      });
    });
    got_some = parser.got_some();
    if (!ec) {
      out = parser.release();
    }
    return ec;
  }

  HttpResponse finish(http::response<http::string_body>& res) {
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    if (res.keep_alive()) {
      reused = true;
    } else {
      close();
    }
    return out;
  }

  [[noreturn]] void fail(std::string_view what, const error_code& ec) {
    close();
    throw HttpError(std::string(what) + " " + host + ":" + std::to_string(port) + ": " +
                    ec.message());
  }

  HttpResponse exchange(http::request<http::string_body>& req) {
    for (int attempt = 0;; ++attempt) {
      ensure_connected();
      const bool was_reused = reused;
      transport().expires_after(timeout);
      const auto write_ec = run([&](auto handler) {
        with_stream([&](auto& s) {
          http::async_write(s, req, [handler](error_code ec, std::size_t) { handler(ec); });
        });
      });
      if (write_ec && was_reused && attempt == 0 && is_connection_lost(write_ec)) {
        close();
        continue;  // the server closed the idle connection: retry once on a new one
      }
      http::response<http::string_body> res;
      bool got_some = false;
      const auto read_ec = read_response(res, got_some);
      if (read_ec) {
        if (!got_some && was_reused && attempt == 0 && is_connection_lost(read_ec)) {
          close();
          continue;
        }
        fail(write_ec ? "request failed (write: " + write_ec.message() + ") to" : "read from",
             read_ec);
      }
      return finish(res);
    }
  }
};

HttpClient::HttpClient(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(host), port, timeout)) {}

HttpClient::HttpClient(const HttpEndpoint& endpoint, std::chrono::milliseconds timeout,
                       const std::string& ca_file)
    : impl_(std::make_unique<Impl>(endpoint.host, endpoint.port, timeout)) {
  if (endpoint.tls) {
    try {
      impl_->tls.emplace(net::make_client_tls_context(ca_file));
    } catch (const std::exception& e) {
      throw HttpError(e.what());
    }
  }
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 std::string_view body, const HeaderList& headers) {
  http::request<http::string_body> req;
  const auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  req.set(http::field::host, impl_->host + ":" + std::to_string(impl_->port));
  req.set(http::field::user_agent, "tillgate-client/" TILLGATE_VERSION);
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    req.set(name, value);
    has_content_type = has_content_type || iequals(name, "content-type");
  }
  if (!body.empty() && !has_content_type) {
    req.set(http::field::content_type, "application/json");
  }
  req.body() = std::string(body);
  req.prepare_payload();
  return impl_->exchange(req);
}

HttpResponse HttpClient::send_raw(std::string_view raw) {
  impl_->ensure_connected();
  const auto write_ec = impl_->write_bytes(raw);
  http::response<http::string_body> res;
  bool got_some = false;
  const auto read_ec = impl_->read_response(res, got_some);
  if (read_ec) {
    impl_->fail(write_ec ? "raw write failed (" + write_ec.message() + "), then read from"
                         : "raw read from",
                read_ec);
  }
  return impl_->finish(res);
}

bool HttpClient::send_raw_expect_close(std::string_view raw) {
  impl_->ensure_connected();
  (void)impl_->write_bytes(raw);
  impl_->transport().expires_after(impl_->timeout);
  std::array<char, 4096> scratch{};
  for (;;) {
    const auto ec = impl_->run([&](auto handler) {
      impl_->with_stream([&](auto& s) {
        s.async_read_some(asio::buffer(scratch),
                          [handler](error_code read_ec, std::size_t) { handler(read_ec); });
      });
    });
    if (ec) {
      const bool closed = ec != beast::error::timeout;
      impl_->close();
      return closed;
    }
  }
}

void HttpClient::close() {
  impl_->close();
}

void HttpClient::set_timeout(std::chrono::milliseconds timeout) {
  impl_->timeout = timeout;
}

const std::string& HttpClient::host() const {
  return impl_->host;
}

std::uint16_t HttpClient::port() const {
  return impl_->port;
}

}  // namespace tillgate::client
