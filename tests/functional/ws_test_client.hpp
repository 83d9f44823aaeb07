#pragma once
// A raw, synchronous WebSocket terminal for protocol tests: every call has a deadline, and
// it sends whatever it is told (bad JSON, huge frames, frames out of order).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json/json.hpp"

namespace tillgate::ft {

struct WsEvent {
  enum class Kind { message, closed, timeout };
  Kind kind = Kind::timeout;
  std::string text;    // message
  int close_code = 0;  // closed: the peer's close code, 1006 when it sent no close frame
  std::string detail;  // closed: the reason or the transport error
};

// The HTTP answer of an upgrade the gateway refused.
struct WsRefused {
  int status = 0;
  std::string body;
};

class WsTestClient {
 public:
  WsTestClient(std::string host, std::uint16_t port);
  ~WsTestClient();
  WsTestClient(const WsTestClient&) = delete;
  WsTestClient& operator=(const WsTestClient&) = delete;

  // TCP connect and upgrade at `target`; throws std::runtime_error on failure.
  void connect(std::string_view target = "/v1/terminal/ws",
               std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // TCP connect and upgrade at `target` with extra request `headers`: nullopt when the
  // upgrade was accepted, the HTTP answer when it was refused; throws on transport failure.
  std::optional<WsRefused> try_connect(
      std::string_view target, const std::vector<std::pair<std::string, std::string>>& headers,
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends one text frame; false when the write failed or timed out (the peer may already
  // have closed: a test then reads the close).
  bool send_text(std::string_view text,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool send_json(const json::Value& frame,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The next message or close. A timeout leaves the read pending: the next call goes on
  // waiting for the same frame.
  WsEvent read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends a close frame (bounded by `timeout`) and waits for the peer's.
  void close(std::uint16_t code = 1000,
             std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Drops the TCP connection without a close frame.
  void drop();
  [[nodiscard]] bool is_open() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillgate::ft
