#include "store/async_store.hpp"

#include <algorithm>
#include <stdexcept>

namespace tillgate::store {

using store::Store;
using store::StoreError;
using Clock = std::chrono::steady_clock;

AsyncStore::AsyncStore(std::unique_ptr<Store> store, std::size_t max_queue,
                       StoreBatchSettings batch)
    : AsyncStore(std::move(store), {}, max_queue, batch) {}

AsyncStore::AsyncStore(std::unique_ptr<Store> store, std::vector<std::unique_ptr<Store>> readers,
                       std::size_t max_queue, StoreBatchSettings batch)
    : store_(std::move(store)),
      readers_(std::move(readers)),
      max_queue_(max_queue),
      batch_(batch),
      readers_running_(readers_.size()) {
  if (batch_.max_calls == 0) {
    throw std::invalid_argument("AsyncStore: a batch must take at least one call");
  }
  reader_threads_.reserve(readers_.size());
  for (auto& reader : readers_) {
    reader_threads_.emplace_back([this, &reader] { run_reader_thread(*reader); });
  }
  thread_ = std::thread([this] { run_store_thread(); });
}

AsyncStore::~AsyncStore() {
  stop();
}

void AsyncStore::set_observer(StoreBatchObserver* observer) noexcept {
  observer_.store(observer, std::memory_order_release);
}

void AsyncStore::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_or_stopping_.notify_all();
  read_queued_or_stopping_.notify_all();
  std::call_once(joined_, [this] {
    for (auto& reader : reader_threads_) {
      reader.join();
    }
    thread_.join();
  });
}

void AsyncStore::enqueue(Job job) {
  bool to_reader = false;
  {
    const std::lock_guard lock(mutex_);
    if (job->read_only() && readers_running_ > 0) {
      read_queue_.push_back(std::move(job));
      to_reader = true;
    } else if (accepting_) {
      queue_.push_back(std::move(job));
    }
  }
  if (job == nullptr) {
    (to_reader ? read_queued_or_stopping_ : queued_or_stopping_).notify_one();
    return;
  }
  // The store thread has ended (stop()): nothing will run this call.
  job->fail(std::make_exception_ptr(StoreError("the store is stopped")));
  job->complete();
}

template <class Report>
void AsyncStore::report(Report report_to) noexcept {
  StoreBatchObserver* observer = observer_.load(std::memory_order_acquire);
  if (observer == nullptr) {
    return;
  }
  try {
    report_to(*observer);
  } catch (...) {
    // Metrics must never stop the store thread.
  }
}

void AsyncStore::run_store_thread() {
  std::vector<Job> batch;
  for (;;) {
    std::size_t depth = 0;
    {
      std::unique_lock lock(mutex_);
      queued_or_stopping_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) {  // stopping, and everything queued has run
        accepting_ = false;
        return;
      }
      if (queue_.size() < batch_.max_calls && batch_.max_wait.count() > 0 && !stopping_) {
        // Wait a little for more calls to share the commit; a full batch or stop() ends
        // the wait early.
        queued_or_stopping_.wait_for(lock, batch_.max_wait, [this] {
          return queue_.size() >= batch_.max_calls || stopping_;
        });
      }
      depth = queue_.size();
      const std::size_t take = std::min(depth, batch_.max_calls);
      for (std::size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    report([depth](StoreBatchObserver& observer) { observer.queue_depth(depth); });
    run_reads(batch);
    if (!batch.empty()) {
      run_batch(batch);
    }
    batch.clear();  // frees the calls' queue slots (their results are posted)
  }
}

// A reader connection's thread: one read() call at a time, outside any transaction, each
// answered as soon as it ran. Ends once stop() was called and no read is left for it.
void AsyncStore::run_reader_thread(Store& reader) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      read_queued_or_stopping_.wait(lock, [this] { return !read_queue_.empty() || stopping_; });
      if (read_queue_.empty()) {  // stopping: later reads go to the store thread
        --readers_running_;
        return;
      }
      job = std::move(read_queue_.front());
      read_queue_.pop_front();
    }
    (void)job->run(reader);  // a failure is the read's own answer
    job->complete();
  }
}

void AsyncStore::run_reads(std::vector<Job>& batch) {
  // No write transaction is open here, so each read sees only committed data and can be
  // answered before the batch's writes are: it tells nobody anything not yet durable.
  // They share one read transaction, and are answered once it has ended.
  const auto first_write = std::stable_partition(batch.begin(), batch.end(),
                                                 [](const Job& job) { return job->read_only(); });
  if (first_write == batch.begin()) {
    return;
  }
  store_->begin_reads();
  for (auto it = batch.begin(); it != first_write; ++it) {
    (void)(*it)->run(*store_);  // a failure is the read's own answer
  }
  store_->end_reads();
  for (auto it = batch.begin(); it != first_write; ++it) {
    (*it)->complete();
  }
  batch.erase(batch.begin(), first_write);
}

// Opens a batch of `kind` and runs `calls` in it, in order. Stops at the call that spoils a
// shared batch and answers it (the caller rolls back). Throws when the batch's transaction
// cannot be opened or is gone (SQLite rolled it back after a failure such as a full disk,
// in a call or an earlier one): the calls not yet run are not run.
std::optional<AsyncStore::Spoiled> AsyncStore::run_calls(
    const std::vector<detail::StoreJob*>& calls, Store::BatchCalls kind) {
  store_->begin_batch(kind);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    store_->begin_batch_call();
    const bool succeeded = calls[i]->run(*store_);
    if (!store_->end_batch_call(succeeded)) {
      return Spoiled{i, !succeeded};
    }
  }
  return std::nullopt;
}

// Shared first: no savepoints, so no statement journal copies every page a call changes.
// Calls fail rarely (a failure is an error, not an outcome such as a duplicate), and when
// one does the batch is undone and run again isolated, without it: that call keeps its
// own failure, which it would have met in the same state with a savepoint of its own (the
// calls before it had all succeeded), and every other call runs as if nothing happened.
void AsyncStore::run_batch(std::vector<Job>& batch) {
  const auto started = Clock::now();
  std::vector<detail::StoreJob*> calls;
  calls.reserve(batch.size());
  for (auto& job : batch) {
    calls.push_back(job.get());
  }
  std::exception_ptr batch_error;
  try {
    if (const auto spoiled = run_calls(calls, Store::BatchCalls::shared)) {
      store_->rollback_batch();
      if (spoiled->failed_on_its_own) {
        calls.erase(calls.begin() + static_cast<std::ptrdiff_t>(spoiled->call));
      }
      (void)run_calls(calls, Store::BatchCalls::isolated);  // an isolated batch never spoils
    }
  } catch (...) {
    batch_error = std::current_exception();
  }
  auto commit_time = Clock::duration::zero();
  if (!batch_error) {
    const auto commit_started = Clock::now();
    try {
      store_->commit_batch();
    } catch (...) {
      batch_error = std::current_exception();
    }
    commit_time = Clock::now() - commit_started;
  }
  const auto batch_time = Clock::now() - started;

  if (batch_error) {
    // Nothing of the batch was committed, so no call of it may report success: not the
    // ones whose own work succeeded, not the reads (they may have seen its writes). A call
    // that failed on its own keeps its own error.
    store_->rollback_batch();
    for (auto& job : batch) {
      job->fail(batch_error);
    }
    report([calls = batch.size()](StoreBatchObserver& observer) { observer.batch_failed(calls); });
  } else {
    report([calls = batch.size(), commit_time, batch_time](StoreBatchObserver& observer) {
      observer.batch_committed(calls,
                               std::chrono::duration_cast<std::chrono::nanoseconds>(commit_time),
                               std::chrono::duration_cast<std::chrono::nanoseconds>(batch_time));
    });
  }
  // Only now, after the commit returned (or the batch failed), is anyone answered.
  for (auto& job : batch) {
    job->complete();
  }
}

}  // namespace tillgate::store
