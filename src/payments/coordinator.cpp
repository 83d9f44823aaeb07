#include "payments/coordinator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <functional>
#include <list>
#include <tuple>
#include <unordered_map>

#include "crypto/crypto.hpp"
#include "domain/ids.hpp"
#include "metrics/gateway_metrics.hpp"
#include "net/deadline_queue.hpp"
#include "net/task_group.hpp"
#include "net/time_source.hpp"

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

// A merchant's long-poll: woken (its timer cancelled) by the final change of its
// transaction, published on the event seam.
// A new PENDING transaction of `request` (its canonical text and fingerprint), created `now`.
TransactionRecord new_transaction(const std::string& merchant_id, const std::string& device_id,
                                  const domain::PaymentRequest& request,
                                  const std::string& request_json, const std::string& fingerprint,
                                  domain::Timestamp now, std::chrono::seconds payment_timeout) {
  TransactionRecord record;
  record.request_json = request_json;
  record.request_fingerprint = fingerprint;
  record.deadline = now + payment_timeout;
  record.merchant_id = merchant_id;
  record.transaction_id = request.transaction_id.value_or(domain::new_uuid_v7(now));
  record.device_id = device_id;
  record.amount_minor = request.amount.minor_units();
  record.currency = std::string(request.amount.currency().code);
  record.payment_method = request.payment_method;
  record.webhook_mode = request.webhook_mode;
  record.created_at = record.updated_at = now;
  return record;
}

struct Waiter {
  explicit Waiter(std::unique_ptr<net::Timer> t) : timer(std::move(t)) {}
  std::unique_ptr<net::Timer> timer;
  // The final record that woke it, set only then: a waiting long-poll holds no copy.
  std::shared_ptr<const TransactionRecord> final_record;
};

using SharedRecord = std::shared_ptr<const TransactionRecord>;

SharedRecord shared(TransactionRecord record) {
  return std::make_shared<const TransactionRecord>(std::move(record));
}

// What create() leaves the merchant's request to do: answer now, or wait for the
// transaction's final change.
struct Created {
  SubmitOutcome outcome;
  std::optional<domain::Timestamp> wait_until;  // set: wait (standard mode) at most until then
  // The transaction was read before the wait was registered (a repeat request): read it
  // again once no notification can be missed.
  bool look_again = false;
};

Created answer_now(std::optional<SubmitError> error, SharedRecord transaction) {
  return Created{{error, std::move(transaction), false}, std::nullopt, false};
}

}  // namespace

// Tasks of the group do not hold the Impl alive: shutdown() waits for them before the
// coordinator may go. A long-poll (a merchant's request coroutine, not a task of the group)
// holds it through its shared_ptr.
struct PaymentCoordinator::Impl final : PaymentEventListener {
  Impl(asio::any_io_executor executor, store::AsyncStore& store, TerminalPort& port,
       net::TimeSource& time, PaymentEvents& events, PaymentSettings settings)
      : executor_(executor),
        store_(store),
        port_(port),
        clock_(time),
        time_(time),
        events_(events),
        settings_(settings),
        group_(std::move(executor), "payment coordinator"),
        deadlines_(group_, time),
        long_polls_(events.subscribe(*this)) {}
  ~Impl() override {
    for (auto& [key, pending] : pending_deadlines_) {
      deadlines_.remove(pending->entry);
    }
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  asio::any_io_executor executor_;
  store::AsyncStore& store_;
  TerminalPort& port_;
  const domain::Clock& clock_;  // time_, for reading the time
  net::TimeSource& time_;
  PaymentEvents& events_;
  PaymentSettings settings_;
  net::TaskGroup group_;  // every deadline, grace and recovery task
  // A payment's deadline, until it comes: an entry in deadlines_ (one timer and one task
  // for every payment's), not a task with its timer and frames per payment, which a held
  // long-poll kept beside its own (performance.md). When it comes, after_deadline() runs
  // as a task.
  struct PendingDeadline final : net::DeadlineQueue::Client {
    PendingDeadline(Impl& owner, std::string merchant, std::string transaction)
        : impl(owner),
          merchant_id(std::move(merchant)),
          transaction_id(std::move(transaction)),
          entry(*this) {}
    void on_deadline() override { impl.deadline_came(*this); }

    Impl& impl;
    std::string merchant_id;
    std::string transaction_id;
    net::DeadlineQueue::Entry entry;
  };
  net::DeadlineQueue deadlines_;
  // By key_of(): each in deadlines_ until its deadline comes or it goes final.
  std::unordered_map<std::string, std::unique_ptr<PendingDeadline>> pending_deadlines_;
  std::unordered_map<std::string, std::list<Waiter*>> waiters_;
  std::size_t waiting_ = 0;
  using TimerMap = std::unordered_map<std::string, std::shared_ptr<net::Timer>>;
  // One timer per unfinished transaction past its deadline: its grace.
  TimerMap timers_;
  // One timer per merchant cancel awaiting the terminal's answer.
  TimerMap cancel_timers_;
  // Per device present (connected, or reconnecting inside the grace): its presence and an
  // episode number bumped by every change, so a reconnect grace that ends knows whether it
  // is still the latest episode. The one owner of the reconnect grace: whether a terminal
  // may be given a payment is read here.
  struct PresenceState {
    TerminalPresence presence = TerminalPresence::connected;
    std::uint64_t epoch = 0;
  };
  std::unordered_map<domain::DeviceId, PresenceState> presences_;
  std::uint64_t presence_epoch_ = 0;
  // Per unfinished transaction told to cancel at its deadline: the connection that was
  // told, so the deadline and a reconnect that meet tell it once (send_timeout_cancel).
  std::unordered_map<std::string, domain::ConnectionId> timeout_cancels_;
  // The same for payment.cancel MERCHANT of a cancel another node recorded (remote_cancel):
  // each poll of the cancels finds it again, and the connection is told once.
  std::unordered_map<std::string, domain::ConnectionId> merchant_cancels_;
  // Terminals held by other nodes (set_remote_terminals); none: one node.
  RemoteTerminals* remote_ = nullptr;
  bool stopping_ = false;
  bool closing_terminals_ = false;  // the gateway is closing every terminal connection
  // Where final status changes announce themselves (set_webhook_outbox); none: no events.
  WebhookOutbox* outbox_ = nullptr;
  // The long-poll waiters listen on the seam like any other subscriber. Last member: it
  // unsubscribes before the rest goes.
  PaymentEvents::Subscription long_polls_;

  void status_changed(const PaymentStatusChanged& change) override;

  asio::awaitable<std::optional<store::DeviceRecord>> resolve_terminal(std::string merchant_id,
                                                                       std::string terminal_id);
  asio::awaitable<std::optional<TransactionRecord>> load(std::string merchant_id,
                                                         std::string transaction_id);
  Created join_existing(TransactionRecord existing, const std::string& device_id,
                        const std::string& fingerprint, bool webhook_mode) const;
  asio::awaitable<std::optional<Created>> join_stored(const std::string& merchant_id,
                                                      const std::string& transaction_id,
                                                      const std::string& device_id,
                                                      const std::string& fingerprint,
                                                      bool webhook_mode);
  asio::awaitable<Created> refuse_unless_stored(const std::string& merchant_id,
                                                const domain::PaymentRequest& request,
                                                const std::string& device_id,
                                                const std::string& fingerprint, SubmitError error);
  class WaiterRegistration;
  asio::awaitable<Created> create(const domain::MerchantId& merchant,
                                  const std::string& terminal_id, domain::PaymentRequest request,
                                  Waiter& waiter, std::optional<WaiterRegistration>& registration);
  asio::awaitable<SubmitOutcome> await_final(Waiter& waiter, SharedRecord transaction,
                                             bool look_again);
  asio::awaitable<SharedRecord> reload(const TransactionRecord& transaction);
  asio::awaitable<std::optional<TransactionRecord>> apply(
      TransactionRecord transaction, TransactionEvent event,
      std::optional<domain::TerminalOutcome> outcome);
  asio::awaitable<std::optional<store::WebhookEventRecord>> outbox_event(
      const TransactionRecord& before, const store::StatusChange& change);
  void deadline_came(PendingDeadline& due);
  asio::awaitable<void> after_deadline(std::string merchant_id, std::string transaction_id);
  // A deadline pending or a grace running after it: the payment's deadline is handled.
  [[nodiscard]] bool deadline_handled(const std::string& key) const {
    return pending_deadlines_.contains(key) || timers_.contains(key);
  }
  asio::awaitable<bool> cancel_at_deadline(const std::string& merchant_id,
                                           const std::string& transaction_id);
  asio::awaitable<void> grace_expired(const std::string& merchant_id,
                                      const std::string& transaction_id);
  asio::awaitable<void> run_cancel_grace(std::string merchant_id, std::string transaction_id,
                                         domain::Timestamp until);
  asio::awaitable<void> run_disconnect(std::string device_id);
  asio::awaitable<void> run_presence_grace(domain::MerchantId merchant_id,
                                           domain::DeviceId device_id, std::uint64_t epoch);
  std::uint64_t presence_changed(const domain::MerchantId& merchant_id,
                                 const domain::DeviceId& device_id, TerminalPresence presence);
  void send_cancel(const TransactionRecord& transaction, std::string_view reason) {
    port_.send_payment_cancel(domain::DeviceId(transaction.device_id),
                              domain::TransactionId(transaction.transaction_id), reason);
  }
  void send_timeout_cancel(const TransactionRecord& transaction);
  void send_merchant_cancel(const TransactionRecord& transaction);
  void send_void(const TransactionRecord& transaction, std::string_view reason) {
    port_.send_payment_void(domain::DeviceId(transaction.device_id),
                            domain::TransactionId(transaction.transaction_id), reason);
  }
  asio::awaitable<void> recover();
  asio::awaitable<void> run_reconnect_grace(TransactionRecord transaction, domain::Timestamp until);
  void spawn(asio::awaitable<void> task, const char* what);
  using Attempt = std::function<asio::awaitable<void>()>;
  void spawn_retrying(Attempt attempt, const char* what);
  asio::awaitable<void> retrying(Attempt attempt, const char* what);
  void schedule(const TransactionRecord& transaction);
  void finished(const TransactionRecord& transaction);
  void count_final(const TransactionRecord& before, TransactionStatus next, domain::Timestamp at);
  asio::awaitable<bool> sleep_until(TimerMap& timers, std::string key, domain::Timestamp at);
  void send_cancel_or_request(const TransactionRecord& transaction);
  asio::awaitable<bool> present(const domain::DeviceId& device_id);
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
    if (const auto device_id = port_.device_for_connection(domain::ConnectionId(terminal_id))) {
      auto find_connected_device = [id = device_id->str()](Store& store) {
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

Created PaymentCoordinator::Impl::join_existing(TransactionRecord existing,
                                                const std::string& device_id,
                                                const std::string& fingerprint,
                                                bool webhook_mode) const {
  if (existing.request_fingerprint != fingerprint || existing.device_id != device_id) {
    return answer_now(SubmitError::duplicate_transaction, shared(std::move(existing)));
  }
  if (domain::is_final(existing.status) || webhook_mode) {
    return answer_now(std::nullopt, shared(std::move(existing)));
  }
  // A repeat joins the wait. One that comes after the deadline (a merchant retrying a 504)
  // waits a payment timeout of its own: the transaction goes final within the grace.
  const auto wait_until = std::max(existing.deadline, clock_.now() + settings_.payment_timeout);
  return Created{{std::nullopt, shared(std::move(existing)), false}, wait_until, true};
}

// A long-poll's place in waiters_, for as long as the request waits: leaves on every way
// out, an exception from the store included (a waiter left behind would be woken after
// its request's frame is gone).
class PaymentCoordinator::Impl::WaiterRegistration {
 public:
  WaiterRegistration(Impl& impl, std::string key, Waiter& waiter)
      : impl_(impl), key_(std::move(key)) {
    auto& list = impl_.waiters_[key_];
    position_ = list.insert(list.end(), &waiter);
    ++impl_.waiting_;
  }
  ~WaiterRegistration() {
    const auto it = impl_.waiters_.find(key_);
    assert(it != impl_.waiters_.end());
    it->second.erase(position_);
    if (it->second.empty()) {
      impl_.waiters_.erase(it);
    }
    --impl_.waiting_;
  }
  WaiterRegistration(const WaiterRegistration&) = delete;
  WaiterRegistration& operator=(const WaiterRegistration&) = delete;

 private:
  Impl& impl_;
  std::string key_;
  std::list<Waiter*>::iterator position_;
};

// Waits, as the registered `waiter`, for the transaction to go final or the waiter's
// deadline. look_again: the transaction may have changed before the waiter was registered
// (a repeat request read it earlier), so it is read once more now that no notification can
// be missed. A waiter registered before the transaction existed (a new payment's) has
// missed nothing and skips that read. Every record here is shared, not held in the frame:
// this frame and its caller's are what a held long-poll keeps while it waits.
asio::awaitable<SubmitOutcome> PaymentCoordinator::Impl::await_final(Waiter& waiter,
                                                                     SharedRecord transaction,
                                                                     bool look_again) {
  SharedRecord current = transaction;
  if (look_again) {
    current = co_await reload(*transaction);
  }
  // A notification that came while the store was read has cancelled the timer already, and
  // a cancelled timer is not waited on: its record is the answer.
  if (waiter.final_record) {
    current = std::move(waiter.final_record);
  } else if (current && !domain::is_final(current->status) && !stopping_) {
    co_await waiter.timer->wait();  // the deadline, or woken by the final change
    // No co_await inside a conditional expression: GCC 12 mis-copies its temporaries.
    if (waiter.final_record) {
      current = std::move(waiter.final_record);
    } else {
      current = co_await reload(*transaction);
    }
  }
  if (!current) {
    current = std::move(transaction);
  }
  const bool timed_out = !domain::is_final(current->status);
  co_return SubmitOutcome{std::nullopt, std::move(current), timed_out};
}

// The transaction as the store has it now, or null; the big record lives in this short
// frame only.
asio::awaitable<SharedRecord> PaymentCoordinator::Impl::reload(
    const TransactionRecord& transaction) {
  auto found = co_await load(transaction.merchant_id, transaction.transaction_id);
  co_return found ? shared(std::move(*found)) : nullptr;
}

// Applies `event` through the state machine, retrying when another change won the race.
// Returns the record as it now stands (nullopt if the transaction vanished).
asio::awaitable<std::optional<TransactionRecord>> PaymentCoordinator::Impl::apply(
    TransactionRecord transaction, TransactionEvent event,
    std::optional<domain::TerminalOutcome> outcome) {
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
    if (outcome && !transaction.outcome) {
      change.outcome = outcome;
    }
    if (decision.next == TransactionStatus::voided) {
      change.voided_at = now;
      change.void_reason = "SUCCESS_AFTER_TIMEOUT";
    } else if (domain::is_final(decision.next)) {
      change.completed_at = now;
    }
    // A final change carries its outbox event, written in the same database transaction.
    // Its bodies are built here, not on the store thread, which every payment's writes wait
    // for; they show the terminal's label and serial as the store has them.
    if (domain::is_final(decision.next) && outbox_ != nullptr) {
      change.webhook_event = co_await outbox_event(transaction, change);
    }
    std::optional<domain::EventId> event_id;
    if (change.webhook_event) {
      event_id = domain::EventId(change.webhook_event->event_id);
    }
    auto change_status_in_store = [change = std::move(change)](Store& store) {
      return store.change_status(change);
    };
    auto result = co_await store_.call(std::move(change_status_in_store));
    if (!result) {
      co_return std::nullopt;
    }
    if (result->applied) {
      spdlog::info("transaction {} of merchant {}: {} -> {} ({})", transaction.transaction_id,
                   transaction.merchant_id, domain::to_string(transaction.status),
                   domain::to_string(decision.next), domain::to_string(event));
      if (domain::is_final(decision.next)) {
        count_final(transaction, decision.next, now);
        finished(result->transaction);
      }
      // Durable now: tell the subscribers (the long-polls, the webhook wake-up, ...).
      events_.publish(PaymentStatusChanged{result->transaction, transaction.status, event,
                                           std::move(event_id), result->event_sequence});
      if (decision.void_on_terminal) {
        send_void(transaction, "SUCCESS_AFTER_TIMEOUT");
      }
      co_return std::move(result->transaction);
    }
    transaction = std::move(result->transaction);
  }
  throw store::StoreError("transaction " + transaction.transaction_id +
                          " kept changing under concurrent updates");
}

// The outbox event of `change` to `before`, with its bodies in every webhook format.
asio::awaitable<std::optional<store::WebhookEventRecord>> PaymentCoordinator::Impl::outbox_event(
    const TransactionRecord& before, const store::StatusChange& change) {
  auto find_device_in_store = [device_id = before.device_id](Store& store) {
    return store.find_device(device_id);
  };
  const auto device = co_await store_.read(std::move(find_device_in_store));
  co_return outbox_->event_for(before, change, device ? &*device : nullptr);
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

// The long-polls' subscription: wakes the merchants waiting on a transaction that went
// final.
void PaymentCoordinator::Impl::status_changed(const PaymentStatusChanged& change) {
  const auto& transaction = change.transaction;
  if (!domain::is_final(transaction.status)) {
    return;
  }
  const auto it = waiters_.find(key_of(transaction.merchant_id, transaction.transaction_id));
  if (it == waiters_.end()) {
    return;
  }
  const auto record = std::make_shared<const TransactionRecord>(transaction);
  for (Waiter* waiter : it->second) {
    waiter->final_record = record;
    waiter->timer->cancel();
  }
}

// A transaction went final: its deadline and cancel timers stop.
void PaymentCoordinator::Impl::finished(const TransactionRecord& transaction) {
  const std::string key = key_of(transaction.merchant_id, transaction.transaction_id);
  timeout_cancels_.erase(key);
  merchant_cancels_.erase(key);
  if (transaction.status != TransactionStatus::voided) {
    if (const auto it = pending_deadlines_.find(key); it != pending_deadlines_.end()) {
      deadlines_.remove(it->second->entry);
      pending_deadlines_.erase(it);
    }
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
  std::shared_ptr<net::Timer> timer = time_.make_timer(executor_);
  timer->expires_at(at);
  timers[key] = timer;
  const bool fired = co_await timer->wait();
  if (const auto it = timers.find(key); it != timers.end() && it->second == timer) {
    timers.erase(it);
  }
  co_return fired && !stopping_;
}

// At the deadline a connected terminal is told to cancel; the status stays PENDING while
// its answer is awaited. No final answer within the grace: TIMEOUT.
void PaymentCoordinator::Impl::deadline_came(PendingDeadline& due) {
  // Owns `due` until this returns.
  const auto node = pending_deadlines_.extract(key_of(due.merchant_id, due.transaction_id));
  assert(!node.empty());
  Attempt after = [this, merchant_id = std::move(due.merchant_id),
                   transaction_id = std::move(due.transaction_id)] {
    return after_deadline(merchant_id, transaction_id);
  };
  spawn_retrying(std::move(after), "payment deadline handling");
}

// The records and the store calls are in the callees' frames, which exist only while they
// run.
asio::awaitable<void> PaymentCoordinator::Impl::after_deadline(std::string merchant_id,
                                                               std::string transaction_id) {
  const std::string key = key_of(merchant_id, transaction_id);
  if (!co_await cancel_at_deadline(merchant_id, transaction_id)) {
    co_return;
  }
  if (!co_await sleep_until(timers_, key, clock_.now() + settings_.reconnect_grace)) {
    co_return;
  }
  co_await grace_expired(merchant_id, transaction_id);
}

// Tells the terminal of a payment still unfinished at its deadline to cancel it; false
// when there is nothing left to wait for (final, or gone).
asio::awaitable<bool> PaymentCoordinator::Impl::cancel_at_deadline(
    const std::string& merchant_id, const std::string& transaction_id) {
  const auto transaction = co_await load(merchant_id, transaction_id);
  if (!transaction || domain::is_final(transaction->status)) {
    co_return false;
  }
  send_timeout_cancel(*transaction);
  co_return true;
}

// A grace (after the deadline's cancel, or a merchant's) ran out without a final answer.
asio::awaitable<void> PaymentCoordinator::Impl::grace_expired(const std::string& merchant_id,
                                                              const std::string& transaction_id) {
  auto transaction = co_await load(merchant_id, transaction_id);
  if (transaction) {
    co_await apply(std::move(*transaction), TransactionEvent::grace_expired, std::nullopt);
  }
}

// A merchant cancel waits the grace for the terminal's answer; none: TIMEOUT (unpaid as
// far as the gateway knows, so a success reported later is voided).
asio::awaitable<void> PaymentCoordinator::Impl::run_cancel_grace(std::string merchant_id,
                                                                 std::string transaction_id,
                                                                 domain::Timestamp until) {
  // The key is named before the co_await: see the GCC 12 note in docs/architecture.md.
  const std::string key = key_of(merchant_id, transaction_id);
  if (!co_await sleep_until(cancel_timers_, key, until)) {
    co_return;
  }
  co_await grace_expired(merchant_id, transaction_id);
}

// What a (re)connected terminal is told about its unfinished transaction: cancel it if the
// merchant asked or the deadline passed, otherwise the request again (at-least-once: the
// terminal recognises a transactionId it already has).
void PaymentCoordinator::Impl::send_cancel_or_request(const TransactionRecord& transaction) {
  if (transaction.cancel_requested_at) {
    send_merchant_cancel(transaction);
  } else if (clock_.now() >= transaction.deadline) {
    send_timeout_cancel(transaction);
  } else {
    port_.send_payment_request(transaction);
  }
}

// payment.cancel TIMEOUT, once per connection: the deadline's handler and a reconnect past
// the deadline may both get here for the same connection (the deadline read the
// transaction while the terminal came back), and the terminal is told once. Each new
// connection is told again.
void PaymentCoordinator::Impl::send_timeout_cancel(const TransactionRecord& transaction) {
  const auto connection = port_.connection(domain::DeviceId(transaction.device_id));
  if (connection) {
    const auto [told, first] = timeout_cancels_.try_emplace(
        key_of(transaction.merchant_id, transaction.transaction_id), connection->connection_id);
    if (!first && told->second == connection->connection_id) {
      return;
    }
    told->second = connection->connection_id;
  }
  send_cancel(transaction, "TIMEOUT");
}

// payment.cancel MERCHANT, remembering the connection told (remote_cancel tells each once).
void PaymentCoordinator::Impl::send_merchant_cancel(const TransactionRecord& transaction) {
  if (const auto connection = port_.connection(domain::DeviceId(transaction.device_id))) {
    merchant_cancels_.insert_or_assign(key_of(transaction.merchant_id, transaction.transaction_id),
                                       connection->connection_id);
  }
  send_cancel(transaction, "MERCHANT");
}

// Refused (nothing queued) only once the coordinator stops: recovery at the next start
// schedules it again.
void PaymentCoordinator::Impl::schedule(const TransactionRecord& transaction) {
  auto [it, inserted] =
      pending_deadlines_.try_emplace(key_of(transaction.merchant_id, transaction.transaction_id));
  if (inserted) {
    it->second = std::make_unique<PendingDeadline>(*this, transaction.merchant_id,
                                                   transaction.transaction_id);
  }
  if (!deadlines_.schedule(it->second->entry, transaction.deadline)) {
    pending_deadlines_.erase(it);
  }
}

// A terminal dropped: its unfinished payment waits out the reconnect grace.
asio::awaitable<void> PaymentCoordinator::Impl::run_disconnect(std::string device_id) {
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
  const auto timer = time_.make_timer(executor_);
  timer->expires_at(until);
  if (!co_await timer->wait() || stopping_) {
    co_return;
  }
  auto current = co_await load(transaction.merchant_id, transaction.transaction_id);
  // Only this episode: a reconnect (or any other change) bumps the version.
  if (current && current->version == transaction.version) {
    co_await apply(std::move(*current), TransactionEvent::grace_expired, std::nullopt);
  }
}

// A task of the coordinator's group: logged and counted by the group if it throws, and
// cancelled by shutdown().
void PaymentCoordinator::Impl::spawn(asio::awaitable<void> task, const char* what) {
  group_.spawn(what, std::move(task));
}

void PaymentCoordinator::Impl::spawn_retrying(Attempt attempt, const char* what) {
  spawn(retrying(std::move(attempt), what), what);
}

// A timer task whose store call failed (a full disk, a lost database, an overloaded queue)
// is tried again after a pause, so its payment does not stay unfinished, and its terminal
// busy, until the next start. Each try starts over: a deadline that has passed acts at
// once, and what it sends the terminal again is idempotent (a grace that was running
// starts again: the terminal gets longer, never shorter).
asio::awaitable<void> PaymentCoordinator::Impl::retrying(Attempt attempt, const char* what) {
  auto pause = settings_.store_retry_first;
  for (;;) {
    try {
      co_await attempt();
      co_return;
    } catch (const store::StoreError& error) {
      spdlog::warn("{} failed: {}; trying again in {} ms", what, error.what(), pause.count());
    }
    const auto timer = time_.make_timer(executor_);
    timer->expires_after(pause);
    if (!co_await timer->wait() || stopping_) {
      co_return;
    }
    pause = std::min(pause * 2, settings_.store_retry_max);
  }
}

// Records a presence change of the device and publishes it; returns the new episode.
std::uint64_t PaymentCoordinator::Impl::presence_changed(const domain::MerchantId& merchant_id,
                                                         const domain::DeviceId& device_id,
                                                         TerminalPresence presence) {
  const std::uint64_t epoch = ++presence_epoch_;
  if (presence == TerminalPresence::gone) {
    presences_.erase(device_id);
  } else {
    presences_[device_id] = PresenceState{presence, epoch};
  }
  events_.publish(TerminalPresenceChanged{merchant_id, device_id, presence, clock_.now()});
  return epoch;
}

// Connected or reconnecting, here or (several nodes) on another node.
asio::awaitable<bool> PaymentCoordinator::Impl::present(const domain::DeviceId& device_id) {
  if (presences_.contains(device_id)) {
    co_return true;
  }
  if (remote_ == nullptr) {
    co_return false;
  }
  const auto elsewhere = co_await remote_->presence(device_id);
  co_return elsewhere.has_value();
}

// A dropped terminal is reconnecting for the reconnect grace; no hello by then: gone.
asio::awaitable<void> PaymentCoordinator::Impl::run_presence_grace(domain::MerchantId merchant_id,
                                                                   domain::DeviceId device_id,
                                                                   std::uint64_t epoch) {
  const auto timer = time_.make_timer(executor_);
  timer->expires_after(
      std::chrono::duration_cast<std::chrono::milliseconds>(settings_.reconnect_grace));
  if (!co_await timer->wait() || stopping_) {
    co_return;
  }
  if (const auto it = presences_.find(device_id);
      it != presences_.end() && it->second.epoch == epoch) {
    presence_changed(merchant_id, device_id, TerminalPresence::gone);
  }
}

PaymentCoordinator::PaymentCoordinator(asio::any_io_executor executor, store::AsyncStore& store,
                                       TerminalPort& port, net::TimeSource& time,
                                       PaymentEvents& events, PaymentSettings settings)
    : impl_(std::make_shared<Impl>(std::move(executor), store, port, time, events, settings)) {}

PaymentCoordinator::~PaymentCoordinator() = default;

// A merchant's payment. Its checks and its insert run in create(), whose frame (the
// request, the device, the record and the store calls' results) is gone before the wait:
// a held long-poll keeps only this frame (its waiter and registration) and await_final's.
asio::awaitable<SubmitOutcome> PaymentCoordinator::submit(domain::MerchantId merchant,
                                                          std::string terminal_id,
                                                          domain::PaymentRequest request) {
  auto impl = impl_;
  Waiter waiter(impl->time_.make_timer(impl->executor_));
  std::optional<Impl::WaiterRegistration> registration;
  auto creating = impl->create(merchant, terminal_id, std::move(request), waiter, registration);
  auto created = co_await std::move(creating);
  if (!created.wait_until) {
    co_return std::move(created.outcome);
  }
  auto& transaction = created.outcome.transaction;
  if (!registration) {  // a repeat joins the wait here; a new payment registered before its insert
    waiter.timer->expires_at(*created.wait_until);
    registration.emplace(*impl, key_of(transaction->merchant_id, transaction->transaction_id),
                         waiter);
  }
  auto waiting = impl->await_final(waiter, std::move(transaction), created.look_again);
  co_return co_await std::move(waiting);
}

asio::awaitable<Created> PaymentCoordinator::Impl::create(
    const domain::MerchantId& merchant, const std::string& terminal_id,
    domain::PaymentRequest request, Waiter& waiter,
    std::optional<WaiterRegistration>& registration) {
  const std::string merchant_id = merchant.str();
  const auto device = co_await resolve_terminal(merchant_id, terminal_id);
  if (!device) {
    co_return answer_now(SubmitError::terminal_not_found, nullptr);
  }
  const std::string request_json = json::serialize(canonical_request(request));
  const std::string fingerprint = crypto::sha256_hex(request_json);
  // A transactionId the store has is joined (a retry is answered as the first request
  // was); it is looked for only when the insert finds the id taken or a check refuses the
  // request, so a new payment, the usual case, costs no read for it.
  std::optional<SubmitError> refused;
  if (request.webhook_mode && request.require_webhook_endpoint) {
    auto has_active_webhook_endpoint_in_store = [merchant_id](Store& store) {
      return store.has_active_webhook_endpoint(merchant_id);
    };
    if (!co_await store_.call(std::move(has_active_webhook_endpoint_in_store))) {
      refused = SubmitError::no_webhook_endpoints;
    }
  }
  if (!refused && !co_await present(domain::DeviceId(device->device_id))) {
    refused = SubmitError::terminal_offline;
  }
  if (!refused && !request.webhook_mode && waiting_ >= settings_.max_waiting) {
    refused = SubmitError::too_many_waiting;
  }
  if (refused) {
    auto refusing =
        refuse_unless_stored(merchant_id, request, device->device_id, fingerprint, *refused);
    co_return co_await std::move(refusing);
  }
  // Shared from the start: the insert, the events and the answer read this one record
  // (no copy of it in this frame or in the store call).
  const auto record = shared(new_transaction(merchant_id, device->device_id, request, request_json,
                                             fingerprint, clock_.now(), settings_.payment_timeout));
  // A long-poll waits from before the insert, so a change that follows the insert at once
  // (a merchant's cancel of the new transactionId) reaches it without a second read.
  waiter.timer->expires_at(record->deadline);
  if (!request.webhook_mode) {
    registration.emplace(*this, key_of(merchant_id, record->transaction_id), waiter);
  }
  auto insert_transaction_in_store = [record](Store& store) {
    return store.insert_transaction(*record);
  };
  const auto inserted = co_await store_.call(std::move(insert_transaction_in_store));
  if (inserted != store::InsertOutcome::inserted) {
    registration.reset();  // joining an existing transaction registers its own wait
  }
  if (inserted == store::InsertOutcome::device_busy) {
    co_return answer_now(SubmitError::payment_in_progress, nullptr);
  }
  if (inserted == store::InsertOutcome::already_exists) {
    // A concurrent request with the same transactionId inserted it first: join it.
    auto joining = join_stored(merchant_id, record->transaction_id, device->device_id, fingerprint,
                               request.webhook_mode);
    auto joined = co_await std::move(joining);
    co_return std::move(joined.value());
  }
  if (settings_.metrics != nullptr) {
    settings_.metrics->payment_created();
  }
  events_.publish(PaymentStatusChanged{*record, std::nullopt, std::nullopt, std::nullopt});
  port_.send_payment_request(*record);
  schedule(*record);
  if (request.webhook_mode) {
    co_return answer_now(std::nullopt, record);
  }
  co_return Created{{std::nullopt, record, false}, record->deadline, false};
}

// Refuses a new payment with `error`, unless the request names a transactionId the store
// has: then it is answered as a retry of that transaction is (join_stored).
asio::awaitable<Created> PaymentCoordinator::Impl::refuse_unless_stored(
    const std::string& merchant_id, const domain::PaymentRequest& request,
    const std::string& device_id, const std::string& fingerprint, SubmitError error) {
  if (request.transaction_id) {
    auto joining = join_stored(merchant_id, *request.transaction_id, device_id, fingerprint,
                               request.webhook_mode);
    if (auto joined = co_await std::move(joining)) {
      co_return std::move(*joined);
    }
  }
  co_return answer_now(error, nullptr);
}

// A request for a transactionId the store has: what join_existing says of it; nullopt
// when there is none. The stored record is in this short frame only.
asio::awaitable<std::optional<Created>> PaymentCoordinator::Impl::join_stored(
    const std::string& merchant_id, const std::string& transaction_id, const std::string& device_id,
    const std::string& fingerprint, bool webhook_mode) {
  auto existing = co_await load(merchant_id, transaction_id);
  if (!existing) {
    co_return std::nullopt;
  }
  co_return join_existing(std::move(*existing), device_id, fingerprint, webhook_mode);
}

asio::awaitable<CancelOutcome> PaymentCoordinator::cancel(domain::MerchantId merchant,
                                                          domain::TransactionId transaction) {
  auto impl = impl_;
  const std::string merchant_id = merchant.str();
  const std::string transaction_id = transaction.str();
  const auto now = impl->clock_.now();
  auto request_cancel_in_store = [merchant_id, transaction_id, now](Store& store) {
    return store.request_cancel(merchant_id, transaction_id, now);
  };
  auto requested = co_await impl->store_.call(std::move(request_cancel_in_store));
  if (!requested) {
    co_return CancelOutcome{CancelError::transaction_not_found, std::nullopt};
  }
  auto& record = requested->transaction;
  if (domain::is_final(record.status)) {
    co_return CancelOutcome{CancelError::transaction_final, std::move(record)};
  }
  // Sent on every request (a repeat re-sends it), and again on the terminal's next hello.
  impl->send_merchant_cancel(record);
  if (requested->applied) {
    spdlog::info("transaction {} of merchant {}: cancel requested", transaction_id, merchant_id);
    const auto until = now + impl->settings_.reconnect_grace;
    Impl::Attempt grace = [impl = impl.get(), merchant_id, transaction_id, until] {
      return impl->run_cancel_grace(merchant_id, transaction_id, until);
    };
    impl->spawn_retrying(std::move(grace), "merchant cancel grace");
  }
  co_return CancelOutcome{std::nullopt, std::move(record)};
}

asio::awaitable<void> PaymentCoordinator::terminal_connected(domain::MerchantId merchant_id,
                                                             domain::DeviceId device_id) {
  auto impl = impl_;
  impl->presence_changed(merchant_id, device_id, TerminalPresence::connected);
  auto find_unfinished_for_device_in_store = [device_id = device_id.str()](Store& store) {
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

void PaymentCoordinator::terminal_disconnected(domain::MerchantId merchant_id,
                                               domain::DeviceId device_id) {
  if (impl_->stopping_ || impl_->closing_terminals_) {
    return;  // a shutdown is not the terminal's fault; recovery at start takes over
  }
  const auto epoch =
      impl_->presence_changed(merchant_id, device_id, TerminalPresence::reconnecting);
  impl_->spawn(impl_->run_presence_grace(std::move(merchant_id), device_id, epoch),
               "terminal presence grace");
  impl_->spawn(impl_->run_disconnect(device_id.str()), "terminal disconnect handling");
}

// The device can no longer answer: gone at once, and its unfinished payment runs out as
// after a drop.
void PaymentCoordinator::terminal_revoked(domain::MerchantId merchant_id,
                                          domain::DeviceId device_id) {
  if (impl_->stopping_ || impl_->closing_terminals_) {
    return;
  }
  impl_->presence_changed(merchant_id, device_id, TerminalPresence::gone);
  impl_->spawn(impl_->run_disconnect(device_id.str()), "terminal disconnect handling");
}

asio::awaitable<bool> PaymentCoordinator::acknowledge(domain::MerchantId merchant_id,
                                                      domain::DeviceId device_id,
                                                      domain::TransactionId transaction_id) {
  auto impl = impl_;
  const auto transaction = co_await impl->load(merchant_id.str(), transaction_id.str());
  co_return transaction && transaction->device_id == device_id.str();
}

asio::awaitable<ResultOutcome> PaymentCoordinator::record_result(domain::MerchantId merchant_id,
                                                                 domain::DeviceId device_id,
                                                                 TerminalResult result) {
  auto impl = impl_;
  auto transaction = co_await impl->load(merchant_id.str(), result.transaction_id.str());
  if (!transaction || transaction->device_id != device_id.str()) {
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
      co_await impl->apply(std::move(*transaction), result.event, std::move(result.outcome));
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

asio::awaitable<void> PaymentCoordinator::Impl::recover() {
  const auto unfinished =
      co_await store_.call([](Store& store) { return store.list_unfinished(); });
  for (const auto& transaction : unfinished) {
    schedule(transaction);
    if (transaction.status == TransactionStatus::awaiting_reconnect) {
      Attempt grace = [this, transaction,
                       until = transaction.updated_at + settings_.reconnect_grace] {
        return run_reconnect_grace(transaction, until);
      };
      spawn_retrying(std::move(grace), "reconnect grace");
    }
    if (transaction.cancel_requested_at) {
      Attempt grace = [this, merchant_id = transaction.merchant_id,
                       transaction_id = transaction.transaction_id,
                       until = *transaction.cancel_requested_at + settings_.reconnect_grace] {
        return run_cancel_grace(merchant_id, transaction_id, until);
      };
      spawn_retrying(std::move(grace), "merchant cancel grace");
    }
  }
  spdlog::info("recovered {} unfinished transactions", unfinished.size());
}

void PaymentCoordinator::start() {
  Impl::Attempt recovery = [impl = impl_.get()] { return impl->recover(); };
  impl_->spawn_retrying(std::move(recovery), "recovery of unfinished transactions");
}

void PaymentCoordinator::terminals_closing() {
  impl_->closing_terminals_ = true;
}

void PaymentCoordinator::set_webhook_outbox(WebhookOutbox& outbox) {
  impl_->outbox_ = &outbox;
}

void PaymentCoordinator::set_remote_terminals(RemoteTerminals& remote) {
  impl_->remote_ = &remote;
}

asio::awaitable<void> PaymentCoordinator::claim_terminal(domain::MerchantId merchant_id,
                                                         domain::DeviceId device_id) {
  auto* remote = impl_->remote_;
  const auto connection = impl_->port_.connection(device_id);
  if (remote == nullptr || !connection) {
    co_return;
  }
  co_await remote->claim(merchant_id, device_id, connection->connection_id);
}

asio::awaitable<TerminalsElsewhere> PaymentCoordinator::terminals_elsewhere(
    domain::MerchantId merchant_id) {
  auto* remote = impl_->remote_;
  if (remote == nullptr) {
    co_return TerminalsElsewhere{};
  }
  co_return co_await remote->of_merchant(merchant_id);
}

void PaymentCoordinator::remote_change(const PaymentStatusChanged& change,
                                       TransactionStatus current) {
  auto& impl = *impl_;
  if (impl.stopping_) {
    return;
  }
  const auto& transaction = change.transaction;
  if (domain::is_final(transaction.status)) {
    impl.finished(transaction);
  } else if (!change.from && !domain::is_final(current)) {
    const auto key = key_of(transaction.merchant_id, transaction.transaction_id);
    if (!impl.deadline_handled(key)) {
      impl.schedule(transaction);
    }
    impl.port_.send_payment_request(transaction);  // false: not held here
  }
  impl.events_.publish(change);
}

void PaymentCoordinator::remote_cancel(const TransactionRecord& transaction) {
  auto& impl = *impl_;
  const auto connection = impl.port_.connection(domain::DeviceId(transaction.device_id));
  if (impl.stopping_ || !connection || !transaction.cancel_requested_at) {
    return;
  }
  const auto key = key_of(transaction.merchant_id, transaction.transaction_id);
  const auto [told, first] = impl.merchant_cancels_.try_emplace(key, connection->connection_id);
  if (!first && told->second == connection->connection_id) {
    return;
  }
  impl.send_merchant_cancel(transaction);
  if (!impl.cancel_timers_.contains(key)) {
    Impl::Attempt grace = [impl = &impl, merchant_id = transaction.merchant_id,
                           transaction_id = transaction.transaction_id,
                           until =
                               *transaction.cancel_requested_at + impl.settings_.reconnect_grace] {
      return impl->run_cancel_grace(merchant_id, transaction_id, until);
    };
    impl.spawn_retrying(std::move(grace), "merchant cancel grace");
  }
}

void PaymentCoordinator::terminal_moved(const domain::DeviceId& device_id,
                                        const domain::ConnectionId& connection_id) {
  const auto connection = impl_->port_.connection(device_id);
  if (!connection || connection->connection_id != connection_id) {
    return;  // a newer connection here: its own claim is the later one
  }
  impl_->port_.replaced_elsewhere(device_id, connection_id);
  impl_->presences_.erase(device_id);
}

void PaymentCoordinator::terminal_lost(const domain::DeviceId& device_id) {
  if (impl_->stopping_) {
    return;
  }
  impl_->spawn(impl_->run_disconnect(device_id.str()), "terminal lost with its node");
}

asio::awaitable<bool> PaymentCoordinator::shutdown(std::chrono::milliseconds wait) {
  auto impl = impl_;
  impl->stopping_ = true;
  for (auto& [key, list] : impl->waiters_) {
    for (Waiter* waiter : list) {
      waiter->timer->cancel();
    }
  }
  for (auto* timers : {&impl->timers_, &impl->cancel_timers_}) {
    for (auto& [key, timer] : *timers) {
      timer->cancel();
    }
  }
  for (auto& [key, pending] : impl->pending_deadlines_) {
    impl->deadlines_.remove(pending->entry);
  }
  impl->pending_deadlines_.clear();
  impl->group_.close();
  impl->group_.cancel();
  const bool ended = co_await impl->group_.wait(wait);
  if (!ended) {
    spdlog::warn("payment coordinator: {} tasks still running after {} ms", impl->group_.size(),
                 wait.count());
  }
  co_return ended;
}

std::optional<TerminalPresence> PaymentCoordinator::presence(
    const domain::DeviceId& device_id) const {
  const auto it = impl_->presences_.find(device_id);
  if (it == impl_->presences_.end()) {
    return std::nullopt;
  }
  return it->second.presence;
}

std::size_t PaymentCoordinator::waiting() const {
  return impl_->waiting_;
}

}  // namespace tillgate::payments
