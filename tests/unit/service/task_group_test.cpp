// net::TaskGroup on an io_context driven by hand (poll), so that nothing here depends on
// wall-clock timing except the one timeout that must pass in the test of wait()'s timeout.
#include "net/task_group.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tillgate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// Runs every handler that is ready, without blocking.
void drain(asio::io_context& io) {
  io.restart();
  io.poll();
}

// The default logger's lines while it lives, as "level message".
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%l %v");
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

asio::awaitable<void> count_up(int& counter) {
  ++counter;
  co_return;
}

asio::awaitable<void> touch(std::shared_ptr<int> witness) {
  ++*witness;
  co_return;
}

asio::awaitable<void> fail_with_std_exception() {
  throw std::runtime_error("card reader on fire");
  co_return;
}

asio::awaitable<void> fail_with_int() {
  throw 42;
  co_return;
}

// Sleeps on `timer`, as a task honouring cancellation through an error code does.
asio::awaitable<void> sleep_on(asio::steady_timer& timer, boost::system::error_code& result) {
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  result = ec;
}

// Sleeps on `timer` with plain use_awaitable: cancelled, it ends by operation_aborted.
asio::awaitable<void> sleep_throwing(asio::steady_timer& timer, bool& resumed) {
  co_await timer.async_wait(asio::use_awaitable);
  resumed = true;
}

// Turns cancellation off, then sleeps on `gate` until someone cancels the gate itself.
asio::awaitable<void> ignore_cancellation(asio::steady_timer& gate, bool& ended) {
  auto disabled = asio::disable_cancellation();
  co_await asio::this_coro::reset_cancellation_state(disabled);
  boost::system::error_code ec;
  co_await gate.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  ended = true;
}

asio::awaitable<void> wait_for(net::TaskGroup& group, std::chrono::milliseconds timeout,
                               std::optional<bool>& result) {
  result = co_await group.wait(timeout);
}

constexpr auto kNever = asio::steady_timer::time_point::max();

TEST(TaskGroup, RunsSpawnedTasksToCompletion) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  int counter = 0;
  EXPECT_TRUE(group.spawn("first", count_up(counter)));
  EXPECT_TRUE(group.spawn("second", count_up(counter)));
  EXPECT_EQ(group.name(), "test");
  // Spawned from outside the executor's thread: started only when the executor runs.
  EXPECT_EQ(counter, 0);
  EXPECT_EQ(group.size(), 2u);
  io.run();
  EXPECT_EQ(counter, 2);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(group.failures(), 0u);
}

TEST(TaskGroup, LogsAndCountsAFailureWithoutPropagatingIt) {
  LogCapture log;
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "payments");
  std::vector<std::string> counted;
  group.set_failure_counter([&counted](std::string_view what) { counted.emplace_back(what); });
  int counter = 0;
  EXPECT_TRUE(group.spawn("reader", fail_with_std_exception()));
  EXPECT_TRUE(group.spawn("odd thrower", fail_with_int()));
  EXPECT_TRUE(group.spawn("fine", count_up(counter)));
  EXPECT_NO_THROW(io.run());
  EXPECT_EQ(counter, 1);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(group.failures(), 2u);
  EXPECT_THAT(counted, UnorderedElementsAre("reader", "odd thrower"));
  EXPECT_THAT(log.text(), HasSubstr("error payments: reader failed: card reader on fire"));
  EXPECT_THAT(log.text(), HasSubstr("error payments: odd thrower failed: "));
}

TEST(TaskGroup, CancelEndsTasksBlockedOnATimer) {
  LogCapture log;
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  asio::steady_timer quiet(io, 1h);
  asio::steady_timer loud(io, 1h);
  boost::system::error_code quiet_result;
  bool loud_resumed = false;
  EXPECT_TRUE(group.spawn("redirected", sleep_on(quiet, quiet_result)));
  EXPECT_TRUE(group.spawn("throwing", sleep_throwing(loud, loud_resumed)));
  drain(io);
  EXPECT_EQ(group.size(), 2u);

  group.cancel();
  EXPECT_EQ(group.size(), 2u);  // the completions go through the executor
  drain(io);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(quiet_result, asio::error::operation_aborted);
  EXPECT_FALSE(loud_resumed);
  // The operation_aborted exception of a cancelled task is its expected end.
  EXPECT_EQ(group.failures(), 0u);
  EXPECT_THAT(log.text(), ::testing::Not(HasSubstr("failed")));
}

TEST(TaskGroup, ACancelIssuedBeforeTheExecutorRunsStillReachesTheTask) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  asio::steady_timer timer(io, 1h);
  boost::system::error_code result;
  EXPECT_TRUE(group.spawn("early", sleep_on(timer, result)));  // not started: io not running
  group.cancel();  // goes through the executor, after the task's start
  io.run();        // returns: the task ended
  EXPECT_EQ(result, asio::error::operation_aborted);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(group.failures(), 0u);
}

TEST(TaskGroup, OperationAbortedFromATaskThatWasNotCancelledIsAFailure) {
  LogCapture log;
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  asio::steady_timer timer(io, 1h);
  bool resumed = false;
  EXPECT_TRUE(group.spawn("sleeper", sleep_throwing(timer, resumed)));
  drain(io);
  timer.cancel();  // not the group's cancellation
  drain(io);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(group.failures(), 1u);
  EXPECT_THAT(log.text(), HasSubstr("error test: sleeper failed: "));
}

TEST(TaskGroup, WaitReturnsTrueAsSoonAsTheLastTaskEnds) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  asio::steady_timer first_gate(io, kNever);
  asio::steady_timer second_gate(io, kNever);
  boost::system::error_code first_result;
  boost::system::error_code second_result;
  EXPECT_TRUE(group.spawn("first", sleep_on(first_gate, first_result)));
  EXPECT_TRUE(group.spawn("second", sleep_on(second_gate, second_result)));
  std::optional<bool> waited;
  asio::co_spawn(io, wait_for(group, std::chrono::milliseconds::max(), waited), asio::detached);
  drain(io);
  EXPECT_FALSE(waited.has_value());

  first_gate.cancel();
  drain(io);
  EXPECT_EQ(group.size(), 1u);
  EXPECT_FALSE(waited.has_value());

  // The last task ends by itself: within the same poll, wait() is woken (its timeout is
  // "never").
  second_gate.cancel();
  drain(io);
  ASSERT_TRUE(waited.has_value());
  EXPECT_TRUE(*waited);
  EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, WaitOnAnEmptyGroupReturnsTrueAtOnce) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  std::optional<bool> waited;
  asio::co_spawn(io, wait_for(group, 1h, waited), asio::detached);
  drain(io);
  ASSERT_TRUE(waited.has_value());
  EXPECT_TRUE(*waited);
}

TEST(TaskGroup, WaitGivesUpAtItsTimeoutOnATaskThatIgnoresCancellation) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  asio::steady_timer gate(io, kNever);
  bool ended = false;
  EXPECT_TRUE(group.spawn("stubborn", ignore_cancellation(gate, ended)));
  drain(io);

  group.close();
  group.cancel();
  std::optional<bool> waited;
  asio::co_spawn(io, wait_for(group, 50ms, waited), asio::detached);
  // The stubborn task keeps the context busy: run one handler at a time until the wait
  // ends (its 50 ms timeout), with seconds of slack before giving up.
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  io.restart();
  while (!waited && std::chrono::steady_clock::now() < give_up) {
    io.run_one_for(100ms);
  }
  ASSERT_TRUE(waited.has_value());
  EXPECT_FALSE(*waited);
  EXPECT_FALSE(ended);
  EXPECT_EQ(group.size(), 1u);

  gate.cancel();
  drain(io);
  EXPECT_TRUE(ended);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(group.failures(), 0u);
  waited.reset();
  asio::co_spawn(io, wait_for(group, 1h, waited), asio::detached);
  drain(io);
  ASSERT_TRUE(waited.has_value());
  EXPECT_TRUE(*waited);
}

TEST(TaskGroup, RefusesSpawnsAfterClose) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  EXPECT_FALSE(group.closed());
  group.close();
  EXPECT_TRUE(group.closed());
  auto witness = std::make_shared<int>(0);
  EXPECT_FALSE(group.spawn("late", touch(witness)));
  // The task's frame held a copy of the pointer: it was destroyed, unstarted.
  EXPECT_EQ(witness.use_count(), 1);
  drain(io);
  EXPECT_EQ(*witness, 0);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(group.failures(), 0u);
}

TEST(TaskGroup, SizeCountsTheLiveTasks) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  asio::steady_timer first_gate(io, kNever);
  asio::steady_timer second_gate(io, kNever);
  boost::system::error_code first_result;
  boost::system::error_code second_result;
  int counter = 0;
  EXPECT_EQ(group.size(), 0u);
  EXPECT_TRUE(group.spawn("first", sleep_on(first_gate, first_result)));
  EXPECT_TRUE(group.spawn("second", sleep_on(second_gate, second_result)));
  EXPECT_TRUE(group.spawn("quick", count_up(counter)));
  EXPECT_EQ(group.size(), 3u);
  drain(io);
  EXPECT_EQ(counter, 1);
  EXPECT_EQ(group.size(), 2u);
  first_gate.cancel();
  drain(io);
  EXPECT_EQ(group.size(), 1u);
  second_gate.cancel();
  drain(io);
  EXPECT_EQ(group.size(), 0u);
}

// A chain of handlers that sleeps on `timer` again each time it fires, until an error or its
// group's cancellation: what a WebSocket session's reads are.
struct Sleeper {
  Sleeper(net::TaskGroup::Chain chain, asio::steady_timer& on)
      : task(std::move(chain)), timer(on) {}

  net::TaskGroup::Chain task;
  asio::steady_timer& timer;
  int wakes = 0;
  boost::system::error_code last;
  bool ended = false;

  void sleep() {
    timer.expires_after(1h);
    timer.async_wait(asio::bind_cancellation_slot(
        task.slot(), [this](boost::system::error_code ec) { woken(ec); }));
  }
  void woken(boost::system::error_code ec) {
    task.slot().clear();
    last = ec;
    if (ec == asio::error::operation_aborted && !task.cancelled()) {
      ++wakes;  // cancelled by the test, not the group: sleeps again
      sleep();
      return;
    }
    ended = true;
    task.end();
  }
};

TEST(TaskGroup, AChainCountsAsATaskUntilItEnds) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  asio::steady_timer timer(io);
  Sleeper chain{group.join("chain"), timer};
  ASSERT_TRUE(chain.task);
  chain.sleep();
  EXPECT_EQ(group.size(), 1u);
  std::optional<bool> waited;
  asio::co_spawn(io, wait_for(group, std::chrono::milliseconds::max(), waited), asio::detached);
  timer.cancel();  // not the group's cancellation: the chain goes on
  drain(io);
  EXPECT_EQ(chain.wakes, 1);
  EXPECT_FALSE(chain.task.cancelled());
  EXPECT_FALSE(waited.has_value()) << "wait() ended while the chain was live";
  EXPECT_EQ(group.size(), 1u);

  // The group's cancel() reaches the pending wait through the chain's slot, and the chain
  // sees that it was cancelled: it ends, and wait() with it.
  group.cancel();
  EXPECT_TRUE(chain.task.cancelled());
  drain(io);
  EXPECT_TRUE(chain.ended);
  EXPECT_EQ(chain.last, asio::error::operation_aborted);
  EXPECT_EQ(chain.wakes, 1);
  EXPECT_FALSE(chain.task);
  ASSERT_TRUE(waited.has_value());
  EXPECT_TRUE(*waited);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(group.failures(), 0u);
}

TEST(TaskGroup, AChainIsRefusedAfterCloseAndEndsWhenDestroyed) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  {
    auto task = group.join("short");
    EXPECT_EQ(group.size(), 1u);
    auto moved = std::move(task);
    EXPECT_FALSE(task);  // NOLINT(bugprone-use-after-move): the moved-from chain is empty
    EXPECT_TRUE(moved);
    EXPECT_EQ(group.size(), 1u);
  }
  EXPECT_EQ(group.size(), 0u);
  group.close();
  EXPECT_FALSE(group.join("late"));
  EXPECT_EQ(group.size(), 0u);
}

TEST(TaskGroup, ATaskSpawnedOnTheExecutorStartsAtOnce) {
  asio::io_context io;
  net::TaskGroup group(io.get_executor(), "test");
  int counter = 0;
  std::optional<int> seen_right_after_spawn;
  auto spawner = [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(group.spawn("inner", count_up(counter)));
    seen_right_after_spawn = counter;
    co_return;
  };
  auto outer = spawner();
  asio::co_spawn(io, std::move(outer), asio::detached);
  drain(io);
  ASSERT_TRUE(seen_right_after_spawn.has_value());
  EXPECT_EQ(*seen_right_after_spawn, 1);
  EXPECT_EQ(group.size(), 0u);
}

}  // namespace
}  // namespace tillgate
