#pragma once
// One webhook delivery attempt: an asynchronous HTTP/HTTPS POST on a fresh connection,
// bounded by one deadline for the whole attempt (resolve, connect, TLS, write, read) and
// a cap on the response bytes read. Network problems are results, never exceptions, and
// many attempts may run at once on one thread: nothing here blocks.
// Beast and OpenSSL stay in the .cpp file.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/time.hpp"

namespace tillgate::webhooks {

struct WebhookClientState;  // delivery_client.cpp: the TLS context and settings

struct WebhookClientSettings {
  // webhooks.md: "a 2xx within 10 s is success". Covers the whole attempt. No default: the
  // app sets it (app::Config::webhook_attempt_timeout_ms); a test states its own.
  std::chrono::milliseconds attempt_timeout{};
  // Response body bytes kept; the rest is not read (the connection is closed). Receivers
  // answer a status, not content, so this only bounds what a hostile endpoint costs us.
  std::size_t max_response_bytes = 64 * 1024;
  // Status line plus headers; larger is a failed attempt ("response: header limit ...").
  std::size_t max_response_header_bytes = 16 * 1024;
  // PEM file of CAs trusted in addition to the system store (tests, private CAs); empty
  // for the system store only.
  std::string extra_ca_file;
  std::string user_agent = "Tillgate-Webhooks/" TILLGATE_VERSION;
  // TILLGATE_WEBHOOK_ALLOW_PRIVATE: deliver to loopback, private and link-local addresses
  // too (webhooks/address_policy.hpp). Off: such an address is never connected to.
  bool allow_private_addresses = false;
  // Source of DeliveryAttempt::started_at; nullptr for the system clock. Durations are
  // measured on the steady clock either way.
  const domain::Clock* clock = nullptr;
};

struct DeliveryAttempt {
  domain::Timestamp started_at;
  std::chrono::milliseconds duration{0};
  std::optional<int> http_status;  // set when the endpoint answered with a status line
  // Empty when the endpoint answered; otherwise what went wrong, "<stage>: <detail>", e.g.
  // "connect: connection refused", "timeout after 10000 ms (read)",
  // "tls: certificate verify failed: hostname mismatch".
  std::string error;
  // The first max_response_bytes of the body. An answer's outcome is its status: a body
  // cut off by the limit, the deadline or the peer only sets response_truncated.
  std::string response_body;
  bool response_truncated = false;

  [[nodiscard]] bool succeeded() const {
    return error.empty() && http_status && *http_status >= 200 && *http_status <= 299;
  }
};

class WebhookHttpClient {
 public:
  // Loads the system trust store and `extra_ca_file`; throws std::runtime_error when
  // that file cannot be loaded (a configuration error, not a network one).
  WebhookHttpClient(boost::asio::any_io_executor executor, WebhookClientSettings settings);
  ~WebhookHttpClient();
  WebhookHttpClient(const WebhookHttpClient&) = delete;
  WebhookHttpClient& operator=(const WebhookHttpClient&) = delete;

  // POSTs `body` to `url` (http or https) with `headers` added to Host, User-Agent,
  // Content-Type: application/json (unless given) and Connection: close. Never throws for
  // network problems or a malformed URL: they are DeliveryAttempt::error. The client may
  // be destroyed while attempts are in flight; they keep what they need alive.
  boost::asio::awaitable<DeliveryAttempt> post(
      std::string url, std::vector<std::pair<std::string, std::string>> headers, std::string body);

  [[nodiscard]] const WebhookClientSettings& settings() const;

 private:
  std::shared_ptr<WebhookClientState> state_;
};

// The parts of a webhook URL the client uses; exposed for validation at endpoint creation.
struct WebhookUrl {
  bool tls = false;
  std::string host;  // a name, a dotted IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0;
  std::string target;       // path and query, "/" when the URL has no path; no fragment
  std::string host_header;  // host[:port], IPv6 in brackets, the port only when not default
  bool host_is_address = false;
};
// http or https only, a non-empty host, no userinfo, a port in 1..65535. On failure,
// `error` says why ("url: ...") and nullopt is returned.
[[nodiscard]] std::optional<WebhookUrl> parse_webhook_url(std::string_view url, std::string& error);

}  // namespace tillgate::webhooks
