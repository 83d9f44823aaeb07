#pragma once
// One injectable source of wall time and of timers, so that tests (and simulations) can
// drive deadlines: SystemTimeSource in production, ManualTimeSource where time is moved
// by hand.
//
// Single-threaded like the rest of the network thread: a timer is armed, awaited and
// cancelled on the thread that runs its executor; ManualTimeSource is advanced on that
// thread too (or while it runs nothing, as a test does between poll() calls).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "domain/time.hpp"

namespace tillgate::net {

namespace detail {
struct ManualClock;  // time_source.cpp: ManualTimeSource's time and armed timers
}

// A re-armable one-shot timer. A new timer is not armed: its wait() ends only by
// cancellation. Deadlines are wall-clock instants of the TimeSource that made it.
class Timer {
 public:
  virtual ~Timer();
  // Arms the timer for `at` (in the past: due at once). A wait that is pending ends with
  // false, as an Asio timer's does when its expiry changes.
  virtual void expires_at(domain::Timestamp at) = 0;
  virtual void expires_after(std::chrono::milliseconds d) = 0;
  // true: the deadline came (at once, through the executor, when it already had);
  // false: cancelled, by cancel(), by re-arming, by destroying the timer, or because the
  // awaiting coroutine's cancellation slot fired (TaskGroup::cancel()): never an exception
  // for that. (A coroutine whose cancellation was already emitted before this co_await
  // gets Asio's operation_aborted exception from the co_await itself, as for any
  // awaitable.) One wait at a time; after it, the timer may be armed and awaited again.
  virtual boost::asio::awaitable<bool> wait() = 0;
  // Disarms the timer; a pending wait ends with false (even when the deadline had come but
  // the wait had not resumed yet). A later wait() ends only by cancellation, unless the
  // timer is armed again.
  virtual void cancel() = 0;
};

class TimeSource : public domain::Clock {
 public:
  // A timer whose wait completes on `executor`.
  virtual std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) = 0;
};

// now() is the system clock. Timers are Asio steady_timers armed with the wall deadline
// converted to steady time when armed (steady now + (at - now())): a wall-clock jump
// afterwards fires them neither early nor late.
class SystemTimeSource final : public TimeSource {
 public:
  [[nodiscard]] domain::Timestamp now() const override;
  std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) override;
};

// Time that moves only when told to. now() starts at `start`; advance() and set_now()
// move it and make every timer whose deadline has come complete, in deadline order
// (timers due at the same instant in the order they were armed). The completions are
// posted to each timer's executor, never run inside advance(): a test drives them with
// io_context::poll() / run_one(). Timers may outlive the source.
class ManualTimeSource final : public TimeSource {
 public:
  explicit ManualTimeSource(domain::Timestamp start);
  ~ManualTimeSource() override;
  ManualTimeSource(const ManualTimeSource&) = delete;
  ManualTimeSource& operator=(const ManualTimeSource&) = delete;

  [[nodiscard]] domain::Timestamp now() const override;
  std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) override;

  // Moves time forward by `d` (not negative) and fires every timer due by then.
  void advance(std::chrono::milliseconds d);
  // Jumps to `at`: forward fires the timers due by then; backwards fires nothing (timers
  // keep their wall deadlines, which are now further away).
  void set_now(domain::Timestamp at);
  // Timers armed and not yet due (cancelled and fired ones are not).
  [[nodiscard]] std::size_t pending_timers() const;
  // The earliest deadline of those, so a simulation can jump straight to the next event.
  [[nodiscard]] std::optional<domain::Timestamp> next_deadline() const;

 private:
  std::shared_ptr<detail::ManualClock> clock_;  // shared with the timers
};

}  // namespace tillgate::net
