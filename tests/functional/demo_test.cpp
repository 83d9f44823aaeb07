// `tillgate demo` as a new user runs it: it prints a payment command, and that command,
// pasted, takes a payment on the approving terminal; the declining terminal declines.
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>

#include "../unit/store/store_test_support.hpp"
#include "gateway_process.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

// The value after `flag` in a printed command line.
std::string flag_value(const std::string& line, const std::string& flag) {
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    if (word == flag && words >> word) {
      return word;
    }
  }
  return {};
}

// Runs the demo with `env`, pays with its printed command on both terminals, stops it.
void run_the_demo(const EnvMap& env, const TempDir& dir) {
  ChildProcess demo({TILLGATE_BINARY, "demo", "--listen", "127.0.0.1:0"}, env, dir.path(),
                    dir.path() / "demo.stderr");
  const auto pay_line = demo.wait_for_line(" pay --url ", 30s);
  ASSERT_TRUE(pay_line) << demo.stdout_text();
  ASSERT_TRUE(demo.wait_for_line("[demo-till-1] connected", 10s)) << demo.stdout_text();
  ASSERT_TRUE(demo.wait_for_line("[demo-till-2] connected", 10s)) << demo.stdout_text();

  const std::vector<std::string> common{"pay",
                                        "--url",
                                        flag_value(*pay_line, "--url"),
                                        "--api-key",
                                        flag_value(*pay_line, "--api-key"),
                                        "--api-secret",
                                        flag_value(*pay_line, "--api-secret"),
                                        "--amount",
                                        "12.50",
                                        "--currency",
                                        "USD",
                                        "--method",
                                        "CARD",
                                        "--json"};
  auto approve = common;
  approve.insert(approve.end(), {"--terminal", "demo-till-1"});
  const auto approved = run_tillgate(approve);
  EXPECT_EQ(approved.exit_code, 0) << approved.out;
  EXPECT_NE(approved.out.find("\"SUCCESS\""), std::string::npos) << approved.out;

  auto decline = common;
  decline.insert(decline.end(), {"--terminal", "demo-till-2"});
  const auto declined = run_tillgate(decline);
  EXPECT_NE(declined.out.find("\"FAILED\""), std::string::npos) << declined.out;

  // The console's URL is printed, and each payment's webhook reached the demo's own
  // receiver, which verified its signature (none refused).
  const auto console = demo.wait_for_line("Open the console: http://127.0.0.1:", 1s);
  ASSERT_TRUE(console) << demo.stdout_text();
  EXPECT_NE(console->find("/console/"), std::string::npos) << *console;
  const auto completed = demo.wait_for_line("[webhook] payment.completed", 15s);
  ASSERT_TRUE(completed) << demo.stdout_text();
  EXPECT_NE(completed->find("SUCCESS (signature verified)"), std::string::npos) << *completed;
  const auto failed = demo.wait_for_line("[webhook] payment.failed", 15s);
  ASSERT_TRUE(failed) << demo.stdout_text();
  EXPECT_NE(failed->find("(signature verified)"), std::string::npos) << *failed;
  EXPECT_FALSE(demo.wait_for_line("[webhook] REFUSED", 0s)) << demo.stdout_text();

  demo.send_signal(SIGTERM);
  const auto status = demo.wait(15s);
  ASSERT_TRUE(status) << "the demo did not stop on SIGTERM";
  EXPECT_EQ(exit_code_of(*status), 0) << demo.stdout_text();
}

TEST(DemoTest, PrintedPayCommandTakesAPaymentAndTheDemoStopsCleanly) {
  TempDir dir;
  run_the_demo({}, dir);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "data" / "demo.db"));
}

// The same on PostgreSQL (scale-out.md): TILLGATE_DB=postgresql://... against a running
// server, a database of its own on the test cluster.
TEST(DemoTest, TheDemoRunsOnPostgresql) {
  if (store::testing::PgTestDatabase::skipped()) {
    GTEST_SKIP() << "TILLGATE_TEST_PG_SKIP=1 and no PostgreSQL test cluster";
  }
  const store::testing::PgTestDatabase database;
  TempDir dir;
  run_the_demo({{"TILLGATE_DB", database.url()}}, dir);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "data" / "demo.db"));
}

}  // namespace
}  // namespace tillgate::ft
