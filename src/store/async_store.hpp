#pragma once
// Runs Store calls on the dedicated store thread and resumes the caller on its own
// executor with the result (or the StoreError). The network thread never blocks on disk.
//
// Group commit: calls wait in a bounded queue; the store thread takes up to
// StoreBatchSettings::max_calls of them at a time and runs them in ONE write transaction
// (Store::begin_batch ... commit_batch), so they share one commit, one fsync. A call that
// throws gets its exception and leaves nothing written; the others are unaffected. The
// batch first runs shared (no savepoints, Store::BatchCalls::shared); when a call fails,
// the batch is undone and run again without it, each call in a savepoint of its own.
// Every caller, of a write or a read, is answered only after the batch's commit returned:
// nobody is told of a change before it is durable. When the batch as a whole fails (the
// database rolled its transaction back, or its commit failed), every call of it gets an
// error, including the ones whose own work succeeded: none of it was committed.
//
// Reads that need no ordering after the batch's writes (AsyncStore::read) take a faster
// path: the store thread runs them before it opens the batch's transaction, so they see
// only committed data, and answers them at once instead of after the batch's fsync.
//
// The policy per backend is the caller's, by the reader connections it gives (the
// gateway: open_store_readers). With none (SQLite) every call runs on the store thread as
// above. With some (PostgreSQL's pool, TILLGATE_DB_POOL) each reader connection has a thread
// of its own that runs read() calls, concurrently with each other and with the store
// thread's batches, outside any transaction: they see only committed data, and a read no
// longer waits for a batch's round trips to the server. Writes stay on the store thread's
// one connection, in group-commit batches: on PostgreSQL every write transaction takes the
// database's one write lock (postgres/pg.hpp), so a second writing connection would only
// wait for it (docs/decisions.md, "PostgreSQL's pool").
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "store/store.hpp"

namespace tillgate::store {

// Thrown when more than the configured number of calls are queued for the store thread.
class StoreOverloaded : public StoreError {
 public:
  using StoreError::StoreError;
};

// What the store thread reports about its batches, for metrics. Every method is called on
// the store thread, one call at a time, never with a lock of the AsyncStore held; what an
// implementation shares with other threads (a metrics endpoint) it must guard itself. It
// must be quick (the store thread, and so every caller, waits for it) and must not call
// into the AsyncStore. An exception it throws is ignored.
struct StoreBatchObserver {
  virtual ~StoreBatchObserver() = default;
  // A batch of `calls` calls committed. commit_time: the commit alone (the fsync);
  // batch_time: from opening the transaction to the end of the commit (the calls' own
  // work included). Its callers are answered right after this returns.
  virtual void batch_committed(std::size_t calls, std::chrono::nanoseconds commit_time,
                               std::chrono::nanoseconds batch_time) = 0;
  // The calls waiting when a batch is taken, those it takes included. Once per batch,
  // before it runs.
  virtual void queue_depth(std::size_t depth) = 0;
  // A batch of `calls` calls failed as a whole (its transaction could not be opened, the
  // database rolled it back, or its commit failed): every call got an error.
  virtual void batch_failed(std::size_t /*calls*/) {}
};

struct StoreBatchSettings {
  // At most this many calls share one commit (app::Limits::store_batch_max, where its
  // default is); at least 1.
  std::size_t max_calls{};
  // When fewer than max_calls are queued, how long the store thread waits for more before
  // it begins the batch (app::Limits::store_batch_wait_us). 0: never waits; a batch is
  // what queued up while the previous one ran.
  std::chrono::microseconds max_wait{0};
};

namespace detail {

// A queued call, type-erased. The store thread runs it, then (after the batch's commit or
// its failure) completes it; it is then destroyed, which frees its queue slot.
class StoreJob {
 public:
  virtual ~StoreJob() = default;
  // Runs the operation and keeps its result or exception; false when it threw.
  virtual bool run(Store& store) noexcept = 0;
  // Makes the call fail, because its batch did not commit: with `error`, unless it
  // already failed with an error of its own.
  virtual void fail(std::exception_ptr error) noexcept = 0;
  // Posts the outcome to the caller's executor. Called once, after the batch ended.
  virtual void complete() = 0;
  // Made by AsyncStore::read: run outside any batch, on committed data only.
  [[nodiscard]] virtual bool read_only() const noexcept = 0;
};

// One place in the queue bound, taken by call() and given back by the destructor of the
// job that holds it, once the call's result is posted.
class QueueSlot {
 public:
  explicit QueueSlot(std::atomic<std::size_t>* count) noexcept : count_(count) {}
  QueueSlot(QueueSlot&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  QueueSlot& operator=(QueueSlot&&) = delete;
  QueueSlot(const QueueSlot&) = delete;
  QueueSlot& operator=(const QueueSlot&) = delete;
  ~QueueSlot() {
    if (count_ != nullptr) {
      count_->fetch_sub(1, std::memory_order_relaxed);
    }
  }

 private:
  std::atomic<std::size_t>* count_;
};

template <class Result>
struct StoreSignature {
  using type = void(std::exception_ptr, Result);
};
template <>
struct StoreSignature<void> {
  using type = void(std::exception_ptr);
};

template <class Operation, class Handler>
class StoreCall final : public StoreJob {
 public:
  using Result = std::invoke_result_t<Operation&, Store&>;

  StoreCall(Operation operation, Handler handler, QueueSlot slot, bool read_only)
      : operation_(std::move(operation)),
        handler_(std::move(handler)),
        // Keeps the caller's io_context running while the call is away on the store thread.
        work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_),
                                  boost::asio::execution::outstanding_work.tracked)),
        slot_(std::move(slot)),
        read_only_(read_only) {}

  [[nodiscard]] bool read_only() const noexcept override { return read_only_; }

  bool run(Store& store) noexcept override {
    try {
      if constexpr (std::is_void_v<Result>) {
        operation_(store);
      } else {
        value_.emplace(operation_(store));
      }
      return true;
    } catch (...) {
      error_ = std::current_exception();
      return false;
    }
  }

  void fail(std::exception_ptr error) noexcept override {
    if (!error_) {
      error_ = std::move(error);
    }
    if constexpr (!std::is_void_v<Result>) {
      value_.reset();
    }
  }

  void complete() override {
    auto executor = boost::asio::get_associated_executor(handler_);
    if constexpr (std::is_void_v<Result>) {
      boost::asio::post(
          executor, [h = std::move(handler_), error = error_]() mutable { std::move(h)(error); });
    } else {
      Result value = value_ ? std::move(*value_) : Result{};
      boost::asio::post(executor,
                        [h = std::move(handler_), error = error_, v = std::move(value)]() mutable {
                          std::move(h)(error, std::move(v));
                        });
    }
  }

 private:
  using Work =
      decltype(boost::asio::prefer(boost::asio::get_associated_executor(std::declval<Handler&>()),
                                   boost::asio::execution::outstanding_work.tracked));
  using Value = std::conditional_t<std::is_void_v<Result>, std::monostate, std::optional<Result>>;

  Operation operation_;
  Handler handler_;
  Work work_;
  QueueSlot slot_;
  bool read_only_;
  std::exception_ptr error_;
  Value value_;
};

// A Store method with copies of its arguments: the operation of call() and read() in their
// member-pointer form. The copies live in the queued call, so nothing the caller owns is
// read on the store thread.
template <class Method, class... Args>
class BoundStoreMethod {
 public:
  explicit BoundStoreMethod(Method method, Args... args)
      : method_(method), arguments_(std::move(args)...) {}

  decltype(auto) operator()(Store& store) {
    return std::apply(
        [this, &store](Args&... args) -> decltype(auto) { return (store.*method_)(args...); },
        arguments_);
  }

 private:
  Method method_;
  std::tuple<Args...> arguments_;
};

}  // namespace detail

class AsyncStore {
 public:
  // Starts the store thread. max_queue: calls queued or running at once, beyond which
  // call() throws StoreOverloaded (app::Limits::max_store_queue). Throws
  // std::invalid_argument for batch.max_calls 0.
  AsyncStore(std::unique_ptr<Store> store, std::size_t max_queue, StoreBatchSettings batch);
  // As above, with reader connections: each runs read() calls on a thread of its own (see
  // the top of this file). Every call, on a reader or on the store thread, counts toward
  // max_queue. `readers` may be empty.
  AsyncStore(std::unique_ptr<Store> store, std::vector<std::unique_ptr<Store>> readers,
             std::size_t max_queue, StoreBatchSettings batch);
  ~AsyncStore();
  AsyncStore(const AsyncStore&) = delete;
  AsyncStore& operator=(const AsyncStore&) = delete;

  // Runs `operation(Store&)` on the store thread, in a batch (see above), and resumes the
  // awaiting coroutine on its own executor after the batch committed. `operation` must own
  // what it uses (capture by value) and must not keep a reference to the Store. Throws
  // StoreOverloaded at once when the queue is full. Deliberately not a coroutine itself:
  // GCC 12 mishandles closures passed by value into coroutine frames.
  template <class Operation>
  auto call(Operation operation) {
    return submit(std::move(operation), false);
  }

  // call() of one Store method: co_await store.call(&Store::find_device, device_id). The
  // arguments are copied into the call (pass owning values, not views), so the caller's
  // may change or go before the store thread runs it.
  template <class Result, class... Params, class... Args>
  auto call(Result (Store::*method)(Params...), Args... args) {
    return submit(bind(method, std::move(args)...), false);
  }

  // As call(), for an operation that only reads and needs to see only what is committed:
  // a reader connection runs it, or without one the store thread, before the next batch
  // opens its transaction; either answers it at once, without waiting for a batch's fsync.
  // What it reads is durable. (A caller cannot need its own unanswered write: it is still
  // waiting for that write.) It must not write: on a reader a write would commit alone.
  template <class Operation>
  auto read(Operation operation) {
    return submit(std::move(operation), true);
  }

  // read() of one Store method that only reads, as call() above.
  template <class Result, class... Params, class... Args>
  auto read(Result (Store::*method)(Params...), Args... args) {
    return submit(bind(method, std::move(args)...), true);
  }

  // The observer of the store thread's batches (nullptr: none). May be called from any
  // thread; the observer's methods are called on the store thread. It must stay alive
  // until it is replaced and the batch running meanwhile has ended, or until stop().
  void set_observer(StoreBatchObserver* observer) noexcept;

  // Runs (and commits) the calls already queued, then joins the store thread and the
  // readers' threads. A call made after that fails with StoreError. Idempotent; the
  // destructor calls it.
  void stop();

  // Calls made and not yet answered (queued, running, or their result not yet posted to
  // the caller's executor): a test driving the network thread by hand waits for 0.
  [[nodiscard]] std::size_t in_flight() const noexcept { return queued_.load(); }

  // For start-up and shutdown code that runs before/after the network loop, while no call
  // is queued or running: the store is not thread-safe.
  Store& direct() { return *store_; }

 private:
  using Job = std::unique_ptr<detail::StoreJob>;

  template <class Method, class... Args>
  static detail::BoundStoreMethod<Method, Args...> bind(Method method, Args... args) {
    return detail::BoundStoreMethod<Method, Args...>(method, std::move(args)...);
  }
  template <class Operation>
  auto submit(Operation operation, bool read_only);
  void enqueue(Job job);
  void run_reads(std::vector<Job>& batch);
  void run_store_thread();
  void run_reader_thread(Store& reader);
  void run_batch(std::vector<Job>& batch);
  struct Spoiled {
    std::size_t call;        // the index of the call that spoiled a shared batch
    bool failed_on_its_own;  // it failed (rather than leaving a write half done)
  };
  [[nodiscard]] std::optional<Spoiled> run_calls(const std::vector<detail::StoreJob*>& calls,
                                                 Store::BatchCalls kind);
  template <class Report>
  void report(Report report_to) noexcept;

  std::unique_ptr<Store> store_;
  std::vector<std::unique_ptr<Store>> readers_;
  std::size_t max_queue_;
  StoreBatchSettings batch_;
  std::atomic<std::size_t> queued_{0};  // calls from call() until their result is posted
  std::atomic<StoreBatchObserver*> observer_{nullptr};

  std::mutex mutex_;
  std::condition_variable queued_or_stopping_;
  std::condition_variable read_queued_or_stopping_;
  std::deque<Job> queue_;       // guarded by mutex_
  std::deque<Job> read_queue_;  // guarded by mutex_; the readers' calls
  bool stopping_ = false;       // guarded by mutex_
  bool accepting_ = true;       // guarded by mutex_; false once the store thread has ended
  // Reader threads still taking calls, guarded by mutex_: a read made when none is left
  // (stopping) goes to the store thread's queue.
  std::size_t readers_running_ = 0;
  std::once_flag joined_;
  // Last: they start once everything they use exists.
  std::vector<std::thread> reader_threads_;
  std::thread thread_;
};

template <class Operation>
auto AsyncStore::submit(Operation operation, bool read_only) {
  using Result = std::invoke_result_t<Operation&, Store&>;
  using Signature = typename detail::StoreSignature<Result>::type;
  if (queued_.fetch_add(1, std::memory_order_relaxed) >= max_queue_) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    throw StoreOverloaded("the store has too many queued operations");
  }
  // The slot taken above is adopted by the job (the initiation runs when the awaitable is
  // awaited, which callers do at once) and given back once its result is posted.
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, Signature>(
      [this, read_only](auto handler, Operation op) {
        using Call = detail::StoreCall<Operation, decltype(handler)>;
        enqueue(std::make_unique<Call>(std::move(op), std::move(handler),
                                       detail::QueueSlot{&queued_}, read_only));
      },
      boost::asio::use_awaitable, std::move(operation));
}

}  // namespace tillgate::store
