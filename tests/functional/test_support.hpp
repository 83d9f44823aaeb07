#pragma once
// Shared pieces of the functional tests: a fixture owning one gateway process, admin
// provisioning, signed merchant calls, in-process simulated terminals, and the checks of
// the error body that every test repeats.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "client/http_client.hpp"
#include "client/request_signer.hpp"
#include "gateway_process.hpp"
#include "json/json.hpp"
#include "sim/terminal_simulator.hpp"
#include "ws_test_client.hpp"

namespace tillgate::ft {

struct Merchant {
  std::string merchant_id;
  std::string name;
  client::MerchantCredentials credentials;
};

struct Device {
  std::string device_id;
  std::string device_secret;
  std::string merchant_id;
};

// Parses or records a test failure (and returns null).
json::Value parse_json(const std::string& text);

// "2024-01-15T10:30:00.000Z"
bool is_iso8601_ms(std::string_view text);
::testing::AssertionResult IsIsoMs(const json::Value* value);

// Asserts status, the error body {code,message,requestId,timestamp} and the code.
// Returns the parsed body for further checks.
json::Value expect_error(const client::HttpResponse& res, int status, std::string_view code);

// A payment body: {"amount":"...","currency":"...","paymentMethod":"...","transactionId":...}
std::string payment_body(std::string_view amount, std::string_view currency,
                         std::string_view transaction_id = {},
                         std::string_view payment_method = "CARD");

std::string payments_path(std::string_view terminal_id);

// Polls `condition` every 20 ms until it holds or the deadline passes.
// Runs `command` with /bin/sh and returns its stdout without trailing newlines. Used to
// check the gateway against independent tools (openssl).
std::string run_shell(const std::string& command);

// The fenced block of `language` right after the line `marker` in the file `doc` (relative
// to the source tree, e.g. "docs/api.md"), or "" with a test failure. Lets a test run the
// examples a reader copies, exactly as printed.
std::string block_from_docs(std::string_view doc, std::string_view marker,
                            std::string_view language);

bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string string_at(const json::Value& value, std::string_view key);
// The member serialized as JSON, or "(absent)".
std::string json_at(const json::Value& value, std::string_view key);
// The integer member, or nullopt when absent or not an integer.
std::optional<std::int64_t> int_at(const json::Value& value, std::string_view key);

// An HTTP client for `gateway`: HTTPS, trusting its client_ca_file(), when it speaks TLS.
client::HttpClient http_client_for(const GatewayProcess& gateway,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(15));

// A simulated terminal running on its own io_context thread (over wss:// when the gateway
// speaks TLS).
class SimulatedTerminal {
 public:
  SimulatedTerminal(const GatewayProcess& gateway, const Device& device, std::string behavior,
                    std::string journal_path = {});
  ~SimulatedTerminal();
  SimulatedTerminal(const SimulatedTerminal&) = delete;
  SimulatedTerminal& operator=(const SimulatedTerminal&) = delete;

  bool wait_online(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  [[nodiscard]] sim::TerminalSimulatorStatus status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A raw WebSocket terminal that has said hello.
struct HelloResult {
  std::unique_ptr<WsTestClient> ws;
  json::Value hello_ok;
};

// Every credential a test handles (API and device secrets, webhook secrets, pairing codes,
// request signatures, bearer tokens) is remembered; when a GatewayTest ends, the gateway's
// whole log is scanned and any of them found in it fails the test (issue 8: no secret,
// signature or token in the logs). Thread-safe: background requests remember theirs too.
void remember_secret(std::string_view secret);
// The secrets found in the JSON answer (apiSecret, deviceSecret, secret, access_token,
// refresh_token, at any depth) are remembered.
void remember_secrets_in(const client::HttpResponse& response);
void forget_secret(std::string_view secret);
// The remembered secrets that occur in `log`.
std::vector<std::string> secrets_in(const std::string& log);

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Extra environment for this suite's gateway.
  virtual EnvMap gateway_env() { return {}; }

  GatewayProcess& gateway() { return *gateway_; }
  client::HttpClient http(std::chrono::milliseconds timeout = std::chrono::seconds(15));

  client::HttpResponse admin(std::string_view method, std::string_view target,
                             std::string_view body = {});
  Merchant create_merchant(std::string_view name = "Test Shop");
  Device create_device(const Merchant& merchant, std::string_view device_id = {});

  client::HttpResponse signed_request(const Merchant& merchant, std::string_view method,
                                      std::string_view target, std::string_view body = {});
  // An unsigned request (service endpoints, pairing). Every helper's answer, this one's
  // too, is checked against docs/openapi.json (openapi_check.hpp).
  client::HttpResponse plain_request(std::string_view method, std::string_view target,
                                     std::string_view body = {},
                                     const client::HeaderList& headers = {});
  // Starts a signed payment on its own connection in the background.
  std::future<client::HttpResponse> pay_async(
      const Merchant& merchant, std::string_view terminal_id, std::string body,
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  client::HttpResponse get_transaction(const Merchant& merchant, std::string_view id);
  // The transaction's `status` from GET /v1/transactions/{id}, or "(HTTP nnn)".
  std::string transaction_status(const Merchant& merchant, std::string_view id);
  // The terminal's `status` in GET /v1/terminals (online|reconnecting|offline), or
  // "(not listed)".
  std::string terminal_status(const Merchant& merchant, std::string_view device_id);

  // Connects a raw terminal and completes hello (asserting hello.ok).
  HelloResult connect_terminal(const Device& device);
  // Reads one frame, asserting it is a JSON message of `type`.
  json::Value read_frame(WsTestClient& ws, std::string_view type,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

  std::unique_ptr<GatewayProcess> gateway_;
};

json::Value hello_frame(const Device& device);
json::Value ack_frame(std::string_view transaction_id);
json::Value result_frame(std::string_view transaction_id, std::string_view status,
                         std::string_view authorization_code = {}, std::string_view error_code = {},
                         std::string_view error_message = {});

// Success when no frame (nor close) arrives within `window`; the read stays pending, so a
// later read_frame gets the next frame as usual.
::testing::AssertionResult NoFrameWithin(WsTestClient& ws, std::chrono::milliseconds window);
// The answer of a background request (pay_async), or nullopt if it did not come within
// `timeout` or failed at the transport level.
std::optional<client::HttpResponse> await_response(std::future<client::HttpResponse>& pending,
                                                   std::chrono::milliseconds timeout);

// A raw TCP client for abuse tests: it can pick its source address (127.0.0.2 is another
// client as far as the gateway can tell), send bytes as slowly as it likes, and tell
// whether and when the server closed the connection. POSIX sockets, blocking with poll.
class RawConnection {
 public:
  // Connects to host:port from `source_address` (any port). Throws std::runtime_error.
  RawConnection(const std::string& host, std::uint16_t port,
                const std::string& source_address = "127.0.0.1");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False when the write failed (the server closed the connection).
  bool send(std::string_view bytes);
  // Everything the server sends until it closes the connection or `timeout` passes.
  [[nodiscard]] std::string read_until_close(std::chrono::milliseconds timeout);
  // Reads until `needle` has arrived (returns all read so far) or the timeout / a close.
  [[nodiscard]] std::string read_until(std::string_view needle, std::chrono::milliseconds timeout);
  // Whether the server closed the connection (EOF or reset) within `timeout`; bytes it
  // sent before closing are kept in received().
  [[nodiscard]] bool closed_within(std::chrono::milliseconds timeout);
  [[nodiscard]] const std::string& received() const { return received_; }

 private:
  // One read with a timeout: >0 bytes, 0 at EOF/reset, -1 on timeout.
  int read_some(std::chrono::milliseconds timeout);

  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

// "GET /healthz" on a fresh connection from `source_address`; the status, or 0 if none.
int healthz_status_from(const std::string& host, std::uint16_t port,
                        const std::string& source_address);

}  // namespace tillgate::ft
