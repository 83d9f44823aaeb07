#pragma once
// The payment coordinator: the one place that runs a payment. It creates the transaction,
// pushes it to the terminal, waits, applies the terminal's result through the state
// machine, times out, and wakes whoever waits. Both API facades and the terminal sessions
// call it. Runs on the single network thread; store calls hop to the store thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "domain/payment_request.hpp"
#include "domain/time.hpp"
#include "domain/transaction.hpp"
#include "payments/terminal_port.hpp"
#include "payments/webhook_outbox.hpp"
#include "store/async_store.hpp"

namespace tillgate::metrics {
class GatewayMetrics;
}

namespace tillgate::payments {

struct PaymentSettings {
  std::chrono::seconds payment_timeout{90};
  std::chrono::seconds reconnect_grace{60};
  std::size_t max_waiting = 20'000;  // long-polls held open at once
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
  std::optional<store::TransactionRecord> transaction;  // as it stood when answered
  bool timed_out = false;  // standard mode: the payment timeout passed without a final result
};

enum class CancelError { transaction_not_found, transaction_final };

struct CancelOutcome {
  std::optional<CancelError> error;
  std::optional<store::TransactionRecord> transaction;  // as it stands
};

struct TerminalResult {
  std::string transaction_id;
  domain::TransactionEvent event;  // terminal_succeeded | terminal_failed | terminal_cancelled
  std::string response_json;       // the terminal's result as recorded
};

struct ResultOutcome {
  bool belongs_to_terminal = false;  // false: unknown or another terminal's transaction
  domain::TransactionStatus recorded_status = domain::TransactionStatus::pending;
};

class PaymentCoordinator {
 public:
  PaymentCoordinator(boost::asio::any_io_executor executor, store::AsyncStore& store,
                     TerminalPort& port, const domain::Clock& clock, PaymentSettings settings);
  ~PaymentCoordinator();
  PaymentCoordinator(const PaymentCoordinator&) = delete;
  PaymentCoordinator& operator=(const PaymentCoordinator&) = delete;

  // Merchant side. Standard mode waits for a final result or the payment deadline.
  boost::asio::awaitable<SubmitOutcome> submit(std::string merchant_id, std::string terminal_id,
                                               domain::PaymentRequest request);

  // Merchant cancel: records the request durably and sends payment.cancel MERCHANT; the
  // terminal's answer decides, and no answer within the reconnect grace ends TIMEOUT.
  boost::asio::awaitable<CancelOutcome> cancel(std::string merchant_id, std::string transaction_id);

  // Terminal side.
  boost::asio::awaitable<void> terminal_connected(std::string device_id);
  void terminal_disconnected(std::string device_id);
  // `merchant_id` is the device's, as its session learnt it at hello (a device never
  // changes merchant; a revoked one is disconnected).
  boost::asio::awaitable<bool> acknowledge(std::string merchant_id, std::string device_id,
                                           std::string transaction_id);
  boost::asio::awaitable<ResultOutcome> record_result(std::string merchant_id,
                                                      std::string device_id, TerminalResult result);

  // Where final status changes announce themselves: each such change is written with its
  // outbox event, and `outbox` is told once it committed. Without one, no events.
  void set_webhook_outbox(WebhookOutbox& outbox);

  // Schedules the deadlines of every unfinished transaction in the store (at start-up).
  boost::asio::awaitable<void> recover();
  // The gateway is about to close every terminal connection: those closes are not drops
  // (no AWAITING_RECONNECT); recovery at the next start takes over.
  void terminals_closing();

  // Wakes every waiter and stops every timer.
  void shutdown();

  [[nodiscard]] std::size_t waiting() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tillgate::payments
