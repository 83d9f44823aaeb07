#include "app/demo_receiver.hpp"

#include <chrono>

#include "domain/time.hpp"
#include "json/json.hpp"
#include "webhooks/signature.hpp"

namespace tillgate::app {

namespace {

// The receiver takes the gateway's deliveries only: small bodies, quick answers.
net::HttpServerLimits receiver_limits() {
  net::HttpServerLimits limits;
  limits.max_body_bytes = 256 * 1024;
  limits.max_header_bytes = 16 * 1024;
  limits.read_timeout = std::chrono::seconds(10);
  limits.idle_timeout = std::chrono::seconds(30);
  limits.write_timeout = std::chrono::seconds(10);
  limits.max_connections = 64;
  limits.max_connections_per_address = 64;
  return limits;
}

// "payment.completed TXN-1 SUCCESS" from an event body.
std::string summary(const std::string& body) {
  const auto parsed = json::parse(body);
  if (!parsed || !parsed->is_object()) {
    return "a body that is not a payment event";
  }
  std::string line(parsed->find_string("eventType").value_or("an event"));
  if (const auto* data = parsed->find("data"); data != nullptr && data->is_object()) {
    line += " " + std::string(data->find_string("transactionId").value_or("?"));
    line += " " + std::string(data->find_string("status").value_or(""));
  }
  return line;
}

}  // namespace

DemoWebhookReceiver::DemoWebhookReceiver(boost::asio::io_context& io, std::string secret,
                                         Printer print)
    : secret_(std::move(secret)),
      print_(std::move(print)),
      server_(
          std::make_unique<net::HttpServer>(io, receiver_limits(), *this, no_upgrades_, clock_)) {}

DemoWebhookReceiver::~DemoWebhookReceiver() = default;

std::uint16_t DemoWebhookReceiver::start() {
  const auto port = server_->listen("127.0.0.1", 0);
  server_->start();
  return port;
}

boost::asio::awaitable<void> DemoWebhookReceiver::stop() {
  co_await server_->shutdown(std::chrono::seconds(1));
  co_await server_->wait_stopped(std::chrono::milliseconds(1000));
}

std::string DemoWebhookReceiver::check(const net::HttpRequest& request) const {
  const auto id = request.header("webhook-id");
  const auto timestamp = request.header("webhook-timestamp");
  const auto signature = request.header("webhook-signature");
  if (!id || !timestamp || !signature) {
    return "missing webhook-id, webhook-timestamp or webhook-signature";
  }
  const auto failure = webhooks::verify_webhook(secret_, *id, *timestamp, request.body, *signature,
                                                domain::SystemClock().now());
  return failure ? std::string(webhooks::to_string(*failure)) : std::string();
}

boost::asio::awaitable<net::HttpResponse> DemoWebhookReceiver::handle(net::HttpRequest request) {
  net::HttpResponse response;
  response.content_type = "text/plain; charset=utf-8";
  if (request.method != "POST") {
    response.status = 405;
    co_return response;
  }
  const auto problem = check(request);
  if (problem.empty()) {
    print_("[webhook] " + summary(request.body) + " (signature verified)");
    response.status = 204;
  } else {
    print_("[webhook] REFUSED: " + problem);
    response.status = 400;
    response.body = problem + "\n";
  }
  co_return response;
}

net::HttpResponse DemoWebhookReceiver::refuse(int status, std::string_view /*code*/,
                                              std::string_view message, std::string_view /*path*/) {
  net::HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::string(message) + "\n";
  return response;
}

}  // namespace tillgate::app
