#pragma once
// Runs Store calls on the dedicated store thread and resumes the caller on its own
// executor with the result (or the StoreError). The network thread never blocks on disk.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>

#include "store/store.hpp"

namespace tillgate::payments {

using store::Store;
using store::StoreError;

// Thrown when more than the configured number of calls are queued for the store thread.
class StoreOverloaded : public StoreError {
 public:
  using StoreError::StoreError;
};

class AsyncStore {
 public:
  AsyncStore(std::unique_ptr<Store> store, std::size_t max_queue);
  ~AsyncStore();
  AsyncStore(const AsyncStore&) = delete;
  AsyncStore& operator=(const AsyncStore&) = delete;

  // Runs `operation(Store&)` on the store thread and resumes the awaiting coroutine on its
  // own executor. `operation` must own what it uses (capture by value). Deliberately not a
  // coroutine itself: GCC 12 mishandles closures passed by value into coroutine frames.
  template <class Operation>
  auto call(Operation operation);

  // Waits for queued calls to finish and joins the store thread.
  void stop();

  // For start-up and shutdown code that runs before/after the network loop.
  Store& direct() { return *store_; }

 private:
  std::unique_ptr<Store> store_;
  boost::asio::thread_pool thread_{1};
  std::size_t max_queue_;
  std::atomic<std::size_t> queued_{0};
};

namespace detail {
template <class Result>
struct StoreSignature {
  using type = void(std::exception_ptr, Result);
};
template <>
struct StoreSignature<void> {
  using type = void(std::exception_ptr);
};
}  // namespace detail

template <class Operation>
auto AsyncStore::call(Operation operation) {
  using Result = std::invoke_result_t<Operation&, Store&>;
  using Signature = typename detail::StoreSignature<Result>::type;
  if (queued_.load(std::memory_order_relaxed) >= max_queue_) {
    throw StoreOverloaded("the store has too many queued operations");
  }
  queued_.fetch_add(1, std::memory_order_relaxed);
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, Signature>(
      [this](auto handler, Operation op) {
        boost::asio::post(thread_, [this, op = std::move(op), h = std::move(handler)]() mutable {
          std::exception_ptr error;
          if constexpr (std::is_void_v<Result>) {
            try {
              op(*store_);
            } catch (...) {
              error = std::current_exception();
            }
            queued_.fetch_sub(1, std::memory_order_relaxed);
            auto executor = boost::asio::get_associated_executor(h);
            boost::asio::post(executor, [h = std::move(h), error]() mutable { h(error); });
          } else {
            Result value{};
            try {
              value = op(*store_);
            } catch (...) {
              error = std::current_exception();
            }
            queued_.fetch_sub(1, std::memory_order_relaxed);
            auto executor = boost::asio::get_associated_executor(h);
            boost::asio::post(executor, [h = std::move(h), error, v = std::move(value)]() mutable {
              h(error, std::move(v));
            });
          }
        });
      },
      boost::asio::use_awaitable, std::move(operation));
}

}  // namespace tillgate::payments
