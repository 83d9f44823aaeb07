#include "net/time_source.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>
#include <cstdint>
#include <map>
#include <utility>

namespace tillgate::net {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

Timer::~Timer() = default;

namespace {

// at + d, held within Timestamp's range (Timestamp::max() is "never").
domain::Timestamp add_saturating(domain::Timestamp at, milliseconds d) {
  if (d > milliseconds::zero() && at > domain::Timestamp::max() - d) {
    return domain::Timestamp::max();
  }
  if (d < milliseconds::zero() && at < domain::Timestamp::min() - d) {
    return domain::Timestamp::min();
  }
  return at + d;
}

// The steady instant `d` from now, held within the steady clock's range.
SteadyTime steady_after(milliseconds d) {
  const SteadyTime now = std::chrono::steady_clock::now();
  if (d <= milliseconds::zero()) {
    return now;
  }
  const auto room = std::chrono::duration_cast<milliseconds>(SteadyTime::max() - now);
  if (d >= room) {
    return SteadyTime::max();
  }
  return now + d;
}

// The steady instant matching the wall-clock `at`, when the wall clock says `now`.
SteadyTime steady_at(domain::Timestamp at, domain::Timestamp now) {
  if (at <= now) {
    return std::chrono::steady_clock::now();
  }
  // at - now without overflow: at > now, so only a `now` far before the epoch could.
  if (now < domain::Timestamp{} && at > domain::Timestamp::max() + now.time_since_epoch()) {
    return SteadyTime::max();
  }
  return steady_after(at - now);
}

// One wait() of a timer, shared by the awaiting coroutine and the timer: the timer may be
// re-armed, cancelled or destroyed while the coroutine has not resumed yet, so once
// suspended the coroutine reads only this.
struct WaitState {
  bool deadline_came = false;
  bool cancelled = false;
  bool done = false;  // the coroutine resumed
};

class WaitTracking {
 protected:
  // A wait whose outcome is still open.
  [[nodiscard]] bool pending() const { return wait_ && !wait_->done && !wait_->cancelled; }
  std::shared_ptr<WaitState> begin_wait() {
    assert(!pending() && "Timer::wait() awaited twice at once");
    wait_ = std::make_shared<WaitState>();
    return wait_;
  }
  // Marks the pending wait cancelled; true if there was one (the caller then cancels its
  // Asio operation).
  bool cancel_wait() {
    if (!pending()) {
      return false;
    }
    wait_->cancelled = true;
    return true;
  }

  std::shared_ptr<WaitState> wait_;
};

class SystemTimer final : public Timer, WaitTracking {
 public:
  explicit SystemTimer(asio::any_io_executor executor)
      : timer_(std::move(executor), SteadyTime::max()) {}
  ~SystemTimer() override { cancel_wait(); }  // ~steady_timer then aborts the operation

  void expires_at(domain::Timestamp at) override {
    cancel_wait();
    timer_.expires_at(steady_at(at, domain::SystemClock{}.now()));  // aborts a pending wait
  }
  void expires_after(milliseconds d) override {
    cancel_wait();
    timer_.expires_at(steady_after(d));
  }
  void cancel() override {
    cancel_wait();
    timer_.expires_at(SteadyTime::max());
  }

  asio::awaitable<bool> wait() override {
    const auto wait = begin_wait();
    // The operation takes the awaiting coroutine's cancellation slot (redirect_error passes
    // it on): a slot that fires aborts it, and redirect_error turns that into `ec`.
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    wait->done = true;  // `this` may be gone: only `wait` from here
    co_return !ec && !wait->cancelled;
  }

 private:
  asio::steady_timer timer_;
};

}  // namespace

domain::Timestamp SystemTimeSource::now() const {
  return domain::SystemClock{}.now();
}

std::unique_ptr<Timer> SystemTimeSource::make_timer(asio::any_io_executor executor) {
  return std::make_unique<SystemTimer>(std::move(executor));
}

namespace detail {

class ManualTimer;

struct ManualClock {
  explicit ManualClock(domain::Timestamp start) : now(start) {}

  // Completes, in deadline order, every armed timer due by `now`.
  void fire_due();

  domain::Timestamp now;
  std::uint64_t next_sequence = 0;  // arming order, for timers due at the same instant
  using Key = std::pair<domain::Timestamp, std::uint64_t>;
  std::map<Key, ManualTimer*> armed;  // armed and not yet due
};

// An Asio steady_timer that never expires on its own carries the waiting coroutine: the
// ManualClock cancels it when the deadline comes, with the wait marked as fired, so the
// completion goes through the timer's executor like any timer's.
class ManualTimer final : public Timer, WaitTracking {
 public:
  ManualTimer(std::shared_ptr<ManualClock> clock, asio::any_io_executor executor)
      : clock_(std::move(clock)), inner_(std::move(executor), SteadyTime::max()) {}
  ~ManualTimer() override {
    cancel_wait();  // ~steady_timer then aborts the operation
    disarm();
  }

  void expires_at(domain::Timestamp at) override {
    cancel();
    if (at <= clock_->now) {
      due_ = true;
      return;
    }
    key_ = ManualClock::Key{at, clock_->next_sequence++};
    clock_->armed.emplace(*key_, this);
  }
  void expires_after(milliseconds d) override { expires_at(add_saturating(clock_->now, d)); }
  void cancel() override {
    if (cancel_wait()) {
      inner_.cancel();
    }
    disarm();
  }

  asio::awaitable<bool> wait() override {
    const auto wait = begin_wait();
    if (due_) {
      // Already due: completes through the executor all the same, as an Asio timer does.
      wait->deadline_came = true;
      auto executor = inner_.get_executor();
      co_await asio::post(executor, asio::use_awaitable);
    } else {
      // operation_aborted either way: the deadline came (deadline_came), or the wait was
      // cancelled (cancel(), re-arming, the destructor, or the coroutine's cancellation
      // slot, which redirect_error passes on to the operation).
      boost::system::error_code ec;
      co_await inner_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    wait->done = true;  // `this` may be gone: only `wait` from here
    co_return wait->deadline_came && !wait->cancelled;
  }

  // The clock's time reached the deadline; the clock already took the timer off `armed`.
  void reached() {
    key_.reset();
    due_ = true;
    if (pending()) {
      wait_->deadline_came = true;
      inner_.cancel();  // posts the completion; nothing runs in here
    }
  }

 private:
  void disarm() {
    if (key_) {
      clock_->armed.erase(*key_);
      key_.reset();
    }
    due_ = false;
  }

  std::shared_ptr<ManualClock> clock_;
  asio::steady_timer inner_;
  std::optional<ManualClock::Key> key_;  // while in clock_->armed
  bool due_ = false;                     // armed, and the deadline came
};

void ManualClock::fire_due() {
  while (!armed.empty() && armed.begin()->first.first <= now) {
    ManualTimer* timer = armed.begin()->second;
    armed.erase(armed.begin());
    timer->reached();
  }
}

}  // namespace detail

ManualTimeSource::ManualTimeSource(domain::Timestamp start)
    : clock_(std::make_shared<detail::ManualClock>(start)) {}

ManualTimeSource::~ManualTimeSource() = default;

domain::Timestamp ManualTimeSource::now() const {
  return clock_->now;
}

std::unique_ptr<Timer> ManualTimeSource::make_timer(asio::any_io_executor executor) {
  return std::make_unique<detail::ManualTimer>(clock_, std::move(executor));
}

void ManualTimeSource::advance(milliseconds d) {
  assert(d >= milliseconds::zero() && "ManualTimeSource::advance() moves time forward only");
  set_now(add_saturating(clock_->now, d));
}

void ManualTimeSource::set_now(domain::Timestamp at) {
  clock_->now = at;
  clock_->fire_due();  // nothing is due after a jump backwards
}

std::size_t ManualTimeSource::pending_timers() const {
  return clock_->armed.size();
}

std::optional<domain::Timestamp> ManualTimeSource::next_deadline() const {
  if (clock_->armed.empty()) {
    return std::nullopt;
  }
  return clock_->armed.begin()->first.first;
}

}  // namespace tillgate::net
