#include "store/database_lock.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace tillgate::store {

struct DatabaseLock::Watch {
  Watch(postgres::ServeLock& serve_lock, Listener on_event)
      : lock(serve_lock), listener(std::move(on_event)), thread([this] { run(); }) {}
  ~Watch() { stop(); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  void stop() {
    {
      const std::lock_guard guard(mutex);
      stopping = true;
    }
    wake.notify_all();
    if (thread.joinable()) {
      thread.join();
    }
  }

  // Sleeps one check interval; false when asked to stop meanwhile.
  bool pause() {
    std::unique_lock guard(mutex);
    return !wake.wait_for(guard, lock.options().check_interval, [this] { return stopping; });
  }

  void run() {
    using State = postgres::ServeLock::State;
    bool lost = false;
    while (pause()) {
      auto check = lock.check();
      switch (check.state) {
        case State::held:
          break;
        case State::lost:
          if (!lost) {
            lost = true;
            listener(Event{Event::Kind::lost, std::move(check.message)});
          }
          break;
        case State::retaken:
          lost = false;
          listener(Event{Event::Kind::retaken, std::move(check.message)});
          break;
        case State::taken:
          listener(Event{Event::Kind::taken, std::move(check.message)});
          return;
      }
    }
  }

  postgres::ServeLock& lock;
  Listener listener;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;  // last: starts once everything above is ready
};

DatabaseLock::DatabaseLock(sqlite::WriterLock lock) : lock_(std::move(lock)) {}

DatabaseLock::DatabaseLock(std::unique_ptr<postgres::ServeLock> lock) : lock_(std::move(lock)) {}

DatabaseLock::~DatabaseLock() {
  stop_watch();
}

DatabaseLock::DatabaseLock(DatabaseLock&&) noexcept = default;

void DatabaseLock::watch(Listener listener) {
  auto* lock = serve_lock();
  if (lock == nullptr || watch_ != nullptr) {
    return;
  }
  watch_ = std::make_unique<Watch>(*lock, std::move(listener));
}

void DatabaseLock::stop_watch() {
  watch_.reset();
}

postgres::ServeLock* DatabaseLock::serve_lock() const {
  const auto* lock = std::get_if<std::unique_ptr<postgres::ServeLock>>(&lock_);
  return lock != nullptr ? lock->get() : nullptr;
}

}  // namespace tillgate::store
