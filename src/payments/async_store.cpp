#include "payments/async_store.hpp"

namespace tillgate::payments {

using store::Store;
using store::StoreError;

AsyncStore::AsyncStore(std::unique_ptr<Store> store, std::size_t max_queue)
    : store_(std::move(store)), max_queue_(max_queue) {}

AsyncStore::~AsyncStore() {
  stop();
}

void AsyncStore::stop() {
  thread_.join();
}

}  // namespace tillgate::payments
