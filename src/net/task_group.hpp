#pragma once
// TaskGroup: owns every coroutine spawned through it (and every chain of completion
// handlers joined to it, TaskGroup::Chain), in the manner of Beast's task_group example and
// Seastar's gate. Each task runs with a cancellation signal of its own bound to it, so the
// group can cancel all of them and wait, without polling, until they ended.
//
// Single-threaded: every call is made on the thread that runs the group's executor (or
// before that executor runs at all), like everything else on the network thread.
//
// The lifecycle, in order: spawn() while running; at the end close() (no new spawns),
// cancel() (every live task is asked to stop) and co_await wait(timeout); only then may
// the group be destroyed. The destructor asserts that no task is live: a task's
// completion handler refers to its group.
//
// Cancellation is cooperative. A task honours it when it co_awaits an Asio operation (a
// timer, a socket, a net::Timer of time_source.hpp): that operation ends at once, with
// operation_aborted (an error code under redirect_error, a boost::system::system_error
// otherwise), and any later co_await in the task throws operation_aborted (Asio's
// throw_if_cancelled, on by default). A task that ignores cancellation (it disabled it
// with this_coro::reset_cancellation_state, or it waits for something that Asio cannot
// cancel) keeps wait() waiting until its timeout.
// Asio coroutines let only terminal cancellation through unless the task itself resets its
// cancellation state (this_coro::reset_cancellation_state(enable_partial_cancellation()),
// ...), so cancel() emits terminal by default.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tillgate::net {

class TaskGroup {
  struct Impl;

 public:
  // `name` prefixes every log line of the group ("{name}: {what} failed: ...").
  TaskGroup(boost::asio::any_io_executor executor, std::string name);
  // Asserts that no task is live (close, cancel and wait first).
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `task` on the group's executor (at once when called on that executor's thread:
  // it runs up to its first suspension before spawn returns), with a cancellation signal
  // of its own. `what` names the task in the log. After close() the task is refused and
  // destroyed unstarted: false.
  //
  // A task that ends by an exception is logged at error level ("{group}: {what} failed:
  // {message}", also for exceptions not derived from std::exception), counted in
  // failures() and reported to the failure counter; the exception goes no further. The
  // exception that cancellation causes (a system_error with operation_aborted, from a
  // task the group cancelled) is the expected end of a cancelled task, not a failure: it
  // is logged at debug level only.
  bool spawn(std::string_view what, boost::asio::awaitable<void> task);

  // A task written as a chain of completion handlers instead of a coroutine, where a
  // suspended coroutine would cost more than the task holds (an idle WebSocket session: its
  // frames, beside one pending read). It is a live task of the group from join() until
  // end() or its destruction: size() counts it and wait() waits for it. cancel() reaches
  // the operation it has pending when that operation is bound to slot()
  // (asio::bind_cancellation_slot); between operations the chain asks cancelled(), where a
  // coroutine's next co_await would throw, and starts nothing more once it is. A chain
  // logs its own failures (failures() does not count them).
  class Chain {
   public:
    Chain() = default;  // no task
    Chain(Chain&& other) noexcept;
    Chain& operator=(Chain&& other) noexcept;
    Chain(const Chain&) = delete;
    Chain& operator=(const Chain&) = delete;
    ~Chain();  // end()

    // Each operation of the chain binds its handler to it. Not after end().
    [[nodiscard]] boost::asio::cancellation_slot slot() const;
    // cancel() reached the task.
    [[nodiscard]] bool cancelled() const;
    // The task ended: the group counts it no more (wait() wakes when it was the last). With
    // no operation pending on slot() (asserted: each completion of the chain clears the
    // slot, where an Asio operation leaves its cancellation handler). Nothing when ended
    // already.
    void end();
    explicit operator bool() const { return group_ != nullptr; }

   private:
    friend class TaskGroup;
    Chain(Impl* group, std::uint64_t id) : group_(group), id_(id) {}
    Impl* group_ = nullptr;
    std::uint64_t id_ = 0;
  };
  // Joins a chain task to the group; `what` names it in the log. Empty (no task) after
  // close().
  [[nodiscard]] Chain join(std::string_view what);

  // Called with `what` for each task that failed (see spawn), e.g. to count it in the
  // metrics. Must not throw.
  void set_failure_counter(std::function<void(std::string_view what)> counter);
  // How many tasks failed so far.
  [[nodiscard]] std::size_t failures() const;

  // No new spawns from now on. Tasks already spawned go on.
  void close();
  [[nodiscard]] bool closed() const;
  // Emits `type` to every live task (tasks spawned afterwards are not affected). On the
  // executor's thread it reaches them at once; before the executor runs, co_spawn delivers
  // it through the executor, after the tasks have started.
  void cancel(boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal);
  // Completes as soon as the group is empty (woken by the last task's completion, no
  // polling) or when `timeout` has passed, whichever comes first: true when the group is
  // empty. Meant for after close(): a task spawned meanwhile keeps the group non-empty.
  // Not to be awaited twice at once (asserted), nor from a task of the group itself.
  boost::asio::awaitable<bool> wait(std::chrono::milliseconds timeout);

  // Live tasks: spawned and not yet ended.
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] const std::string& name() const;
  // Where the tasks run.
  [[nodiscard]] const boost::asio::any_io_executor& executor() const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tillgate::net
