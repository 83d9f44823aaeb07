#include "net/task_group.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <cassert>
#include <cstdint>
#include <exception>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tillgate::net {

namespace asio = boost::asio;

struct TaskGroup::Impl {
  Impl(asio::any_io_executor executor_in, std::string name_in)
      : executor(std::move(executor_in)), name(std::move(name_in)), drained(executor) {}

  struct Task {
    std::string what;
    // Bound to the task's completion handler: co_spawn connects it to the coroutine's
    // cancellation state; a chain binds its pending operation to it. Lives (unordered_map
    // nodes do not move) until the task ended.
    asio::cancellation_signal signal;
    bool cancelled = false;  // cancel() reached it
  };

  bool start(std::string_view what, asio::awaitable<void> task);
  void finished(std::uint64_t id, std::exception_ptr error);
  void failed(const std::string& what, std::string_view message);

  asio::any_io_executor executor;
  std::string name;
  std::unordered_map<std::uint64_t, Task> tasks;
  std::uint64_t next_id = 0;
  bool closed = false;
  bool waiting = false;  // a wait() is suspended
  std::size_t failures = 0;
  std::function<void(std::string_view)> failure_counter;
  // wait() sleeps on it until its timeout; the completion of the last task cancels it.
  asio::steady_timer drained;
};

void TaskGroup::Impl::failed(const std::string& what, std::string_view message) {
  ++failures;
  spdlog::error("{}: {} failed: {}", name, what, message);
  if (failure_counter) {
    failure_counter(what);
  }
}

// The completion handler of every task: it runs after the coroutine has ended, so the
// task's signal (and the cancellation state co_spawn built on it) can go.
void TaskGroup::Impl::finished(std::uint64_t id, std::exception_ptr error) {
  auto node = tasks.extract(id);
  assert(!node.empty());
  const Task& task = node.mapped();
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const boost::system::system_error& e) {
      if (task.cancelled && e.code() == asio::error::operation_aborted) {
        spdlog::debug("{}: {} ended by cancellation", name, task.what);
      } else {
        failed(task.what, e.what());
      }
    } catch (const std::exception& e) {
      failed(task.what, e.what());
    } catch (...) {
      failed(task.what, "an exception not derived from std::exception");
    }
  }
  if (tasks.empty()) {
    drained.cancel();  // wakes wait(); nothing when no wait() is suspended
  }
}

TaskGroup::TaskGroup(asio::any_io_executor executor, std::string name)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(name))) {}

TaskGroup::~TaskGroup() {
  assert(impl_->tasks.empty() &&
         "a TaskGroup is destroyed with live tasks: close(), cancel() and wait() first");
  assert(!impl_->waiting && "a TaskGroup is destroyed while a wait() is suspended");
}

bool TaskGroup::spawn(std::string_view what, asio::awaitable<void> task) {
  return impl_->start(what, std::move(task));
}

bool TaskGroup::Impl::start(std::string_view what, asio::awaitable<void> task) {
  if (closed) {
    spdlog::debug("{}: {} refused: the group is closed", name, what);
    return false;  // `task` is destroyed unstarted with this frame's parameter
  }
  const std::uint64_t id = next_id++;
  auto [entry, inserted] = tasks.try_emplace(id);
  assert(inserted);
  entry->second.what = std::string(what);
  auto on_done = [group = this, id](std::exception_ptr error) {
    group->finished(id, std::move(error));
  };
  // The task may run (up to its first suspension) inside co_spawn: nothing of `entry` is
  // used after this call. Its completion handler is always posted, never run in here.
  asio::co_spawn(executor, std::move(task),
                 asio::bind_cancellation_slot(entry->second.signal.slot(), std::move(on_done)));
  return true;
}

TaskGroup::Chain TaskGroup::join(std::string_view what) {
  Impl& impl = *impl_;
  if (impl.closed) {
    spdlog::debug("{}: {} refused: the group is closed", impl.name, what);
    return {};
  }
  const std::uint64_t id = impl.next_id++;
  auto [entry, inserted] = impl.tasks.try_emplace(id);
  assert(inserted);
  entry->second.what = std::string(what);
  return {&impl, id};
}

TaskGroup::Chain::Chain(Chain&& other) noexcept
    : group_(std::exchange(other.group_, nullptr)), id_(other.id_) {}

TaskGroup::Chain& TaskGroup::Chain::operator=(Chain&& other) noexcept {
  if (this != &other) {
    end();
    group_ = std::exchange(other.group_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

// A chain destroyed before it ended (its pending operation's handler went with the loop
// that held it): what that operation left in the slot goes first.
TaskGroup::Chain::~Chain() {
  if (group_) {
    slot().clear();
    end();
  }
}

asio::cancellation_slot TaskGroup::Chain::slot() const {
  assert(group_ && "a chain's slot after its end");
  return group_->tasks.at(id_).signal.slot();
}

bool TaskGroup::Chain::cancelled() const {
  return group_ && group_->tasks.at(id_).cancelled;
}

// Directly, not posted as a coroutine task's completion is: the chain calls it from a
// handler of its own, after its last operation completed (and its handler cleared the
// slot: an operation leaves its cancellation handler there), never from cancel()'s emit.
void TaskGroup::Chain::end() {
  if (!group_) {
    return;
  }
  assert(!slot().has_handler() && "a chain ends with an operation pending on its slot");
  std::exchange(group_, nullptr)->finished(id_, nullptr);
}

void TaskGroup::set_failure_counter(std::function<void(std::string_view what)> counter) {
  impl_->failure_counter = std::move(counter);
}

std::size_t TaskGroup::failures() const {
  return impl_->failures;
}

void TaskGroup::close() {
  impl_->closed = true;
}

bool TaskGroup::closed() const {
  return impl_->closed;
}

void TaskGroup::cancel(asio::cancellation_type type) {
  Impl& impl = *impl_;
  // Emitting reaches the operation the task is suspended on, which completes through the
  // executor, not in here; the ids are taken first all the same, so that nothing a slot
  // handler does to the map can invalidate this loop.
  std::vector<std::uint64_t> ids;
  ids.reserve(impl.tasks.size());
  for (const auto& [id, task] : impl.tasks) {
    ids.push_back(id);
  }
  for (const std::uint64_t id : ids) {
    if (const auto it = impl.tasks.find(id); it != impl.tasks.end()) {
      it->second.cancelled = true;
      it->second.signal.emit(type);
    }
  }
}

asio::awaitable<bool> TaskGroup::wait(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  assert(!impl.waiting && "TaskGroup::wait() awaited twice at once");
  if (impl.tasks.empty()) {
    co_return true;
  }
  impl.waiting = true;
  // now + timeout, held within the steady clock's range (a timeout of milliseconds::max()).
  const auto now = std::chrono::steady_clock::now();
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(
      asio::steady_timer::time_point::max() - now);
  impl.drained.expires_at(timeout >= room ? asio::steady_timer::time_point::max() : now + timeout);
  boost::system::error_code ec;  // operation_aborted: woken by the last task (or cancelled)
  co_await impl.drained.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  impl.waiting = false;
  co_return impl.tasks.empty();
}

std::size_t TaskGroup::size() const {
  return impl_->tasks.size();
}

const std::string& TaskGroup::name() const {
  return impl_->name;
}

const asio::any_io_executor& TaskGroup::executor() const {
  return impl_->executor;
}

}  // namespace tillgate::net
