#pragma once
// The pure parts of `tillgate bench` (src/sim/load_generator.cpp): latency samples and
// their percentiles, the --source-addresses list, and the Prometheus text of GET /metrics.
// No I/O, so each is unit-tested on its own (tests/unit/service/bench_stats_test.cpp).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tillgate::sim {

// Nearest-rank percentile of `sorted` (ascending): the smallest sample such that at least
// `percent` % of the samples are at or below it. 0 for no samples; percent is clamped to
// [0, 100] (0 gives the minimum, 100 the maximum).
[[nodiscard]] std::uint64_t nearest_rank_percentile(const std::vector<std::uint64_t>& sorted,
                                                    double percent);

// Latency samples in microseconds. Every sample is kept, up to `max_samples` (a bound on
// memory: 8 bytes a sample); past it, a uniform reservoir of max_samples is kept instead
// (Algorithm R) and exact() turns false. count(), max() and mean() always cover every
// sample.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(std::size_t max_samples = 10'000'000, std::uint64_t seed = 1);

  void record(std::uint64_t micros);

  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t max() const { return max_; }
  [[nodiscard]] double mean() const;
  // True while every sample is kept: the percentiles are then exact.
  [[nodiscard]] bool exact() const { return count_ <= max_samples_; }
  // Percentiles of the kept samples (sorted once per call), nearest rank.
  [[nodiscard]] std::vector<std::uint64_t> percentiles(const std::vector<double>& percents) const;

 private:
  std::size_t max_samples_;
  std::vector<std::uint64_t> samples_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
  std::mt19937_64 random_;
};

// "127.0.0.1-127.0.0.50", "127.0.0.1,127.0.0.2", "::1" or a mix ("127.0.0.1-127.0.0.3,::1"):
// the addresses in order. A range is IPv4 only, its end not below its start. At most
// `max_addresses` in all. nullopt with `error` set when the text is not such a list.
[[nodiscard]] std::optional<std::vector<std::string>> parse_source_addresses(
    std::string_view text, std::string& error, std::size_t max_addresses = 65'536);

// One sample of the Prometheus text exposition format: `name{label="value",...} value`.
struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Every sample line of a /metrics answer; comments (# HELP, # TYPE), blank lines and lines
// that are not samples are skipped. Label values are unescaped (\\, \", \n). A trailing
// timestamp is ignored. Values NaN, +Inf and -Inf are read as such.
[[nodiscard]] std::vector<MetricSample> parse_metrics_text(std::string_view text);

// The sum of the values of every sample named `name` whose labels include all of
// `labels`; nullopt when there is no such sample.
[[nodiscard]] std::optional<double> metric_sum(
    const std::vector<MetricSample>& samples, std::string_view name,
    const std::map<std::string, std::string>& labels = {});

// The values of `name` summed per value of its label `label` (e.g. payments per outcome).
[[nodiscard]] std::map<std::string, double> metric_by_label(
    const std::vector<MetricSample>& samples, std::string_view name, std::string_view label);

}  // namespace tillgate::sim
