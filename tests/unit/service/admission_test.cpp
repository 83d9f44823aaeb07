// net::Admission alone: the caps, the tickets that hold a place, the shared
// failed-authentication budget, and the rate-limited refusal line. Time is passed in.
#include "net/admission.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <sstream>
#include <utility>
#include <vector>

#include "net/rate_limiter.hpp"

namespace tillgate {
namespace {

using namespace std::chrono_literals;
using Clock = net::Admission::Clock;

net::AdmissionSettings caps(std::size_t total, std::size_t per_address) {
  net::AdmissionSettings s;
  s.what = "test connections";
  s.max_connections = total;
  s.max_connections_per_address = per_address;
  s.connections_full = "TOTAL_CAP";
  s.address_full = "ADDRESS_CAP";
  s.budget_spent = "BUDGET";
  return s;
}

// The default logger's lines while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", std::move(sink)));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  [[nodiscard]] std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

const Clock::time_point kStart = Clock::time_point{} + 1h;

TEST(Admission, CapsOneAddressAndLetsOthersIn) {
  net::Admission admission(caps(10, 2));
  auto first = admission.admit("10.0.0.1", kStart);
  auto second = admission.admit("10.0.0.1", kStart);
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first.address(), "10.0.0.1");
  EXPECT_FALSE(admission.admit("10.0.0.1", kStart));
  EXPECT_TRUE(admission.admit("10.0.0.2", kStart));  // released at once: a temporary
  EXPECT_EQ(admission.open_from("10.0.0.1"), 2u);
  EXPECT_EQ(admission.open_from("10.0.0.2"), 0u);
  EXPECT_EQ(admission.open(), 2u);
  EXPECT_EQ(admission.refused(), 1u);
}

TEST(Admission, CapsAllAddressesTogether) {
  net::Admission admission(caps(3, 3));
  std::vector<net::Admission::Ticket> held;
  for (const char* address : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
    held.push_back(admission.admit(address, kStart));
    ASSERT_TRUE(held.back());
  }
  EXPECT_FALSE(admission.admit("10.0.0.4", kStart));
  held.pop_back();
  EXPECT_TRUE(admission.admit("10.0.0.4", kStart));
}

TEST(Admission, ATicketHoldsItsPlaceUntilItEndsAndMovesWithIt) {
  net::Admission admission(caps(10, 1));
  auto ticket = admission.admit("10.0.0.1", kStart);
  net::Admission::Ticket moved = std::move(ticket);
  EXPECT_TRUE(moved);
  EXPECT_FALSE(ticket);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(admission.open_from("10.0.0.1"), 1u);
  EXPECT_FALSE(admission.admit("10.0.0.1", kStart));
  moved = net::Admission::Ticket();
  EXPECT_EQ(admission.open(), 0u);
  EXPECT_EQ(admission.open_from("10.0.0.1"), 0u);
  EXPECT_TRUE(admission.admit("10.0.0.1", kStart));
}

TEST(Admission, AnAddressWithoutAuthenticationBudgetIsRefusedUntilItRefills) {
  net::RateLimiter budget(1.0, 2.0, 100);  // 2 failures, then one a second
  net::Admission admission(caps(10, 10), &budget);
  EXPECT_FALSE(budget.admit("10.0.0.1", kStart).has_value());
  EXPECT_FALSE(budget.admit("10.0.0.1", kStart).has_value());
  EXPECT_FALSE(admission.admit("10.0.0.1", kStart));
  EXPECT_TRUE(admission.admit("10.0.0.2", kStart)) << "another address has its own budget";
  EXPECT_TRUE(admission.admit("10.0.0.1", kStart + 1100ms)) << "the budget refills";
  EXPECT_EQ(budget.tracked_keys(), 1u) << "admission only looks at the budget";
}

TEST(Admission, RefusalsAreLoggedAtMostOnceASecondWithTheirCount) {
  LogCapture log;
  net::Admission admission(caps(0, 0));
  EXPECT_FALSE(admission.admit("10.0.0.1", kStart));
  EXPECT_FALSE(admission.admit("10.0.0.1", kStart + 100ms));
  EXPECT_FALSE(admission.admit("10.0.0.1", kStart + 900ms));
  EXPECT_FALSE(admission.admit("10.0.0.1", kStart + 1000ms));
  EXPECT_EQ(admission.refused(), 4u);
  EXPECT_EQ(log.text(),
            "1 test connections refused in the last second or so: TOTAL_CAP\n"
            "3 test connections refused in the last second or so: TOTAL_CAP\n");
}

}  // namespace
}  // namespace tillgate
