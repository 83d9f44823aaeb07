#include "webhooks/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "metrics/gateway_metrics.hpp"
#include "net/task_group.hpp"
#include "net/time_source.hpp"
#include "store/status_change.hpp"
#include "webhooks/events.hpp"
#include "webhooks/format.hpp"
#include "webhooks/retry_policy.hpp"

namespace tillgate::webhooks {

namespace asio = boost::asio;
using store::Store;

namespace {

// After the store failed to answer (overloaded, disk error), look again this much later.
constexpr std::chrono::seconds kStoreErrorBackoff{1};
// After the shutdown's grace, the attempts still running are cancelled and waited for
// this much longer (an attempt waiting for its record on the store thread ends with it).
constexpr std::chrono::milliseconds kCancelledAttemptsWait{1000};

}  // namespace

struct WebhookDispatcher::Impl {
  Impl(asio::any_io_executor executor, store::AsyncStore& store, WebhookHttpClient& client,
       const WebhookFormats& formats, net::TimeSource& time, DispatcherSettings settings)
      : store_(store),
        client_(client),
        formats_(formats),
        clock_(time),
        settings_(std::move(settings)),
        wake_(time.make_timer(executor)),
        tasks_(executor, "webhook dispatcher"),
        random_(std::random_device{}()) {}

  store::AsyncStore& store_;
  WebhookHttpClient& client_;
  const WebhookFormats& formats_;
  net::TimeSource& clock_;  // now() for due times and records; the loop's timer
  DispatcherSettings settings_;
  std::unique_ptr<net::Timer> wake_;  // the loop sleeps on it; notify() cancels it
  // The loop and every delivery attempt; shutdown closes it, lets the attempts finish
  // within the grace, then cancels what is left and waits for it.
  net::TaskGroup tasks_;
  bool poked_ = false;  // notify() came while the loop was not sleeping
  bool started_ = false;
  bool stopping_ = false;
  std::unordered_set<std::string> in_flight_;                        // delivery ids
  std::unordered_map<std::string, std::size_t> endpoint_in_flight_;  // endpoint id -> attempts
  std::size_t pings_in_flight_ = 0;
  std::mt19937_64 random_;

  asio::awaitable<void> run();
  asio::awaitable<std::optional<domain::Timestamp>> start_due();
  std::size_t start_claimed(std::vector<store::DueDelivery>& claimed,
                            std::vector<store::WebhookClaim>& unused);
  asio::awaitable<void> deliver(store::DueDelivery due);
  [[nodiscard]] std::string logged_response(std::string_view body) const;
  [[nodiscard]] std::vector<std::string> saturated_endpoints() const;
  void begin(const store::WebhookDeliveryRecord& delivery);
  void end(const store::WebhookDeliveryRecord& delivery);
  void count_recorded(store::DeliveryStatus next) const;
  DeliveryAttempt attempt_now(const store::DueDelivery& due, std::string_view problem) const;
  double jitter_unit() { return std::uniform_real_distribution<double>(-1.0, 1.0)(random_); }
  void wake() {
    poked_ = true;
    wake_->cancel();
  }
};

// The loop: start what is due, then sleep until the next delivery is due, a wake-up, or
// the idle poll, whichever comes first.
asio::awaitable<void> WebhookDispatcher::Impl::run() {
  while (!stopping_) {
    poked_ = false;
    std::optional<domain::Timestamp> next_due;
    try {
      next_due = co_await start_due();
    } catch (const std::exception& error) {
      spdlog::warn("webhook dispatcher: reading due deliveries failed: {}; again in {} s",
                   error.what(), kStoreErrorBackoff.count());
      next_due = clock_.now() + kStoreErrorBackoff;
    }
    if (stopping_) {
      break;
    }
    if (poked_) {
      continue;  // woken while reading the store: look again before sleeping
    }
    auto wake_at = clock_.now() + settings_.idle_poll;
    if (next_due) {
      wake_at = std::min(wake_at, *next_due);
    }
    wake_->expires_at(wake_at);
    co_await wake_->wait();  // false: woken by notify(), or shutdown
  }
}

// Starts attempts for due deliveries until no slot is free or nothing more is due; returns
// when the next pending delivery falls due.
asio::awaitable<std::optional<domain::Timestamp>> WebhookDispatcher::Impl::start_due() {
  std::optional<domain::Timestamp> next_due;
  while (!stopping_ && in_flight_.size() < settings_.max_in_flight) {
    store::DueQuery query;
    query.now = clock_.now();
    // No more than the free slots: a claim not started waits for its lease to pass.
    query.limit = static_cast<std::int64_t>(
        std::min(settings_.batch_size, settings_.max_in_flight - in_flight_.size()));
    query.exclude_endpoints = saturated_endpoints();
    // In flight here already: only a manual retry makes one due again meanwhile, and its
    // attempt starts when this one has been recorded.
    query.exclude_deliveries.assign(in_flight_.begin(), in_flight_.end());
    query.lease = settings_.lease;
    auto claim_due_deliveries = [query](Store& store) {
      return store.claim_due_webhook_deliveries(query);
    };
    auto found = co_await store_.call(std::move(claim_due_deliveries));
    next_due = found.next_due_at;
    std::vector<store::WebhookClaim> unused;
    const std::size_t started = start_claimed(found.due, unused);
    if (!unused.empty()) {
      // Due again as before, for this loop's next look (once a slot is free) or another node.
      auto release = [unused = std::move(unused)](Store& store) {
        store.release_webhook_claims(unused);
      };
      co_await store_.call(std::move(release));
    }
    // A short batch was everything due; a full one that started nothing cannot improve.
    if (started == 0 || std::cmp_less(found.due.size(), query.limit)) {
      break;
    }
  }
  co_return next_due;
}

// Starts an attempt for each claimed delivery while a global slot and a slot of its
// endpoint are free; the others go to `unused`. Answers how many started.
std::size_t WebhookDispatcher::Impl::start_claimed(std::vector<store::DueDelivery>& claimed,
                                                   std::vector<store::WebhookClaim>& unused) {
  std::size_t started = 0;
  for (auto& due : claimed) {
    const auto& delivery = due.delivery;
    // In flight already (a manual retry made it due again), its endpoint filled up in this
    // batch, or no slot left: an attempt ending wakes the loop, which claims them again.
    const auto endpoint = endpoint_in_flight_.find(delivery.endpoint_id);
    if (stopping_ || in_flight_.size() >= settings_.max_in_flight ||
        in_flight_.contains(delivery.delivery_id) ||
        (endpoint != endpoint_in_flight_.end() &&
         endpoint->second >= settings_.max_in_flight_per_endpoint)) {
      unused.push_back(store::WebhookClaim{
          .delivery_id = delivery.delivery_id, .version = delivery.version, .due_at = due.due_at});
      continue;
    }
    begin(delivery);
    ++started;
    // Never refused: the group closes only with stopping_, checked above with no
    // suspension since.
    [[maybe_unused]] const bool spawned = tasks_.spawn("delivery attempt", deliver(std::move(due)));
    assert(spawned);
  }
  return started;
}

std::vector<std::string> WebhookDispatcher::Impl::saturated_endpoints() const {
  std::vector<std::string> full;
  for (const auto& [endpoint_id, count] : endpoint_in_flight_) {
    if (count >= settings_.max_in_flight_per_endpoint) {
      full.push_back(endpoint_id);
    }
  }
  return full;
}

void WebhookDispatcher::Impl::begin(const store::WebhookDeliveryRecord& delivery) {
  in_flight_.insert(delivery.delivery_id);
  ++endpoint_in_flight_[delivery.endpoint_id];
}

void WebhookDispatcher::Impl::end(const store::WebhookDeliveryRecord& delivery) {
  in_flight_.erase(delivery.delivery_id);
  if (const auto it = endpoint_in_flight_.find(delivery.endpoint_id);
      it != endpoint_in_flight_.end() && --it->second == 0) {
    endpoint_in_flight_.erase(it);
  }
  if (!stopping_) {
    wake();
  }  // a slot is free, and a delivery's state changed
}

// What followed a recorded attempt, for tillgate_webhook_deliveries_total.
void WebhookDispatcher::Impl::count_recorded(store::DeliveryStatus next) const {
  if (settings_.metrics == nullptr) {
    return;
  }
  switch (next) {
    case store::DeliveryStatus::succeeded:
      settings_.metrics->webhook_recorded(metrics::WebhookResult::delivered);
      break;
    case store::DeliveryStatus::pending:
      settings_.metrics->webhook_recorded(metrics::WebhookResult::retry_scheduled);
      break;
    case store::DeliveryStatus::failed:
      settings_.metrics->webhook_recorded(metrics::WebhookResult::failed);
      break;
  }
}

// A failed attempt that never reached the network (e.g. a corrupt secret).
DeliveryAttempt WebhookDispatcher::Impl::attempt_now(const store::DueDelivery& due,
                                                     std::string_view problem) const {
  DeliveryAttempt attempt;
  attempt.started_at = clock_.now();
  attempt.error = std::string(problem);
  spdlog::error("webhook delivery {} to endpoint {}: {}", due.delivery.delivery_id,
                due.delivery.endpoint_id, problem);
  return attempt;
}

// The start of an answer body kept with its attempt: at most logged_response_bytes, cut
// before a UTF-8 sequence the bound would split.
std::string WebhookDispatcher::Impl::logged_response(std::string_view body) const {
  std::size_t size = std::min(body.size(), settings_.logged_response_bytes);
  if (size < body.size()) {
    while (size > 0 && (static_cast<unsigned char>(body[size]) & 0xC0U) == 0x80U) {
      --size;
    }
  }
  return std::string(body.substr(0, size));
}

// One attempt: sign, POST, record the outcome with the delivery's next state.
asio::awaitable<void> WebhookDispatcher::Impl::deliver(store::DueDelivery due) {
  const auto& delivery = due.delivery;
  try {
    DeliveryAttempt attempt;
    HeaderList headers;
    std::string_view problem;
    const WebhookFormat* format = formats_.find(due.format);
    if (format == nullptr) {
      format = &formats_.standard();  // for its retry schedule
      problem = "the endpoint's format is not served by this gateway";
    } else {
      try {
        headers = format->sign(due.secret.reveal(), delivery.event_id, due.payload, clock_.now());
      } catch (const std::invalid_argument&) {
        problem = "signing: the endpoint's secret is malformed";
      }
    }
    if (problem.empty()) {
      auto post = client_.post(due.url, std::move(headers), due.payload);
      attempt = co_await std::move(post);
    } else {
      attempt = attempt_now(due, problem);
    }
    if (settings_.metrics != nullptr) {
      settings_.metrics->webhook_attempt(attempt.duration);
    }
    auto outcome =
        attempt_outcome(delivery, attempt, format->retry_schedule(), clock_.now(), jitter_unit());
    if (attempt.http_status) {
      outcome.attempt.response_body = logged_response(attempt.response_body);
    }
    spdlog::debug(
        "webhook delivery {} ({} of {}) to {}: {} -> {}", delivery.delivery_id, delivery.event_type,
        delivery.transaction_id, delivery.endpoint_id,
        attempt.error.empty() ? std::to_string(attempt.http_status.value_or(0)) : attempt.error,
        store::to_string(outcome.next_status));
    auto record_attempt = [outcome](Store& store) { return store.record_webhook_attempt(outcome); };
    const bool recorded = co_await store_.call(std::move(record_attempt));
    if (recorded) {
      count_recorded(outcome.next_status);
    }
  } catch (const std::exception& error) {
    // Not recorded: the delivery is still due as stored, and is attempted again.
    spdlog::warn("webhook delivery {}: the attempt could not be recorded: {}", delivery.delivery_id,
                 error.what());
  }
  end(delivery);
}

WebhookDispatcher::WebhookDispatcher(asio::any_io_executor executor, store::AsyncStore& store,
                                     WebhookHttpClient& client, const WebhookFormats& formats,
                                     net::TimeSource& time, DispatcherSettings settings)
    : impl_(std::make_unique<Impl>(std::move(executor), store, client, formats, time,
                                   std::move(settings))) {
  if (impl_->settings_.max_in_flight == 0 || impl_->settings_.max_in_flight_per_endpoint == 0 ||
      impl_->settings_.batch_size == 0 || impl_->settings_.max_pings_in_flight == 0 ||
      impl_->settings_.lease < std::chrono::milliseconds{1}) {
    throw std::invalid_argument("webhook dispatcher: every bound must be at least 1");
  }
}

WebhookDispatcher::~WebhookDispatcher() {
  impl_->stopping_ = true;
}

void WebhookDispatcher::start() {
  if (impl_->started_) {
    return;
  }
  impl_->started_ = true;
  impl_->tasks_.spawn("loop", impl_->run());
}

asio::awaitable<void> WebhookDispatcher::shutdown(std::chrono::milliseconds grace) {
  Impl& impl = *impl_;
  impl.stopping_ = true;
  impl.tasks_.close();
  impl.wake_->cancel();  // the loop ends at once; the attempts in flight go on
  if (!impl.in_flight_.empty()) {
    spdlog::info("webhook dispatcher: waiting for {} attempts in flight (at most {} ms)",
                 impl.in_flight_.size(), grace.count());
  }
  if (co_await impl.tasks_.wait(grace)) {
    co_return;
  }
  // Cut off: the delivery stays due as stored and is attempted again at the next start.
  spdlog::warn("webhook dispatcher: cancelling {} attempts still in flight after {} ms",
               impl.in_flight_.size(), grace.count());
  impl.tasks_.cancel();
  if (!co_await impl.tasks_.wait(kCancelledAttemptsWait)) {
    spdlog::error("webhook dispatcher: {} tasks still running after the shutdown",
                  impl.tasks_.size());
  }
}

void WebhookDispatcher::notify() {
  if (!impl_->stopping_) {
    impl_->wake();
  }
}

std::optional<store::WebhookEventRecord> WebhookDispatcher::event_for(
    const store::TransactionRecord& before, const store::StatusChange& change,
    const store::DeviceRecord* terminal) const {
  if (!event_type_for(change.next)) {
    return std::nullopt;  // most changes (PENDING <-> AWAITING_RECONNECT) announce nothing
  }
  return outbox_event(impl_->formats_, store::changed_record(before, change), terminal, change.at);
}

void WebhookDispatcher::committed() {
  notify();
}

asio::awaitable<std::optional<DeliveryAttempt>> WebhookDispatcher::ping(
    std::string url, domain::Secret secret, domain::WebhookFormat format) {
  Impl* impl = impl_.get();
  if (impl->pings_in_flight_ >= impl->settings_.max_pings_in_flight) {
    co_return std::nullopt;
  }
  const WebhookFormat* endpoint_format = impl->formats_.find(format);
  if (endpoint_format == nullptr) {
    throw std::invalid_argument("webhook format " + std::string(domain::to_string(format)) +
                                " is not served by this gateway");
  }
  const auto now = impl->clock_.now();
  const std::string event_id = new_event_id(now);
  std::string body = endpoint_format->ping_body(event_id, now);
  auto headers = endpoint_format->sign(secret.reveal(), event_id, body, now);
  ++impl->pings_in_flight_;
  std::optional<DeliveryAttempt> result;
  try {
    auto post = impl->client_.post(std::move(url), std::move(headers), std::move(body));
    result = co_await std::move(post);
  } catch (...) {
    --impl->pings_in_flight_;
    throw;
  }
  --impl->pings_in_flight_;
  co_return result;
}

std::chrono::milliseconds WebhookDispatcher::attempt_timeout() const {
  return impl_->client_.settings().attempt_timeout;
}

WebhookDispatcher::Stats WebhookDispatcher::stats() const {
  Stats stats;
  stats.in_flight = impl_->in_flight_.size();
  for (const auto& [endpoint_id, count] : impl_->endpoint_in_flight_) {
    stats.busiest_endpoint_in_flight = std::max(stats.busiest_endpoint_in_flight, count);
  }
  stats.pings_in_flight = impl_->pings_in_flight_;
  return stats;
}

}  // namespace tillgate::webhooks
