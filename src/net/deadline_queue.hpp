#pragma once
// One timer for the deadlines of many objects. A WebSocket surface puts the next deadline of
// each of its sessions (the open deadline, the heartbeat's ping or pong, a write's) in one
// queue, and one task of the surface's group waits for the earliest of them all, instead of
// a timer, a coroutine and a task per session: an idle connection then holds a map node
// here rather than about a kilobyte and a half of timer, frames and task bookkeeping. The
// payment coordinator does the same with its payments' deadlines.
//
// The task runs only while the queue holds a deadline: it is spawned by the first one and
// ends when the last is gone, so a surface whose sessions have all ended leaves nothing in
// its group. Time and the timer come from the TimeSource, so tests drive every deadline.
//
// Single-threaded: every call is made on the thread that runs the group's executor.
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>

#include "domain/time.hpp"

namespace tillgate::net {

class TaskGroup;
class TimeSource;
class Timer;

class DeadlineQueue {
 public:
  // What a deadline is for.
  class Client {
   public:
    // The client's deadline came (time.now() has reached it). Its entry is no longer
    // queued when this runs, so the client may schedule it again.
    virtual void on_deadline() = 0;

   protected:
    ~Client() = default;
  };

  class Entry;
  using Deadlines = std::multimap<domain::Timestamp, Entry*>;

  // A client's place in the queue: at most one deadline. Default: not queued. The owner
  // removes it (or lets it fire) before the entry or the client is destroyed (asserted).
  class Entry {
   public:
    explicit Entry(Client& client) : client_(&client) {}
    ~Entry();
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    [[nodiscard]] bool queued() const { return position_.has_value(); }

   private:
    friend class DeadlineQueue;
    Client* client_;
    std::optional<Deadlines::iterator> position_;
  };

  // At most this many clients are called in one turn of the executor; more that are due
  // wait for the next turn, after the handlers that became ready meanwhile. Without it, the
  // heartbeat pings of thousands of terminals that connected together (after a restart, or
  // a bench) ran in one handler: 19,636 pings held the network thread for about 0.3 s, and
  // every payment with it (docs/performance.md, "Growth").
  static constexpr std::size_t kMaxFiredPerTurn = 64;

  // The task is spawned in `group`, which outlives the queue's last deadline.
  DeadlineQueue(TaskGroup& group, TimeSource& time);
  // Asserts that no deadline is queued.
  ~DeadlineQueue();
  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;

  // Queues `entry` for `at`, in place of the deadline it had. Its client's on_deadline()
  // runs once, from the queue's task, when time reaches `at` (at once through the
  // executor when `at` has passed). A deadline scheduled from on_deadline() is at least
  // one tick after the time being fired: a client that keeps its deadline in the past (a
  // write that has not failed yet) gets no busy loop. false, with nothing queued, when the queue's
  // task is needed and the group is closed: a surface that is shutting down starts no deadline.
  bool schedule(Entry& entry, domain::Timestamp at);
  // Takes the entry's deadline out, if it has one.
  void remove(Entry& entry);
  // The owner is shutting down (its group closed): the task ends as soon as no deadline is
  // queued (at once if none is), instead of sleeping until the timer comes for a deadline
  // that was removed, which a shutdown waiting for the group would wait for too.
  void wind_down();

  [[nodiscard]] std::size_t size() const { return deadlines_.size(); }

 private:
  boost::asio::awaitable<void> run();
  // Calls the clients whose deadline has come, earliest first, at most kMaxFiredPerTurn.
  void fire_due();

  TaskGroup& group_;
  TimeSource& time_;
  std::unique_ptr<Timer> timer_;
  Deadlines deadlines_;
  std::optional<domain::Timestamp> armed_at_;  // what timer_ is armed for
  // While fire_due() calls clients: the time it fires up to.
  std::optional<domain::Timestamp> firing_up_to_;
  bool running_ = false;       // the task is live
  bool winding_down_ = false;  // wind_down() was called
};

}  // namespace tillgate::net
