#include "net/deadline_queue.hpp"

#include <cassert>
#include <utility>

#include "net/task_group.hpp"
#include "net/time_source.hpp"

namespace tillgate::net {

namespace asio = boost::asio;
using domain::Timestamp;

DeadlineQueue::Entry::~Entry() {
  assert(!queued() && "a DeadlineQueue entry is destroyed while queued: remove() it first");
}

DeadlineQueue::DeadlineQueue(TaskGroup& group, TimeSource& time) : group_(group), time_(time) {}

DeadlineQueue::~DeadlineQueue() {
  assert(deadlines_.empty() && "a DeadlineQueue is destroyed with deadlines queued");
  assert(!running_ && "a DeadlineQueue is destroyed while its task runs");
}

bool DeadlineQueue::schedule(Entry& entry, Timestamp at) {
  remove(entry);
  if (firing_up_to_ && at <= *firing_up_to_) {
    at = *firing_up_to_ + Timestamp::duration{1};
  }
  if (!running_) {
    if (!timer_) {
      timer_ = time_.make_timer(group_.executor());
    }
    // Set before the spawn: the task runs up to its first suspension inside it.
    running_ = true;
    entry.position_ = deadlines_.emplace(at, &entry);
    if (!group_.spawn("deadlines", run())) {
      running_ = false;
      remove(entry);
      return false;
    }
    return true;
  }
  entry.position_ = deadlines_.emplace(at, &entry);
  // An earlier deadline than the one the timer waits for: re-armed, the task's wait ends
  // (false) and it waits again, for this one.
  if (!armed_at_ || at < *armed_at_) {
    armed_at_ = at;
    timer_->expires_at(at);
  }
  return true;
}

void DeadlineQueue::remove(Entry& entry) {
  if (entry.position_) {
    deadlines_.erase(*entry.position_);
    entry.position_.reset();
  }
  // The timer stays armed for a deadline that went: it fires for nothing and re-arms,
  // which costs less than re-arming at every removal. Not when winding down: then the
  // last removal ends the task.
  if (winding_down_ && deadlines_.empty() && running_) {
    armed_at_.reset();
    timer_->cancel();
  }
}

void DeadlineQueue::wind_down() {
  winding_down_ = true;
  if (deadlines_.empty() && running_) {
    armed_at_.reset();
    timer_->cancel();  // the task's wait ends (false) and it finds nothing queued
  }
}

asio::awaitable<void> DeadlineQueue::run() {
  // Whatever ends the task (the queue emptied, or the group's cancellation, which ends the
  // next co_await with an exception), a later schedule() starts another; the timer is left
  // disarmed (a deadline removed during a shutdown keeps no timer armed).
  struct Running {
    DeadlineQueue& queue;
    ~Running() {
      queue.running_ = false;
      queue.armed_at_.reset();
      queue.timer_->cancel();
    }
  } running{*this};
  while (!deadlines_.empty()) {
    const Timestamp next = deadlines_.begin()->first;
    if (armed_at_ != next) {
      armed_at_ = next;
      timer_->expires_at(next);
    }
    // false: re-armed for an earlier deadline, or cancelled.
    if (co_await timer_->wait()) {
      armed_at_.reset();
      timer_->cancel();  // a due timer's next wait would complete at once
      fire_due();
    }
  }
}

void DeadlineQueue::fire_due() {
  const Timestamp now = time_.now();
  firing_up_to_ = now;
  // The rest of what is due is next in the queue: run() waits for it at once, and the
  // wait completes after the handlers already ready.
  for (std::size_t fired = 0;
       fired < kMaxFiredPerTurn && !deadlines_.empty() && deadlines_.begin()->first <= now;
       ++fired) {
    Entry& entry = *deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    entry.position_.reset();
    entry.client_->on_deadline();
  }
  firing_up_to_.reset();
}

}  // namespace tillgate::net
