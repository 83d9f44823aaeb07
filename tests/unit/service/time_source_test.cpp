// net::SystemTimeSource against the real clocks (the only timing-dependent tests here,
// with seconds of slack), and net::ManualTimeSource driven by hand: time moves only in
// advance()/set_now(), completions only in io_context::poll().
#include "net/time_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/task_group.hpp"

namespace tillgate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

void drain(asio::io_context& io) {
  io.restart();
  io.poll();
}

asio::awaitable<void> await_timer(net::Timer& timer, std::optional<bool>& result) {
  result = co_await timer.wait();
}

// Appends `name` when the deadline came, "`name` cancelled" when the wait was cancelled.
asio::awaitable<void> record(net::Timer& timer, std::string name, std::vector<std::string>& log) {
  const bool fired = co_await timer.wait();
  log.push_back(fired ? name : name + " cancelled");
}

// A task that pays no attention to a false wait() and sleeps again: once cancelled, its
// next co_await throws operation_aborted (Asio's throw_if_cancelled).
asio::awaitable<void> sleep_forever(net::Timer& timer, int& wakeups) {
  while (true) {
    timer.expires_after(1h);
    const bool fired = co_await timer.wait();
    static_cast<void>(fired);
    ++wakeups;
  }
}

TEST(SystemTimeSource, NowIsTheSystemClock) {
  net::SystemTimeSource time;
  const auto before = domain::SystemClock{}.now();
  const auto now = time.now();
  const auto after = domain::SystemClock{}.now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

TEST(SystemTimeSource, ATwentyMillisecondTimerFires) {
  asio::io_context io;
  net::SystemTimeSource time;
  auto relative = time.make_timer(io.get_executor());
  auto absolute = time.make_timer(io.get_executor());
  const auto started = std::chrono::steady_clock::now();
  relative->expires_after(20ms);
  absolute->expires_at(time.now() + 20ms);
  std::optional<bool> relative_result;
  std::optional<bool> absolute_result;
  asio::co_spawn(io, await_timer(*relative, relative_result), asio::detached);
  asio::co_spawn(io, await_timer(*absolute, absolute_result), asio::detached);
  io.run_for(30s);  // returns as soon as both waits ended
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(relative_result.has_value());
  ASSERT_TRUE(absolute_result.has_value());
  EXPECT_TRUE(*relative_result);
  EXPECT_TRUE(*absolute_result);
  // now() is whole milliseconds, so the absolute deadline may be 1 ms nearer.
  EXPECT_GE(elapsed, 20ms);
  EXPECT_LT(elapsed, 10s);
}

TEST(SystemTimeSource, CancelEndsAWaitWithFalse) {
  asio::io_context io;
  net::SystemTimeSource time;
  auto timer = time.make_timer(io.get_executor());
  timer->expires_after(1h);
  std::optional<bool> result;
  asio::co_spawn(io, await_timer(*timer, result), asio::detached);
  drain(io);
  EXPECT_FALSE(result.has_value());
  timer->cancel();
  drain(io);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
}

TEST(SystemTimeSource, ADeadlineInThePastFiresAtOnce) {
  asio::io_context io;
  net::SystemTimeSource time;
  auto timer = time.make_timer(io.get_executor());
  timer->expires_at(time.now() - 1h);
  std::optional<bool> result;
  asio::co_spawn(io, await_timer(*timer, result), asio::detached);
  io.run_for(30s);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
}

TEST(SystemTimeSource, AFarDeadlineIsHeldWithinTheClocksRange) {
  asio::io_context io;
  net::SystemTimeSource time;
  auto timer = time.make_timer(io.get_executor());
  timer->expires_at(domain::Timestamp::max());  // no overflow (UBSan would stop here)
  std::optional<bool> result;
  asio::co_spawn(io, await_timer(*timer, result), asio::detached);
  drain(io);
  EXPECT_FALSE(result.has_value());
  timer->expires_after(std::chrono::milliseconds::max());  // re-arming ends the wait
  drain(io);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  timer->cancel();
}

class ManualTimeSourceTest : public ::testing::Test {
 protected:
  // 2024-01-15T10:30:00.000Z
  const domain::Timestamp start_{std::chrono::milliseconds{1'705'314'600'000}};

  std::unique_ptr<net::Timer> timer_at(std::chrono::milliseconds from_start) {
    auto timer = time_.make_timer(io_.get_executor());
    timer->expires_at(start_ + from_start);
    return timer;
  }
  void watch(net::Timer& timer, std::string name) {
    asio::co_spawn(io_, record(timer, std::move(name), fired_), asio::detached);
  }
  void drain() { tillgate::drain(io_); }

  asio::io_context io_;
  net::ManualTimeSource time_{start_};
  std::vector<std::string> fired_;
};

TEST_F(ManualTimeSourceTest, NowMovesOnlyWhenTold) {
  EXPECT_EQ(time_.now(), start_);
  time_.advance(5s);
  EXPECT_EQ(time_.now(), start_ + 5s);
  time_.set_now(start_ - 1h);
  EXPECT_EQ(time_.now(), start_ - 1h);
  const domain::Clock& clock = time_;  // usable wherever a domain::Clock is
  EXPECT_EQ(clock.now(), start_ - 1h);
}

TEST_F(ManualTimeSourceTest, NothingFiresUntilTimeIsAdvanced) {
  auto a = timer_at(10ms);
  auto b = timer_at(20ms);
  watch(*a, "a");
  watch(*b, "b");
  drain();
  EXPECT_THAT(fired_, IsEmpty());
  EXPECT_EQ(time_.pending_timers(), 2u);
  time_.advance(9ms);
  drain();
  EXPECT_THAT(fired_, IsEmpty());
  EXPECT_EQ(time_.pending_timers(), 2u);
}

TEST_F(ManualTimeSourceTest, AdvanceFiresExactlyTheDueTimersInDeadlineOrder) {
  auto c = timer_at(30ms);
  auto a = timer_at(10ms);
  auto d = timer_at(40ms);
  auto b = timer_at(20ms);
  watch(*d, "d");
  watch(*c, "c");
  watch(*b, "b");
  watch(*a, "a");
  drain();
  time_.advance(30ms);
  EXPECT_THAT(fired_, IsEmpty());  // nothing runs inside advance()
  EXPECT_EQ(time_.pending_timers(), 1u);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a", "b", "c"));
  EXPECT_EQ(time_.next_deadline(), start_ + 40ms);
  time_.advance(10ms);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(time_.pending_timers(), 0u);
}

TEST_F(ManualTimeSourceTest, TimersDueAtTheSameInstantCompleteInArmingOrder) {
  auto second = timer_at(10ms);
  auto first = timer_at(10ms);
  auto third = timer_at(10ms);
  auto moved = timer_at(10ms);
  moved->expires_at(start_ + 10ms);  // armed again: now the last of the four
  auto fourth = timer_at(10ms);
  watch(*fourth, "fourth");
  watch(*moved, "moved");
  watch(*third, "third");
  watch(*first, "first");
  watch(*second, "second");
  drain();
  time_.advance(10ms);
  drain();
  EXPECT_THAT(fired_, ElementsAre("second", "first", "third", "moved", "fourth"));
}

TEST_F(ManualTimeSourceTest, SetNowBackwardsFiresNothing) {
  auto a = timer_at(10ms);
  watch(*a, "a");
  drain();
  time_.set_now(start_ - 1h);
  drain();
  EXPECT_THAT(fired_, IsEmpty());
  EXPECT_EQ(time_.pending_timers(), 1u);
  EXPECT_EQ(time_.next_deadline(), start_ + 10ms);
  time_.set_now(start_ + 15ms);  // a jump forward fires what it passes
  drain();
  EXPECT_THAT(fired_, ElementsAre("a"));
}

TEST_F(ManualTimeSourceTest, ATimerCanBeArmedAgain) {
  auto a = timer_at(10ms);
  watch(*a, "a");
  time_.advance(10ms);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a"));

  a->expires_after(5ms);  // from the current time
  EXPECT_EQ(time_.next_deadline(), start_ + 15ms);
  watch(*a, "a again");
  drain();
  EXPECT_THAT(fired_, ElementsAre("a"));
  time_.advance(5ms);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a", "a again"));

  // Re-armed while a wait is pending: that wait ends with false, as with an Asio timer.
  a->expires_at(start_ + 100ms);
  watch(*a, "b");
  drain();
  a->expires_at(start_ + 200ms);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a", "a again", "b cancelled"));
  watch(*a, "b again");
  time_.advance(100ms);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a", "a again", "b cancelled"));
  time_.set_now(start_ + 200ms);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a", "a again", "b cancelled", "b again"));
}

TEST_F(ManualTimeSourceTest, CancelEndsTheWaitWithFalseAndDisarms) {
  auto a = timer_at(10ms);
  watch(*a, "a");
  drain();
  a->cancel();
  EXPECT_EQ(time_.pending_timers(), 0u);
  EXPECT_EQ(time_.next_deadline(), std::nullopt);
  EXPECT_THAT(fired_, IsEmpty());  // the completion goes through the executor
  drain();
  EXPECT_THAT(fired_, ElementsAre("a cancelled"));

  // Disarmed: waited on again, it ends only by cancellation.
  watch(*a, "a again");
  time_.advance(1h);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a cancelled"));
  a->cancel();
  drain();
  EXPECT_THAT(fired_, ElementsAre("a cancelled", "a again cancelled"));
}

TEST_F(ManualTimeSourceTest, CancelAfterTheDeadlineButBeforeTheWaitResumedGivesFalse) {
  auto a = timer_at(10ms);
  watch(*a, "a");
  drain();
  time_.advance(10ms);  // the completion is posted...
  a->cancel();          // ...and the cancel comes first
  drain();
  EXPECT_THAT(fired_, ElementsAre("a cancelled"));
}

TEST_F(ManualTimeSourceTest, ANewTimerIsNotArmed) {
  auto timer = time_.make_timer(io_.get_executor());
  EXPECT_EQ(time_.pending_timers(), 0u);
  watch(*timer, "unarmed");
  time_.advance(24h);
  drain();
  EXPECT_THAT(fired_, IsEmpty());
  timer->cancel();
  drain();
  EXPECT_THAT(fired_, ElementsAre("unarmed cancelled"));
}

TEST_F(ManualTimeSourceTest, ADeadlineAlreadyPassedCompletesThroughTheExecutor) {
  auto late = timer_at(-1s);
  EXPECT_EQ(time_.pending_timers(), 0u);
  watch(*late, "late");
  EXPECT_THAT(fired_, IsEmpty());
  drain();
  EXPECT_THAT(fired_, ElementsAre("late"));

  // A timer that came due with no one waiting completes the next wait at once.
  auto early = timer_at(5ms);
  time_.advance(5ms);
  drain();
  watch(*early, "early");
  drain();
  EXPECT_THAT(fired_, ElementsAre("late", "early"));
}

TEST_F(ManualTimeSourceTest, DestroyingATimerEndsItsWaitWithFalse) {
  auto a = timer_at(10ms);
  watch(*a, "a");
  drain();
  a.reset();
  EXPECT_EQ(time_.pending_timers(), 0u);
  drain();
  EXPECT_THAT(fired_, ElementsAre("a cancelled"));
}

TEST_F(ManualTimeSourceTest, NextDeadlineLetsASimulationJumpFromEventToEvent) {
  EXPECT_EQ(time_.next_deadline(), std::nullopt);
  auto late = timer_at(3h);
  auto soon = timer_at(2s);
  auto middle = timer_at(1min);
  watch(*late, "late");
  watch(*soon, "soon");
  watch(*middle, "middle");
  EXPECT_EQ(time_.next_deadline(), start_ + 2s);
  std::vector<domain::Timestamp> visited;
  while (const auto next = time_.next_deadline()) {
    time_.set_now(*next);
    visited.push_back(time_.now());
    drain();
  }
  EXPECT_THAT(visited, ElementsAre(start_ + 2s, start_ + 1min, start_ + 3h));
  EXPECT_THAT(fired_, ElementsAre("soon", "middle", "late"));
}

TEST_F(ManualTimeSourceTest, TimersMayOutliveTheirSource) {
  auto source = std::make_unique<net::ManualTimeSource>(start_);
  auto timer = source->make_timer(io_.get_executor());
  timer->expires_after(1s);
  source.reset();
  timer->expires_after(2s);
  timer->cancel();
}

TEST_F(ManualTimeSourceTest, TaskGroupCancelWakesATaskWaitingOnAManualTimer) {
  net::TaskGroup group(io_.get_executor(), "simulation");
  auto sleeper = timer_at(1h);
  auto looper = time_.make_timer(io_.get_executor());
  int wakeups = 0;
  EXPECT_TRUE(group.spawn("sleeper", record(*sleeper, "sleeper", fired_)));
  EXPECT_TRUE(group.spawn("looper", sleep_forever(*looper, wakeups)));
  drain();
  EXPECT_EQ(group.size(), 2u);
  EXPECT_EQ(time_.pending_timers(), 2u);

  group.cancel();
  drain();
  // The sleeper's wait ended with false, not an exception; the looper's wait too, and its
  // next co_await threw operation_aborted, which is no failure for a cancelled task.
  EXPECT_THAT(fired_, ElementsAre("sleeper cancelled"));
  EXPECT_EQ(wakeups, 1);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(group.failures(), 0u);
}

}  // namespace
}  // namespace tillgate
