// The pure parts of `tillgate bench`: percentiles of latency samples, the
// --source-addresses list, and reading the gateway's /metrics text.
#include "sim/bench_stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tillgate::sim {
namespace {

TEST(NearestRankPercentile, PicksTheSmallestSampleCoveringThePercent) {
  std::vector<std::uint64_t> sorted(100);
  std::iota(sorted.begin(), sorted.end(), 1);  // 1..100
  EXPECT_EQ(nearest_rank_percentile(sorted, 50), 50u);
  EXPECT_EQ(nearest_rank_percentile(sorted, 90), 90u);
  EXPECT_EQ(nearest_rank_percentile(sorted, 99), 99u);
  EXPECT_EQ(nearest_rank_percentile(sorted, 99.9), 100u);  // rank ceil(99.9) = 100
  EXPECT_EQ(nearest_rank_percentile(sorted, 100), 100u);
  EXPECT_EQ(nearest_rank_percentile(sorted, 0), 1u);
  EXPECT_EQ(nearest_rank_percentile(sorted, 50.5), 51u);
}

TEST(NearestRankPercentile, SmallAndEmptySets) {
  EXPECT_EQ(nearest_rank_percentile({}, 50), 0u);
  EXPECT_EQ(nearest_rank_percentile({7}, 0), 7u);
  EXPECT_EQ(nearest_rank_percentile({7}, 99.9), 7u);
  // Four samples: p50 is the 2nd (rank 2), p75 the 3rd, p76 the 4th.
  const std::vector<std::uint64_t> four{10, 20, 30, 40};
  EXPECT_EQ(nearest_rank_percentile(four, 50), 20u);
  EXPECT_EQ(nearest_rank_percentile(four, 75), 30u);
  EXPECT_EQ(nearest_rank_percentile(four, 76), 40u);
  // Out-of-range percents are clamped.
  EXPECT_EQ(nearest_rank_percentile(four, -5), 10u);
  EXPECT_EQ(nearest_rank_percentile(four, 150), 40u);
}

TEST(NearestRankPercentile, ThousandSamplesP999IsTheLargestButOne) {
  std::vector<std::uint64_t> sorted(1000);
  std::iota(sorted.begin(), sorted.end(), 1);
  EXPECT_EQ(nearest_rank_percentile(sorted, 99.9), 999u);
  EXPECT_EQ(nearest_rank_percentile(sorted, 99), 990u);
}

TEST(LatencyRecorder, KeepsEverySampleUpToItsBound) {
  LatencyRecorder recorder(1000);
  for (std::uint64_t v = 1000; v >= 1; --v) {  // unsorted input
    recorder.record(v);
  }
  EXPECT_TRUE(recorder.exact());
  EXPECT_EQ(recorder.count(), 1000u);
  EXPECT_EQ(recorder.max(), 1000u);
  EXPECT_DOUBLE_EQ(recorder.mean(), 500.5);
  const auto p = recorder.percentiles({50, 90, 99, 99.9, 100});
  EXPECT_EQ(p, (std::vector<std::uint64_t>{500, 900, 990, 999, 1000}));
}

TEST(LatencyRecorder, PastItsBoundKeepsAUniformSampleAndTheExactMax) {
  LatencyRecorder recorder(1000, 42);
  for (std::uint64_t v = 1; v <= 100'000; ++v) {
    recorder.record(v);
  }
  EXPECT_FALSE(recorder.exact());
  EXPECT_EQ(recorder.count(), 100'000u);
  EXPECT_EQ(recorder.max(), 100'000u);  // exact, not sampled
  EXPECT_DOUBLE_EQ(recorder.mean(), 50'000.5);
  // A uniform reservoir of 1000 from 1..100000: its median is near 50000. With 1000
  // samples the standard error of the median is about 1,600; 10,000 is over 6 of them.
  const auto median = recorder.percentiles({50}).front();
  EXPECT_GT(median, 40'000u);
  EXPECT_LT(median, 60'000u);
}

TEST(LatencyRecorder, EmptyRecorderReportsZeros) {
  const LatencyRecorder recorder(10);
  EXPECT_EQ(recorder.count(), 0u);
  EXPECT_EQ(recorder.max(), 0u);
  EXPECT_EQ(recorder.mean(), 0.0);
  EXPECT_EQ(recorder.percentiles({50, 99}), (std::vector<std::uint64_t>{0, 0}));
}

TEST(SourceAddresses, RangesListsAndSingles) {
  std::string error;
  const auto range = parse_source_addresses("127.0.0.1-127.0.0.4", error);
  ASSERT_TRUE(range) << error;
  EXPECT_EQ(*range, (std::vector<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"}));

  const auto mixed = parse_source_addresses(" 10.0.0.1 ,127.0.0.9-127.0.0.10,::1", error);
  ASSERT_TRUE(mixed) << error;
  EXPECT_EQ(*mixed, (std::vector<std::string>{"10.0.0.1", "127.0.0.9", "127.0.0.10", "::1"}));

  const auto single = parse_source_addresses("127.0.0.1", error);
  ASSERT_TRUE(single) << error;
  EXPECT_EQ(*single, std::vector<std::string>{"127.0.0.1"});
}

TEST(SourceAddresses, RangeCarriesAcrossOctets) {
  std::string error;
  const auto range = parse_source_addresses("127.0.0.254-127.0.1.1", error);
  ASSERT_TRUE(range) << error;
  EXPECT_EQ(*range,
            (std::vector<std::string>{"127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1"}));
  const auto fifty = parse_source_addresses("127.0.0.1-127.0.0.50", error);
  ASSERT_TRUE(fifty) << error;
  EXPECT_EQ(fifty->size(), 50u);
  EXPECT_EQ(fifty->back(), "127.0.0.50");
}

TEST(SourceAddresses, RefusesWhatIsNotAList) {
  std::string error;
  EXPECT_FALSE(parse_source_addresses("", error));
  EXPECT_FALSE(parse_source_addresses("localhost", error));
  EXPECT_NE(error.find("localhost"), std::string::npos) << error;
  EXPECT_FALSE(parse_source_addresses("127.0.0.5-127.0.0.1", error));
  EXPECT_NE(error.find("ends before it starts"), std::string::npos) << error;
  EXPECT_FALSE(parse_source_addresses("127.0.0.1-::1", error));
  EXPECT_FALSE(parse_source_addresses("127.0.0.1,,127.0.0.2", error));
  EXPECT_FALSE(parse_source_addresses("127.0.0.256", error));
  EXPECT_FALSE(parse_source_addresses("10.0.0.0-10.1.0.0", error, 1000));
  EXPECT_NE(error.find("more than 1000"), std::string::npos) << error;
}

constexpr std::string_view kMetrics = R"(# HELP tillgate_http_requests_total HTTP requests answered.
# TYPE tillgate_http_requests_total counter
tillgate_http_requests_total{route="/v1/terminals/{terminalId}/payments",method="POST",status="200"} 1500
tillgate_http_requests_total{route="/admin/v1/merchants",method="POST",status="201"} 1
tillgate_http_requests_total{route="/v1/terminals/{terminalId}/payments",method="POST",status="409"} 2
tillgate_payments_total{outcome="COMPLETED"} 1490
tillgate_payments_total{outcome="FAILED"} 10
# TYPE tillgate_store_batch_size histogram
tillgate_store_batch_size_bucket{le="1"} 100
tillgate_store_batch_size_bucket{le="+Inf"} 400
tillgate_store_batch_size_sum 3200
tillgate_store_batch_size_count 400
tillgate_terminals_connected 64
weird_label{path="a\"b\\c\nd",x="1"} 2.5e3 1700000000000
process_resident_memory_bytes 4.5e+07
not a sample line
tillgate_store_queue_depth NaN
)";

TEST(MetricsText, ReadsSamplesWithTheirLabels) {
  const auto samples = parse_metrics_text(kMetrics);
  ASSERT_EQ(samples.size(), 13u);
  EXPECT_EQ(samples[0].name, "tillgate_http_requests_total");
  EXPECT_EQ(samples[0].labels.at("route"), "/v1/terminals/{terminalId}/payments");
  EXPECT_EQ(samples[0].labels.at("status"), "200");
  EXPECT_EQ(samples[0].value, 1500);
  const auto& weird = samples[10];
  EXPECT_EQ(weird.name, "weird_label");
  EXPECT_EQ(weird.labels.at("path"), "a\"b\\c\nd");
  EXPECT_EQ(weird.labels.at("x"), "1");
  EXPECT_EQ(weird.value, 2500);  // the trailing timestamp is not the value
  EXPECT_EQ(samples[11].value, 45'000'000);
  EXPECT_TRUE(std::isnan(samples[12].value));
}

TEST(MetricsText, SumsAndGroups) {
  const auto samples = parse_metrics_text(kMetrics);
  EXPECT_EQ(metric_sum(samples, "tillgate_http_requests_total"), 1503);
  EXPECT_EQ(metric_sum(samples, "tillgate_http_requests_total", {{"status", "200"}}), 1500);
  EXPECT_EQ(metric_sum(samples, "tillgate_http_requests_total",
                       {{"method", "POST"}, {"route", "/v1/terminals/{terminalId}/payments"}}),
            1502);
  EXPECT_FALSE(metric_sum(samples, "tillgate_http_requests_total", {{"status", "500"}}));
  EXPECT_FALSE(metric_sum(samples, "tillgate_long_polls_waiting"));  // absent: n/a, not 0
  EXPECT_EQ(metric_sum(samples, "tillgate_store_batch_size_sum"), 3200);
  EXPECT_EQ(metric_sum(samples, "tillgate_terminals_connected"), 64);
  const auto outcomes = metric_by_label(samples, "tillgate_payments_total", "outcome");
  EXPECT_EQ(outcomes, (std::map<std::string, double>{{"COMPLETED", 1490}, {"FAILED", 10}}));
}

TEST(MetricsText, NothingFromTextThatIsNotPrometheus) {
  EXPECT_TRUE(parse_metrics_text("").empty());
  EXPECT_TRUE(parse_metrics_text("<html>404 Not Found</html>\n").empty());
  EXPECT_TRUE(parse_metrics_text("{\"code\":\"NOT_FOUND\"}").empty());
  EXPECT_TRUE(parse_metrics_text("name{unterminated=\"x} 1\n").empty());
  EXPECT_TRUE(parse_metrics_text("name 12abc\n").empty());
}

}  // namespace
}  // namespace tillgate::sim
