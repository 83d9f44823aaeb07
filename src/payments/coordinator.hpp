#pragma once
// The payment coordinator: the one place that runs a payment. It creates the transaction,
// pushes it to the terminal, waits, applies the terminal's result through the state
// machine, times out, and publishes every committed change on the event seam
// (payment_events.hpp), where whoever waits subscribes. Both API facades and the terminal
// sessions call it. Runs on the single network thread; store calls hop to the store thread.
//
// Its clock and every timer come from a net::TimeSource (tests drive them with a
// ManualTimeSource), and every coroutine it spawns belongs to its net::TaskGroup: shutdown()
// cancels them and waits for them, bounded.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "domain/payment_request.hpp"
#include "domain/terminal_outcome.hpp"
#include "domain/time.hpp"
#include "domain/transaction.hpp"
#include "payments/payment_events.hpp"
#include "payments/terminal_port.hpp"
#include "payments/webhook_outbox.hpp"
#include "store/async_store.hpp"

namespace tillgate::metrics {
class GatewayMetrics;
}
namespace tillgate::net {
class TimeSource;
}

namespace tillgate::payments {

// No defaults: the app sets every field from app::Limits / app::Config, where each default
// is written once; a test states the values it needs.
struct PaymentSettings {
  std::chrono::seconds payment_timeout{};
  std::chrono::seconds reconnect_grace{};  // after a drop, and for the answer to a cancel
  std::size_t max_waiting{};               // long-polls held open at once
  // A deadline or grace task whose store call failed tries again after this pause,
  // doubling up to store_retry_max, until it succeeds or the coordinator stops.
  std::chrono::milliseconds store_retry_first{};
  std::chrono::milliseconds store_retry_max{};
  // Counts created and finished payments (none: nothing is counted). Long-polls waiting
  // are read at scrape time from waiting().
  metrics::GatewayMetrics* metrics = nullptr;
};

enum class SubmitError {
  terminal_not_found,
  no_webhook_endpoints,  // webhookMode without an active endpoint to deliver the result to
  terminal_offline,
  payment_in_progress,
  duplicate_transaction,
  too_many_waiting,
};

struct SubmitOutcome {
  std::optional<SubmitError> error;
  // As it stood when answered. Shared, not held in place: the outcome passes through every
  // frame of a held long-poll's call chain, which then stays small.
  std::shared_ptr<const store::TransactionRecord> transaction;
  bool timed_out = false;  // standard mode: the payment timeout passed without a final result
};

enum class CancelError { transaction_not_found, transaction_final };

struct CancelOutcome {
  std::optional<CancelError> error;
  std::optional<store::TransactionRecord> transaction;  // as it stands
};

struct TerminalResult {
  domain::TransactionId transaction_id;
  domain::TransactionEvent event;   // terminal_succeeded | terminal_failed | terminal_cancelled
  domain::TerminalOutcome outcome;  // the terminal's result as recorded
};

struct ResultOutcome {
  bool belongs_to_terminal = false;  // false: unknown or another terminal's transaction
  domain::TransactionStatus recorded_status = domain::TransactionStatus::pending;
};

// A terminal connected to (or, inside its grace, dropped from) another gateway node.
struct RemoteTerminal {
  domain::ConnectionId connection_id;
  domain::Timestamp since;  // its node's claim of it
  TerminalPresence presence = TerminalPresence::connected;
};
// By device id.
using TerminalsElsewhere = std::unordered_map<std::string, RemoteTerminal>;

// Terminals held by other gateway nodes on the same database (node_sync.hpp): asked when a
// payment's terminal is not connected to this node, and by the terminal lists.
class RemoteTerminals {
 public:
  virtual ~RemoteTerminals() = default;
  // The device's presence on another node; nullopt: none (gone, or never seen).
  virtual boost::asio::awaitable<std::optional<TerminalPresence>> presence(
      const domain::DeviceId& device_id) = 0;
  // The merchant's terminals present on other nodes.
  virtual boost::asio::awaitable<TerminalsElsewhere> of_merchant(
      const domain::MerchantId& merchant_id) = 0;
  // The device's connection `connection_id` said hello here: claimed for this node, durably
  // when this returns (unless the store failed: then the claim is tried again later).
  virtual boost::asio::awaitable<void> claim(const domain::MerchantId& merchant_id,
                                             const domain::DeviceId& device_id,
                                             const domain::ConnectionId& connection_id) = 0;
};

class PaymentCoordinator {
 public:
  // `events` receives every committed status change and presence change; it and the other
  // references outlive the coordinator.
  PaymentCoordinator(boost::asio::any_io_executor executor, store::AsyncStore& store,
                     TerminalPort& port, net::TimeSource& time, PaymentEvents& events,
                     PaymentSettings settings);
  ~PaymentCoordinator();
  PaymentCoordinator(const PaymentCoordinator&) = delete;
  PaymentCoordinator& operator=(const PaymentCoordinator&) = delete;

  // Merchant side. Standard mode waits for a final result or the payment deadline.
  // `terminal_id`: a deviceId of the merchant, or the connectionId of one of its terminals.
  boost::asio::awaitable<SubmitOutcome> submit(domain::MerchantId merchant_id,
                                               std::string terminal_id,
                                               domain::PaymentRequest request);

  // Merchant cancel: records the request durably and sends payment.cancel MERCHANT; the
  // terminal's answer decides, and no answer within the reconnect grace ends TIMEOUT.
  boost::asio::awaitable<CancelOutcome> cancel(domain::MerchantId merchant_id,
                                               domain::TransactionId transaction_id);

  // Terminal side. A hello that authenticated: with several nodes, the device is claimed for
  // this node before the terminal is told hello.ok, so that a payment made on any node after
  // it finds the terminal (nothing to do on one node).
  boost::asio::awaitable<void> claim_terminal(domain::MerchantId merchant_id,
                                              domain::DeviceId device_id);
  // Each publishes the terminal's presence (connected; reconnecting, then
  // gone when the reconnect grace passes without a new hello; gone at once when revoked).
  boost::asio::awaitable<void> terminal_connected(domain::MerchantId merchant_id,
                                                  domain::DeviceId device_id);
  void terminal_disconnected(domain::MerchantId merchant_id, domain::DeviceId device_id);
  void terminal_revoked(domain::MerchantId merchant_id, domain::DeviceId device_id);
  // `merchant_id` is the device's, as its session learnt it at hello (a device never
  // changes merchant; a revoked one is disconnected).
  boost::asio::awaitable<bool> acknowledge(domain::MerchantId merchant_id,
                                           domain::DeviceId device_id,
                                           domain::TransactionId transaction_id);
  boost::asio::awaitable<ResultOutcome> record_result(domain::MerchantId merchant_id,
                                                      domain::DeviceId device_id,
                                                      TerminalResult result);

  // Where final status changes announce themselves: each such change is written with its
  // outbox event, whose id the published change carries. Without one, no events.
  void set_webhook_outbox(WebhookOutbox& outbox);

  // Schedules the deadlines of every unfinished transaction in the store (at start-up), as
  // a task of the coordinator's group.
  void start();
  // The gateway is about to close every terminal connection: those closes are not drops
  // (no AWAITING_RECONNECT); recovery at the next start takes over.
  void terminals_closing();

  // ---- Several nodes on one database (node_sync.hpp) ----
  // Where a terminal not connected here may be; none (one node): nowhere else.
  void set_remote_terminals(RemoteTerminals& remote);
  // The merchant's terminals present on other nodes (none on one node).
  boost::asio::awaitable<TerminalsElsewhere> terminals_elsewhere(domain::MerchantId merchant_id);
  // A change another node committed, read from the change feed (`current`: the status the
  // transaction has now): published on the seam as this node's own are (long-polls, POS
  // sessions, webhooks wake). A transaction created there gets its deadlines here too (every
  // node runs them; the status's compare-and-set lets one change win) and, while it is
  // unfinished, is pushed to its terminal if this node holds it; a final one stops this
  // node's timers.
  void remote_change(const PaymentStatusChanged& change, domain::TransactionStatus current);
  // A merchant's cancel recorded on another node, of an unfinished transaction whose
  // terminal this node holds: the terminal is told (once per connection) and the cancel's
  // grace runs here too.
  void remote_cancel(const store::TransactionRecord& transaction);
  // The device's connection here (`connection_id`) was replaced by one on another node: it
  // is closed (4002) and forgotten here, without a drop.
  void terminal_moved(const domain::DeviceId& device_id, const domain::ConnectionId& connection_id);
  // A node that held the device died: the device dropped, and its unfinished payment waits
  // out the reconnect grace here.
  void terminal_lost(const domain::DeviceId& device_id);

  // Wakes every waiter, stops every timer, cancels every task of the coordinator and waits
  // for them at most `wait`: true when they all ended (only then may it be destroyed).
  boost::asio::awaitable<bool> shutdown(std::chrono::milliseconds wait);

  [[nodiscard]] std::size_t waiting() const;
  // connected or reconnecting (dropped less than the reconnect grace ago: such a terminal
  // is not TERMINAL_OFFLINE, its payment is pushed when it says hello again); nullopt for
  // a terminal gone or never seen since the start.
  [[nodiscard]] std::optional<TerminalPresence> presence(const domain::DeviceId& device_id) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tillgate::payments
