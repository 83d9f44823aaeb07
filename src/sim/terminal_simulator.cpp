#include "sim/terminal_simulator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/system/system_error.hpp>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <variant>

#include "crypto/crypto.hpp"
#include "domain/time.hpp"
#include "json/json.hpp"
#include "net/tls_stream.hpp"
#include "sim/journal.hpp"
#include "sim/source_address.hpp"

namespace tillgate::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Strand = asio::strand<asio::any_io_executor>;

// Close codes of terminal-protocol.md that mean "do not come back".
constexpr std::uint16_t close_unauthorized = 4001;
constexpr std::uint16_t close_replaced = 4002;
// Frames from the gateway are small; anything near this is a bug or an attack.
constexpr std::uint64_t max_inbound_frame_bytes = 1024 * 1024;

std::optional<Behavior> parse_behavior(std::string_view text) {
  using Kind = Behavior::Kind;
  if (text == "approve") {
    return Behavior{Kind::approve, {}};
  }
  if (text == "decline") {
    return Behavior{Kind::decline, {}};
  }
  if (text == "cancel") {
    return Behavior{Kind::cancel, {}};
  }
  if (text == "ignore") {
    return Behavior{Kind::ignore, {}};
  }
  if (text == "drop-after-ack") {
    return Behavior{Kind::drop_after_ack, {}};
  }
  constexpr std::string_view slow = "slow:";
  if (text.substr(0, slow.size()) == slow) {
    const auto digits = text.substr(slow.size());
    std::int64_t ms = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
    if (ec == std::errc{} && end == digits.data() + digits.size() && !digits.empty() && ms >= 0 &&
        ms <= 86'400'000) {
      return Behavior{Kind::slow, std::chrono::milliseconds(ms)};
    }
  }
  return std::nullopt;
}

std::string to_string(const Behavior& behavior) {
  switch (behavior.kind) {
    case Behavior::Kind::approve:
      return "approve";
    case Behavior::Kind::decline:
      return "decline";
    case Behavior::Kind::cancel:
      return "cancel";
    case Behavior::Kind::slow:
      return "slow:" + std::to_string(behavior.delay.count());
    case Behavior::Kind::ignore:
      return "ignore";
    case Behavior::Kind::drop_after_ack:
      return "drop-after-ack";
  }
  return "?";
}

namespace detail {

struct Outbound {
  enum class Kind { text, close, drop };
  Kind kind = Kind::text;
  std::string text;
};

// One WebSocket connection; replaced by a fresh one on every reconnect.
struct Connection {
  using PlainWs = websocket::stream<beast::tcp_stream>;  // ws://
  using TlsWs = websocket::stream<net::TlsStream>;       // wss://

  // Over TLS when `tls` is given.
  Connection(const Strand& strand, ssl::context* tls)
      : ws(std::in_place_type<PlainWs>, strand),
        wake(strand),
        write_watchdog(strand),
        hello_watchdog(strand),
        close_watchdog(strand) {
    if (tls != nullptr) {
      ws.emplace<TlsWs>(strand, *tls);
    }
  }

  // Closes the socket without a close frame; every pending operation then fails.
  void abort() {
    open = false;
    online = false;
    error_code ignored;
    transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
    transport().socket().close(ignored);
    wake.cancel();
    write_watchdog.cancel();
    hello_watchdog.cancel();
    close_watchdog.cancel();
  }

  // The WebSocket operations, whichever the transport. Each returns the operation's
  // awaitable, to be co_awaited by the caller.
  beast::tcp_stream& transport() {
    return std::visit([](auto& w) -> beast::tcp_stream& { return beast::get_lowest_layer(w); }, ws);
  }
  template <typename Token>
  auto async_write(asio::const_buffer payload, Token token) {
    return std::visit([&](auto& w) { return w.async_write(payload, token); }, ws);
  }
  template <typename Token>
  auto async_read(beast::flat_buffer& buffer, Token token) {
    return std::visit([&](auto& w) { return w.async_read(buffer, token); }, ws);
  }
  template <typename Token>
  auto async_close(const websocket::close_reason& reason, Token token) {
    return std::visit([&](auto& w) { return w.async_close(reason, token); }, ws);
  }
  [[nodiscard]] websocket::close_reason reason() const {
    return std::visit([](const auto& w) { return w.reason(); }, ws);
  }

  std::variant<PlainWs, TlsWs> ws;
  std::deque<Outbound> queue;
  asio::steady_timer wake;            // the writer sleeps on it; cancel() wakes it
  asio::steady_timer write_watchdog;  // see watch_write: at most one wait pending
  asio::steady_timer hello_watchdog;
  asio::steady_timer close_watchdog;
  bool open = true;
  bool online = false;  // hello.ok received and not yet dropped
  bool reached_hello = false;
  bool writer_running = false;
  bool write_watchdog_armed = false;
  // While a frame (or the close frame) is being written: when that write must have ended.
  std::optional<std::chrono::steady_clock::time_point> write_deadline;
  std::string connection_id;
};

// Per-transaction state that lives only as long as this process.
struct TransactionRuntime {
  std::shared_ptr<asio::steady_timer> slow_timer;
  bool dropped_after_ack = false;
};

struct SimulatorState {
  SimulatorState(const asio::any_io_executor& executor, TerminalSimulatorOptions opts)
      : strand(asio::make_strand(executor)),
        options(std::move(opts)),
        journal(options.journal_path.empty() ? Journal() : Journal(options.journal_path)),
        retry_timer(strand) {
    if (options.tls) {
      tls.emplace(net::make_client_tls_context(options.ca_file));
    }
  }

  void log(std::string_view text) const {
    if (options.on_log) {
      options.on_log(text);
    }
  }
  // Whether log() shows anything: the per-payment lines are built only then (the load
  // generator's simulators have no on_log).
  [[nodiscard]] bool logging() const { return static_cast<bool>(options.on_log); }

  template <typename Update>
  void update_status(Update&& update) {
    const std::lock_guard lock(status_mutex);
    update(status);
  }

  Strand strand;
  TerminalSimulatorOptions options;
  std::optional<ssl::context> tls;  // wss://: loaded once, for every connection
  Journal journal;
  asio::steady_timer retry_timer;
  std::shared_ptr<Connection> conn;
  std::map<std::string, TransactionRuntime, std::less<>> runtime;
  bool started = false;
  bool stopping = false;
  bool finished = false;
  std::string stop_reason = "stopped";
  bool failed = false;

  mutable std::mutex status_mutex;
  TerminalSimulatorStatus status;
};

namespace {

using State = std::shared_ptr<SimulatorState>;
using ConnectionPtr = std::shared_ptr<Connection>;

std::string now_text() {
  return domain::format_iso8601(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

std::string random_digits(std::size_t count) {
  const auto bytes = crypto::random_bytes(count);
  std::string out;
  for (const char b : bytes) {
    out.push_back(static_cast<char>('0' + static_cast<unsigned char>(b) % 10));
  }
  return out;
}

// Arms `timer` to abort `conn` after `after` unless cancelled first.
void arm_watchdog(asio::steady_timer& timer, const ConnectionPtr& conn,
                  std::chrono::milliseconds after, const State& s, std::string what) {
  timer.expires_after(after);
  timer.async_wait([weak = std::weak_ptr<Connection>(conn), weak_state = std::weak_ptr(s),
                    what = std::move(what)](error_code ec) {
    if (ec) {
      return;
    }
    if (auto c = weak.lock(); c && c->open) {
      if (auto st = weak_state.lock()) {
        st->log(what);
      }
      c->abort();
    }
  });
}

// The writer's deadline: a write (or the close frame) still going io_timeout after it began
// aborts the connection. One timer wait serves the writes of many frames: it expires at the
// deadline of the write it was armed for and then, when a later write is in flight, waits
// again until that write's deadline. A wait armed and cancelled for every frame cost the
// load generator's terminals two timer operations a payment.
void watch_write(const State& s, const ConnectionPtr& conn) {
  if (conn->write_watchdog_armed || !conn->write_deadline) {
    return;
  }
  conn->write_watchdog_armed = true;
  conn->write_watchdog.expires_at(*conn->write_deadline);
  conn->write_watchdog.async_wait(
      [weak = std::weak_ptr<Connection>(conn), weak_state = std::weak_ptr(s)](error_code ec) {
        const auto c = weak.lock();
        if (!c) {
          return;
        }
        c->write_watchdog_armed = false;
        if (ec || !c->open || !c->write_deadline) {
          return;  // cancelled, dropped, or no write in flight: the next write arms it
        }
        const auto st = weak_state.lock();
        if (std::chrono::steady_clock::now() >= *c->write_deadline) {
          if (st) {
            st->log("write timed out");
          }
          c->abort();
        } else if (st) {
          watch_write(st, c);
        }
      });
}

void set_offline(const State& s) {
  s->update_status([](TerminalSimulatorStatus& st) { st.online = false; });
}

// Queues a frame for the writer. Without a live connection the frame is dropped: results
// stay in the journal and are re-sent after the next hello.ok.
void enqueue(const State& s, Outbound item) {
  const auto conn = s->conn;
  if (!conn || !conn->online || !conn->open) {
    return;
  }
  if (item.kind == Outbound::Kind::text && conn->queue.size() >= s->options.max_outbound_queue) {
    s->log("outbound queue full; dropping the connection");
    conn->abort();
    return;
  }
  conn->queue.push_back(std::move(item));
  conn->wake.cancel();
}

void send_frame(const State& s, const json::Value& frame) {
  enqueue(s, {Outbound::Kind::text, json::serialize(frame)});
}

std::string receipt_for(const JournalTransaction& txn, std::string_view outcome,
                        std::string_view auth_code) {
  std::string receipt = "TILLGATE SIMULATED TERMINAL\nTXN " + txn.transaction_id + "\n";
  receipt += "AMOUNT " + txn.amount + " " + txn.currency + "\n";
  if (!auth_code.empty()) {
    receipt += "AUTH " + std::string(auth_code) + "\n";
  }
  receipt += std::string(outcome) + "\n";
  return receipt;
}

// The retrieval reference (rrn) has this many digits; the trace number (stan) is its first
// kStanDigits.
constexpr std::size_t kRrnDigits = 12;
constexpr std::size_t kStanDigits = 6;

// The first `count` (at most 64) decimal digits of the transaction id's SHA-256, each hex
// digit of the lower-case hex digest taken mod 10: the same id always gets the same
// retrieval reference and trace numbers. One hash per result: the trace number is a prefix
// of the retrieval reference.
std::string digits_of(const JournalTransaction& txn, std::size_t count) {
  const std::string digest = crypto::sha256(txn.transaction_id);
  std::string digits;
  digits.reserve(count);
  for (const char byte : digest) {
    const auto b = static_cast<unsigned>(static_cast<unsigned char>(byte));
    for (const unsigned nibble : {b >> 4U, b & 0x0FU}) {
      if (digits.size() == count) {
        return digits;
      }
      digits.push_back(static_cast<char>('0' + nibble % 10));
    }
  }
  return digits;
}

// terminal-protocol.md (v2): what a card terminal reports of the card, never a full number.
json::Value simulated_card(const JournalTransaction& txn) {
  auto rrn = digits_of(txn, kRrnDigits);
  auto stan = rrn.substr(0, kStanDigits);
  return json::object({{"maskedPan", json::Value("424242******4242")},
                       {"scheme", json::Value("VISA")},
                       {"issuerBank", json::Value("Tillgate Test Bank")},
                       {"rrn", json::Value(std::move(rrn))},
                       {"stan", json::Value(std::move(stan))}});
}

json::Value make_result(const JournalTransaction& txn, std::string_view status,
                        std::string_view auth_code, std::string_view error_code,
                        std::string_view error_message) {
  json::Object fields{{"type", json::Value("payment.result")},
                      {"transactionId", json::Value(txn.transaction_id)},
                      {"status", json::Value(status)}};
  if (!auth_code.empty()) {
    fields.push_back({"authorizationCode", json::Value(auth_code)});
  }
  const std::string outcome = status == "SUCCESS" ? "APPROVED" : std::string(status);
  fields.push_back({"receiptData", json::Value(receipt_for(txn, outcome, auth_code))});
  if (!error_code.empty()) {
    fields.push_back({"errorCode", json::Value(error_code)});
    fields.push_back({"errorMessage", json::Value(error_message)});
  }
  // An approved card payment (CASH has no card; an empty method: an old journal's).
  if (status == "SUCCESS" && (txn.payment_method == "CARD" || txn.payment_method.empty())) {
    fields.push_back({"card", simulated_card(txn)});
  }
  fields.push_back({"completedAt", json::Value(now_text())});
  return json::Value(std::move(fields));
}

// The stored result, or (after a compaction dropped an acknowledged one) a minimal copy.
json::Value stored_result(const JournalTransaction& txn) {
  if (txn.result) {
    return *txn.result;
  }
  const auto& status = txn.result_status.value_or("CANCELLED");
  const std::string auth = status == "SUCCESS" && txn.charged() ? txn.charges.back() : "";
  return make_result(txn, status, auth, "", "");
}

// Records the outcome durably, then tells the gateway.
void finish(const State& s, std::string_view transaction_id, std::string_view status,
            std::string_view auth_code, std::string_view error_code,
            std::string_view error_message) {
  const auto* txn = s->journal.find(transaction_id);
  const auto frame = make_result(*txn, status, auth_code, error_code, error_message);
  s->journal.record_result(transaction_id, frame);
  s->update_status([](TerminalSimulatorStatus& st) { ++st.results_sent; });
  if (s->logging()) {
    s->log(std::string("payment ") + std::string(transaction_id) + " -> " + std::string(status) +
           (auth_code.empty() ? "" : " auth " + std::string(auth_code)));
  }
  send_frame(s, frame);
}

// The only place a card is charged: the charge is journaled and fsynced before the
// SUCCESS leaves, and a transaction with a charge is never charged again.
void charge_and_succeed(const State& s, std::string_view transaction_id) {
  const auto* txn = s->journal.find(transaction_id);
  if (txn->has_result()) {
    return;
  }
  std::string auth;
  if (txn->charged()) {
    auth = txn->charges.back();
  } else {
    auth = random_digits(6);
    s->journal.record_charged(transaction_id, auth);
    s->update_status([](TerminalSimulatorStatus& st) { ++st.charges; });
  }
  finish(s, transaction_id, "SUCCESS", auth, "", "");
}

void start_slow_approval(const State& s, const std::string& transaction_id) {
  auto timer = std::make_shared<asio::steady_timer>(s->strand, s->options.behavior.delay);
  s->runtime[transaction_id].slow_timer = timer;
  timer->async_wait([weak = std::weak_ptr(s), transaction_id, timer](error_code ec) {
    auto st = weak.lock();
    if (ec || !st || st->stopping) {
      return;
    }
    st->runtime[transaction_id].slow_timer.reset();
    const auto* txn = st->journal.find(transaction_id);
    if (txn != nullptr && !txn->has_result()) {
      charge_and_succeed(st, transaction_id);
    }
  });
}

// Runs the configured behavior for a transaction that has no result yet.
void carry_on(const State& s, const std::string& transaction_id) {
  using Kind = Behavior::Kind;
  switch (s->options.behavior.kind) {
    case Kind::approve:
    case Kind::drop_after_ack:
      charge_and_succeed(s, transaction_id);
      return;
    case Kind::decline:
      finish(s, transaction_id, "FAILED", "", "DECLINED", "Card declined");
      return;
    case Kind::cancel:
      finish(s, transaction_id, "CANCELLED", "", "CANCELLED", "Cancelled by the customer");
      return;
    case Kind::slow:
      if (!s->runtime[transaction_id].slow_timer) {
        start_slow_approval(s, transaction_id);
      }
      return;
    case Kind::ignore:
      return;
  }
}

// The gateway sends amounts as strings; a number is kept by its exact text.
std::string amount_text(const json::Value* amount) {
  if (amount != nullptr && amount->is_string()) {
    return amount->as_string();
  }
  if (amount != nullptr && amount->is_number()) {
    return amount->as_number().text;
  }
  return "";
}

void on_payment_request(const State& s, const json::Value& frame) {
  const auto id_view = frame.find_string("transactionId");
  if (!id_view || id_view->empty()) {
    s->log("payment.request without transactionId ignored");
    return;
  }
  const std::string id(*id_view);
  if (s->options.behavior.kind == Behavior::Kind::ignore) {
    s->log("payment.request " + id + " ignored (hung terminal)");
    return;
  }
  const auto* txn = s->journal.find(id);
  if (txn != nullptr && txn->has_result()) {
    s->log("payment.request " + id + " again: re-sending the stored result");
    send_frame(s, stored_result(*txn));
    return;
  }
  const bool is_new = txn == nullptr;
  if (is_new) {
    s->journal.record_seen(id, amount_text(frame.find("amount")),
                           frame.find_string("currency").value_or(""),
                           frame.find_string("paymentMethod").value_or(""));
    if (s->logging()) {
      s->log("payment.request " + id);
    }
  } else if (s->logging()) {
    s->log("payment.request " + id + " again: carrying on");
  }
  send_frame(
      s, json::object({{"type", json::Value("payment.ack")}, {"transactionId", json::Value(id)}}));
  // Only drop-after-ack keeps runtime state here (slow approvals keep theirs in carry_on):
  // the other behaviors add no entry a payment.
  if (s->options.behavior.kind == Behavior::Kind::drop_after_ack && is_new) {
    auto& runtime = s->runtime[id];
    if (!runtime.dropped_after_ack) {
      runtime.dropped_after_ack = true;
      s->log("dropping the connection after the ack (drop-after-ack)");
      enqueue(s, {Outbound::Kind::drop, {}});
      return;
    }
  }
  carry_on(s, id);
}

void on_payment_cancel(const State& s, const json::Value& frame) {
  const auto id_view = frame.find_string("transactionId");
  if (!id_view || s->options.behavior.kind == Behavior::Kind::ignore) {
    return;
  }
  const std::string id(*id_view);
  const auto reason = std::string(frame.find_string("reason").value_or("MERCHANT"));
  const auto* txn = s->journal.find(id);
  if (txn != nullptr && txn->has_result()) {
    send_frame(s, stored_result(*txn));
    return;
  }
  if (txn != nullptr && txn->charged()) {
    charge_and_succeed(s, id);  // paid already: the existing charge is the answer
    return;
  }
  if (auto it = s->runtime.find(id); it != s->runtime.end() && it->second.slow_timer) {
    it->second.slow_timer->cancel();
    it->second.slow_timer.reset();
  }
  if (txn == nullptr) {
    s->journal.record_seen(id, "", "", "");
  }
  finish(s, id, "CANCELLED", "", "CANCELLED", "Cancelled on request (" + reason + ")");
}

void on_result_ack(const State& s, const json::Value& frame) {
  const auto id = frame.find_string("transactionId");
  if (!id) {
    return;
  }
  const auto* txn = s->journal.find(*id);
  if (txn != nullptr && txn->has_result() && !txn->acknowledged()) {
    const auto status = frame.find_string("transactionStatus").value_or("");
    s->journal.record_acked(*id, status);
    if (s->logging()) {
      s->log("result " + std::string(*id) + " acknowledged: " + std::string(status));
    }
  }
}

void on_void(const State& s, const json::Value& frame) {
  const auto id = frame.find_string("transactionId");
  if (!id || s->options.behavior.kind == Behavior::Kind::ignore) {
    return;
  }
  const auto* txn = s->journal.find(*id);
  if (txn != nullptr && txn->voids.size() < txn->charges.size()) {
    s->journal.record_voided(*id, frame.find_string("reason").value_or(""));
    s->log("payment " + std::string(*id) + " reversed (payment.void)");
  }
  send_frame(s, json::object({{"type", json::Value("payment.voided")},
                              {"transactionId", json::Value(*id)}}));
}

void handle_frame(const State& s, std::string_view text) {
  const auto parsed = json::parse(text);
  if (!parsed || !parsed->is_object()) {
    s->log("unparseable frame from the gateway ignored");
    return;
  }
  const auto type = parsed->find_string("type").value_or("");
  if (type == "payment.request") {
    on_payment_request(s, *parsed);
  } else if (type == "payment.cancel") {
    on_payment_cancel(s, *parsed);
  } else if (type == "payment.result.ack") {
    on_result_ack(s, *parsed);
  } else if (type == "payment.void") {
    on_void(s, *parsed);
  } else if (type == "error") {
    s->log("gateway error " + std::string(parsed->find_string("code").value_or("?")) + ": " +
           std::string(parsed->find_string("message").value_or("")));
  } else {
    s->log("frame of type '" + std::string(type) + "' ignored");
  }
}

// Stops the simulator for good from inside (refused or replaced by the gateway).
void fail_permanently(const State& s, std::string reason) {
  s->log(reason);
  s->stopping = true;
  s->failed = true;
  s->stop_reason = std::move(reason);
  s->retry_timer.cancel();
}

void note_close(const State& s, const ConnectionPtr& conn, const error_code& ec) {
  if (ec != websocket::error::closed) {
    if (conn->open && !s->stopping) {
      s->log("connection lost: " + ec.message());
    }
    return;
  }
  const auto reason = conn->reason();
  s->log("closed by the gateway: code " + std::to_string(reason.code) + " " +
         std::string(reason.reason.c_str()));
  if (reason.code == close_unauthorized) {
    fail_permanently(s, "the gateway refused this terminal (4001 unauthorized)");
  } else if (reason.code == close_replaced) {
    fail_permanently(s, "another connection replaced this one (4002)");
  }
}

// One writer per connection: the only coroutine that writes to the WebSocket.
asio::awaitable<void> write_loop(State s, ConnectionPtr conn) {
  while (conn->open) {
    if (conn->queue.empty()) {
      conn->wake.expires_at(asio::steady_timer::time_point::max());
      error_code ignored;
      auto token = asio::redirect_error(asio::use_awaitable, ignored);
      co_await conn->wake.async_wait(token);
      continue;
    }
    auto item = std::move(conn->queue.front());
    conn->queue.pop_front();
    if (item.kind == Outbound::Kind::drop) {
      conn->abort();
      break;
    }
    error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    conn->write_deadline = std::chrono::steady_clock::now() + s->options.io_timeout;
    watch_write(s, conn);
    if (item.kind == Outbound::Kind::close) {
      const websocket::close_reason reason(websocket::close_code::normal);
      co_await conn->async_close(reason, token);
      conn->write_deadline.reset();
      break;
    }
    const auto payload = asio::buffer(item.text);
    co_await conn->async_write(payload, token);
    conn->write_deadline.reset();
    if (ec) {
      conn->abort();
      break;
    }
  }
  conn->writer_running = false;
}

void log_exception(const State& s, const std::exception_ptr& e, std::string_view where) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    s->log(std::string(where) + ": " + ex.what());
  }
}

asio::awaitable<tcp::endpoint> resolve(State s, ConnectionPtr conn) {
  error_code ec;
  const auto address = asio::ip::make_address(s->options.host, ec);
  if (!ec) {
    co_return tcp::endpoint(address, s->options.port);
  }
  tcp::resolver resolver(s->strand);
  arm_watchdog(conn->hello_watchdog, conn, s->options.io_timeout, s, "resolve timed out");
  const std::string service = std::to_string(s->options.port);
  const auto results =
      co_await resolver.async_resolve(s->options.host, service, asio::use_awaitable);
  conn->hello_watchdog.cancel();
  if (results.empty()) {
    throw std::runtime_error("no address for " + s->options.host);
  }
  co_return results.begin()->endpoint();
}

asio::awaitable<void> connect(State s, ConnectionPtr conn) {
  const auto endpoint = co_await resolve(s, conn);
  auto& tcp_layer = conn->transport();
  if (!s->options.local_address.empty()) {
    bind_source_address(tcp_layer.socket(), endpoint.protocol(), s->options.local_address);
  }
  tcp_layer.expires_after(s->options.io_timeout);
  co_await tcp_layer.async_connect(endpoint, asio::use_awaitable);
  // Frames are small and often follow each other (payment.ack then payment.result): with
  // Nagle's algorithm the second waits for the gateway's delayed ACK, about 40 ms.
  error_code no_delay_error;
  tcp_layer.socket().set_option(tcp::no_delay(true), no_delay_error);
  if (auto* wss = std::get_if<Connection::TlsWs>(&conn->ws)) {
    // The server's certificate must be valid for the host in the URL.
    net::prepare_client_tls(wss->next_layer(), s->options.host);
    tcp_layer.expires_after(s->options.io_timeout);
    error_code ec;
    co_await wss->next_layer().async_handshake(ssl::stream_base::client,
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      throw std::runtime_error("TLS handshake failed: " +
                               net::describe_client_tls_failure(wss->next_layer(), ec));
    }
  }
  tcp_layer.expires_never();  // the WebSocket's own timeouts take over
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = s->options.io_timeout;
  timeouts.idle_timeout = s->options.idle_timeout;
  timeouts.keep_alive_pings = true;
  const auto user_agent = [](websocket::request_type& req) {
    req.set(beast::http::field::user_agent, "tillgate-sim/" TILLGATE_VERSION);
  };
  const auto configure = [&](auto& ws) {
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(user_agent));
    ws.read_message_max(max_inbound_frame_bytes);
    ws.text(true);
  };
  std::visit(configure, conn->ws);
  // Named first: GCC 12 mis-copies class prvalues built inside a co_await expression.
  const std::string host_header = s->options.host + ":" + std::to_string(s->options.port);
  const std::string_view target = "/v1/terminal/ws";
  const auto start_handshake = [&](auto& ws) {
    return ws.async_handshake(host_header, target, asio::use_awaitable);
  };
  auto handshake = std::visit(start_handshake, conn->ws);
  co_await std::move(handshake);
}

// hello, then hello.ok within io_timeout; false when refused or anything else came.
asio::awaitable<bool> say_hello(State s, ConnectionPtr conn) {
  beast::flat_buffer buffer;
  arm_watchdog(conn->hello_watchdog, conn, s->options.io_timeout, s, "no hello.ok in time");
  const auto hello =
      json::serialize(json::object({{"type", json::Value("hello")},
                                    {"deviceId", json::Value(s->options.device_id)},
                                    {"deviceSecret", json::Value(s->options.device_secret)},
                                    {"software", json::Value(s->options.software)}}));
  const auto payload = asio::buffer(hello);
  co_await conn->async_write(payload, asio::use_awaitable);
  error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  co_await conn->async_read(buffer, token);
  if (ec) {
    conn->hello_watchdog.cancel();
    note_close(s, conn, ec);
    co_return false;
  }
  const auto frame = json::parse(beast::buffers_to_string(buffer.data()));
  buffer.consume(buffer.size());
  const auto type = frame && frame->is_object() ? frame->find_string("type") : std::nullopt;
  if (type != "hello.ok") {
    if (type == "error") {
      s->log("hello refused: " + std::string(frame->find_string("code").value_or("?")) + ": " +
             std::string(frame->find_string("message").value_or("")));
      // Wait (still under the watchdog) for the close frame and its code.
      co_await conn->async_read(buffer, token);
      conn->hello_watchdog.cancel();
      note_close(s, conn, ec ? ec : error_code(websocket::error::closed));
    } else {
      conn->hello_watchdog.cancel();
      s->log("expected hello.ok, got something else");
    }
    co_return false;
  }
  conn->hello_watchdog.cancel();
  conn->connection_id = std::string(frame->find_string("connectionId").value_or(""));
  co_return true;
}

asio::awaitable<void> run_session(State s, ConnectionPtr conn) {
  co_await connect(s, conn);
  if (!co_await say_hello(s, conn) || s->stopping) {
    co_return;
  }
  conn->online = true;
  conn->reached_hello = true;
  s->update_status([&conn](TerminalSimulatorStatus& st) {
    st.online = true;
    st.connection_id = conn->connection_id;
    ++st.connections;
  });
  s->log("connected as " + s->options.device_id + ", connectionId " + conn->connection_id);
  if (s->options.on_online) {
    s->options.on_online();
  }
  conn->writer_running = true;
  asio::co_spawn(s->strand, write_loop(s, conn),
                 [s](std::exception_ptr e) { log_exception(s, e, "writer"); });
  for (const auto* txn : s->journal.unacknowledged_results()) {
    send_frame(s, stored_result(*txn));
  }
  beast::flat_buffer buffer;
  for (;;) {
    error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    co_await conn->async_read(buffer, token);
    if (ec) {
      note_close(s, conn, ec);
      co_return;
    }
    const auto text = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    handle_frame(s, text);
  }
}

// One connection from connect to drop; true when it got as far as hello.ok.
asio::awaitable<bool> run_connection(State s) {
  auto conn = std::make_shared<Connection>(s->strand, s->tls ? &*s->tls : nullptr);
  s->conn = conn;
  try {
    co_await run_session(s, conn);
  } catch (const boost::system::system_error& e) {
    if (!s->stopping) {
      s->log("connection failed: " + e.code().message());
    }
  } catch (const std::exception& e) {
    if (!s->stopping) {
      s->log(std::string("connection failed: ") + e.what());
    }
  }
  conn->abort();
  if (s->conn == conn) {
    s->conn.reset();
  }
  set_offline(s);
  co_return conn->reached_hello;
}

void mark_finished(const State& s) {
  if (s->finished) {
    return;
  }
  s->finished = true;
  s->update_status([&s](TerminalSimulatorStatus& st) {
    st.online = false;
    st.stopped = true;
    st.failed = s->failed;
    st.stop_reason = s->stop_reason;
  });
  if (s->options.on_stopped) {
    s->options.on_stopped(s->stop_reason);
  }
}

// A charge journaled without its result: the process died between the two fsyncs of
// charge_and_succeed. The card was charged, so the outcome is SUCCESS; it is journaled now
// and sent after hello.ok with the other unacknowledged results. Waiting for the gateway to
// ask again is not enough: once the transaction is final (TIMEOUT after the grace) the
// gateway never sends its payment.request again, and the charge would never be reported
// (nor voided).
void report_interrupted_charges(const State& s) {
  std::vector<std::string> interrupted;
  for (const auto& [id, txn] : s->journal.transactions()) {
    if (txn.charged() && !txn.has_result()) {
      interrupted.push_back(id);
    }
  }
  for (const auto& id : interrupted) {
    const auto* txn = s->journal.find(id);
    const auto frame = make_result(*txn, "SUCCESS", txn->charges.back(), "", "");
    s->journal.record_result(id, frame);
    s->log("payment " + id + " was charged before a restart: SUCCESS auth " + txn->charges.back() +
           " to report");
  }
}

asio::awaitable<void> run_simulator(State s) {
  report_interrupted_charges(s);
  auto backoff = s->options.reconnect_delay;
  while (!s->stopping) {
    const bool reached_hello = co_await run_connection(s);
    if (s->stopping) {
      break;
    }
    if (reached_hello) {
      backoff = s->options.reconnect_delay;
    }
    s->retry_timer.expires_after(backoff);
    if (!reached_hello) {
      backoff = std::min(backoff * 2, s->options.max_reconnect_delay);
    }
    error_code ignored;
    auto token = asio::redirect_error(asio::use_awaitable, ignored);
    co_await s->retry_timer.async_wait(token);
  }
  mark_finished(s);
}

void begin_stop(const State& s) {
  if (s->stopping) {
    return;
  }
  s->stopping = true;
  s->retry_timer.cancel();
  for (auto& [id, runtime] : s->runtime) {
    if (runtime.slow_timer) {
      runtime.slow_timer->cancel();
    }
  }
  if (!s->started) {
    mark_finished(s);
    return;
  }
  if (auto conn = s->conn; conn && conn->open) {
    if (conn->online && conn->writer_running) {
      // A polite close frame through the writer, bounded like any write.
      conn->queue.push_back({Outbound::Kind::close, {}});
      conn->wake.cancel();
      arm_watchdog(conn->close_watchdog, conn, s->options.io_timeout, s, "close timed out");
    } else {
      conn->abort();
    }
  }
}

}  // namespace
}  // namespace detail

TerminalSimulator::TerminalSimulator(boost::asio::any_io_executor executor,
                                     TerminalSimulatorOptions options)
    : state_(std::make_shared<detail::SimulatorState>(executor, std::move(options))) {}

TerminalSimulator::~TerminalSimulator() {
  stop();
}

void TerminalSimulator::start() {
  asio::post(state_->strand, [s = state_] {
    if (s->started || s->stopping) {
      return;
    }
    s->started = true;
    asio::co_spawn(s->strand, detail::run_simulator(s), [s](std::exception_ptr e) {
      detail::log_exception(s, e, "simulator");
      detail::mark_finished(s);
    });
  });
}

void TerminalSimulator::stop() {
  asio::post(state_->strand, [s = state_] { detail::begin_stop(s); });
}

TerminalSimulatorStatus TerminalSimulator::status() const {
  const std::lock_guard lock(state_->status_mutex);
  return state_->status;
}

}  // namespace tillgate::sim
