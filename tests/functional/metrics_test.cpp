// GET /metrics (operations.md "Service endpoints"; docs/metrics.md) against the real
// binary: the whole answer parses line by line as the text exposition format 0.0.4, and
// the counters move by exactly what a real payment, an unauthorized request, a refusal,
// a held long-poll, a terminal connecting and leaving, and webhook attempts did. Route
// labels are templates: no id sent in a path ever appears in the text.
#include <gtest/gtest.h>

#include <set>

#include "../support/exposition.hpp"
#include "openapi_check.hpp"
#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;
using testing_support::Exposition;
using testing_support::parse_exposition;
using Labels = std::map<std::string, std::string>;

constexpr std::string_view kPaymentsRoute = "/v1/terminals/{terminalId}/payments";

Labels request_labels(std::string_view route, std::string_view method, int status) {
  return {{"route", std::string(route)},
          {"method", std::string(method)},
          {"status", std::to_string(status)}};
}

// The value, 0 when the series does not exist yet (a labelled series appears on first use).
double value_or_zero(const Exposition& metrics, std::string_view name, const Labels& labels = {}) {
  return metrics.value(name, labels).value_or(0.0);
}

// Every route label is a documented template, "unmatched" or "refused".
void expect_route_labels_are_templates(const Exposition& metrics) {
  std::set<std::string> allowed = {"unmatched", "refused"};
  for (const auto& item : openapi::Document::served().root().find("paths")->as_object()) {
    allowed.insert(item.key);
  }
  for (const auto& family : metrics.families) {
    for (const auto& sample : family.samples) {
      if (const auto route = sample.label("route")) {
        EXPECT_TRUE(allowed.contains(*route))
            << sample.name << " has route label \"" << *route << "\" (line " << sample.line << ")";
      }
    }
  }
}

class MetricsTest : public WebhookTest {
 protected:
  // GET /metrics, asserting 200, the content type, and that every line parses.
  Exposition scrape() {
    const auto res = plain_request("GET", "/metrics");
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("content-type").value_or("(none)"),
              "text/plain; version=0.0.4; charset=utf-8");
    last_text_ = res.body;
    auto parsed = parse_exposition(res.body);
    EXPECT_TRUE(parsed.errors.empty()) << ::testing::PrintToString(parsed.errors) << "\n"
                                       << res.body;
    expect_route_labels_are_templates(parsed);
    return parsed;
  }

  double gauge(std::string_view name) { return scrape().value(name).value_or(-1); }

  std::string last_text_;
};

TEST_F(MetricsTest, ARealPaymentAndAnUnauthorizedRequestMoveExactlyTheirCounters) {
  const auto merchant = create_merchant("Metrics Shop");
  const auto device = create_device(merchant, "till-metrics-7f3a");
  const auto before = scrape();
  EXPECT_EQ(before.value("tillgate_terminals_connected"), 0.0);
  {
    SimulatedTerminal terminal(gateway(), device, "approve");
    ASSERT_TRUE(terminal.wait_online());
    EXPECT_EQ(gauge("tillgate_terminals_connected"), 1.0);

    const auto paid = signed_request(merchant, "POST", payments_path(device.device_id),
                                     payment_body("12.50", "USD", "TXN-METRICS-91c2"));
    ASSERT_EQ(paid.status, 200) << paid.body;
    // No credentials: 401 on the same route.
    const auto refused = plain_request("POST", payments_path(device.device_id),
                                       payment_body("1.00", "USD", "TXN-METRICS-4d5e"));
    expect_error(refused, 401, "UNAUTHORIZED");
    // A transaction that does not exist: 404 under the template, not under its id.
    expect_error(signed_request(merchant, "GET", "/v1/transactions/TXN-NOWHERE-8b1d"), 404,
                 "TRANSACTION_NOT_FOUND");
    // No route at all.
    expect_error(plain_request("GET", "/no/such/route-5c6d"), 404, "NOT_FOUND");

    const auto after = scrape();
    const auto moved = [&](std::string_view name, const Labels& labels = {}) {
      return value_or_zero(after, name, labels) - value_or_zero(before, name, labels);
    };
    EXPECT_EQ(moved("tillgate_http_requests_total", request_labels(kPaymentsRoute, "POST", 200)),
              1.0);
    EXPECT_EQ(moved("tillgate_http_requests_total", request_labels(kPaymentsRoute, "POST", 401)),
              1.0);
    EXPECT_EQ(moved("tillgate_http_requests_total",
                    request_labels("/v1/transactions/{transactionId}", "GET", 404)),
              1.0);
    EXPECT_EQ(moved("tillgate_http_requests_total", request_labels("unmatched", "GET", 404)), 1.0);
    EXPECT_EQ(moved("tillgate_http_request_duration_seconds_count",
                    {{"route", std::string(kPaymentsRoute)}}),
              2.0);
    EXPECT_EQ(moved("tillgate_payments_created_total"), 1.0);
    EXPECT_EQ(moved("tillgate_payments_total", {{"outcome", "COMPLETED"}}), 1.0);
    for (const auto* outcome : {"FAILED", "CANCELLED", "TIMEOUT", "VOIDED"}) {
      EXPECT_EQ(moved("tillgate_payments_total", {{"outcome", outcome}}), 0.0) << outcome;
    }
    EXPECT_EQ(moved("tillgate_payment_duration_seconds_count"), 1.0);
    EXPECT_EQ(after.value("tillgate_long_polls_waiting"), 0.0);
    EXPECT_EQ(after.value("tillgate_terminals_connected"), 1.0);
    // The store thread ran the payment's calls in committed batches.
    EXPECT_GT(moved("tillgate_store_calls_total"), 0.0);
    EXPECT_GT(moved("tillgate_store_batch_size_count"), 0.0);
    EXPECT_EQ(moved("tillgate_store_batch_size_sum"), moved("tillgate_store_calls_total"));
    EXPECT_EQ(moved("tillgate_store_commit_seconds_count"),
              moved("tillgate_store_batch_size_count"));
    // CPU: the store thread's own and the whole process's, which includes it.
    EXPECT_GT(moved("tillgate_store_thread_cpu_seconds_total"), 0.0);
    EXPECT_GT(moved("process_cpu_seconds_total"), 0.0);
    EXPECT_GE(after.value("process_cpu_seconds_total"),
              after.value("tillgate_store_thread_cpu_seconds_total"));
    // Each scrape counts itself after it is rendered: the earlier ones are all there.
    EXPECT_GE(moved("tillgate_http_requests_total", request_labels("/metrics", "GET", 200)), 2.0);

    // Cardinality: ids sent in paths and bodies never become label values.
    for (const auto* id : {"till-metrics-7f3a", "TXN-METRICS-91c2", "TXN-METRICS-4d5e",
                           "TXN-NOWHERE-8b1d", "route-5c6d", merchant.merchant_id.c_str()}) {
      EXPECT_EQ(last_text_.find(id), std::string::npos) << id << " appears in /metrics";
    }
    // The long-poll's time is in its route's histogram: buckets cumulative, +Inf == _count.
    const auto* durations = after.family("tillgate_http_request_duration_seconds");
    ASSERT_NE(durations, nullptr);
    double previous = 0;
    std::optional<double> infinity;
    for (const auto& sample : durations->samples) {
      if (sample.label("route") != kPaymentsRoute ||
          sample.name.find("_bucket") == std::string::npos) {
        continue;
      }
      EXPECT_GE(sample.value, previous) << "line " << sample.line;
      previous = sample.value;
      if (sample.label("le") == "+Inf") {
        infinity = sample.value;
      }
    }
    EXPECT_EQ(infinity, after.value("tillgate_http_request_duration_seconds_count",
                                    {{"route", std::string(kPaymentsRoute)}}));
  }
  // The simulated terminal is gone.
  EXPECT_TRUE(eventually([&] { return gauge("tillgate_terminals_connected") == 0.0; }));
}

TEST_F(MetricsTest, LongPollsWaitingCountsAPaymentHeldOpenByASilentTerminal) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto terminal = connect_terminal(device);
  ASSERT_TRUE(terminal.ws);
  const auto before = scrape();
  EXPECT_EQ(before.value("tillgate_terminals_connected"), 1.0);
  EXPECT_EQ(before.value("tillgate_long_polls_waiting"), 0.0);

  auto pending =
      pay_async(merchant, device.device_id, payment_body("4.20", "EUR", "TXN-HELD-2a9f"));
  // The request is pushed only after the waiter is registered (coordinator.cpp).
  (void)read_frame(*terminal.ws, "payment.request");
  EXPECT_EQ(gauge("tillgate_long_polls_waiting"), 1.0);
  // Still held: the terminal says nothing.
  ASSERT_TRUE(NoFrameWithin(*terminal.ws, 300ms));
  EXPECT_EQ(gauge("tillgate_long_polls_waiting"), 1.0);

  ASSERT_TRUE(terminal.ws->send_json(
      result_frame("TXN-HELD-2a9f", "FAILED", "", "INSUFFICIENT_FUNDS", "Declined")));
  (void)read_frame(*terminal.ws, "payment.result.ack");
  const auto answered = await_response(pending, 10s);
  ASSERT_TRUE(answered.has_value());
  ASSERT_EQ(answered->status, 200) << answered->body;
  const auto after = scrape();
  EXPECT_EQ(after.value("tillgate_long_polls_waiting"), 0.0);
  EXPECT_EQ(value_or_zero(after, "tillgate_payments_total", {{"outcome", "FAILED"}}) -
                value_or_zero(before, "tillgate_payments_total", {{"outcome", "FAILED"}}),
            1.0);
  EXPECT_EQ(value_or_zero(after, "tillgate_payments_total", {{"outcome", "COMPLETED"}}),
            value_or_zero(before, "tillgate_payments_total", {{"outcome", "COMPLETED"}}));

  terminal.ws.reset();  // the connection closes
  EXPECT_TRUE(eventually([&] { return gauge("tillgate_terminals_connected") == 0.0; }));
}

TEST_F(MetricsTest, RefusalsBeforeRoutingAreCountedAsRefused) {
  const auto before = scrape();
  const std::string too_large(70 * 1024, 'x');  // over TILLGATE_MAX_BODY_BYTES (64 KiB)
  const auto res = plain_request("POST", "/v1/terminals/till-big-3e4f/payments", too_large);
  expect_error(res, 413, "PAYLOAD_TOO_LARGE");
  const auto after = scrape();
  const auto labels = request_labels("refused", "UNKNOWN", 413);
  EXPECT_EQ(value_or_zero(after, "tillgate_http_requests_total", labels) -
                value_or_zero(before, "tillgate_http_requests_total", labels),
            1.0);
  EXPECT_EQ(last_text_.find("till-big-3e4f"), std::string::npos);
}

TEST_F(MetricsTest, WebhookAttemptsAreCountedByResult) {
  WebhookReceiver receiver;
  const auto merchant = create_merchant();
  (void)create_endpoint(merchant, receiver.url());     // its ping is answered 200
  receiver.script({ReceiverReply::with_status(500)});  // then the default: 200
  const auto device = create_device(merchant);
  auto terminal = connect_terminal(device);
  const auto before = scrape();
  pay_and_answer(merchant, device, terminal, "TXN-HOOK-6b7c", "SUCCESS");
  // A 500, then a 2xx one retry (1 s) later.
  ASSERT_TRUE(eventually(
      [&] {
        return value_or_zero(scrape(), "tillgate_webhook_deliveries_total",
                             {{"result", "delivered"}}) -
                   value_or_zero(before, "tillgate_webhook_deliveries_total",
                                 {{"result", "delivered"}}) ==
               1.0;
      },
      15s));
  const auto after = scrape();
  const auto moved = [&](std::string_view name, const Labels& labels = {}) {
    return value_or_zero(after, name, labels) - value_or_zero(before, name, labels);
  };
  EXPECT_EQ(moved("tillgate_webhook_deliveries_total", {{"result", "retry_scheduled"}}), 1.0);
  EXPECT_EQ(moved("tillgate_webhook_deliveries_total", {{"result", "failed"}}), 0.0);
  EXPECT_EQ(moved("tillgate_webhook_attempt_duration_seconds_count"), 2.0);
}

// No credentials and no rate limit: an address out of its failed-authentication budget
// (429 on the API) is still served /metrics, and the 429s are counted.
class MetricsLimitTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_AUTH_FAILURE_BURST", "1"}, {"TILLGATE_AUTH_FAILURE_RATE_LIMIT_RPS", "1"}};
  }
};

TEST_F(MetricsLimitTest, MetricsNeedNoCredentialsAndAreNotRateLimited) {
  expect_error(plain_request("GET", "/v1/terminals"), 401, "UNAUTHORIZED");
  const auto limited = plain_request("GET", "/v1/terminals");
  ASSERT_EQ(limited.status, 429) << limited.body;
  std::string text;
  for (int i = 0; i < 30; ++i) {
    const auto res = plain_request("GET", "/metrics");
    ASSERT_EQ(res.status, 200) << "scrape " << i << ": " << res.body;
    text = res.body;
  }
  const auto metrics = parse_exposition(text);
  ASSERT_TRUE(metrics.errors.empty()) << ::testing::PrintToString(metrics.errors);
  EXPECT_EQ(
      metrics.value("tillgate_http_requests_total", request_labels("/v1/terminals", "GET", 401)),
      1.0);
  EXPECT_EQ(
      metrics.value("tillgate_http_requests_total", request_labels("/v1/terminals", "GET", 429)),
      1.0);
  EXPECT_EQ(metrics.value("tillgate_http_requests_total", request_labels("/metrics", "GET", 200)),
            29.0);
}

}  // namespace
}  // namespace tillgate::ft
