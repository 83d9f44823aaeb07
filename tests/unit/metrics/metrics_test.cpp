// src/metrics: histogram bucketing, the text exposition format, bounded label sets, the
// gateway's catalogue of metric names, and the /proc parsers. Pure logic, no timing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "../../support/exposition.hpp"
#include "metrics/gateway_metrics.hpp"
#include "metrics/metrics.hpp"
#include "metrics/process.hpp"

namespace tillgate::metrics {
namespace {

using ::testing::HasSubstr;

// The series bound of these tests (the gateway's is app::Limits::max_metric_series).
constexpr std::size_t kMaxSeries = 2000;
using testing_support::parse_exposition;

// ---- histogram ---------------------------------------------------------------------------

TEST(Histogram, ObservationsLandInTheFirstBucketWhoseBoundIsAtLeastTheValue) {
  Histogram histogram({1, 2, 4});
  for (const double v : {0.5, 1.0, 1.5, 2.0, 4.0, 4.0001, 100.0, -3.0}) {
    histogram.observe(v);
  }
  const auto snapshot = histogram.snapshot();
  // le=1: 0.5, 1, -3; le=2: + 1.5, 2; le=4: + 4; +Inf: + 4.0001, 100.
  EXPECT_THAT(snapshot.cumulative, ::testing::ElementsAre(3u, 5u, 6u, 8u));
  EXPECT_EQ(snapshot.count, 8u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 0.5 + 1 + 1.5 + 2 + 4 + 4.0001 + 100 - 3);
}

TEST(Histogram, IgnoresNaNAndCountsInfinityInTheLastBucket) {
  Histogram histogram({1});
  histogram.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(histogram.snapshot().count, 0u);
  histogram.observe(std::numeric_limits<double>::infinity());
  EXPECT_THAT(histogram.snapshot().cumulative, ::testing::ElementsAre(0u, 1u));
}

TEST(Histogram, RefusesBoundsThatAreNotStrictlyIncreasingAndFinite) {
  EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
  EXPECT_NO_THROW(Histogram({}));
}

TEST(Histogram, ExponentialBuckets) {
  EXPECT_THAT(exponential_buckets(1, 2, 11),
              ::testing::ElementsAre(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024));
  EXPECT_THROW(exponential_buckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(exponential_buckets(1, 1, 3), std::invalid_argument);
}

// Two threads (as the network and store threads do) lose no update: the counts are exact.
TEST(Histogram, ConcurrentUpdatesAreAllCounted) {
  Registry registry(kMaxSeries);
  auto& histogram = registry.histogram("h", "h", {1, 10});
  auto& counter = registry.counter("c_total", "c");
  auto& gauge = registry.gauge("g", "g");
  constexpr int kEach = 50'000;
  const auto work = [&](double value) {
    for (int i = 0; i < kEach; ++i) {
      histogram.observe(value);
      counter.inc();
      gauge.add(1);
    }
  };
  std::thread a(work, 0.5);
  std::thread b(work, 5.0);
  a.join();
  b.join();
  const auto snapshot = histogram.snapshot();
  EXPECT_THAT(snapshot.cumulative, ::testing::ElementsAre(kEach, 2 * kEach, 2 * kEach));
  EXPECT_DOUBLE_EQ(snapshot.sum, kEach * 0.5 + kEach * 5.0);
  EXPECT_EQ(counter.value(), 2u * kEach);
  EXPECT_DOUBLE_EQ(gauge.value(), 2.0 * kEach);
}

// ---- rendering ---------------------------------------------------------------------------

TEST(Render, ExactTextOfEachKind) {
  Registry registry(kMaxSeries);
  auto& requests =
      registry.counter_family("app_requests_total", "Requests by route.", {"route", "status"});
  requests.with({"/b", "200"}).inc(3);
  requests.with({"/a/{id}", "404"}).inc();
  registry.gauge("app_temperature", "A gauge.").set(-1.5);
  registry.callback_gauge("app_live", "Read at scrape time.").set_source([] { return 7.0; });
  auto& latency = registry.histogram_family("app_seconds", "Latency.", {"route"}, {0.0005, 1});
  latency.with({"/b"}).observe(0.000244140625);  // 2^-12: sums exactly
  latency.with({"/b"}).observe(0.5);
  latency.with({"/b"}).observe(2);
  registry.counter("app_empty_total", "Never incremented.");
  EXPECT_EQ(registry.render(),
            "# HELP app_requests_total Requests by route.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{route=\"/a/{id}\",status=\"404\"} 1\n"
            "app_requests_total{route=\"/b\",status=\"200\"} 3\n"
            "# HELP app_temperature A gauge.\n"
            "# TYPE app_temperature gauge\n"
            "app_temperature -1.5\n"
            "# HELP app_live Read at scrape time.\n"
            "# TYPE app_live gauge\n"
            "app_live 7\n"
            "# HELP app_seconds Latency.\n"
            "# TYPE app_seconds histogram\n"
            "app_seconds_bucket{route=\"/b\",le=\"0.0005\"} 1\n"
            "app_seconds_bucket{route=\"/b\",le=\"1\"} 2\n"
            "app_seconds_bucket{route=\"/b\",le=\"+Inf\"} 3\n"
            "app_seconds_sum{route=\"/b\"} 2.500244140625\n"
            "app_seconds_count{route=\"/b\"} 3\n"
            "# HELP app_empty_total Never incremented.\n"
            "# TYPE app_empty_total counter\n"
            "app_empty_total 0\n");
}

TEST(Render, UnlabelledHistogramHasOnlyLe) {
  Registry registry(kMaxSeries);
  registry.histogram("h_seconds", "h", {1}).observe(0.25);
  EXPECT_THAT(registry.render(), HasSubstr("h_seconds_bucket{le=\"1\"} 1\n"
                                           "h_seconds_bucket{le=\"+Inf\"} 1\n"
                                           "h_seconds_sum 0.25\n"
                                           "h_seconds_count 1\n"));
}

TEST(Render, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_help("line\\one\nline \"two\""), "line\\\\one\\nline \"two\"");
  Registry registry(kMaxSeries);
  registry.counter_family("x_total", "back\\slash\nnewline", {"v"}).with({"q\"uote\\\n"}).inc();
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("# HELP x_total back\\\\slash\\nnewline\n"));
  EXPECT_THAT(text, HasSubstr("x_total{v=\"q\\\"uote\\\\\\n\"} 1\n"));
  // And an independent reader gets the original value back.
  const auto parsed = parse_exposition(text);
  EXPECT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors);
  EXPECT_EQ(parsed.value("x_total", {{"v", "q\"uote\\\n"}}), 1.0);
}

TEST(Render, FormatsValues) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(1024), "1024");
  EXPECT_EQ(format_value(-2.5), "-2.5");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(0.00001), "0.00001");
  EXPECT_EQ(format_value(1e-7), "1e-07");
  EXPECT_EQ(format_value(123456789.25), "123456789.25");
  EXPECT_EQ(format_value(1e21), "1e+21");
}

TEST(Render, CallbackGaugeWithoutSourceReadsZero) {
  Registry registry(kMaxSeries);
  auto& gauge = registry.callback_gauge("g", "g");
  EXPECT_EQ(gauge.value(), 0.0);
  gauge.set_source([] { return 3.0; });
  EXPECT_EQ(gauge.value(), 3.0);
}

// ---- registration and bounded label sets ------------------------------------------------

TEST(Registry, ChecksNamesAndRefusesAMetricTwice) {
  Registry registry(kMaxSeries);
  EXPECT_THROW(registry.counter("1abc", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("a-b", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("", "h"), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("ns:sub_total", "h"));
  EXPECT_THROW(registry.counter("ns:sub_total", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter_family("a_total", "h", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.counter_family("b_total", "h", {"has:colon"}), std::invalid_argument);
  EXPECT_THROW(registry.counter_family("c_total", "h", {"x", "x"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram_family("d_seconds", "h", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("e_seconds", "h", {2, 1}), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter_family("le_total", "h", {"le"}));  // only histograms reserve it
  EXPECT_TRUE(is_valid_metric_name("tillgate_http_requests_total"));
  EXPECT_FALSE(is_valid_label_name("a:b"));
}

TEST(Registry, WrongNumberOfLabelValuesIsRefused) {
  Registry registry(kMaxSeries);
  auto& family = registry.counter_family("r_total", "h", {"a", "b"});
  EXPECT_THROW(family.with({"only one"}), std::invalid_argument);
  EXPECT_THROW(family.with({"1", "2", "3"}), std::invalid_argument);
}

TEST(Registry, SeriesPastTheBoundShareTheOverflowSeries) {
  Registry registry(3);
  auto& family = registry.counter_family("f_total", "h", {"path"});
  family.with({"/a"}).inc();
  family.with({"/b"}).inc();
  family.with({"/c"}).inc();  // the third series would fill the family: overflow
  family.with({"/d"}).inc(2);
  family.with({"/a"}).inc();  // an existing series keeps counting
  EXPECT_EQ(family.size(), 3u);
  const auto parsed = parse_exposition(registry.render());
  EXPECT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors);
  EXPECT_EQ(parsed.value("f_total", {{"path", "/a"}}), 2.0);
  EXPECT_EQ(parsed.value("f_total", {{"path", "/b"}}), 1.0);
  EXPECT_EQ(parsed.value("f_total", {{"path", "overflow"}}), 3.0);
  EXPECT_EQ(parsed.value("f_total", {{"path", "/c"}}), std::nullopt);
}

TEST(Registry, SameLabelValuesGiveTheSameSeries) {
  Registry registry(kMaxSeries);
  auto& family = registry.histogram_family("s_seconds", "h", {"a"}, {1});
  EXPECT_EQ(&family.with({"x"}), &family.with({"x"}));
  EXPECT_NE(&family.with({"x"}), &family.with({"y"}));
}

// ---- the reader used by the tests rejects what a scraper would --------------------------

TEST(ExpositionReader, RejectsMalformedText) {
  const std::vector<std::string> wrong = {
      "# TYPE a counter\na{x=\"1\" 1\n",         // unclosed labels
      "# TYPE a counter\na{x=1} 1\n",            // unquoted value
      "# TYPE a counter\na 1x\n",                // bad number
      "# TYPE a counter\na{x=\"\\t\"} 1\n",      // invalid escape
      "# TYPE a counter\nb 1\n",                 // sample outside its family
      "# TYPE a counter\na 1\na 2\n",            // series twice
      "# TYPE a counter\na 1\n# HELP a late\n",  // HELP after the samples
      "# TYPE a counter\na 1",                   // no final newline
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",  // no +Inf
      "# TYPE a bogus\na 1\n",
  };
  for (const auto& text : wrong) {
    EXPECT_FALSE(parse_exposition(text).errors.empty()) << text;
  }
  EXPECT_TRUE(parse_exposition("# HELP a h\n# TYPE a counter\na{x=\"1\"} 1\n").errors.empty());
}

// ---- the gateway's metrics ---------------------------------------------------------------

TEST(GatewayMetrics, RegistersEveryNameTheBenchReads) {
  Registry registry(kMaxSeries);
  GatewayMetrics metrics(registry);
  const auto parsed = parse_exposition(registry.render());
  EXPECT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"tillgate_http_requests_total", "counter"},
      {"tillgate_http_request_duration_seconds", "histogram"},
      {"tillgate_payments_total", "counter"},
      {"tillgate_payments_created_total", "counter"},
      {"tillgate_payment_duration_seconds", "histogram"},
      {"tillgate_terminals_connected", "gauge"},
      {"tillgate_long_polls_waiting", "gauge"},
      {"tillgate_pos_clients_connected", "gauge"},
      {"tillgate_pos_frames_total", "counter"},
      {"tillgate_webhook_deliveries_total", "counter"},
      {"tillgate_webhook_attempt_duration_seconds", "histogram"},
      {"tillgate_store_batch_size", "histogram"},
      {"tillgate_store_commit_seconds", "histogram"},
      {"tillgate_store_queue_depth", "gauge"},
      {"tillgate_store_calls_total", "counter"},
      {"tillgate_store_thread_cpu_seconds_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
      {"tillgate_process_peak_resident_memory_bytes", "gauge"},
      {"process_open_fds", "gauge"},
      {"process_start_time_seconds", "gauge"},
      {"process_cpu_seconds_total", "counter"},
  };
  for (const auto& [name, type] : expected) {
    const auto* family = parsed.family(name);
    ASSERT_NE(family, nullptr) << name;
    EXPECT_EQ(family->type, type) << name;
    EXPECT_FALSE(family->help.empty()) << name;
  }
  EXPECT_EQ(parsed.families.size(), expected.size());
  // Every outcome and webhook result is there at zero before anything happens.
  for (const auto outcome : kPaymentOutcomes) {
    EXPECT_EQ(parsed.value("tillgate_payments_total", {{"outcome", std::string(outcome)}}), 0.0);
  }
  for (const auto* result : {"delivered", "retry_scheduled", "failed"}) {
    EXPECT_EQ(parsed.value("tillgate_webhook_deliveries_total", {{"result", result}}), 0.0);
  }
  // The process gauges read /proc: a running test has memory, descriptors and a start.
  EXPECT_GT(parsed.value("process_resident_memory_bytes").value_or(0), 0);
  EXPECT_GE(parsed.value("tillgate_process_peak_resident_memory_bytes").value_or(0),
            parsed.value("process_resident_memory_bytes").value_or(1));
  EXPECT_GE(parsed.value("process_open_fds").value_or(0), 3);
  EXPECT_GT(parsed.value("process_start_time_seconds").value_or(0), 1.6e9);
  EXPECT_GT(parsed.value("process_cpu_seconds_total").value_or(0), 0);
  // No batch yet: the store thread has reported no CPU.
  EXPECT_EQ(parsed.value("tillgate_store_thread_cpu_seconds_total"), 0.0);
}

// Each POS frame counts under its action; whatever else a client sends as an action counts
// as `unknown` (or `invalid` for no action), so no client adds a series.
TEST(GatewayMetrics, PosFramesCountUnderAFixedSetOfActions) {
  Registry registry(kMaxSeries);
  GatewayMetrics metrics(registry);
  metrics.pos_frame_received("payment");
  metrics.pos_frame_received("resume");
  metrics.pos_frame_received(kPosActionInvalid);
  for (int i = 0; i < 100; ++i) {
    metrics.pos_frame_received("made-up-" + std::to_string(i));
  }
  metrics.pos_frame_received("Payment");  // actions are case-sensitive: unknown
  const auto parsed = parse_exposition(registry.render());
  EXPECT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors);
  const auto count = [&](std::string_view action) {
    return parsed.value("tillgate_pos_frames_total", {{"action", std::string(action)}});
  };
  EXPECT_EQ(count("payment"), 1.0);
  EXPECT_EQ(count("resume"), 1.0);
  EXPECT_EQ(count("invalid"), 1.0);
  EXPECT_EQ(count("unknown"), 101.0);
  EXPECT_EQ(count("ping"), 0.0);
  const auto* family = parsed.family("tillgate_pos_frames_total");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->samples.size(), kPosActions.size() + 2);
  metrics.set_pos_clients_connected([] { return 3.0; });
  EXPECT_EQ(parse_exposition(registry.render()).value("tillgate_pos_clients_connected"), 3.0);
}

TEST(GatewayMetrics, BucketsAsSpecified) {
  const auto http = GatewayMetrics::http_duration_buckets();
  EXPECT_EQ(http.front(), 0.0005);
  EXPECT_EQ(http.back(), 120.0);
  EXPECT_THAT(GatewayMetrics::store_batch_buckets(),
              ::testing::ElementsAre(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024));
}

TEST(GatewayMetrics, CountsWhatTheComponentsReport) {
  Registry registry(kMaxSeries);
  GatewayMetrics metrics(registry);
  using std::chrono::milliseconds;
  metrics.request_answered("/v1/terminals/{terminalId}/payments", "POST", 200, milliseconds(1500));
  metrics.request_answered("/v1/terminals/{terminalId}/payments", "POST", 401, milliseconds(2));
  metrics.request_answered(kRouteRefused, kMethodUnknown, 413);
  metrics.payment_created();
  metrics.payment_created();
  metrics.payment_finished("COMPLETED", milliseconds(3000));
  metrics.payment_finished("TIMEOUT", milliseconds(150'000));
  metrics.payment_finished("VOIDED");   // after the TIMEOUT: not timed again
  metrics.payment_finished("PENDING");  // not an outcome: not counted
  metrics.webhook_attempt(milliseconds(20));
  metrics.webhook_recorded(WebhookResult::retry_scheduled);
  metrics.store_batch(3, std::chrono::microseconds(800));
  metrics.store_batch(1, std::chrono::microseconds(200));
  metrics.store_calls(2);  // a batch that failed: counted, not timed
  metrics.store_queue_depth(5);
  metrics.set_terminals_connected([] { return 2.0; });
  metrics.set_long_polls_waiting([] { return 1.0; });

  const auto parsed = parse_exposition(registry.render());
  ASSERT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors);
  const std::string route = "/v1/terminals/{terminalId}/payments";
  EXPECT_EQ(parsed.value("tillgate_http_requests_total",
                         {{"route", route}, {"method", "POST"}, {"status", "200"}}),
            1.0);
  EXPECT_EQ(parsed.value("tillgate_http_requests_total",
                         {{"route", route}, {"method", "POST"}, {"status", "401"}}),
            1.0);
  EXPECT_EQ(parsed.value("tillgate_http_requests_total",
                         {{"route", "refused"}, {"method", "UNKNOWN"}, {"status", "413"}}),
            1.0);
  EXPECT_EQ(parsed.value("tillgate_http_request_duration_seconds_count", {{"route", route}}), 2.0);
  EXPECT_EQ(parsed.value("tillgate_http_request_duration_seconds_bucket",
                         {{"route", route}, {"le", "1"}}),
            1.0);
  EXPECT_EQ(parsed.value("tillgate_http_request_duration_seconds_bucket",
                         {{"route", route}, {"le", "2.5"}}),
            2.0);
  EXPECT_EQ(parsed.value("tillgate_http_request_duration_seconds_count", {{"route", "refused"}}),
            std::nullopt);
  EXPECT_EQ(parsed.value("tillgate_payments_created_total"), 2.0);
  EXPECT_EQ(parsed.value("tillgate_payments_total", {{"outcome", "COMPLETED"}}), 1.0);
  EXPECT_EQ(parsed.value("tillgate_payments_total", {{"outcome", "TIMEOUT"}}), 1.0);
  EXPECT_EQ(parsed.value("tillgate_payments_total", {{"outcome", "VOIDED"}}), 1.0);
  EXPECT_EQ(parsed.value("tillgate_payments_total", {{"outcome", "PENDING"}}), std::nullopt);
  EXPECT_EQ(parsed.value("tillgate_payment_duration_seconds_count"), 2.0);
  EXPECT_EQ(parsed.value("tillgate_payment_duration_seconds_sum"), 153.0);
  EXPECT_EQ(parsed.value("tillgate_payment_duration_seconds_bucket", {{"le", "120"}}), 1.0);
  EXPECT_EQ(parsed.value("tillgate_payment_duration_seconds_bucket", {{"le", "180"}}), 2.0);
  EXPECT_EQ(parsed.value("tillgate_webhook_deliveries_total", {{"result", "retry_scheduled"}}),
            1.0);
  EXPECT_EQ(parsed.value("tillgate_webhook_deliveries_total", {{"result", "delivered"}}), 0.0);
  EXPECT_EQ(parsed.value("tillgate_webhook_attempt_duration_seconds_bucket", {{"le", "0.025"}}),
            1.0);
  EXPECT_EQ(parsed.value("tillgate_store_calls_total"), 6.0);
  EXPECT_EQ(parsed.value("tillgate_store_batch_size_count"), 2.0);
  EXPECT_EQ(parsed.value("tillgate_store_batch_size_bucket", {{"le", "2"}}), 1.0);
  EXPECT_EQ(parsed.value("tillgate_store_batch_size_bucket", {{"le", "4"}}), 2.0);
  EXPECT_EQ(parsed.value("tillgate_store_commit_seconds_bucket", {{"le", "0.00025"}}), 1.0);
  EXPECT_EQ(parsed.value("tillgate_store_commit_seconds_bucket", {{"le", "0.001"}}), 2.0);
  EXPECT_EQ(parsed.value("tillgate_store_queue_depth"), 5.0);
  EXPECT_EQ(parsed.value("tillgate_terminals_connected"), 2.0);
  EXPECT_EQ(parsed.value("tillgate_long_polls_waiting"), 1.0);
}

// ---- /proc parsing -----------------------------------------------------------------------

TEST(ProcessMetrics, ReadsKibibytesFromStatus) {
  const std::string status =
      "Name:\ttillgate\nVmPeak:\t  300000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
  EXPECT_EQ(status_bytes(status, "VmRSS"), 10240u * 1024);
  EXPECT_EQ(status_bytes(status, "VmHWM"), 20480u * 1024);
  EXPECT_EQ(status_bytes(status, "VmSwap"), std::nullopt);
  EXPECT_EQ(status_bytes("VmRSS:\tlots\n", "VmRSS"), std::nullopt);
  EXPECT_EQ(status_bytes("VmRSSX:\t1 kB\n", "VmRSS"), std::nullopt);
}

TEST(ProcessMetrics, StartTimeFromStatAndBootTime) {
  // The command name holds spaces and parentheses: fields count from the last ')'.
  std::string stat = "4242 (till (gate) x) S";
  for (int field = 4; field <= 21; ++field) {
    stat += " " + std::to_string(field);
  }
  stat += " 12345 99 100\n";  // field 22: starttime in ticks
  const std::string proc_stat = "cpu  1 2 3\nbtime 1700000000\nprocesses 10\n";
  const auto started = start_time_seconds(stat, proc_stat, 100);
  ASSERT_TRUE(started.has_value());
  EXPECT_DOUBLE_EQ(*started, 1700000000.0 + 123.45);
  EXPECT_EQ(start_time_seconds(stat, "cpu 1\n", 100), std::nullopt);
  EXPECT_EQ(start_time_seconds("4242 (short) S 1 2\n", proc_stat, 100), std::nullopt);
  EXPECT_EQ(start_time_seconds(stat, proc_stat, 0), std::nullopt);
}

}  // namespace
}  // namespace tillgate::metrics
