// `tillgate bench` (issue 7) as CI runs it: the 10-second smoke test in standard mode and a
// short webhook-mode run, each against the gateway it starts itself; then the other runs at
// a tiny scale (a decline is not an error, errors make it fail, --idle, --idle-terminals,
// --long-polls).
// Nothing here asserts a duration or a rate: the figures come from bench/run (docs/
// performance.md); these tests check that the bench counts, verifies and reports truly.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

// Runs `tillgate bench ARGS --json` and returns its exit code and parsed JSON result.
struct BenchRun {
  CommandResult command;
  json::Value result;
};

BenchRun run_bench(std::vector<std::string> args, const EnvMap& env = {}) {
  args.insert(args.begin(), "bench");
  args.emplace_back("--json");
  BenchRun run;
  run.command = run_tillgate(args, env, 240s);
  const auto parsed = json::parse(run.command.out);
  if (parsed) {
    run.result = *parsed;
  } else {
    ADD_FAILURE() << "no JSON result; stdout:\n"
                  << run.command.out << "\nstderr:\n"
                  << log_tail(run.command.err);
  }
  return run;
}

std::string context(const BenchRun& run) {
  return "exit " + std::to_string(run.command.exit_code) + "\nstdout:\n" + run.command.out +
         "\nstderr:\n" + log_tail(run.command.err);
}

std::int64_t member_int(const json::Value& value, std::string_view object, std::string_view key) {
  const auto* inner = value.find(object);
  return inner != nullptr ? int_at(*inner, key).value_or(-1) : -1;
}

double number_at(const json::Value& value, std::string_view object, std::string_view key) {
  const auto* inner = value.find(object);
  const auto* member = inner != nullptr ? inner->find(key) : nullptr;
  return member != nullptr && member->is_number() ? std::stod(member->as_number().text) : -1;
}

// The latency percentiles come from the samples: one per completed payment, in order.
void expect_consistent_latency(const BenchRun& run, std::int64_t completed) {
  EXPECT_EQ(member_int(run.result, "latencyMs", "samples"), completed) << context(run);
  const auto p50 = number_at(run.result, "latencyMs", "p50");
  const auto p90 = number_at(run.result, "latencyMs", "p90");
  const auto p99 = number_at(run.result, "latencyMs", "p99");
  const auto p999 = number_at(run.result, "latencyMs", "p99_9");
  const auto max = number_at(run.result, "latencyMs", "max");
  EXPECT_GT(p50, 0) << context(run);
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  EXPECT_LE(p99, p999);
  EXPECT_LE(p999, max);
}

// CI's smoke test (issue 7): 10 s, 20 terminals, 8 clients, standard mode.
TEST(BenchTest, SmokeStandardModeTenSeconds) {
  const auto run = run_bench({"--duration", "10", "--terminals", "20", "--clients", "8"});
  ASSERT_EQ(run.command.exit_code, 0) << context(run);
  EXPECT_EQ(string_at(run.result, "mode"), "standard");
  EXPECT_EQ(json_at(run.result, "ok"), "true");
  const auto completed = int_at(run.result, "completed").value_or(0);
  EXPECT_GT(completed, 0) << context(run);
  EXPECT_EQ(int_at(run.result, "errorCount"), 0) << context(run);
  EXPECT_EQ(json_at(run.result, "errors"), "{}");
  // Every payment was approved by the simulated terminals.
  EXPECT_EQ(member_int(run.result, "outcomes", "SUCCESS"), completed) << context(run);
  expect_consistent_latency(run, completed);
  const auto* rate = run.result.find("paymentsPerSecond");
  ASSERT_TRUE(rate != nullptr && rate->is_number()) << context(run);
  EXPECT_GT(std::stod(rate->as_number().text), 0) << context(run);
  // The server's peak RSS, from /proc/PID/status of the gateway the bench started.
  EXPECT_EQ(string_at(run.result, "serverPeakRssSource"), "VmHWM");
  EXPECT_GT(int_at(run.result, "serverPeakRssBytes").value_or(0), 1'000'000);
  // CPU from the gateway's /metrics over the run: the process's per payment, and the store
  // thread's per call, which is part of it.
  const double cpu_per_payment = number_at(run.result, "serverMetrics", "cpuPerPaymentUs");
  const double store_cpu_per_call = number_at(run.result, "serverMetrics", "storeCpuPerCallUs");
  EXPECT_GT(cpu_per_payment, 0) << context(run);
  EXPECT_GT(store_cpu_per_call, 0) << context(run);
}

// Webhook mode: each payment answers 202, and ends when its signed webhook reaches the
// bench's receiver, which checks the signature with the endpoint's secret.
TEST(BenchTest, ShortWebhookModeRun) {
  const auto run =
      run_bench({"--mode", "webhook", "--duration", "3", "--terminals", "8", "--clients", "4"});
  ASSERT_EQ(run.command.exit_code, 0) << context(run);
  EXPECT_EQ(string_at(run.result, "mode"), "webhook");
  const auto completed = int_at(run.result, "completed").value_or(0);
  EXPECT_GT(completed, 0) << context(run);
  EXPECT_EQ(int_at(run.result, "errorCount"), 0) << context(run);
  EXPECT_EQ(member_int(run.result, "outcomes", "SUCCESS"), completed) << context(run);
  expect_consistent_latency(run, completed);
}

// Declining terminals: every payment ends FAILED, which is an outcome, not an error.
TEST(BenchTest, DeclinesAreOutcomesNotErrors) {
  const auto run =
      run_bench({"--duration", "1", "--terminals", "2", "--clients", "2", "--behavior", "decline"});
  ASSERT_EQ(run.command.exit_code, 0) << context(run);
  const auto completed = int_at(run.result, "completed").value_or(0);
  EXPECT_GT(completed, 0) << context(run);
  EXPECT_EQ(member_int(run.result, "outcomes", "FAILED"), completed) << context(run);
  EXPECT_EQ(member_int(run.result, "outcomes", "SUCCESS"), -1) << context(run);
}

// --payments alone runs until that many payments are measured.
TEST(BenchTest, PaymentCountStopsTheRun) {
  const auto run = run_bench({"--payments", "25", "--terminals", "3", "--clients", "3"});
  ASSERT_EQ(run.command.exit_code, 0) << context(run);
  EXPECT_EQ(int_at(run.result, "completed"), 25) << context(run);
}

// Against a running gateway (--url, --admin-token) whose merchant rate limit is tiny:
// the 429s are counted by status and code, and the bench fails.
class BenchAgainstGatewayTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_RATE_LIMIT_RPS", "1"}}; }
};

TEST_F(BenchAgainstGatewayTest, ErrorsAreCountedByCodeAndFailTheRun) {
  const auto run = run_bench({"--url", gateway().url(), "--admin-token", gateway().admin_token(),
                              "--duration", "2", "--terminals", "4", "--clients", "4"});
  EXPECT_EQ(run.command.exit_code, 1) << context(run);
  EXPECT_EQ(json_at(run.result, "ok"), "false");
  const auto limited = member_int(run.result, "errors", "HTTP 429 RATE_LIMITED");
  EXPECT_GT(limited, 0) << context(run);
  EXPECT_EQ(int_at(run.result, "errorCount"), limited) << context(run);
  // The peak RSS of a gateway it did not start comes from /metrics, when it has one.
  const auto* source = run.result.find("serverPeakRssSource");
  ASSERT_NE(source, nullptr);
  if (!source->is_null()) {
    EXPECT_EQ(source->as_string(), "metrics");
  }
}

// --idle: the terminals stay connected and the server's RSS is measured around them.
TEST(BenchTest, IdleTerminalsReportRssPerTerminal) {
  const auto run = run_bench({"--idle", "--terminals", "50", "--duration", "1",
                              "--source-addresses", "127.0.0.1-127.0.0.2"});
  ASSERT_EQ(run.command.exit_code, 0) << context(run);
  EXPECT_EQ(string_at(run.result, "mode"), "idle");
  EXPECT_EQ(int_at(run.result, "onlineAtEnd"), 50) << context(run);
  EXPECT_GT(int_at(run.result, "rssAfterBytes").value_or(0), 0) << context(run);
  const auto* per_terminal = run.result.find("rssPerTerminalBytes");
  ASSERT_NE(per_terminal, nullptr);
  EXPECT_TRUE(per_terminal->is_number()) << context(run);
}

// --idle-terminals (issue 18, target 5): more terminals connected beside the payments, held
// for the whole run and never paid on; the payments stay on --terminals.
TEST(BenchTest, IdleTerminalsStayConnectedBesideThePayments) {
  const auto run = run_bench({"--idle-terminals", "20", "--terminals", "3", "--clients", "3",
                              "--payments", "30", "--source-addresses", "127.0.0.1-127.0.0.2"});
  ASSERT_EQ(run.command.exit_code, 0) << context(run);
  EXPECT_EQ(string_at(run.result, "mode"), "standard");
  EXPECT_EQ(int_at(run.result, "terminals"), 3) << context(run);
  EXPECT_EQ(int_at(run.result, "idleTerminals"), 20) << context(run);
  EXPECT_EQ(int_at(run.result, "idleOnlineAtEnd"), 20) << context(run);
  // The gateway counted them all connected: 3 paid on and 20 idle.
  EXPECT_EQ(member_int(run.result, "serverMetrics", "terminalsConnected"), 23) << context(run);
  EXPECT_EQ(int_at(run.result, "completed"), 30) << context(run);
  EXPECT_EQ(member_int(run.result, "outcomes", "SUCCESS"), 30) << context(run);
  EXPECT_EQ(int_at(run.result, "errorCount"), 0) << context(run);
  // The gateway ended exactly the 30 payments the bench counted.
  const auto* server = run.result.find("serverMetrics");
  ASSERT_NE(server, nullptr) << context(run);
  EXPECT_EQ(member_int(*server, "payments", "COMPLETED"), 30) << context(run);
}

// --long-polls: K standard-mode payments open at once on K connections, each answered
// when its terminal approves after the hold.
TEST(BenchTest, LongPollsAreHeldAtOnceAndAnswered) {
  const auto run = run_bench({"--long-polls", "20", "--duration", "2"});
  ASSERT_EQ(run.command.exit_code, 0) << context(run);
  EXPECT_EQ(string_at(run.result, "mode"), "long-polls");
  EXPECT_EQ(int_at(run.result, "heldAtOnce"), 20) << context(run);
  EXPECT_EQ(int_at(run.result, "completed"), 20) << context(run);
  EXPECT_EQ(member_int(run.result, "outcomes", "SUCCESS"), 20) << context(run);
  EXPECT_EQ(int_at(run.result, "errorCount"), 0) << context(run);
}

TEST(BenchTest, RefusesContradictoryOptions) {
  const auto fewer_terminals =
      run_tillgate({"bench", "--terminals", "2", "--clients", "4", "--duration", "1"});
  EXPECT_EQ(fewer_terminals.exit_code, 1);
  EXPECT_NE(fewer_terminals.err.find("--terminals must be at least --clients"), std::string::npos)
      << fewer_terminals.err;
  const auto bad_range = run_tillgate({"bench", "--source-addresses", "127.0.0.9-127.0.0.1"});
  EXPECT_EQ(bad_range.exit_code, 1);
  EXPECT_NE(bad_range.err.find("ends before it starts"), std::string::npos) << bad_range.err;
  const auto idle_with_idle =
      run_tillgate({"bench", "--idle", "--idle-terminals", "5", "--duration", "1"});
  EXPECT_EQ(idle_with_idle.exit_code, 1);
  EXPECT_NE(idle_with_idle.err.find("--idle-terminals goes with a payments run"), std::string::npos)
      << idle_with_idle.err;
  const auto help = run_tillgate({"bench", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--long-polls"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--idle-terminals"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace tillgate::ft
