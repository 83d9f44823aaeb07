#include "webhooks/delivery_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <stdexcept>

#include "net/tls_stream.hpp"
#include "webhooks/address_policy.hpp"

namespace tillgate::webhooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

namespace {

// Letters, digits, '-', '.', '_': what DNS names use. A percent-decoded host with anything
// else (a CR/LF, a space) would end up in the Host header and SNI, so it is refused.
bool is_plain_host_name(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

// Header names are tokens; values may not break the header block.
bool is_safe_header(std::string_view name, std::string_view value) {
  const auto token_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  };
  return !name.empty() && std::all_of(name.begin(), name.end(), token_char) &&
         value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

std::string lower_first(std::string text) {
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
    text[0] = static_cast<char>(text[0] + 32);
  }
  return text;
}

// What one attempt works with; lives in the attempt's coroutine frame.
struct AttemptContext {
  const WebhookClientSettings& settings;
  SteadyTime deadline;
  DeliveryAttempt& attempt;

  // "<stage>: <detail>", with the deadline and a peer that hung up said plainly.
  void fail(std::string_view stage, const error_code& ec, std::string_view detail = {}) {
    attempt.http_status.reset();
    if (ec == beast::error::timeout ||
        (ec == asio::error::operation_aborted && std::chrono::steady_clock::now() >= deadline)) {
      attempt.error = "timeout after " + std::to_string(settings.attempt_timeout.count()) +
                      " ms (" + std::string(stage) + ")";
    } else if (!detail.empty()) {
      attempt.error = std::string(stage) + ": " + std::string(detail);
    } else if (ec == http::error::end_of_stream || ec == asio::error::eof ||
               ec == http::error::partial_message || ec == ssl::error::stream_truncated) {
      attempt.error = std::string(stage) + ": connection closed by the endpoint";
    } else if (ec.category() == asio::error::get_ssl_category()) {
      const char* reason = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
      attempt.error = std::string(stage) + ": " + (reason != nullptr ? reason : ec.message());
    } else {
      attempt.error = std::string(stage) + ": " + lower_first(ec.message());
    }
  }
};

http::request<http::string_body> make_request(const WebhookUrl& url, const HeaderList& headers,
                                              const std::string& body,
                                              const WebhookClientSettings& settings) {
  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host_header);
  request.set(http::field::user_agent, settings.user_agent);
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    request.set(name, value);
    has_content_type = has_content_type || iequals(name, "content-type");
  }
  if (!has_content_type) {
    request.set(http::field::content_type, "application/json");
  }
  request.set(http::field::connection, "close");
  request.body() = body;
  request.prepare_payload();
  return request;
}

struct ResolveWait {
  explicit ResolveWait(const asio::any_io_executor& executor) : wake(executor) {}
  asio::steady_timer wake;
  bool done = false;
  error_code ec;
  std::vector<tcp::endpoint> endpoints;
};

// getaddrinfo cannot be interrupted, so the attempt does not wait for it past the
// deadline: the lookup's handler owns its state and finishes on its own.
asio::awaitable<std::vector<tcp::endpoint>> resolve(const WebhookUrl& url,
                                                    AttemptContext& context) {
  const auto executor = co_await asio::this_coro::executor;
  if (url.host_is_address) {
    co_return std::vector<tcp::endpoint>{tcp::endpoint(asio::ip::make_address(url.host), url.port)};
  }
  auto wait = std::make_shared<ResolveWait>(executor);
  wait->wake.expires_at(context.deadline);
  tcp::resolver resolver(executor);
  auto on_resolved = [wait](error_code ec, const tcp::resolver::results_type& results) {
    wait->ec = ec;
    for (const auto& entry : results) {
      wait->endpoints.push_back(entry.endpoint());
    }
    wait->done = true;
    wait->wake.cancel();
  };
  resolver.async_resolve(url.host, std::to_string(url.port), std::move(on_resolved));
  error_code ignored;
  co_await wait->wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  if (!wait->done) {
    resolver.cancel();
    context.fail("resolve", beast::error::timeout);
  } else if (wait->ec || wait->endpoints.empty()) {
    context.fail("resolve", wait->ec ? wait->ec : asio::error::host_not_found);
  }
  co_return std::move(wait->endpoints);
}

// Keeps the first max_response_bytes of the body; anything beyond is left unread.
template <typename Stream>
asio::awaitable<void> read_body(Stream& stream, beast::flat_buffer& buffer,
                                http::response_parser<http::buffer_body>& parser,
                                AttemptContext& context) {
  std::array<char, 8192> chunk{};
  std::string& out = context.attempt.response_body;
  const std::size_t limit = context.settings.max_response_bytes;
  while (!parser.is_done() && out.size() < limit) {
    const std::size_t want = std::min(chunk.size(), limit - out.size());
    parser.get().body().data = chunk.data();
    parser.get().body().size = want;
    error_code ec;
    beast::get_lowest_layer(stream).expires_at(context.deadline);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    out.append(chunk.data(), want - parser.get().body().size);
    if (ec == ssl::error::stream_truncated && parser.need_eof()) {
      parser.put_eof(ec);  // a TLS peer that closes without close_notify ends such a body
    }
    if (ec && ec != http::error::need_buffer) {
      break;
    }
  }
  context.attempt.response_truncated = !parser.is_done();
}

template <typename Stream>
asio::awaitable<void> exchange(Stream& stream, http::request<http::string_body>& request,
                               AttemptContext& context) {
  auto& transport = beast::get_lowest_layer(stream);
  error_code write_ec;
  transport.expires_at(context.deadline);
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, write_ec));
  // Even when the write failed, the endpoint may have answered (and closed) before reading
  // the whole body: the answer counts, and the write error only when there is none.
  beast::flat_buffer buffer(context.settings.max_response_header_bytes + 16 * 1024);
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(context.settings.max_response_header_bytes));
  parser.body_limit(boost::none);  // read_body stops at max_response_bytes itself
  error_code ec;
  transport.expires_at(context.deadline);
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    context.fail(write_ec ? "write" : "read", write_ec ? write_ec : ec);
    co_return;
  }
  context.attempt.http_status = static_cast<int>(parser.get().result_int());
  co_await read_body(stream, buffer, parser, context);
}

asio::awaitable<void> post_plain(const std::vector<tcp::endpoint>& endpoints,
                                 http::request<http::string_body>& request,
                                 AttemptContext& context) {
  const auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  error_code ec;
  stream.expires_at(context.deadline);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    context.fail("connect", ec);
    co_return;
  }
  co_await exchange(stream, request, context);
  stream.socket().close(ec);
}

asio::awaitable<void> post_tls(const WebhookUrl& url, const std::vector<tcp::endpoint>& endpoints,
                               http::request<http::string_body>& request, ssl::context& tls,
                               AttemptContext& context) {
  const auto executor = co_await asio::this_coro::executor;
  beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
  // SNI for names (RFC 6066) and the certificate checked for the host, name or address:
  // the same client-side setup as the gateway's own clients (net/tls.cpp).
  bool prepared = true;
  try {
    net::prepare_client_tls(stream, url.host);
  } catch (const std::runtime_error&) {
    prepared = false;
  }
  if (!prepared) {
    context.fail("tls", {}, "cannot set the server name");
    co_return;
  }
  error_code ec;
  auto& transport = beast::get_lowest_layer(stream);
  transport.expires_at(context.deadline);
  co_await transport.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    context.fail("connect", ec);
    co_return;
  }
  transport.expires_at(context.deadline);
  co_await stream.async_handshake(ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) {
      std::string detail = "certificate verify failed: ";
      detail += X509_verify_cert_error_string(verify);
      context.fail("tls", ec, detail);
    } else {
      context.fail("tls", ec);
    }
    co_return;
  }
  co_await exchange(stream, request, context);
  transport.socket().close(ec);  // Connection: close; no close_notify round trip needed
}

}  // namespace

std::optional<WebhookUrl> parse_webhook_url(std::string_view text, std::string& error) {
  const auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    error = "url: not an absolute URL (" + parsed.error().message() + ")";
    return std::nullopt;
  }
  const boost::urls::url_view& url = *parsed;
  WebhookUrl out;
  if (url.scheme_id() == boost::urls::scheme::https) {
    out.tls = true;
  } else if (url.scheme_id() != boost::urls::scheme::http) {
    error = "url: the scheme must be http or https";
    return std::nullopt;
  }
  if (url.has_userinfo()) {
    error = "url: user information (user@host) is not allowed";
    return std::nullopt;
  }
  std::string bracketed;
  switch (url.host_type()) {
    case boost::urls::host_type::name:
      out.host = url.host_name();
      if (!is_plain_host_name(out.host)) {
        error =
            "url: the host name is empty or has characters other than letters, digits, "
            "'-', '.' and '_'";
        return std::nullopt;
      }
      bracketed = out.host;
      break;
    case boost::urls::host_type::ipv4:
      out.host = url.host_ipv4_address().to_string();
      out.host_is_address = true;
      bracketed = out.host;
      break;
    case boost::urls::host_type::ipv6:
      out.host = url.host_ipv6_address().to_string();
      out.host_is_address = true;
      bracketed = "[" + out.host + "]";
      break;
    case boost::urls::host_type::none:
    case boost::urls::host_type::ipvfuture:
      error = "url: a host name or IP address is required";
      return std::nullopt;
  }
  const std::uint16_t default_port = out.tls ? 443 : 80;
  out.port = default_port;
  if (url.has_port() && !url.port().empty()) {
    if (url.port_number() == 0) {
      error = "url: the port must be between 1 and 65535";
      return std::nullopt;
    }
    out.port = url.port_number();
  }
  out.host_header =
      out.port == default_port ? bracketed : bracketed + ":" + std::to_string(out.port);
  out.target = url.encoded_path().empty() ? "/" : std::string(url.encoded_path());
  if (url.has_query()) {
    out.target += "?" + std::string(url.encoded_query());
  }
  return out;
}

struct WebhookClientState {
  WebhookClientState(asio::any_io_executor io, WebhookClientSettings s)
      : executor(std::move(io)), settings(std::move(s)) {
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION) != 1) {
      throw std::runtime_error("webhook client: cannot require TLS 1.2");
    }
    tls.set_default_verify_paths();
    if (!settings.extra_ca_file.empty()) {
      error_code ec;
      tls.load_verify_file(settings.extra_ca_file, ec);
      if (ec) {
        throw std::runtime_error("webhook client: cannot load CA file " + settings.extra_ca_file +
                                 ": " + ec.message());
      }
    }
    tls.set_verify_mode(ssl::verify_peer);
  }

  asio::any_io_executor executor;
  WebhookClientSettings settings;
  ssl::context tls{ssl::context::tls_client};
};

namespace {

domain::Timestamp now_on(const domain::Clock* clock) {
  if (clock != nullptr) {
    return clock->now();
  }
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

asio::awaitable<void> attempt_once(WebhookClientState& state, const std::string& url_text,
                                   const HeaderList& headers, const std::string& body,
                                   AttemptContext& context);

// The coroutine behind post(): owns a reference to the client so that destroying the
// client does not end attempts in flight.
asio::awaitable<DeliveryAttempt> run_attempt(std::shared_ptr<WebhookClientState> state,
                                             std::string url, HeaderList headers,
                                             std::string body) {
  DeliveryAttempt attempt;
  attempt.started_at = now_on(state->settings.clock);
  const auto started = std::chrono::steady_clock::now();
  AttemptContext context{state->settings, started + state->settings.attempt_timeout, attempt};
  try {
    co_await attempt_once(*state, url, headers, body, context);
  } catch (const std::exception& error) {
    attempt.http_status.reset();
    attempt.error = std::string("internal: ") + error.what();
  }
  attempt.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  co_return attempt;
}

asio::awaitable<void> attempt_once(WebhookClientState& state, const std::string& url_text,
                                   const HeaderList& headers, const std::string& body,
                                   AttemptContext& context) {
  std::string url_error;
  const auto url = parse_webhook_url(url_text, url_error);
  if (!url) {
    context.attempt.error = url_error;
    co_return;
  }
  for (const auto& [name, value] : headers) {
    if (!is_safe_header(name, value)) {
      context.fail("request", {}, "header " + name + " has characters HTTP does not allow");
      co_return;
    }
  }
  auto request = make_request(*url, headers, body, state.settings);
  auto endpoints = co_await resolve(*url, context);
  if (!context.attempt.error.empty()) {
    co_return;
  }
  if (!state.settings.allow_private_addresses) {
    // Checked on the addresses about to be connected to, at every attempt: a name that
    // resolves elsewhere the next time is checked again (DNS rebinding).
    std::erase_if(endpoints, [](const tcp::endpoint& endpoint) {
      return !is_public_address(endpoint.address().to_string());
    });
    if (endpoints.empty()) {
      context.fail("connect", {},
                   url->host +
                       " is a loopback, private or link-local address, to which "
                       "webhooks are not sent (TILLGATE_WEBHOOK_ALLOW_PRIVATE=1 allows it)");
      co_return;
    }
  }
  if (url->tls) {
    co_await post_tls(*url, endpoints, request, state.tls, context);
  } else {
    co_await post_plain(endpoints, request, context);
  }
}

}  // namespace

WebhookHttpClient::WebhookHttpClient(asio::any_io_executor executor, WebhookClientSettings settings)
    : state_(std::make_shared<WebhookClientState>(std::move(executor), std::move(settings))) {}

WebhookHttpClient::~WebhookHttpClient() = default;

asio::awaitable<DeliveryAttempt> WebhookHttpClient::post(std::string url, HeaderList headers,
                                                         std::string body) {
  return run_attempt(state_, std::move(url), std::move(headers), std::move(body));
}

const WebhookClientSettings& WebhookHttpClient::settings() const {
  return state_->settings;
}

}  // namespace tillgate::webhooks
