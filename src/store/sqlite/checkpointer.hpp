#pragma once
// Checkpoints off the commit path (issue 18: "checkpoints off the commit path").
//
// In WAL mode every commit appends pages to the -wal file; a checkpoint copies them back
// into the database file and fsyncs it. SQLite's own auto-checkpoint runs it inside the
// COMMIT that takes the WAL past 1000 pages, on the committing thread: the store thread,
// with every caller of that batch (and every call queued behind it) waiting for the copy
// and for the database file's fsync, several times a second under load.
//
// Instead the store's writing connection hands the work to a Checkpointer: a thread with a
// connection of its own that runs PASSIVE checkpoints (they never block a writer nor
// wait for one) once the WAL holds CheckpointSettings::background_pages. A PASSIVE
// checkpoint cannot restart the WAL while commits keep coming, so the WAL is bounded by
// CheckpointSettings::max_wal_pages: past it the writing connection, after its commit,
// runs a RESTART checkpoint itself (the little left to copy, then the WAL starts over),
// as SQLite's auto-checkpoint would, but once per max_wal_pages instead of every 1000.
//
// Durability does not depend on checkpoints: a commit is durable in the WAL (fsynced)
// before it returns. A checkpoint that fails (a full disk) is logged and tried again at
// the next commit; the commit itself has succeeded and is reported so.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

#include "store/sqlite/statement.hpp"

struct sqlite3;

namespace tillgate::store::sqlite {

struct CheckpointSettings {
  // The WAL's pages (SQLite's default auto-checkpoint size) at which the background thread
  // checkpoints. 0: no background thread; the committing connection checkpoints at
  // max_wal_pages only.
  int background_pages = 1000;
  // The bound of the WAL, in pages (4 KiB each by default: about 40 MiB): past it the
  // committing connection checkpoints itself (RESTART) after its commit. At least
  // background_pages.
  int max_wal_pages = 10'000;
};

class Checkpointer {
 public:
  // Opens its own connection to the database at `path` (which exists, in WAL mode) and
  // starts its thread. Throws SqliteError when the connection cannot be opened.
  Checkpointer(const std::filesystem::path& path, std::chrono::milliseconds busy_timeout);
  ~Checkpointer();  // stops the thread (a checkpoint in progress finishes first)
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Asks for a PASSIVE checkpoint, at once and without waiting for it. Called by the
  // writing connection's WAL hook; requests made while one runs are merged into the next.
  void request() noexcept;

  // Checkpoints run to the end by this thread (diagnostics and tests).
  [[nodiscard]] std::uint64_t checkpoints() const noexcept { return checkpoints_.load(); }
  // Whether every request made so far has been followed by a checkpoint that began after
  // it and copied every frame the WAL held: with no commit since, the whole WAL is in the
  // database file and the next commit starts it over (diagnostics and tests).
  [[nodiscard]] bool caught_up() const noexcept;

 private:
  void run();

  Connection connection_;
  std::mutex mutex_;
  std::condition_variable requested_or_stopping_;
  bool requested_ = false;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  std::atomic<std::uint64_t> checkpoints_{0};
  std::atomic<bool> last_complete_{false};
  std::atomic<std::uint64_t> requests_{0};  // requests made
  std::atomic<std::uint64_t> served_{0};    // requests made before the last checkpoint began
  std::thread thread_;                      // last: it starts once everything it uses exists
};

// What the writing connection's WAL hook does after each commit, given the WAL's size in
// pages: the background request, or past max_wal_pages its own RESTART checkpoint.
// Registered by SqliteStore with sqlite3_wal_hook; `checkpointer` may be null.
class WalPolicy {
 public:
  WalPolicy(CheckpointSettings settings, Checkpointer* checkpointer) noexcept
      : settings_(settings), checkpointer_(checkpointer) {}

  void committed(sqlite3* db, const char* database_name, int wal_pages) noexcept;

  // Checkpoints the committing connection ran itself (diagnostics and tests).
  [[nodiscard]] std::uint64_t inline_checkpoints() const noexcept { return inline_checkpoints_; }

 private:
  CheckpointSettings settings_;
  Checkpointer* checkpointer_;
  std::uint64_t inline_checkpoints_ = 0;
  bool failing_ = false;  // the last inline checkpoint failed (logged once per streak)
};

}  // namespace tillgate::store::sqlite
