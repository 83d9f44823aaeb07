#pragma once
// Prometheus metrics: counters, gauges and histograms, families of them keyed by a bounded
// set of label values, and the Registry that renders them in the text exposition format
// 0.0.4 (GET /metrics). No Asio, no I/O.
//
// Updates are relaxed atomics, since the network thread and the store thread update the
// same metrics; a scrape reads values that may be a few updates old, never torn ones. A
// family looks its series up under a mutex (uncontended in practice); code on a hot path
// can keep the reference it got, which stays valid as long as the Registry.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tillgate::metrics {

// The Content-Type of the text exposition format this Registry renders.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// The label value every label of a family's overflow series has (see Family).
inline constexpr std::string_view kOverflowLabelValue = "overflow";

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  [[nodiscard]] double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A gauge read at scrape time from `source`, on the thread that renders (the network
// thread for GET /metrics): a count that something already keeps needs no second copy.
// Without a source it reads 0.
class CallbackGauge {
 public:
  void set_source(std::function<double()> source);
  [[nodiscard]] double value() const;

 private:
  mutable std::mutex mutex_;
  std::function<double()> source_;
};

// Fixed upper bounds; an observation v lands in the first bucket whose bound is >= v (le),
// or in the implicit +Inf bucket. The count is the sum of the buckets, so the rendered
// +Inf bucket always equals _count. NaN observations are ignored.
class Histogram {
 public:
  // `bounds` must be finite and strictly increasing; throws std::invalid_argument.
  explicit Histogram(std::vector<double> bounds);

  void observe(double value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0.0;
    std::uint64_t count = 0;
  };
  [[nodiscard]] Snapshot snapshot() const;
  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (the last: +Inf)
  std::atomic<double> sum_{0.0};
};

// start, start*factor, ... (`count` bounds): exponential_buckets(1, 2, 11) is 1, 2, 4, ..., 1024.
[[nodiscard]] std::vector<double> exponential_buckets(double start, double factor, int count);

// The metrics of one name, one per distinct set of label values. The number of series is
// bounded: past `max_series` distinct sets, every new set is counted in the one overflow
// series whose every label value is "overflow", so totals stay right while the set cannot
// grow without bound. Callers should still only use values from a fixed set (route
// templates, status codes, outcomes), never ids.
template <class Metric>
class Family {
 public:
  using Factory = std::function<std::unique_ptr<Metric>()>;
  Family(std::vector<std::string> label_names, std::size_t max_series, Factory factory)
      : label_names_(std::move(label_names)),
        max_series_(max_series),
        factory_(std::move(factory)) {}

  // The series for these label values, one per label name and in their order (throws
  // std::invalid_argument for another count). Created at zero on first use.
  Metric& with(std::initializer_list<std::string_view> values) {
    return with(std::vector<std::string>(values.begin(), values.end()));
  }
  Metric& with(std::vector<std::string> values);

  [[nodiscard]] const std::vector<std::string>& label_names() const { return label_names_; }
  [[nodiscard]] std::size_t size() const;
  // Calls `visit(values, metric)` for every series, in order of the label values.
  void for_each(
      const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const;

 private:
  std::vector<std::string> label_names_;
  std::size_t max_series_;
  Factory factory_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

// Owns every metric and renders them. One per Gateway (tests make their own); metric and
// label names are checked when registered (std::invalid_argument), as is a name used twice.
class Registry {
 public:
  // `max_series` bounds each family (TILLGATE_MAX_METRIC_SERIES; no default here: the
  // app's is app::Limits::max_metric_series).
  explicit Registry(std::size_t max_series);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(std::string name, std::string help);
  Family<Counter>& counter_family(std::string name, std::string help,
                                  std::vector<std::string> label_names);
  Gauge& gauge(std::string name, std::string help);
  Family<Gauge>& gauge_family(std::string name, std::string help,
                              std::vector<std::string> label_names);
  CallbackGauge& callback_gauge(std::string name, std::string help);
  // The same, typed a counter: for a source that only grows (process_cpu_seconds_total).
  CallbackGauge& callback_counter(std::string name, std::string help);
  Histogram& histogram(std::string name, std::string help, std::vector<double> bounds);
  Family<Histogram>& histogram_family(std::string name, std::string help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> bounds);

  // Every metric in order of registration, series in order of their label values:
  // # HELP, # TYPE, then the samples; histograms as cumulative _bucket{le=...}, _sum, _count.
  [[nodiscard]] std::string render() const;

 private:
  struct Entry;
  Entry& add(std::string name, std::string help, std::string_view type,
             const std::vector<std::string>& label_names);

  std::size_t max_series_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

// Text format helpers, exposed for tests.
[[nodiscard]] bool is_valid_metric_name(std::string_view name);
[[nodiscard]] bool is_valid_label_name(std::string_view name);
// A label value between double quotes: \ " and newline escaped.
[[nodiscard]] std::string escape_label_value(std::string_view value);
// HELP text: \ and newline escaped.
[[nodiscard]] std::string escape_help(std::string_view text);
// A sample value: shortest round-trip decimal, +Inf, -Inf or NaN.
[[nodiscard]] std::string format_value(double value);

// ---- Family --------------------------------------------------------------------------------

template <class Metric>
Metric& Family<Metric>::with(std::vector<std::string> values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric family with " + std::to_string(label_names_.size()) +
                                " labels given " + std::to_string(values.size()) + " values");
  }
  const std::lock_guard lock(mutex_);
  if (const auto it = series_.find(values); it != series_.end()) {
    return *it->second;
  }
  // The overflow series takes the last place, so it is there whenever the family is full.
  if (series_.size() + 1 >= max_series_ && !label_names_.empty()) {
    values.assign(label_names_.size(), std::string(kOverflowLabelValue));
    if (const auto it = series_.find(values); it != series_.end()) {
      return *it->second;
    }
  }
  auto& slot = series_[std::move(values)];
  slot = factory_();
  return *slot;
}

template <class Metric>
std::size_t Family<Metric>::size() const {
  const std::lock_guard lock(mutex_);
  return series_.size();
}

template <class Metric>
void Family<Metric>::for_each(
    const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const {
  const std::lock_guard lock(mutex_);
  for (const auto& [values, metric] : series_) {
    visit(values, *metric);
  }
}

}  // namespace tillgate::metrics
