#include "payments/coordinator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <list>
#include <unordered_map>

#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "metrics/gateway_metrics.hpp"

namespace tillgate::payments {

namespace asio = boost::asio;
using domain::TransactionEvent;
using domain::TransactionStatus;
using store::Store;
using store::TransactionRecord;

namespace {

std::string key_of(const std::string& merchant_id, const std::string& transaction_id) {
  return merchant_id + '\n' + transaction_id;
}

// The steady-clock instant matching a wall-clock deadline (timers need a monotonic clock).
std::chrono::steady_clock::time_point steady_at(domain::Timestamp at, domain::Timestamp now) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds((at - now).count());
}

struct Waiter {
  explicit Waiter(asio::any_io_executor executor) : timer(std::move(executor)) {}
  asio::steady_timer timer;
  std::optional<TransactionRecord> final_record;
};

}  // namespace

struct PaymentCoordinator::Impl : std::enable_shared_from_this<PaymentCoordinator::Impl> {
  Impl(asio::any_io_executor executor, store::AsyncStore& store, TerminalPort& port,
       const domain::Clock& clock, PaymentSettings settings)
      : executor_(std::move(executor)),
        store_(store),
        port_(port),
        clock_(clock),
        settings_(settings) {}

  asio::any_io_executor executor_;
  store::AsyncStore& store_;
  TerminalPort& port_;
  const domain::Clock& clock_;
  PaymentSettings settings_;
  std::unordered_map<std::string, std::list<Waiter*>> waiters_;
  std::size_t waiting_ = 0;
  // One timer per unfinished transaction: its deadline, then its grace.
  std::unordered_map<std::string, std::shared_ptr<asio::steady_timer>> timers_;
  // One timer per merchant cancel awaiting the terminal's answer.
  std::unordered_map<std::string, std::shared_ptr<asio::steady_timer>> cancel_timers_;
  bool stopping_ = false;
  bool closing_terminals_ = false;  // the gateway is closing every terminal connection
  // Where final status changes announce themselves (set_webhook_outbox); none: no events.
  WebhookOutbox* outbox_ = nullptr;

  asio::awaitable<std::optional<store::DeviceRecord>> resolve_terminal(std::string merchant_id,
                                                                       std::string terminal_id);
  asio::awaitable<std::optional<TransactionRecord>> load(std::string merchant_id,
                                                         std::string transaction_id);
  asio::awaitable<SubmitOutcome> join_existing(TransactionRecord existing, std::string device_id,
                                               std::string fingerprint, bool webhook_mode);
  asio::awaitable<SubmitOutcome> wait_for_final(TransactionRecord transaction,
                                                domain::Timestamp wait_until);
  asio::awaitable<std::optional<TransactionRecord>> apply(TransactionRecord transaction,
                                                          TransactionEvent event,
                                                          std::optional<std::string> response_json);
  asio::awaitable<void> run_deadline(std::string merchant_id, std::string transaction_id,
                                     domain::Timestamp deadline);
  asio::awaitable<void> run_cancel_grace(std::string merchant_id, std::string transaction_id,
                                         domain::Timestamp until);
  asio::awaitable<void> run_disconnect(std::string device_id);
  asio::awaitable<void> run_reconnect_grace(TransactionRecord transaction, domain::Timestamp until);
  void spawn(asio::awaitable<void> task, const char* what);
  void schedule(const TransactionRecord& transaction);
  void finished(const TransactionRecord& transaction);
  void count_final(const TransactionRecord& before, TransactionStatus next, domain::Timestamp at);
  using TimerMap = std::unordered_map<std::string, std::shared_ptr<asio::steady_timer>>;
  asio::awaitable<bool> sleep_until(TimerMap& timers, std::string key, domain::Timestamp at);
  void send_cancel_or_request(const TransactionRecord& transaction);
};

asio::awaitable<std::optional<TransactionRecord>> PaymentCoordinator::Impl::load(
    std::string merchant_id, std::string transaction_id) {
  auto find_transaction_in_store = [merchant_id, transaction_id](Store& store) {
    return store.find_transaction(merchant_id, transaction_id);
  };
  co_return co_await store_.read(std::move(find_transaction_in_store));
}

asio::awaitable<std::optional<store::DeviceRecord>> PaymentCoordinator::Impl::resolve_terminal(
    std::string merchant_id, std::string terminal_id) {
  auto find_device_in_store = [terminal_id](Store& store) {
    return store.find_device(terminal_id);
  };
  auto device = co_await store_.read(std::move(find_device_in_store));
  if (!device || device->merchant_id != merchant_id || device->revoked_at) {
    device.reset();
    // Not a deviceId of this merchant: perhaps the current connectionId of one of its terminals.
    if (const auto device_id = port_.device_for_connection(terminal_id)) {
      auto find_connected_device = [id = *device_id](Store& store) {
        return store.find_device(id);
      };
      device = co_await store_.read(std::move(find_connected_device));
      if (device && (device->merchant_id != merchant_id || device->revoked_at)) {
        device.reset();
      }
    }
  }
  co_return device;
}

asio::awaitable<SubmitOutcome> PaymentCoordinator::Impl::join_existing(TransactionRecord existing,
                                                                       std::string device_id,
                                                                       std::string fingerprint,
                                                                       bool webhook_mode) {
  if (existing.request_fingerprint != fingerprint || existing.device_id != device_id) {
    SubmitOutcome outcome{SubmitError::duplicate_transaction, std::move(existing), false};
    co_return outcome;
  }
  if (domain::is_final(existing.status) || webhook_mode) {
    co_return SubmitOutcome{std::nullopt, std::move(existing), false};
  }
  // A repeat joins the wait. One that comes after the deadline (a merchant retrying a 504)
  // waits a payment timeout of its own: the transaction goes final within the grace.
  const auto wait_until = std::max(existing.deadline, clock_.now() + settings_.payment_timeout);
  co_return co_await wait_for_final(std::move(existing), wait_until);
}

asio::awaitable<SubmitOutcome> PaymentCoordinator::Impl::wait_for_final(
    TransactionRecord transaction, domain::Timestamp wait_until) {
  auto self = shared_from_this();
  const std::string key = key_of(transaction.merchant_id, transaction.transaction_id);
  Waiter waiter(executor_);
  waiter.timer.expires_at(steady_at(wait_until, clock_.now()));
  auto& list = waiters_[key];
  const auto position = list.insert(list.end(), &waiter);
  ++waiting_;
  // The result may have been recorded while this request was being read: look once more
  // now that the waiter is registered, so no notification can be missed.
  auto current = co_await load(transaction.merchant_id, transaction.transaction_id);
  if (current && !domain::is_final(current->status) && !stopping_) {
    boost::system::error_code ec;
    co_await waiter.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // No co_await inside a conditional expression: GCC 12 mis-copies its temporaries.
    if (waiter.final_record) {
      current = std::move(waiter.final_record);
    } else {
      current = co_await load(transaction.merchant_id, transaction.transaction_id);
    }
  }
  auto& remaining = waiters_[key];
  remaining.erase(position);
  if (remaining.empty()) {
    waiters_.erase(key);
  }
  --waiting_;
  if (!current) {
    current = std::move(transaction);
  }
  const bool timed_out = !domain::is_final(current->status);
  co_return SubmitOutcome{std::nullopt, std::move(current), timed_out};
}

// Applies `event` through the state machine, retrying when another change won the race.
// Returns the record as it now stands (nullopt if the transaction vanished).
asio::awaitable<std::optional<TransactionRecord>> PaymentCoordinator::Impl::apply(
    TransactionRecord transaction, TransactionEvent event,
    std::optional<std::string> response_json) {
  constexpr int kMaxAttempts = 8;  // each retry means another change landed first
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto decision = domain::decide(transaction.status, event);
    if (decision.verdict != domain::Verdict::apply) {
      co_return transaction;
    }
    const auto now = clock_.now();
    store::StatusChange change;
    change.merchant_id = transaction.merchant_id;
    change.transaction_id = transaction.transaction_id;
    change.expected = transaction.status;
    change.next = decision.next;
    change.cause = std::string(domain::to_string(event));
    change.at = now;
    if (response_json && !transaction.response_json) {
      change.response_json = response_json;
    }
    if (decision.next == TransactionStatus::voided) {
      change.voided_at = now;
      change.void_reason = "SUCCESS_AFTER_TIMEOUT";
    } else if (domain::is_final(decision.next)) {
      change.completed_at = now;
    }
    // A final change carries its outbox event, written in the same database transaction.
    // The event shows the terminal's label, read on the store thread just before.
    const WebhookOutbox* outbox = domain::is_final(decision.next) ? outbox_ : nullptr;
    auto change_status_in_store = [change, outbox, before = transaction](Store& store) mutable {
      if (outbox != nullptr) {
        const auto device = store.find_device(before.device_id);
        change.webhook_event =
            outbox->event_for(before, change, device ? std::string_view(device->label) : "");
      }
      const bool announces = change.webhook_event.has_value();
      return std::pair(store.change_status(change), announces);
    };
    auto changed = co_await store_.call(std::move(change_status_in_store));
    auto& result = changed.first;
    const bool announces = changed.second;
    if (!result) {
      co_return std::nullopt;
    }
    if (result->applied) {
      if (announces && outbox_ != nullptr) {
        outbox_->committed();
      }
      spdlog::info("transaction {} of merchant {}: {} -> {} ({})", transaction.transaction_id,
                   transaction.merchant_id, domain::to_string(transaction.status),
                   domain::to_string(decision.next), domain::to_string(event));
      if (domain::is_final(decision.next)) {
        count_final(transaction, decision.next, now);
        finished(result->transaction);
      }
      if (decision.void_on_terminal) {
        port_.send_payment_void(transaction.device_id, transaction.transaction_id,
                                "SUCCESS_AFTER_TIMEOUT");
      }
      co_return std::move(result->transaction);
    }
    transaction = std::move(result->transaction);
  }
  throw store::StoreError("transaction " + transaction.transaction_id +
                          " kept changing under concurrent updates");
}

// Counts a change of `before` to the final `next`; the time from creation only for the
// first final status (a VOIDED follows a TIMEOUT).
void PaymentCoordinator::Impl::count_final(const TransactionRecord& before, TransactionStatus next,
                                           domain::Timestamp at) {
  if (settings_.metrics == nullptr) {
    return;
  }
  const auto outcome = domain::to_string(next);
  if (domain::is_final(before.status)) {
    settings_.metrics->payment_finished(outcome);
  } else {
    settings_.metrics->payment_finished(outcome, at - before.created_at);
  }
}

// Wakes the merchants waiting on a final transaction and stops its timer.
void PaymentCoordinator::Impl::finished(const TransactionRecord& transaction) {
  const std::string key = key_of(transaction.merchant_id, transaction.transaction_id);
  if (const auto it = waiters_.find(key); it != waiters_.end()) {
    for (Waiter* waiter : it->second) {
      waiter->final_record = transaction;
      waiter->timer.cancel();
    }
  }
  if (transaction.status != TransactionStatus::voided) {
    for (TimerMap* timers : {&timers_, &cancel_timers_}) {
      if (const auto it = timers->find(key); it != timers->end()) {
        it->second->cancel();
      }
    }
  }
}

// Sleeps until `at` on the transaction's timer; false when cancelled (final, or stopping).
asio::awaitable<bool> PaymentCoordinator::Impl::sleep_until(TimerMap& timers, std::string key,
                                                            domain::Timestamp at) {
  auto timer = std::make_shared<asio::steady_timer>(executor_);
  timer->expires_at(steady_at(at, clock_.now()));
  timers[key] = timer;
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (const auto it = timers.find(key); it != timers.end() && it->second == timer) {
    timers.erase(it);
  }
  co_return !ec && !stopping_;
}

// At the deadline a connected terminal is told to cancel; the status stays PENDING while
// its answer is awaited. No final answer within the grace: TIMEOUT.
asio::awaitable<void> PaymentCoordinator::Impl::run_deadline(std::string merchant_id,
                                                             std::string transaction_id,
                                                             domain::Timestamp deadline) {
  auto self = shared_from_this();
  const std::string key = key_of(merchant_id, transaction_id);
  if (!co_await sleep_until(timers_, key, deadline)) {
    co_return;
  }
  auto transaction = co_await load(merchant_id, transaction_id);
  if (!transaction || domain::is_final(transaction->status)) {
    co_return;
  }
  port_.send_payment_cancel(transaction->device_id, transaction_id, "TIMEOUT");
  if (!co_await sleep_until(timers_, key, clock_.now() + settings_.reconnect_grace)) {
    co_return;
  }
  transaction = co_await load(merchant_id, transaction_id);
  if (transaction) {
    co_await apply(std::move(*transaction), TransactionEvent::grace_expired, std::nullopt);
  }
}

// A merchant cancel waits the grace for the terminal's answer; none: TIMEOUT (unpaid as
// far as the gateway knows, so a success reported later is voided).
asio::awaitable<void> PaymentCoordinator::Impl::run_cancel_grace(std::string merchant_id,
                                                                 std::string transaction_id,
                                                                 domain::Timestamp until) {
  auto self = shared_from_this();
  if (!co_await sleep_until(cancel_timers_, key_of(merchant_id, transaction_id), until)) {
    co_return;
  }
  auto transaction = co_await load(merchant_id, transaction_id);
  if (transaction) {
    co_await apply(std::move(*transaction), TransactionEvent::grace_expired, std::nullopt);
  }
}

// What a (re)connected terminal is told about its unfinished transaction: cancel it if the
// merchant asked or the deadline passed, otherwise the request again (at-least-once: the
// terminal recognises a transactionId it already has).
void PaymentCoordinator::Impl::send_cancel_or_request(const TransactionRecord& transaction) {
  if (transaction.cancel_requested_at) {
    port_.send_payment_cancel(transaction.device_id, transaction.transaction_id, "MERCHANT");
  } else if (clock_.now() >= transaction.deadline) {
    port_.send_payment_cancel(transaction.device_id, transaction.transaction_id, "TIMEOUT");
  } else {
    port_.send_payment_request(transaction);
  }
}

void PaymentCoordinator::Impl::schedule(const TransactionRecord& transaction) {
  spawn(run_deadline(transaction.merchant_id, transaction.transaction_id, transaction.deadline),
        "payment deadline handling");
}

// A terminal dropped: its unfinished payment waits out the reconnect grace.
asio::awaitable<void> PaymentCoordinator::Impl::run_disconnect(std::string device_id) {
  auto self = shared_from_this();
  auto find_unfinished_for_device_in_store = [device_id](Store& store) {
    return store.find_unfinished_for_device(device_id);
  };
  auto unfinished = co_await store_.call(std::move(find_unfinished_for_device_in_store));
  if (!unfinished) {
    co_return;
  }
  auto changed =
      co_await apply(std::move(*unfinished), TransactionEvent::terminal_disconnected, std::nullopt);
  if (!changed || changed->status != TransactionStatus::awaiting_reconnect) {
    co_return;
  }
  co_await run_reconnect_grace(std::move(*changed), clock_.now() + settings_.reconnect_grace);
}

// Waits out the reconnect grace of one disconnect episode; TIMEOUT if nothing happened since.
asio::awaitable<void> PaymentCoordinator::Impl::run_reconnect_grace(TransactionRecord transaction,
                                                                    domain::Timestamp until) {
  auto self = shared_from_this();
  asio::steady_timer timer(executor_, steady_at(until, clock_.now()));
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (stopping_) {
    co_return;
  }
  auto current = co_await load(transaction.merchant_id, transaction.transaction_id);
  // Only this episode: a reconnect (or any other change) bumps the version.
  if (current && current->version == transaction.version) {
    co_await apply(std::move(*current), TransactionEvent::grace_expired, std::nullopt);
  }
}

void PaymentCoordinator::Impl::spawn(asio::awaitable<void> task, const char* what) {
  asio::co_spawn(executor_, std::move(task), [what](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("{} failed: {}", what, e.what());
      }
    }
  });
}

PaymentCoordinator::PaymentCoordinator(asio::any_io_executor executor, store::AsyncStore& store,
                                       TerminalPort& port, const domain::Clock& clock,
                                       PaymentSettings settings)
    : impl_(std::make_shared<Impl>(std::move(executor), store, port, clock, settings)) {}

PaymentCoordinator::~PaymentCoordinator() = default;

asio::awaitable<SubmitOutcome> PaymentCoordinator::submit(std::string merchant_id,
                                                          std::string terminal_id,
                                                          domain::PaymentRequest request) {
  auto impl = impl_;
  const auto device = co_await impl->resolve_terminal(merchant_id, terminal_id);
  if (!device) {
    co_return SubmitOutcome{SubmitError::terminal_not_found, std::nullopt, false};
  }
  const std::string request_json = json::serialize(canonical_request(request));
  const std::string fingerprint = crypto::sha256_hex(request_json);
  if (request.transaction_id) {
    if (auto existing = co_await impl->load(merchant_id, *request.transaction_id)) {
      co_return co_await impl->join_existing(std::move(*existing), device->device_id, fingerprint,
                                             request.webhook_mode);
    }
  }
  if (request.webhook_mode && request.require_webhook_endpoint) {
    auto has_active_webhook_endpoint_in_store = [merchant_id](Store& store) {
      return store.has_active_webhook_endpoint(merchant_id);
    };
    if (!co_await impl->store_.call(std::move(has_active_webhook_endpoint_in_store))) {
      co_return SubmitOutcome{SubmitError::no_webhook_endpoints, std::nullopt, false};
    }
  }
  if (!impl->port_.reachable(device->device_id)) {
    co_return SubmitOutcome{SubmitError::terminal_offline, std::nullopt, false};
  }
  if (!request.webhook_mode && impl->waiting_ >= impl->settings_.max_waiting) {
    co_return SubmitOutcome{SubmitError::too_many_waiting, std::nullopt, false};
  }
  const auto now = impl->clock_.now();
  TransactionRecord record;
  record.merchant_id = merchant_id;
  record.transaction_id = request.transaction_id.value_or(domain::new_uuid_v7(now));
  record.device_id = device->device_id;
  record.amount_minor = request.amount.minor_units();
  record.currency = std::string(request.amount.currency().code);
  record.payment_method = request.payment_method;
  record.webhook_mode = request.webhook_mode;
  record.request_json = request_json;
  record.request_fingerprint = fingerprint;
  record.created_at = record.updated_at = now;
  record.deadline = now + impl->settings_.payment_timeout;
  auto insert_transaction_in_store = [record](Store& store) {
    return store.insert_transaction(record);
  };
  const auto inserted = co_await impl->store_.call(std::move(insert_transaction_in_store));
  if (inserted == store::InsertOutcome::device_busy) {
    co_return SubmitOutcome{SubmitError::payment_in_progress, std::nullopt, false};
  }
  if (inserted == store::InsertOutcome::already_exists) {
    // A concurrent request with the same transactionId inserted it first: join it.
    auto existing = co_await impl->load(merchant_id, record.transaction_id);
    co_return co_await impl->join_existing(std::move(*existing), device->device_id, fingerprint,
                                           request.webhook_mode);
  }
  if (impl->settings_.metrics != nullptr) {
    impl->settings_.metrics->payment_created();
  }
  impl->port_.send_payment_request(record);
  impl->schedule(record);
  if (request.webhook_mode) {
    co_return SubmitOutcome{std::nullopt, std::move(record), false};
  }
  const auto deadline = record.deadline;
  co_return co_await impl->wait_for_final(std::move(record), deadline);
}

asio::awaitable<CancelOutcome> PaymentCoordinator::cancel(std::string merchant_id,
                                                          std::string transaction_id) {
  auto impl = impl_;
  const auto now = impl->clock_.now();
  auto request_cancel_in_store = [merchant_id, transaction_id, now](Store& store) {
    return store.request_cancel(merchant_id, transaction_id, now);
  };
  auto requested = co_await impl->store_.call(std::move(request_cancel_in_store));
  if (!requested) {
    co_return CancelOutcome{CancelError::transaction_not_found, std::nullopt};
  }
  auto& transaction = requested->transaction;
  if (domain::is_final(transaction.status)) {
    co_return CancelOutcome{CancelError::transaction_final, std::move(transaction)};
  }
  // Sent on every request (a repeat re-sends it), and again on the terminal's next hello.
  impl->port_.send_payment_cancel(transaction.device_id, transaction.transaction_id, "MERCHANT");
  if (requested->applied) {
    spdlog::info("transaction {} of merchant {}: cancel requested", transaction_id, merchant_id);
    impl->spawn(
        impl->run_cancel_grace(merchant_id, transaction_id, now + impl->settings_.reconnect_grace),
        "merchant cancel grace");
  }
  co_return CancelOutcome{std::nullopt, std::move(transaction)};
}

asio::awaitable<void> PaymentCoordinator::terminal_connected(std::string device_id) {
  auto impl = impl_;
  auto find_unfinished_for_device_in_store = [device_id](Store& store) {
    return store.find_unfinished_for_device(device_id);
  };
  auto unfinished = co_await impl->store_.call(std::move(find_unfinished_for_device_in_store));
  if (!unfinished) {
    co_return;
  }
  auto current = co_await impl->apply(std::move(*unfinished),
                                      TransactionEvent::terminal_reconnected, std::nullopt);
  if (!current || domain::is_final(current->status)) {
    co_return;
  }
  impl->send_cancel_or_request(*current);
}

void PaymentCoordinator::terminal_disconnected(std::string device_id) {
  if (impl_->stopping_ || impl_->closing_terminals_) {
    return;  // a shutdown is not the terminal's fault; recovery at start takes over
  }
  impl_->spawn(impl_->run_disconnect(std::move(device_id)), "terminal disconnect handling");
}

asio::awaitable<bool> PaymentCoordinator::acknowledge(std::string merchant_id,
                                                      std::string device_id,
                                                      std::string transaction_id) {
  auto impl = impl_;
  const auto transaction = co_await impl->load(std::move(merchant_id), std::move(transaction_id));
  co_return transaction && transaction->device_id == device_id;
}

asio::awaitable<ResultOutcome> PaymentCoordinator::record_result(std::string merchant_id,
                                                                 std::string device_id,
                                                                 TerminalResult result) {
  auto impl = impl_;
  auto transaction = co_await impl->load(std::move(merchant_id), result.transaction_id);
  if (!transaction || transaction->device_id != device_id) {
    co_return ResultOutcome{};
  }
  // After the deadline's payment.cancel TIMEOUT, a CANCELLED is the terminal confirming it
  // abandoned the payment: that ends TIMEOUT (merchant-api.md section 6). A cancel the
  // merchant asked for ends CANCELLED.
  if (result.event == TransactionEvent::terminal_cancelled && !transaction->cancel_requested_at &&
      impl->clock_.now() >= transaction->deadline) {
    result.event = TransactionEvent::terminal_abandoned;
  }
  const bool already_voided = transaction->status == TransactionStatus::voided;
  auto recorded =
      co_await impl->apply(std::move(*transaction), result.event, std::move(result.response_json));
  if (!recorded) {
    co_return ResultOutcome{};
  }
  // A terminal that reports its success again on a VOIDED transaction did not get the
  // acknowledgement, and so (the void is queued before it on the same connection) not the
  // payment.void either, e.g. the gateway died after committing VOIDED: tell it again, so
  // the charge is reversed. The terminal reverses a transactionId at most once.
  if (already_voided && result.event == TransactionEvent::terminal_succeeded) {
    impl->port_.send_payment_void(device_id, result.transaction_id, "SUCCESS_AFTER_TIMEOUT");
  }
  co_return ResultOutcome{true, recorded->status};
}

asio::awaitable<void> PaymentCoordinator::recover() {
  auto impl = impl_;
  const auto unfinished =
      co_await impl->store_.call([](Store& store) { return store.list_unfinished(); });
  for (const auto& transaction : unfinished) {
    impl->schedule(transaction);
    if (transaction.status == TransactionStatus::awaiting_reconnect) {
      impl->spawn(impl->run_reconnect_grace(
                      transaction, transaction.updated_at + impl->settings_.reconnect_grace),
                  "reconnect grace");
    }
    if (transaction.cancel_requested_at) {
      impl->spawn(impl->run_cancel_grace(
                      transaction.merchant_id, transaction.transaction_id,
                      *transaction.cancel_requested_at + impl->settings_.reconnect_grace),
                  "merchant cancel grace");
    }
  }
  spdlog::info("recovered {} unfinished transactions", unfinished.size());
}

void PaymentCoordinator::terminals_closing() {
  impl_->closing_terminals_ = true;
}

void PaymentCoordinator::set_webhook_outbox(WebhookOutbox& outbox) {
  impl_->outbox_ = &outbox;
}

void PaymentCoordinator::shutdown() {
  impl_->stopping_ = true;
  for (auto& [key, list] : impl_->waiters_) {
    for (Waiter* waiter : list) {
      waiter->timer.cancel();
    }
  }
  for (auto* timers : {&impl_->timers_, &impl_->cancel_timers_}) {
    for (auto& [key, timer] : *timers) {
      timer->cancel();
    }
  }
}

std::size_t PaymentCoordinator::waiting() const {
  return impl_->waiting_;
}

}  // namespace tillgate::payments
