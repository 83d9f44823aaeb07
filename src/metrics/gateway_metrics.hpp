#pragma once
// Every metric of the gateway, by its exact name (docs/metrics.md lists them; `tillgate
// bench` reads them), registered on one Registry. The components get a pointer to this
// (none: they record nothing) and call the method of what happened; the values kept
// elsewhere (terminals connected, long-polls waiting) are read at scrape time through the
// sources the gateway sets.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "metrics/metrics.hpp"

namespace tillgate::metrics {

// What became of a webhook delivery attempt, as the dispatcher records it.
enum class WebhookResult { delivered, retry_scheduled, failed };

// The route label of a request refused before it was read far enough to route (413, 431,
// 400 from the HTTP server), and of a request that matched no route.
inline constexpr std::string_view kRouteRefused = "refused";
inline constexpr std::string_view kRouteUnmatched = "unmatched";
// The method label of a method outside the usual ones, or not known (a refused request).
inline constexpr std::string_view kMethodUnknown = "UNKNOWN";

// The outcome label values of tillgate_payments_total: the final statuses.
inline constexpr std::array<std::string_view, 5> kPaymentOutcomes = {
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "VOIDED"};

// The action label values of tillgate_pos_frames_total: the POS API's actions, then every
// other action under kPosActionUnknown and a frame with no action (not JSON, not an object,
// no "action" string) under kPosActionInvalid. Nothing a client sends adds a series.
inline constexpr std::array<std::string_view, 6> kPosActions = {
    "ping", "getTerminals", "payment", "cancelPayment", "getTransaction", "resume"};
inline constexpr std::string_view kPosActionUnknown = "unknown";
inline constexpr std::string_view kPosActionInvalid = "invalid";

class GatewayMetrics {
 public:
  // Registers every metric, the process gauges included, on `registry`.
  explicit GatewayMetrics(Registry& registry);

  [[nodiscard]] Registry& registry() { return registry_; }

  // HTTP: one answered request. `route` is a route template (never a raw path), `method`
  // one of the usual methods or UNKNOWN; no duration for a refusal that was not timed.
  void request_answered(std::string_view route, std::string_view method, int status);
  void request_answered(std::string_view route, std::string_view method, int status,
                        std::chrono::steady_clock::duration took);

  // Payments: a transaction was inserted; a transaction changed to a final status.
  // `since_created` is observed for the first final status only (not the VOIDED that
  // follows a TIMEOUT). An outcome outside kPaymentOutcomes is not counted.
  void payment_created();
  void payment_finished(std::string_view outcome);
  void payment_finished(std::string_view outcome, std::chrono::milliseconds since_created);

  // Webhooks: an attempt ended (its duration), and its outcome was recorded in the store.
  void webhook_attempt(std::chrono::milliseconds took);
  void webhook_recorded(WebhookResult result);

  // Store (the store thread): one commit of `calls` store calls that took `commit_time`;
  // the calls waiting for the store thread (set when a batch is taken and when it ends).
  void store_batch(std::size_t calls, std::chrono::nanoseconds commit_time);
  // Calls of a batch that failed as a whole: run, but neither committed nor timed.
  void store_calls(std::size_t calls);
  void store_queue_depth(std::size_t depth);
  // The store thread's own CPU time so far (user and system), reported by that thread.
  void store_thread_cpu(std::chrono::nanoseconds total);

  // POS WebSocket: one text frame received, by its action (any text: mapped onto
  // kPosActions, kPosActionUnknown or kPosActionInvalid).
  void pos_frame_received(std::string_view action);

  // Scrape-time sources, read on the thread that renders (the network thread).
  void set_terminals_connected(std::function<double()> source);
  void set_pos_clients_connected(std::function<double()> source);
  void set_long_polls_waiting(std::function<double()> source);

  // Histogram bounds, in seconds unless said otherwise.
  static std::vector<double> http_duration_buckets();
  static std::vector<double> payment_duration_buckets();
  static std::vector<double> webhook_duration_buckets();
  static std::vector<double> store_batch_buckets();  // calls: 1, 2, 4, ..., 1024
  static std::vector<double> store_commit_buckets();

 private:
  Registry& registry_;
  Family<Counter>& http_requests_;
  Family<Histogram>& http_duration_;
  Counter& payments_created_;
  Family<Counter>& payment_outcomes_;
  std::array<Counter*, kPaymentOutcomes.size()> payments_by_outcome_{};
  Histogram& payment_duration_;
  CallbackGauge& terminals_connected_;
  CallbackGauge& long_polls_waiting_;
  CallbackGauge& pos_clients_connected_;
  Family<Counter>& pos_frames_;
  std::array<Counter*, kPosActions.size() + 2> pos_frames_by_action_{};  // + unknown, invalid
  Family<Counter>& webhook_deliveries_;
  std::array<Counter*, 3> webhook_results_{};
  Histogram& webhook_duration_;
  Histogram& store_batch_size_;
  Histogram& store_commit_;
  Gauge& store_queue_depth_;
  Counter& store_calls_;
  std::atomic<std::int64_t> store_thread_cpu_ns_{0};
};

}  // namespace tillgate::metrics
