// The durability ceiling without batching (issue 7, bench/run (b)): how many single-row
// transactions per second SQLite commits on this disk with the gateway's settings (WAL,
// synchronous=FULL: every COMMIT waits for an fsync of the WAL). Each transaction is one
// INSERT of a row the size of a payment's, as a store without group commit would make
// for each step of a payment.
//
//   sqlite_single_commit --dir DIR [--seconds 5] [--json]
//
// Writes DIR/single_commit.db (removed afterwards) and prints the commits per second.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void die(sqlite3* db, const char* what) {
  std::fprintf(stderr, "sqlite_single_commit: %s: %s\n", what,
               db != nullptr ? sqlite3_errmsg(db) : "?");
  std::exit(1);
}

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite_single_commit: %s: %s\n", sql, message ? message : "?");
    sqlite3_free(message);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir = std::filesystem::temp_directory_path();
  double seconds = 5;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--json") {
      json = true;
    } else {
      std::fprintf(stderr, "usage: sqlite_single_commit [--dir DIR] [--seconds S] [--json]\n");
      return 2;
    }
  }
  const auto path = dir / "single_commit.db";
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    die(db, "open");
  }
  exec(db, "PRAGMA journal_mode = WAL");
  exec(db, "PRAGMA synchronous = FULL");
  exec(db,
       "CREATE TABLE payments (id INTEGER PRIMARY KEY, transaction_id TEXT NOT NULL UNIQUE, "
       "body TEXT NOT NULL, created_at INTEGER NOT NULL)");
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO payments (transaction_id, body, created_at) "
                         "VALUES (?1, ?2, ?3)",
                         -1, &insert, nullptr) != SQLITE_OK) {
    die(db, "prepare");
  }
  // About the size of a stored payment request and its answer.
  const std::string body(600, 'x');
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  long long commits = 0;
  // Each commit's time, BEGIN to COMMIT: in WAL mode with synchronous=FULL a commit is one
  // fsync of the WAL, so this is the disk's flush latency as the gateway's store sees it.
  std::vector<double> commit_ms;
  auto now = start;
  while (now < end) {
    const auto began = now;
    exec(db, "BEGIN IMMEDIATE");
    const std::string id = "TXN-" + std::to_string(commits);
    sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, body.c_str(), static_cast<int>(body.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert, 3, commits);
    if (sqlite3_step(insert) != SQLITE_DONE) {
      die(db, "insert");
    }
    sqlite3_reset(insert);
    exec(db, "COMMIT");
    ++commits;
    now = Clock::now();
    commit_ms.push_back(std::chrono::duration<double, std::milli>(now - began).count());
  }
  std::sort(commit_ms.begin(), commit_ms.end());
  const auto percentile = [&commit_ms](double p) {
    if (commit_ms.empty()) {
      return 0.0;
    }
    const auto rank = static_cast<std::size_t>(p * static_cast<double>(commit_ms.size() - 1));
    return commit_ms[rank];
  };
  const double p50 = percentile(0.50);
  const double p99 = percentile(0.99);
  const double max = commit_ms.empty() ? 0.0 : commit_ms.back();
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const double rate = static_cast<double>(commits) / elapsed;
  sqlite3_finalize(insert);
  sqlite3_close(db);
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  if (json) {
    std::printf(
        "{\"commits\":%lld,\"seconds\":%.3f,\"commitsPerSecond\":%.1f,\"dir\":\"%s\","
        "\"commitMs\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
        commits, elapsed, rate, dir.c_str(), p50, p99, max);
  } else {
    std::printf(
        "%lld single-row commits in %.2f s: %.1f commits/s (WAL, synchronous=FULL, %s); "
        "commit p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
        commits, elapsed, rate, dir.c_str(), p50, p99, max);
  }
  return 0;
}
