#pragma once
// What the store thread reports about its batches (group commit), as metrics:
// tillgate_store_batch_size, tillgate_store_commit_seconds, tillgate_store_calls_total,
// tillgate_store_queue_depth and tillgate_store_thread_cpu_seconds_total (the thread's own
// CPU clock, read at the end of each batch). Called on the store thread only (AsyncStore's
// contract); the metrics are atomics, read by the network thread at scrape time.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <ctime>

#include "metrics/gateway_metrics.hpp"
#include "store/async_store.hpp"

namespace tillgate::app {

class StoreMetrics final : public store::StoreBatchObserver {
 public:
  explicit StoreMetrics(metrics::GatewayMetrics& metrics) : metrics_(metrics) {}

  void queue_depth(std::size_t depth) override {
    depth_ = depth;
    metrics_.store_queue_depth(depth);
  }

  void batch_committed(std::size_t calls, std::chrono::nanoseconds commit_time,
                       std::chrono::nanoseconds /*batch_time*/) override {
    metrics_.store_batch(calls, commit_time);
    batch_ended(calls);
  }

  void batch_failed(std::size_t calls) override {
    metrics_.store_calls(calls);
    batch_ended(calls);
  }

 private:
  // What waited at the batch's start and was not in it: still waiting (a lower bound, as
  // calls that arrived meanwhile are not known until the next batch starts).
  void batch_ended(std::size_t calls) {
    depth_ -= std::min(calls, depth_);
    metrics_.store_queue_depth(depth_);
    timespec cpu{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) {
      metrics_.store_thread_cpu(std::chrono::seconds{cpu.tv_sec} +
                                std::chrono::nanoseconds{cpu.tv_nsec});
    }
  }

  metrics::GatewayMetrics& metrics_;
  std::size_t depth_ = 0;  // the store thread's only
};

}  // namespace tillgate::app
