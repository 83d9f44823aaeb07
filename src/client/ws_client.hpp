#pragma once
// A small synchronous WebSocket client (ws:// and wss://) for the POS commands: connect
// with extra handshake headers, send text frames, read frames with a timeout. Every
// network operation has a deadline; a dead connection is noticed by keep-alive pings.
// Asio and Beast stay in the .cpp file (pimpl), as for HttpClient.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "client/http_client.hpp"

namespace tillgate::client {

// Transport failures: connect, TLS, handshake, write.
class WsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The HTTP answer of an upgrade the server refused.
struct WsRefusal {
  int status = 0;
  std::string body;
};

// What a read brought.
struct WsFrame {
  enum class Kind { message, closed, timeout };
  Kind kind = Kind::timeout;
  std::string text;    // message
  int close_code = 0;  // closed: the server's close code; 1006 when it sent none
  std::string reason;  // closed: the close reason or the transport error
};

struct WsClientSettings {
  // Bounds the TCP connect, the TLS handshake, the upgrade and every write.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  // No frame (nor pong) for this long: the connection is dead. A ping is sent at half of
  // it, so a live server always answers in time.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(40);
  // The largest frame accepted from the server.
  std::size_t max_frame_bytes = 1024 * 1024;
};

// "http://", "https://", "ws://" or "wss://" HOST[:PORT] (path ignored) into its parts:
// ws:// is http://, wss:// is https://. nullopt for anything else.
[[nodiscard]] std::optional<HttpEndpoint> parse_ws_url(std::string_view url);

class WsClient {
 public:
  // wss:// when endpoint.tls: the server's certificate is verified for endpoint.host against
  // `ca_file` (PEM) or the system's CAs. Throws WsError when the CA file cannot be loaded.
  WsClient(const HttpEndpoint& endpoint, WsClientSettings settings,
           const std::string& ca_file = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Connects (a new connection each time; the previous one is dropped) and upgrades at
  // `target` with `headers`: nullopt when accepted, the HTTP answer when refused. Throws
  // WsError on a transport failure.
  std::optional<WsRefusal> connect(std::string_view target, const HeaderList& headers = {});
  // Sends one text frame; throws WsError when it cannot be written in time.
  void send(std::string_view text);
  // The next frame, or the close. A timeout leaves the read pending: the next call goes on
  // waiting for the same frame.
  WsFrame read(std::chrono::milliseconds timeout);
  // Sends a close frame and drops the connection (bounded by the timeout).
  void close(std::uint16_t code = 1000);
  [[nodiscard]] bool is_open() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillgate::client
