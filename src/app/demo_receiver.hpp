#pragma once
// The demo's own webhook receiver (like `stripe listen`): an HTTP server on loopback that
// `tillgate demo` registers as its merchant's webhook endpoint, verifies every delivery's
// Standard Webhooks signature with the endpoint's secret, answers 204 (or 400 when the
// signature does not verify), and prints one line per delivery. So deliveries show in the
// console from the first payment.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_server.hpp"
#include "net/time_source.hpp"
#include "net/upgrade_router.hpp"

namespace tillgate::app {

class DemoWebhookReceiver final : public net::RequestHandler {
 public:
  using Printer = std::function<void(std::string_view line)>;

  // `secret`: the endpoint's "whsec_..." signing secret.
  DemoWebhookReceiver(boost::asio::io_context& io, std::string secret, Printer print);
  ~DemoWebhookReceiver() override;
  DemoWebhookReceiver(const DemoWebhookReceiver&) = delete;
  DemoWebhookReceiver& operator=(const DemoWebhookReceiver&) = delete;

  // Listens on 127.0.0.1:0 and serves; returns the port.
  std::uint16_t start();
  // Stops serving; every started receiver must be stopped on its io_context.
  boost::asio::awaitable<void> stop();

  boost::asio::awaitable<net::HttpResponse> handle(net::HttpRequest request) override;
  net::HttpResponse refuse(int status, std::string_view code, std::string_view message,
                           std::string_view path) override;

  // The verdict on one delivery: empty when its signature verifies, else why not.
  [[nodiscard]] std::string check(const net::HttpRequest& request) const;

 private:
  std::string secret_;
  Printer print_;
  net::UpgradeRouter no_upgrades_;
  net::SystemTimeSource clock_;  // the server's idle timeouts
  std::unique_ptr<net::HttpServer> server_;
};

}  // namespace tillgate::app
