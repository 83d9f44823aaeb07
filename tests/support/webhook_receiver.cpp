#include "webhook_receiver.hpp"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace tillgate::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Generous bounds: the receiver serves tests, but a runaway client must not hang it.
constexpr std::size_t max_request_body_bytes = 16 * 1024 * 1024;
constexpr std::chrono::seconds io_timeout{30};

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

}  // namespace

std::optional<std::string> ReceivedRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) {
      return value;
    }
  }
  return std::nullopt;
}

ReceiverReply ReceiverReply::with_status(int status) {
  ReceiverReply reply;
  reply.status = status;
  return reply;
}

ReceiverReply ReceiverReply::delayed(std::chrono::milliseconds delay, int status) {
  ReceiverReply reply;
  reply.status = status;
  reply.delay = delay;
  return reply;
}

ReceiverReply ReceiverReply::dropped(std::chrono::milliseconds after) {
  ReceiverReply reply;
  reply.delay = after;
  reply.drop = true;
  return reply;
}

ReceiverReply ReceiverReply::with_body(std::string body, int status) {
  ReceiverReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

// Members that the network thread alone touches: the acceptor and the TLS context.
// Members under `mutex`: the script, the default reply and the records.
struct WebhookReceiver::Impl {
  std::optional<ssl::context> tls;  // declared before io: sessions may outlive the acceptor
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor{io};
  std::uint16_t port = 0;               // set once by the constructor, before the thread starts
  std::uint64_t listen_generation = 0;  // an accept loop ends when the listener was reopened

  mutable std::mutex mutex;
  mutable std::condition_variable recorded;
  std::deque<ReceiverReply> script;
  ReceiverReply default_reply;
  std::vector<ReceivedRequest> requests;
  std::size_t tls_failures = 0;

  std::thread thread;

  // Binds 127.0.0.1:on_port (0: any) and starts accepting; returns the port.
  std::uint16_t listen(std::uint16_t on_port);
  ReceiverReply record(const http::request<http::string_body>& message);
  void count_tls_failure() {
    const std::lock_guard lock(mutex);
    ++tls_failures;
  }
  // Runs `work_fn` on the network thread and waits for it (rethrowing what it threw).
  template <typename Work>
  void run_on_network_thread(Work work_fn) {
    std::promise<void> done;
    auto future = done.get_future();
    asio::post(io, [&done, &work_fn] {
      try {
        work_fn();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    future.get();
  }
};

namespace {

template <typename Stream>
asio::awaitable<void> serve_requests(WebhookReceiver::Impl* impl, Stream& stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_request_body_bytes);
    error_code ec;
    beast::get_lowest_layer(stream).expires_after(io_timeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return;
    }
    const auto request = parser.release();
    const ReceiverReply reply = impl->record(request);
    if (reply.delay.count() > 0) {
      asio::steady_timer timer(stream.get_executor(), reply.delay);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (reply.drop) {
      beast::get_lowest_layer(stream).socket().close(ec);
      co_return;
    }
    http::response<http::string_body> response{static_cast<http::status>(reply.status),
                                               request.version()};
    response.set(http::field::content_type, "text/plain");
    const bool may_have_body = reply.status >= 200 && reply.status != 204 && reply.status != 304;
    response.body() = may_have_body ? reply.body : std::string();
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(io_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !response.keep_alive()) {
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

asio::awaitable<void> serve_plain(WebhookReceiver::Impl* impl, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  co_await serve_requests(impl, stream);
}

asio::awaitable<void> serve_tls(WebhookReceiver::Impl* impl, tcp::socket socket) {
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *impl->tls);
  error_code ec;
  beast::get_lowest_layer(stream).expires_after(io_timeout);
  co_await stream.async_handshake(ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    impl->count_tls_failure();
    co_return;
  }
  co_await serve_requests(impl, stream);
}

asio::awaitable<void> accept_loop(WebhookReceiver::Impl* impl, std::uint64_t generation) {
  for (;;) {
    error_code ec;
    tcp::socket socket =
        co_await impl->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (generation != impl->listen_generation || !impl->acceptor.is_open()) {
      co_return;  // taken down (and perhaps reopened, with its own loop)
    }
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      continue;
    }
    if (impl->tls) {
      asio::co_spawn(impl->io, serve_tls(impl, std::move(socket)), asio::detached);
    } else {
      asio::co_spawn(impl->io, serve_plain(impl, std::move(socket)), asio::detached);
    }
  }
}

}  // namespace

std::uint16_t WebhookReceiver::Impl::listen(std::uint16_t on_port) {
  const tcp::endpoint endpoint{asio::ip::make_address_v4("127.0.0.1"), on_port};
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  ++listen_generation;
  asio::co_spawn(io, accept_loop(this, listen_generation), asio::detached);
  return acceptor.local_endpoint().port();
}

ReceiverReply WebhookReceiver::Impl::record(const http::request<http::string_body>& message) {
  ReceivedRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
  }
  request.body = message.body();
  request.received_at = std::chrono::system_clock::now();
  ReceiverReply reply;
  {
    const std::lock_guard lock(mutex);
    requests.push_back(std::move(request));
    if (script.empty()) {
      reply = default_reply;
    } else {
      reply = std::move(script.front());
      script.pop_front();
    }
  }
  recorded.notify_all();
  return reply;
}

WebhookReceiver::WebhookReceiver() : impl_(std::make_unique<Impl>()) {
  impl_->port = impl_->listen(0);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

WebhookReceiver::WebhookReceiver(const ReceiverTlsFiles& tls) : impl_(std::make_unique<Impl>()) {
  auto& context = impl_->tls.emplace(ssl::context::tls_server);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.use_certificate_chain_file(tls.certificate_chain.string());
  context.use_private_key_file(tls.private_key.string(), ssl::context::pem);
  impl_->port = impl_->listen(0);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

WebhookReceiver::~WebhookReceiver() {
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
  error_code ignored;
  impl_->acceptor.close(ignored);
}

std::uint16_t WebhookReceiver::port() const {
  return impl_->port;
}

bool WebhookReceiver::is_tls() const {
  return impl_->tls.has_value();
}

std::string WebhookReceiver::url(std::string_view path, std::string_view host) const {
  std::string out = is_tls() ? "https://" : "http://";
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out + ":" + std::to_string(port()) + std::string(path);
}

void WebhookReceiver::script(std::vector<ReceiverReply> replies) {
  const std::lock_guard lock(impl_->mutex);
  impl_->script.assign(std::make_move_iterator(replies.begin()),
                       std::make_move_iterator(replies.end()));
}

void WebhookReceiver::set_default(ReceiverReply reply) {
  const std::lock_guard lock(impl_->mutex);
  impl_->default_reply = std::move(reply);
}

void WebhookReceiver::set_down(bool down) {
  Impl* impl = impl_.get();
  impl->run_on_network_thread([impl, down] {
    if (down == !impl->acceptor.is_open()) {
      return;
    }
    if (down) {
      error_code ignored;
      impl->acceptor.close(ignored);
    } else {
      (void)impl->listen(impl->port);
    }
  });
}

std::vector<ReceivedRequest> WebhookReceiver::requests() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t WebhookReceiver::request_count() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->requests.size();
}

bool WebhookReceiver::wait_for(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->recorded.wait_for(lock, timeout, [&] { return impl_->requests.size() >= count; });
}

std::size_t WebhookReceiver::tls_handshake_failures() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->tls_failures;
}

}  // namespace tillgate::testing
