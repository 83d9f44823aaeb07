#include "client/pos_commands.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "client/cli_output.hpp"
#include "client/request_signer.hpp"
#include "client/ws_client.hpp"
#include "json/json.hpp"

namespace tillgate::client {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kPosPath = "/v1";
constexpr std::string_view kResumeRequestId = "watch-resume";
constexpr std::string_view kTerminalsRequestId = "watch-terminals";
constexpr std::string_view kPayRequestId = "pay-ws";
constexpr int kCloseReplaced = 4002;
// Reconnect backoff of `watch`: from the first delay, doubled after each failed attempt up
// to --max-backoff, with up to 20 % random jitter so that many consoles do not reconnect
// in step after a gateway restart.
constexpr milliseconds kFirstBackoff{250};
constexpr int kDefaultMaxBackoffS = 30;
// How often a blocking read wakes up to look at the clock.
constexpr milliseconds kReadSlice{500};

struct WatchOptions {
  PosConnectOptions connect;
  std::string resume_after;  // --resume EVENT_ID
  int max_backoff_s = kDefaultMaxBackoffS;
  int count = 0;  // stop after this many payment events (0: never)
  bool json = false;
};

WsClient make_ws_client(const PosConnectOptions& options) {
  const auto endpoint = parse_ws_url(options.url);
  if (!endpoint) {
    fail("--url must look like http(s)://HOST:PORT or ws(s)://HOST:PORT, got '" + options.url +
         "'");
  }
  WsClientSettings settings;
  settings.timeout = std::chrono::seconds(options.timeout_s);
  try {
    return WsClient(*endpoint, settings, options.ca_file);
  } catch (const WsError& e) {
    fail(std::string("--ca-file: ") + e.what());
  }
}

void require_credentials(const PosConnectOptions& options) {
  if (options.api_key.empty()) {
    fail("--api-key (or TILLGATE_API_KEY) is required");
  }
  if (options.sign && options.api_secret.empty()) {
    fail("--signed needs --api-secret (or TILLGATE_API_SECRET)");
  }
}

// The handshake headers: the key, a signature of GET /v1 when asked for, the group.
HeaderList handshake_headers(const PosConnectOptions& options) {
  HeaderList headers;
  if (options.sign) {
    headers = sign_request({options.api_key, options.api_secret}, "GET", kPosPath, "");
  } else {
    headers.emplace_back("x-api-key", options.api_key);
  }
  if (!options.group_id.empty()) {
    headers.emplace_back("x-group-id", options.group_id);
  }
  return headers;
}

// A refused upgrade ends the command: it will not be accepted by trying again.
[[noreturn]] void fail_refused(const WsRefusal& refusal) {
  const auto body = json::parse(refusal.body);
  const std::string head =
      "the gateway refused the connection: HTTP " + std::to_string(refusal.status);
  if (body && body->is_object()) {
    print_error_body(head, *body);
  } else {
    std::cerr << "error: " << head << ": " << refusal.body << "\n";
  }
  throw CLI::RuntimeError(kExitFailure);
}

[[noreturn]] void fail_replaced() {
  fail(
      "a newer connection with this API key replaced this one (forceDisconnect, close 4002): "
      "give each console its own API key");
}

std::string text_at(const json::Value& value, std::string_view key) {
  const json::Value* member = value.find(key);
  return (member == nullptr || member->is_null()) ? std::string("-") : scalar_text(*member);
}

std::string compact(const json::Value& value) {
  return json::serialize(value);
}

// ---- watch -------------------------------------------------------------------------------

void print_terminal_line(const json::Value& terminal, std::string_view timestamp,
                         std::string_view status) {
  std::cout << timestamp << " terminal " << text_at(terminal, "terminalId") << " " << status;
  const auto label = terminal.find_string("label");
  if (label && !label->empty()) {
    std::cout << " (" << *label << ")";
  }
  if (const auto connection = terminal.find_string("connectionId")) {
    std::cout << " connectionId " << *connection;
  }
  std::cout << "\n";
}

void print_payment_line(const json::Value& frame) {
  const json::Value* response = frame.find("paymentResponse");
  const json::Value empty{json::Object{}};
  const json::Value& payment = (response != nullptr && response->is_object()) ? *response : empty;
  const auto action = frame.find_string("action").value_or("");
  const std::string status = action == "paymentVoided" ? "VOIDED" : text_at(frame, "status");
  std::cout << text_at(frame, "timestamp") << " payment " << text_at(frame, "transactionId") << " "
            << status << " " << text_at(payment, "amount") << " " << text_at(payment, "currency")
            << " terminal " << text_at(frame, "terminalId");
  if (const auto auth = payment.find_string("authorizationCode")) {
    std::cout << " authorizationCode " << *auth;
  }
  if (const auto error = payment.find_string("errorCode")) {
    std::cout << " errorCode " << *error;
  }
  if (const auto reason = frame.find_string("reason")) {
    std::cout << " reason " << *reason;
  }
  std::cout << " eventId " << text_at(frame, "eventId") << "\n";
}

// An error frame: the resume's tells whether the gateway serves it; others are printed.
void report_error_frame(const json::Value& frame) {
  const auto request_id = frame.find_string("requestId");
  const auto code = frame.find_string("code").value_or("");
  if (request_id && *request_id == kResumeRequestId) {
    if (code == "RESUME_TOO_OLD") {
      std::cerr << "warning: the gateway no longer holds the events after that eventId "
                   "(RESUME_TOO_OLD): reconcile with GET /v1/transactions; live events follow\n";
    } else {
      std::cerr << "warning: this gateway does not serve resume (" << code << ": "
                << frame.find_string("message").value_or("") << "); live events only\n";
    }
    return;
  }
  print_error_body("the gateway answered", frame);
}

struct WatchState {
  std::optional<std::string> last_event_id;
  int payments_printed = 0;
};

// Prints one frame of the gateway; false when the command should end (--count reached).
bool handle_watch_frame(const WatchOptions& options, WatchState& state, const std::string& text) {
  const auto parsed = json::parse(text);
  if (!parsed || !parsed->is_object()) {
    std::cerr << "warning: a frame that is not a JSON object: " << text << "\n";
    return true;
  }
  const auto& frame = *parsed;
  const auto action = frame.find_string("action").value_or("");
  if (action == "forceDisconnect") {
    fail_replaced();
  }
  if (action == "error") {
    report_error_frame(frame);
    return true;
  }
  const bool payment = action == "paymentComplete" || action == "paymentVoided";
  if (!payment && action != "terminalStatusUpdate" && action != "terminalsResponse") {
    return true;  // pong, the resume's own answer, actions of later versions
  }
  if (options.json) {
    std::cout << compact(frame) << "\n";
  } else if (payment) {
    print_payment_line(frame);
  } else if (action == "terminalStatusUpdate") {
    const json::Value* info = frame.find("terminalInfo");
    print_terminal_line(info != nullptr && info->is_object() ? *info : frame,
                        text_at(frame, "timestamp"), text_at(frame, "status"));
  } else if (const auto* terminals = frame.find("terminals"); terminals && terminals->is_array()) {
    for (const auto& terminal : terminals->as_array()) {
      print_terminal_line(terminal, text_at(frame, "timestamp"), text_at(terminal, "status"));
    }
  }
  std::cout << std::flush;
  if (payment) {
    if (const auto event_id = frame.find_string("eventId")) {
      state.last_event_id = std::string(*event_id);
    }
    ++state.payments_printed;
  }
  return options.count == 0 || state.payments_printed < options.count;
}

// One connection: resume (when there is an eventId to resume after), the terminals, then
// every frame until the connection ends. True when the command is done (--count).
bool watch_connection(WsClient& ws, const WatchOptions& options, WatchState& state) {
  if (state.last_event_id) {
    ws.send(compact(json::object({{"action", json::Value("resume")},
                                  {"afterEventId", json::Value(*state.last_event_id)},
                                  {"requestId", json::Value(kResumeRequestId)}})));
  }
  ws.send(compact(json::object(
      {{"action", json::Value("getTerminals")}, {"requestId", json::Value(kTerminalsRequestId)}})));
  for (;;) {
    const auto frame = ws.read(kReadSlice);
    if (frame.kind == WsFrame::Kind::timeout) {
      continue;
    }
    if (frame.kind == WsFrame::Kind::closed) {
      if (frame.close_code == kCloseReplaced) {
        fail_replaced();
      }
      std::cerr << "connection closed (" << frame.close_code
                << (frame.reason.empty() ? "" : ": " + frame.reason) << ")\n";
      return false;
    }
    if (!handle_watch_frame(options, state, frame.text)) {
      ws.close();
      return true;
    }
  }
}

milliseconds jittered(milliseconds delay) {
  static std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<long> extra(0, delay.count() / 5);
  return delay + milliseconds(extra(random));
}

void run_watch(const WatchOptions& options) {
  require_credentials(options.connect);
  auto ws = make_ws_client(options.connect);
  WatchState state;
  if (!options.resume_after.empty()) {
    state.last_event_id = options.resume_after;
  }
  const milliseconds max_backoff = std::chrono::seconds(options.max_backoff_s);
  milliseconds backoff = kFirstBackoff;
  for (;;) {
    try {
      if (const auto refused = ws.connect(kPosPath, handshake_headers(options.connect))) {
        if (refused->status != 429 && refused->status < 500) {
          fail_refused(*refused);
        }
        std::cerr << "the gateway refused the connection for now (HTTP " << refused->status
                  << ")\n";
      } else {
        std::cerr << "connected to " << options.connect.url << kPosPath << "\n";
        backoff = kFirstBackoff;
        if (watch_connection(ws, options, state)) {
          return;
        }
      }
    } catch (const WsError& e) {
      std::cerr << "connection failed: " << e.what() << "\n";
    }
    const auto delay = jittered(backoff);
    std::cerr << "reconnecting in " << delay.count() << " ms"
              << (state.last_event_id ? ", resuming after " + *state.last_event_id : "") << "\n";
    std::this_thread::sleep_for(delay);
    backoff = std::min(backoff * 2, max_backoff);
  }
}

void add_connect_options(CLI::App& command, PosConnectOptions& o) {
  command.add_option("--url", o.url, "gateway base URL (http(s):// or ws(s)://)")
      ->envname("TILLGATE_URL")
      ->capture_default_str();
  command
      .add_option("--ca-file", o.ca_file,
                  "wss://: PEM CAs to verify the gateway's certificate with (default: the "
                  "system's)")
      ->envname("TILLGATE_CA_FILE");
  command.add_option("--api-key", o.api_key, "merchant API key")->envname("TILLGATE_API_KEY");
  command.add_option("--api-secret", o.api_secret, "merchant API secret (for --signed)")
      ->envname("TILLGATE_API_SECRET");
  command.add_flag("--signed", o.sign,
                   "sign the handshake (x-timestamp, x-signature): needed when the gateway "
                   "runs with TILLGATE_POS_WS_AUTH=signed");
  command.add_option("--group-id", o.group_id, "x-group-id: your merchant id (optional)");
  command.add_option("--connect-timeout", o.timeout_s, "seconds for connect, handshake, writes")
      ->capture_default_str()
      ->check(CLI::Range(1, 600));
}

// ---- pay --ws ----------------------------------------------------------------------------

json::Value payment_action(const PosPayOptions& options) {
  json::Object request{{"amount", json::Value(options.amount)},
                       {"currency", json::Value(options.currency)},
                       {"paymentMethod", json::Value(options.method)}};
  if (!options.transaction_id.empty()) {
    request.push_back({"transactionId", json::Value(options.transaction_id)});
  }
  return json::object({{"action", json::Value("payment")},
                       {"requestId", json::Value(kPayRequestId)},
                       {"terminalId", json::Value(options.terminal)},
                       {"paymentRequest", json::Value(std::move(request))}});
}

bool is_final_status(std::string_view status) {
  return status == "SUCCESS" || status == "FAILED" || status == "CANCELLED" ||
         status == "TIMEOUT" || status == "COMPLETED" || status == "VOIDED";
}

// Prints the result and ends the command with the exit code of its status.
void finish_payment(const PosPayOptions& options, const json::Value& result) {
  if (options.json) {
    std::cout << compact(result) << "\n";
  } else {
    print_payment_summary(result);
  }
  std::cout << std::flush;
  const auto status = result.find_string("status").value_or("");
  if (status != "SUCCESS" && status != "COMPLETED") {
    throw CLI::RuntimeError(kExitNotApproved);
  }
}

// What the payment's frames told so far.
struct PayState {
  std::optional<std::string> transaction_id;  // known from the start, or accepted
  std::vector<json::Value> early_results;     // paymentComplete before the accepted
};

// Handles one frame of the payment's connection; the result when it is the one.
std::optional<json::Value> pay_frame(WsClient& ws, PayState& state, const json::Value& frame) {
  const auto action = frame.find_string("action").value_or("");
  const auto request_id = frame.find_string("requestId");
  const bool ours = request_id && *request_id == kPayRequestId;
  if (action == "forceDisconnect") {
    fail_replaced();
  }
  if (action == "error" && ours) {
    print_error_body("the gateway refused the payment:", frame);
    throw CLI::RuntimeError(kExitFailure);
  }
  if (action == "paymentAccepted" && ours) {
    state.transaction_id = std::string(frame.find_string("transactionId").value_or(""));
    if (is_final_status(frame.find_string("status").value_or("PENDING"))) {
      // A repeat of a finished payment: no paymentComplete follows; read it.
      ws.send(compact(json::object({{"action", json::Value("getTransaction")},
                                    {"transactionId", json::Value(*state.transaction_id)},
                                    {"requestId", json::Value(kPayRequestId)}})));
    }
    for (const auto& early : state.early_results) {
      if (early.find_string("transactionId").value_or("") == *state.transaction_id) {
        return early;
      }
    }
    return std::nullopt;
  }
  if (action == "transactionResponse" && ours) {
    if (const auto* transaction = frame.find("transaction")) {
      return *transaction;
    }
  }
  if (action == "paymentComplete") {
    if (!state.transaction_id) {
      state.early_results.push_back(frame);
    } else if (frame.find_string("transactionId").value_or("") == *state.transaction_id) {
      return frame;
    }
  }
  return std::nullopt;
}

void add_watch(CLI::App& app) {
  auto options = std::make_shared<WatchOptions>();
  auto* watch = app.add_subcommand(
      "watch", "Print terminal status and payment events as they come (POS WebSocket API)");
  add_connect_options(*watch, options->connect);
  watch->add_option("--resume", options->resume_after,
                    "an eventId: replay the payment events after it first");
  watch
      ->add_option("--max-backoff", options->max_backoff_s,
                   "longest wait in seconds between reconnect attempts")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  watch->add_option("--count", options->count, "stop after this many payment events")
      ->check(CLI::Range(1, 1'000'000));
  watch->add_flag("--json", options->json, "one JSON object (the gateway's frame) per line");
  watch->callback([options] { run_watch(*options); });
}

}  // namespace

void run_pos_pay(const PosPayOptions& options) {
  require_credentials(options.connect);
  auto ws = make_ws_client(options.connect);
  PayState state;
  if (!options.transaction_id.empty()) {
    state.transaction_id = options.transaction_id;
  }
  try {
    if (const auto refused = ws.connect(kPosPath, handshake_headers(options.connect))) {
      fail_refused(*refused);
    }
    ws.send(compact(payment_action(options)));
    const auto deadline = Clock::now() + std::chrono::seconds(options.wait_s);
    while (Clock::now() < deadline) {
      const auto frame = ws.read(kReadSlice);
      if (frame.kind == WsFrame::Kind::closed) {
        fail("the connection closed (" + std::to_string(frame.close_code) + ") before the result" +
             (state.transaction_id ? " of " + *state.transaction_id : std::string()) +
             ": read it with GET /v1/transactions/{id}");
      }
      if (frame.kind != WsFrame::Kind::message) {
        continue;
      }
      const auto parsed = json::parse(frame.text);
      if (!parsed || !parsed->is_object()) {
        continue;
      }
      if (auto result = pay_frame(ws, state, *parsed)) {
        ws.close();
        finish_payment(options, *result);
        return;
      }
    }
  } catch (const WsError& e) {
    fail(e.what());
  }
  fail("no result within " + std::to_string(options.wait_s) + " s" +
       (state.transaction_id ? " for " + *state.transaction_id : std::string()) +
       ": the payment may still complete; read it with GET /v1/transactions/{id}");
}

void register_pos_commands(CLI::App& app) {
  add_watch(app);
}

}  // namespace tillgate::client
