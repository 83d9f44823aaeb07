// net::DeadlineQueue on a ManualTimeSource and an io_context driven by hand: deadlines fire
// in order, once, never early; moving and removing them; the queue's task lives only while
// a deadline is queued; a client that keeps its deadline in the past gets no busy loop.
#include "net/deadline_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/task_group.hpp"
#include "net/time_source.hpp"

namespace tillgate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using domain::Timestamp;

// A client that records each call in `calls` and then does what `then` says.
class Recorder final : public net::DeadlineQueue::Client {
 public:
  Recorder(std::string name, std::vector<std::string>& calls)
      : name_(std::move(name)), calls_(calls) {}
  void on_deadline() override {
    calls_.push_back(name_);
    if (then) {
      then();
    }
  }
  std::function<void()> then;
  net::DeadlineQueue::Entry entry{*this};

 private:
  std::string name_;
  std::vector<std::string>& calls_;
};

class DeadlineQueueTest : public ::testing::Test {
 protected:
  ~DeadlineQueueTest() override {
    group_.close();
    group_.cancel();
    drain();
  }
  void drain() {
    io_.restart();
    io_.poll();
  }
  void advance(std::chrono::milliseconds d) {
    time_.advance(d);
    drain();
  }
  [[nodiscard]] Timestamp in(std::chrono::milliseconds d) const { return time_.now() + d; }

  asio::io_context io_;
  net::ManualTimeSource time_{Timestamp{std::chrono::milliseconds{1'700'000'000'000}}};
  net::TaskGroup group_{io_.get_executor(), "test"};
  net::DeadlineQueue queue_{group_, time_};
  std::vector<std::string> calls_;
};

TEST_F(DeadlineQueueTest, FiresEachDeadlineOnceInOrderAndNeverEarly) {
  Recorder late("late", calls_);
  Recorder early("early", calls_);
  Recorder same("same", calls_);
  ASSERT_TRUE(queue_.schedule(late.entry, in(300ms)));
  ASSERT_TRUE(queue_.schedule(early.entry, in(100ms)));
  ASSERT_TRUE(queue_.schedule(same.entry, in(100ms)));
  drain();
  advance(99ms);
  EXPECT_TRUE(calls_.empty());
  advance(1ms);
  EXPECT_EQ(calls_, (std::vector<std::string>{"early", "same"}));
  EXPECT_FALSE(early.entry.queued());
  EXPECT_TRUE(late.entry.queued());
  advance(1s);
  EXPECT_EQ(calls_, (std::vector<std::string>{"early", "same", "late"}));
  advance(1s);
  EXPECT_EQ(calls_.size(), 3u);
  EXPECT_EQ(queue_.size(), 0u);
}

TEST_F(DeadlineQueueTest, AnEarlierDeadlineRearmsTheQueueAndARemovedOneNeverFires) {
  Recorder moved("moved", calls_);
  Recorder removed("removed", calls_);
  ASSERT_TRUE(queue_.schedule(moved.entry, in(10s)));
  ASSERT_TRUE(queue_.schedule(removed.entry, in(20ms)));
  drain();
  ASSERT_TRUE(queue_.schedule(moved.entry, in(10ms)));  // in place of its 10 s
  queue_.remove(removed.entry);
  drain();
  EXPECT_EQ(queue_.size(), 1u);
  advance(10ms);
  EXPECT_EQ(calls_, (std::vector<std::string>{"moved"}));
  advance(20s);
  EXPECT_EQ(calls_, (std::vector<std::string>{"moved"}));  // neither the 10 s nor "removed"
}

TEST_F(DeadlineQueueTest, ItsTaskLivesOnlyWhileADeadlineIsQueued) {
  Recorder client("client", calls_);
  EXPECT_EQ(group_.size(), 0u);
  ASSERT_TRUE(queue_.schedule(client.entry, in(5ms)));
  drain();
  EXPECT_EQ(group_.size(), 1u);
  advance(5ms);
  EXPECT_EQ(group_.size(), 0u);                         // the last deadline fired: the task ended
  ASSERT_TRUE(queue_.schedule(client.entry, in(5ms)));  // and a new one starts another
  drain();
  EXPECT_EQ(group_.size(), 1u);
  queue_.remove(client.entry);
  advance(5ms);  // the timer fires for nothing, finds the queue empty and ends
  EXPECT_EQ(group_.size(), 0u);
  EXPECT_EQ(calls_.size(), 1u);  // the first deadline only
}

TEST_F(DeadlineQueueTest, AClientThatReschedulesInThePastWaitsForTheNextTick) {
  Recorder stuck("stuck", calls_);
  Recorder other("other", calls_);
  stuck.then = [&] { ASSERT_TRUE(queue_.schedule(stuck.entry, time_.now() - 1s)); };
  ASSERT_TRUE(queue_.schedule(stuck.entry, in(1ms)));
  ASSERT_TRUE(queue_.schedule(other.entry, in(1ms)));
  drain();
  advance(1ms);
  // Once each, not a loop: "stuck" is due again one tick later, and time stands still.
  EXPECT_EQ(calls_, (std::vector<std::string>{"stuck", "other"}));
  drain();
  EXPECT_EQ(calls_.size(), 2u);
  advance(1ms);
  EXPECT_EQ(calls_, (std::vector<std::string>{"stuck", "other", "stuck"}));
  stuck.then = nullptr;
  queue_.remove(stuck.entry);
  drain();
}

TEST_F(DeadlineQueueTest, AClosedGroupStartsNoTaskAndACancelledTaskLeavesTheQueue) {
  Recorder client("client", calls_);
  ASSERT_TRUE(queue_.schedule(client.entry, in(1s)));
  drain();
  group_.close();
  Recorder late("late", calls_);
  ASSERT_TRUE(queue_.schedule(late.entry, in(2s)));  // the task runs: still queued
  group_.cancel();
  drain();
  EXPECT_EQ(group_.size(), 0u);
  queue_.remove(client.entry);
  queue_.remove(late.entry);
  EXPECT_FALSE(queue_.schedule(client.entry, in(1s)));  // no task, and none may start
  EXPECT_FALSE(client.entry.queued());
  advance(5s);
  EXPECT_TRUE(calls_.empty());
}

// What a shutdown does (the payment coordinator's): the deadlines taken out, the task
// cancelled. No timer stays armed for a deadline that went.
TEST_F(DeadlineQueueTest, ACancelledTaskLeavesNoTimerArmed) {
  Recorder client("client", calls_);
  ASSERT_TRUE(queue_.schedule(client.entry, in(1s)));
  drain();
  EXPECT_EQ(time_.pending_timers(), 1u);
  queue_.remove(client.entry);
  group_.close();
  group_.cancel();
  drain();
  EXPECT_EQ(group_.size(), 0u);
  EXPECT_EQ(time_.pending_timers(), 0u);
}

// What the HTTP server's shutdown does: the group closed, the queue wound down. The task
// ends with the last deadline's removal, not when its timer would have come for it, and at
// once when nothing is queued; while a deadline is queued it still fires.
TEST_F(DeadlineQueueTest, AWoundDownQueueEndsItsTaskWithTheLastRemoval) {
  Recorder first("first", calls_);
  Recorder second("second", calls_);
  ASSERT_TRUE(queue_.schedule(first.entry, in(60s)));
  ASSERT_TRUE(queue_.schedule(second.entry, in(1s)));
  drain();
  group_.close();
  queue_.wind_down();
  drain();
  EXPECT_EQ(group_.size(), 1u);  // deadlines are queued: the task stays
  advance(1s);
  EXPECT_EQ(calls_, (std::vector<std::string>{"second"}));
  EXPECT_EQ(group_.size(), 1u);
  queue_.remove(first.entry);  // the last one
  drain();
  EXPECT_EQ(group_.size(), 0u) << "the task waited for a deadline that was removed";
  EXPECT_EQ(time_.pending_timers(), 0u);
  EXPECT_EQ(calls_.size(), 1u);
}

TEST_F(DeadlineQueueTest, WindingDownAQueueWhoseDeadlinesWentEndsItsTaskAtOnce) {
  Recorder client("client", calls_);
  ASSERT_TRUE(queue_.schedule(client.entry, in(60s)));
  drain();
  queue_.remove(client.entry);  // the task sleeps on for the 60 s
  drain();
  EXPECT_EQ(group_.size(), 1u);
  group_.close();
  queue_.wind_down();
  drain();
  EXPECT_EQ(group_.size(), 0u);
  EXPECT_EQ(time_.pending_timers(), 0u);
  EXPECT_TRUE(calls_.empty());
}

// Thousands of deadlines due at once (the heartbeats of terminals that connected
// together) are called a bounded number per turn, with what became ready meanwhile (a
// payment's handler) run between the turns, not after all of them.
TEST_F(DeadlineQueueTest, ManyDueAtOnceAreCalledABoundedNumberPerTurn) {
  constexpr std::size_t kDue = 3 * net::DeadlineQueue::kMaxFiredPerTurn + 10;
  std::vector<std::unique_ptr<Recorder>> clients;
  for (std::size_t i = 0; i < kDue; ++i) {
    clients.push_back(std::make_unique<Recorder>("c" + std::to_string(i), calls_));
    ASSERT_TRUE(queue_.schedule(clients.back()->entry, in(10ms)));
  }
  drain();
  time_.advance(10ms);
  asio::post(io_, [this] { calls_.emplace_back("other"); });
  drain();
  ASSERT_EQ(calls_.size(), kDue + 1);
  const auto other = std::find(calls_.begin(), calls_.end(), "other") - calls_.begin();
  EXPECT_LE(static_cast<std::size_t>(other), net::DeadlineQueue::kMaxFiredPerTurn);
  std::erase(calls_, "other");
  for (std::size_t i = 0; i < kDue; ++i) {
    EXPECT_EQ(calls_[i], "c" + std::to_string(i));  // in order, each once
  }
  EXPECT_EQ(queue_.size(), 0u);
}

}  // namespace
}  // namespace tillgate
