#pragma once
// A simulated payment terminal speaking terminal-protocol.md over a WebSocket: used by the
// `terminal` and `demo` commands, the load generator and the functional tests. Several
// can share one io_context; each runs on its own strand, so the io_context may have any
// number of threads.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tillgate::sim {

// What the simulated customer and card do with each payment.request.
struct Behavior {
  enum class Kind {
    approve,         // charge at once, SUCCESS
    decline,         // FAILED, errorCode DECLINED
    cancel,          // the customer cancels: CANCELLED
    slow,            // approve after `delay`, cancellable meanwhile
    ignore,          // a hung terminal: acks nothing, answers nothing
    drop_after_ack,  // acks a new transaction, drops TCP (no close frame), approves on re-send
  };
  Kind kind = Kind::approve;
  std::chrono::milliseconds delay{0};  // for slow
};

// "approve", "decline", "cancel", "slow:MS", "ignore", "drop-after-ack"; nullopt otherwise.
[[nodiscard]] std::optional<Behavior> parse_behavior(std::string_view text);
[[nodiscard]] std::string to_string(const Behavior& behavior);

struct TerminalSimulatorOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  // wss://: TLS, the gateway's certificate verified for `host` against `ca_file` (PEM) or,
  // when that is empty, the system's trusted CAs.
  bool tls = false;
  std::string ca_file;
  std::string device_id;
  std::string device_secret;
  Behavior behavior;
  std::string journal_path;  // empty: kept in memory only (lost with the process)
  std::chrono::milliseconds reconnect_delay{500};         // first wait after a drop
  std::chrono::milliseconds max_reconnect_delay{10'000};  // backoff doubles up to this
  std::chrono::milliseconds io_timeout{10'000};  // connect, handshake, hello.ok, each write
  // No frame, ping or pong from the gateway for this long: the connection is dead. Beast
  // pings the gateway at half of it while idle.
  std::chrono::milliseconds idle_timeout{75'000};
  std::size_t max_outbound_queue = 256;  // frames waiting to be written; beyond it, reconnect
  // Source address of the connection (an IP literal); empty: the system's choice. One
  // address has about 28,000 ephemeral ports, so a load generator holding more connections
  // to one gateway spreads them over several loopback addresses (127.0.0.1-127.0.0.50).
  std::string local_address;
  std::string software = "tillgate-sim";
  // Human-readable events (connected, payment approved, ...), called on the simulator's
  // strand. Optional.
  std::function<void(std::string_view)> on_log;
  // Called on the strand after every hello.ok. Optional.
  std::function<void()> on_online;
  // Called once, on the strand, when the simulator has stopped for good: after stop(), or
  // by itself when the gateway refused it (close 4001) or replaced it (close 4002).
  std::function<void(std::string_view reason)> on_stopped;
};

struct TerminalSimulatorStatus {
  bool online = false;            // hello.ok received on the current connection
  std::string connection_id;      // of the current or last connection
  std::uint64_t connections = 0;  // hello.ok count
  std::uint64_t charges = 0;      // cards charged by this process
  std::uint64_t results_sent = 0;
  bool stopped = false;
  bool failed = false;  // stopped by itself (refused, replaced, journal error)
  std::string stop_reason;
};

namespace detail {
struct SimulatorState;
}

class TerminalSimulator {
 public:
  // Opens (and compacts) the journal now; throws std::runtime_error if it cannot.
  TerminalSimulator(boost::asio::any_io_executor executor, TerminalSimulatorOptions options);
  // Calls stop(); the io_context must keep running until the simulator's work completes.
  ~TerminalSimulator();
  TerminalSimulator(const TerminalSimulator&) = delete;
  TerminalSimulator& operator=(const TerminalSimulator&) = delete;

  // Connects and keeps reconnecting with backoff until stop(). Thread-safe.
  void start();
  // Sends a close frame (bounded by io_timeout) and ends all work. Thread-safe, idempotent.
  void stop();
  // A snapshot; thread-safe.
  [[nodiscard]] TerminalSimulatorStatus status() const;

 private:
  std::shared_ptr<detail::SimulatorState> state_;
};

}  // namespace tillgate::sim
