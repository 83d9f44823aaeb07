#pragma once
// The commands that speak the merchant POS WebSocket API (docs/pos-websocket.md):
// `tillgate watch` (terminal status and payment events as they come, reconnecting and
// resuming) and `tillgate pay --ws` (a payment over the POS API). A failing command throws
// CLI::RuntimeError(exit_code) from its callback.
#include <string>

namespace CLI {
class App;
}

namespace tillgate::client {

// How a POS command connects: the gateway's URL, the merchant's key (and secret when the
// handshake is signed), the optional group.
struct PosConnectOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string ca_file;
  std::string api_key;
  std::string api_secret;
  std::string group_id;
  bool sign = false;  // x-timestamp and x-signature at the handshake
  int timeout_s = 10;
};

struct PosPayOptions {
  PosConnectOptions connect;
  std::string terminal;
  std::string amount;
  std::string currency;
  std::string method;
  std::string transaction_id;
  int wait_s = 130;  // for the result
  bool json = false;
};

// Exit codes of `pay --ws`: 0 SUCCESS; 2 another final status (FAILED, CANCELLED, TIMEOUT);
// 1 the payment was refused or no result came.
inline constexpr int kExitNotApproved = 2;

// `pay --ws`: the payment action, then its paymentAccepted and paymentComplete.
void run_pos_pay(const PosPayOptions& options);

// Adds `watch` to `app`.
void register_pos_commands(CLI::App& app);

}  // namespace tillgate::client
