#pragma once
// A programmable webhook receiver for tests: an HTTP (or HTTPS) server on 127.0.0.1,
// port 0, running on its own io_context thread. It answers from a script (one reply per
// request, in order, then a default reply), can be taken down (connections refused) and
// brought back on the same port, and records every request it reads. All public
// functions are thread-safe. Beast and OpenSSL stay in the .cpp file.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tillgate::testing {

struct ReceivedRequest {
  std::string method;                                        // "POST"
  std::string target;                                        // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;
  std::chrono::system_clock::time_point received_at;  // when the whole request had arrived

  // The first header with this lower-case name.
  [[nodiscard]] std::optional<std::string> header(std::string_view lower_name) const;
};

// How the receiver answers one request.
struct ReceiverReply {
  int status = 200;
  std::chrono::milliseconds delay{0};  // waited after reading the request, before answering
  bool drop = false;                   // after the delay, close the connection, no answer
  std::string body;                    // sent as text/plain

  [[nodiscard]] static ReceiverReply with_status(int status);
  [[nodiscard]] static ReceiverReply delayed(std::chrono::milliseconds delay, int status = 200);
  [[nodiscard]] static ReceiverReply dropped(std::chrono::milliseconds after = {});
  [[nodiscard]] static ReceiverReply with_body(std::string body, int status = 200);
};

// PEM files for an HTTPS receiver.
struct ReceiverTlsFiles {
  std::filesystem::path certificate_chain;  // the server certificate, then intermediates
  std::filesystem::path private_key;
};

class WebhookReceiver {
 public:
  // Plain HTTP. Throws if it cannot listen.
  WebhookReceiver();
  // HTTPS only. Throws if the files cannot be loaded or it cannot listen.
  explicit WebhookReceiver(const ReceiverTlsFiles& tls);
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] bool is_tls() const;
  // "http://127.0.0.1:<port>/webhook" ("https" for a TLS receiver). `host` replaces
  // 127.0.0.1 in the URL only (e.g. "localhost", to test name verification); the receiver
  // listens on 127.0.0.1 either way.
  [[nodiscard]] std::string url(std::string_view path = "/webhook",
                                std::string_view host = "127.0.0.1") const;

  // The next requests are answered by `replies`, in order (replacing what is left of an
  // earlier script); after them, by the default reply.
  void script(std::vector<ReceiverReply> replies);
  // The reply once the script is used up; initially 200 with no delay.
  void set_default(ReceiverReply reply);
  // true: the listener is closed, so connections are refused (open connections are left
  // alone). false: it listens again on the same port. Returns once done; throws if the
  // port cannot be bound again.
  void set_down(bool down);

  [[nodiscard]] std::vector<ReceivedRequest> requests() const;
  [[nodiscard]] std::size_t request_count() const;
  // Waits until at least `count` requests have been recorded; false if the timeout passed.
  [[nodiscard]] bool wait_for(std::size_t count, std::chrono::milliseconds timeout) const;
  // TLS handshakes that failed (e.g. the client refused the certificate).
  [[nodiscard]] std::size_t tls_handshake_failures() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillgate::testing
