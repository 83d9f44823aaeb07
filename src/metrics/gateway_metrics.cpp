#include "metrics/gateway_metrics.hpp"

#include <string>

#include "metrics/process.hpp"

namespace tillgate::metrics {

namespace {

double seconds_of(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

std::vector<double> GatewayMetrics::http_duration_buckets() {
  // 0.5 ms to 120 s: a long-poll lasts up to the payment timeout (90 s by default).
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
          0.5,    1,     2.5,    5,     10,   30,    60,   90,  120};
}

std::vector<double> GatewayMetrics::payment_duration_buckets() {
  // A TIMEOUT comes at the deadline plus the reconnect grace (90 + 60 s by default).
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 90, 120, 180, 300, 600};
}

std::vector<double> GatewayMetrics::webhook_duration_buckets() {
  // An attempt is cut off after TILLGATE_WEBHOOK_ATTEMPT_TIMEOUT_MS (10 s, at most 60 s).
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> GatewayMetrics::store_batch_buckets() {
  return exponential_buckets(1, 2, 11);
}

std::vector<double> GatewayMetrics::store_commit_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

GatewayMetrics::GatewayMetrics(Registry& registry)
    : registry_(registry),
      http_requests_(registry.counter_family(
          "tillgate_http_requests_total",
          "HTTP requests answered, by route template, method and status (refusals before "
          "routing: route=\"refused\"; no route: route=\"unmatched\").",
          {"route", "method", "status"})),
      http_duration_(registry.histogram_family(
          "tillgate_http_request_duration_seconds",
          "Time from a request reaching the router to its answer, by route template "
          "(long-polls included).",
          {"route"}, http_duration_buckets())),
      payments_created_(registry.counter("tillgate_payments_created_total",
                                         "Payment transactions created (inserted PENDING).")),
      payment_outcomes_(registry.counter_family(
          "tillgate_payments_total",
          "Changes of a transaction to a final status, by that status (a VOIDED follows a "
          "TIMEOUT, so such a payment counts under both).",
          {"outcome"})),
      payment_duration_(
          registry.histogram("tillgate_payment_duration_seconds",
                             "Time from a transaction's creation to its first final status.",
                             payment_duration_buckets())),
      terminals_connected_(registry.callback_gauge("tillgate_terminals_connected",
                                                   "Terminals connected with a completed hello.")),
      long_polls_waiting_(registry.callback_gauge(
          "tillgate_long_polls_waiting",
          "Standard-mode payment requests held open, waiting for a final result.")),
      pos_clients_connected_(registry.callback_gauge(
          "tillgate_pos_clients_connected", "POS WebSocket connections open (one per API key).")),
      pos_frames_(registry.counter_family(
          "tillgate_pos_frames_total",
          "Text frames received on POS WebSocket connections, by action (other actions: "
          "unknown; no action: invalid).",
          {"action"})),
      webhook_deliveries_(registry.counter_family(
          "tillgate_webhook_deliveries_total",
          "Webhook delivery attempts recorded, by what followed: delivered (2xx), "
          "retry_scheduled (pending again), failed (the retry schedule is used up).",
          {"result"})),
      webhook_duration_(registry.histogram(
          "tillgate_webhook_attempt_duration_seconds",
          "Duration of one webhook delivery attempt, connect to answer or failure.",
          webhook_duration_buckets())),
      store_batch_size_(registry.histogram("tillgate_store_batch_size",
                                           "Store calls committed together by one commit.",
                                           store_batch_buckets())),
      store_commit_(registry.histogram("tillgate_store_commit_seconds",
                                       "Time of one store commit, fsync included.",
                                       store_commit_buckets())),
      store_queue_depth_(registry.gauge(
          "tillgate_store_queue_depth",
          "Store calls waiting for the store thread, as of its last batch's start or end.")),
      store_calls_(
          registry.counter("tillgate_store_calls_total", "Store calls run by the store thread.")) {
  for (std::size_t i = 0; i < kPaymentOutcomes.size(); ++i) {
    payments_by_outcome_[i] = &payment_outcomes_.with({kPaymentOutcomes[i]});
  }
  registry
      .callback_counter("tillgate_store_thread_cpu_seconds_total",
                        "CPU time (user and system) of the store thread, as of its last batch.")
      .set_source([this] {
        return static_cast<double>(store_thread_cpu_ns_.load(std::memory_order_relaxed)) / 1e9;
      });
  webhook_results_[static_cast<std::size_t>(WebhookResult::delivered)] =
      &webhook_deliveries_.with({"delivered"});
  webhook_results_[static_cast<std::size_t>(WebhookResult::retry_scheduled)] =
      &webhook_deliveries_.with({"retry_scheduled"});
  webhook_results_[static_cast<std::size_t>(WebhookResult::failed)] =
      &webhook_deliveries_.with({"failed"});
  for (std::size_t i = 0; i < kPosActions.size(); ++i) {
    pos_frames_by_action_[i] = &pos_frames_.with({kPosActions[i]});
  }
  pos_frames_by_action_[kPosActions.size()] = &pos_frames_.with({kPosActionUnknown});
  pos_frames_by_action_[kPosActions.size() + 1] = &pos_frames_.with({kPosActionInvalid});
  register_process_metrics(registry);
}

void GatewayMetrics::request_answered(std::string_view route, std::string_view method, int status) {
  http_requests_.with({route, method, std::to_string(status)}).inc();
}

void GatewayMetrics::request_answered(std::string_view route, std::string_view method, int status,
                                      std::chrono::steady_clock::duration took) {
  request_answered(route, method, status);
  http_duration_.with({route}).observe(seconds_of(took));
}

void GatewayMetrics::payment_created() {
  payments_created_.inc();
}

void GatewayMetrics::payment_finished(std::string_view outcome) {
  for (std::size_t i = 0; i < kPaymentOutcomes.size(); ++i) {
    if (kPaymentOutcomes[i] == outcome) {
      payments_by_outcome_[i]->inc();
    }
  }
}

void GatewayMetrics::payment_finished(std::string_view outcome,
                                      std::chrono::milliseconds since_created) {
  payment_finished(outcome);
  payment_duration_.observe(seconds_of(since_created));
}

void GatewayMetrics::webhook_attempt(std::chrono::milliseconds took) {
  webhook_duration_.observe(seconds_of(took));
}

void GatewayMetrics::webhook_recorded(WebhookResult result) {
  webhook_results_[static_cast<std::size_t>(result)]->inc();
}

void GatewayMetrics::store_batch(std::size_t calls, std::chrono::nanoseconds commit_time) {
  store_calls_.inc(calls);
  store_batch_size_.observe(static_cast<double>(calls));
  store_commit_.observe(seconds_of(commit_time));
}

void GatewayMetrics::set_terminals_connected(std::function<double()> source) {
  terminals_connected_.set_source(std::move(source));
}

void GatewayMetrics::pos_frame_received(std::string_view action) {
  std::size_t index = kPosActions.size();  // unknown
  if (action == kPosActionInvalid) {
    index = kPosActions.size() + 1;
  }
  for (std::size_t i = 0; i < kPosActions.size(); ++i) {
    if (kPosActions[i] == action) {
      index = i;
    }
  }
  pos_frames_by_action_[index]->inc();
}

void GatewayMetrics::set_pos_clients_connected(std::function<double()> source) {
  pos_clients_connected_.set_source(std::move(source));
}

void GatewayMetrics::set_long_polls_waiting(std::function<double()> source) {
  long_polls_waiting_.set_source(std::move(source));
}

void GatewayMetrics::store_calls(std::size_t calls) {
  store_calls_.inc(calls);
}

void GatewayMetrics::store_thread_cpu(std::chrono::nanoseconds total) {
  store_thread_cpu_ns_.store(total.count(), std::memory_order_relaxed);
}

void GatewayMetrics::store_queue_depth(std::size_t depth) {
  store_queue_depth_.set(static_cast<double>(depth));
}

}  // namespace tillgate::metrics
