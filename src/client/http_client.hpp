#pragma once
// A small synchronous HTTP/1.1 client (HTTPS too): one keep-alive connection, a deadline on
// every network operation, and a raw mode that writes arbitrary bytes for hostile tests.
// Asio and Beast stay in the .cpp file (pimpl) so that users of this header compile fast.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tillgate::client {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive ASCII comparison, as HTTP field names require.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // in the order received
  std::string body;

  // The first header of that name (case-insensitive), or nullopt.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

// Connection failures, timeouts and unparseable responses.
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "http://host:port" or "https://host:port" (path ignored) into its parts; nullopt for
// anything else.
struct HttpEndpoint {
  std::string host;
  std::uint16_t port = 80;  // 443 for https:// without a port
  bool tls = false;         // https://
};
[[nodiscard]] std::optional<HttpEndpoint> parse_http_url(std::string_view url);

class HttpClient {
 public:
  // Connects lazily; `timeout` bounds each connect, write and read separately.
  HttpClient(std::string host, std::uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // HTTPS when endpoint.tls: the server's certificate is verified, for endpoint.host,
  // against `ca_file` (PEM) or, when empty, the system's trusted CAs. Throws HttpError when
  // the CA file cannot be loaded.
  HttpClient(const HttpEndpoint& endpoint, std::chrono::milliseconds timeout,
             const std::string& ca_file = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // Sends one request on the kept-alive connection (reconnecting when the server closed
  // it) and reads the whole response. Adds Host, Content-Length and, for a non-empty
  // body without one, Content-Type: application/json. Throws HttpError.
  HttpResponse request(std::string_view method, std::string_view target, std::string_view body = {},
                       const HeaderList& headers = {});

  // Writes `raw` verbatim on the connection and reads one response. A write error does
  // not stop the read: a server may answer (413, 400) and close before reading it all.
  // Throws HttpError when no response can be read.
  HttpResponse send_raw(std::string_view raw);

  // Writes `raw` verbatim and reports whether the server then closed the connection
  // (EOF or reset) within the timeout, without expecting any response.
  [[nodiscard]] bool send_raw_expect_close(std::string_view raw);

  // Drops the connection; the next request opens a new one.
  void close();

  void set_timeout(std::chrono::milliseconds timeout);
  [[nodiscard]] const std::string& host() const;
  [[nodiscard]] std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillgate::client
