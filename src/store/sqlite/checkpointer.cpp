#include "store/sqlite/checkpointer.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace tillgate::store::sqlite {

Checkpointer::Checkpointer(const std::filesystem::path& path,
                           std::chrono::milliseconds busy_timeout)
    : connection_(path.string()) {
  sqlite3_busy_timeout(connection_.get(), static_cast<int>(busy_timeout.count()));
  // A connection learns that the database is in WAL mode when it first reads it; until
  // then a checkpoint on it does nothing at all (and says so only by frame counts of -1).
  Statement mode{connection_.get(), "journal_mode", "PRAGMA journal_mode"};
  {
    auto use = mode.use("checkpointer");
    if (!use.step() || use.text(0) != "wal") {
      throw StoreError("sqlite store: the checkpointer found the database not in WAL mode");
    }
  }
  thread_ = std::thread([this] { run(); });
}

Checkpointer::~Checkpointer() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  requested_or_stopping_.notify_one();
  thread_.join();
}

void Checkpointer::request() noexcept {
  {
    const std::lock_guard lock(mutex_);
    requested_ = true;
    requests_.fetch_add(1);
  }
  requested_or_stopping_.notify_one();
}

bool Checkpointer::caught_up() const noexcept {
  return last_complete_.load() && served_.load() == requests_.load();
}

void Checkpointer::run() {
  bool failing = false;
  for (;;) {
    std::uint64_t serving = 0;
    {
      std::unique_lock lock(mutex_);
      requested_or_stopping_.wait(lock, [this] { return requested_ || stopping_; });
      if (stopping_) {
        return;
      }
      requested_ = false;
      serving = requests_.load();
    }
    // PASSIVE: copies what no reader still needs, never waits for a lock, never blocks the
    // writer. SQLITE_BUSY (another checkpoint runs) is not a failure.
    int wal_frames = 0;
    int copied_frames = 0;
    const int rc = sqlite3_wal_checkpoint_v2(connection_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             &wal_frames, &copied_frames);
    if (rc == SQLITE_OK) {
      last_complete_.store(wal_frames >= 0 && copied_frames == wal_frames);
      served_.store(serving);
      checkpoints_.fetch_add(1);
      failing = false;
    } else if (rc != SQLITE_BUSY && !failing) {
      failing = true;
      spdlog::warn(
          "sqlite store: a background checkpoint failed ({}); the WAL grows until one "
          "succeeds, and commits are unaffected",
          sqlite3_errstr(rc));
    }
  }
}

void WalPolicy::committed(sqlite3* db, const char* database_name, int wal_pages) noexcept {
  if (wal_pages < settings_.max_wal_pages) {
    if (checkpointer_ != nullptr && wal_pages >= settings_.background_pages) {
      checkpointer_->request();
    }
    return;
  }
  // The background checkpoints have not let the WAL start over (commits kept coming):
  // copy what is left and make the next commit restart it. The commit is done and durable
  // whatever this answers.
  const int rc =
      sqlite3_wal_checkpoint_v2(db, database_name, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
  ++inline_checkpoints_;
  if (rc == SQLITE_OK) {
    failing_ = false;
  } else if (!failing_) {
    failing_ = true;
    spdlog::warn(
        "sqlite store: a checkpoint of the WAL at {} pages failed ({}); commits are "
        "unaffected, it is tried again at the next commit",
        wal_pages, sqlite3_errstr(rc));
  }
}

}  // namespace tillgate::store::sqlite
