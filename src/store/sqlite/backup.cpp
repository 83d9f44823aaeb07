#include "store/sqlite/backup.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "store/sqlite/file_safety.hpp"
#include "store/sqlite/statement.hpp"

namespace tillgate::store::sqlite {
namespace {

namespace fs = std::filesystem;

// A plain connection of the backup's own (not the store's Connection: the source must not
// be created, and neither side needs the store's pragmas or migrations).
struct Closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, Closer>;

[[noreturn]] void refuse(const std::string& message) {
  throw BackupError("backup: " + message);
}

[[nodiscard]] std::string message_of(sqlite3* db) {
  return sqlite3_errmsg(db);
}

Db open_database(const fs::path& path, int flags, std::string_view what) {
  configure_library();
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db{raw};
  if (rc != SQLITE_OK) {
    refuse(fmt::format("cannot open the {} {}: {}", what, display_path(path),
                       raw != nullptr ? message_of(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

void exec(sqlite3* db, const char* sql, std::string_view what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    refuse(fmt::format("{}: {}", what, message_of(db)));
  }
}

// The first column of the first row of `sql`, as text ("" when there is no row).
std::string query_text(sqlite3* db, const char* sql, std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    refuse(fmt::format("{}: {}", what, message_of(db)));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement{raw, &sqlite3_finalize};
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_DONE) {
    return "";
  }
  if (rc != SQLITE_ROW) {
    refuse(fmt::format("{}: {}", what, message_of(db)));
  }
  const auto* text = sqlite3_column_text(raw, 0);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

[[nodiscard]] bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code error;
  if (fs::weakly_canonical(a, error) == fs::weakly_canonical(b, error) && !error) {
    return true;
  }
  return fs::exists(a, error) && fs::exists(b, error) && fs::equivalent(a, b, error) && !error;
}

void check_source(const fs::path& source) {
  std::error_code error;
  if (!fs::exists(source, error)) {
    refuse(
        fmt::format("the database {} does not exist (backup reads TILLGATE_DB, --config "
                    "and --db as serve does)",
                    display_path(source)));
  }
  if (!fs::is_regular_file(source, error)) {
    refuse(fmt::format("the database {} is not a regular file", display_path(source)));
  }
}

void check_target(const fs::path& source, const fs::path& target, bool force) {
  std::error_code error;
  for (const char* suffix : {"", "-wal", "-shm", "-journal", ".lock"}) {
    if (same_file(target, fs::path(source.string() + suffix))) {
      refuse(
          fmt::format("{} is the live database {} or one of its files; back up to another "
                      "path",
                      display_path(target), display_path(source)));
    }
  }
  if (!target.has_filename() || fs::is_directory(target, error)) {
    refuse(fmt::format("{} is a directory; give the backup file's path, as in {}/tillgate.db",
                       display_path(target), display_path(target)));
  }
  if (fs::exists(fs::symlink_status(target, error)) && !force) {
    refuse(fmt::format("{} already exists; choose another path, or pass --force to replace it",
                       display_path(target)));
  }
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(directory, error)) {
    refuse(fmt::format("the directory {} does not exist", display_path(directory)));
  }
}

// The temporary copy beside the target: created 0600 here, removed (with the journal
// SQLite may leave) unless published.
class TempCopy {
 public:
  explicit TempCopy(const fs::path& target)
      : path_(target.parent_path() /
              fmt::format(".{}.tmp-{}", target.filename().string(), ::getpid())) {
    std::error_code ignored;
    fs::remove(path_, ignored);  // left by a crashed backup of the same pid
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      refuse(fmt::format(
          "cannot write in {}: {}",
          display_path(path_.parent_path().empty() ? fs::path(".") : path_.parent_path()),
          std::strerror(errno)));
    }
    ::close(fd);
  }
  ~TempCopy() {
    if (!published_) {
      std::error_code ignored;
      fs::remove(path_, ignored);
      fs::remove(fs::path(path_.string() + "-journal"), ignored);
    }
  }
  TempCopy(const TempCopy&) = delete;
  TempCopy& operator=(const TempCopy&) = delete;

  [[nodiscard]] const fs::path& path() const { return path_; }
  void published() { published_ = true; }

 private:
  fs::path path_;
  bool published_ = false;
};

void fsync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    refuse(fmt::format("cannot fsync {}: {}", display_path(path), std::strerror(error)));
  }
  ::close(fd);
}

std::int64_t copy_pages(sqlite3* source, sqlite3* copy, const BackupOptions& options) {
  sqlite3_backup* backup = sqlite3_backup_init(copy, "main", source, "main");
  if (backup == nullptr) {
    refuse(fmt::format("cannot start the copy: {}", message_of(copy)));
  }
  std::int64_t steps = 0;
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(backup, options.pages_per_step);
    ++steps;
    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      std::this_thread::sleep_for(options.step_pause);
    }
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  const int finished = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE || finished != SQLITE_OK) {
    refuse(fmt::format("the copy failed: {}", message_of(copy)));
  }
  return steps;
}

// The copy is checked on its own: every page readable and consistent, and the same
// transactions as the snapshot it was taken from.
void verify_copy(sqlite3* copy, std::int64_t expected_transactions) {
  // A self-contained file: the header copied from a WAL source says WAL.
  exec(copy, "PRAGMA journal_mode = DELETE", "the copy's journal mode");
  const std::string integrity = query_text(copy, "PRAGMA integrity_check", "integrity_check");
  if (integrity != "ok") {
    refuse(fmt::format("the copy failed PRAGMA integrity_check: {}", integrity));
  }
  const auto count =
      std::stoll(query_text(copy, "SELECT count(*) FROM transactions", "counting transactions"));
  if (count != expected_transactions) {
    refuse(fmt::format("the copy holds {} transactions, its snapshot {}", count,
                       expected_transactions));
  }
}

void publish(const fs::path& temp, const fs::path& target, bool force) {
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  int rc = force ? std::rename(temp.c_str(), target.c_str())
                 : ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && !force && errno == EINVAL) {  // a file system without RENAME_NOREPLACE
    rc = ::link(temp.c_str(), target.c_str());
    if (rc == 0) {
      ::unlink(temp.c_str());
    }
  }
  if (rc != 0) {
    const int error = errno;
    if (error == EEXIST) {
      refuse(
          fmt::format("{} already exists (created meanwhile); choose another path, or pass "
                      "--force to replace it",
                      display_path(target)));
    }
    refuse(fmt::format("cannot rename the copy to {}: {}", display_path(target),
                       std::strerror(error)));
  }
  fsync_path(directory, O_RDONLY | O_DIRECTORY);
}

}  // namespace

BackupResult backup_database(const fs::path& source, const fs::path& target,
                             const BackupOptions& options) {
  check_source(source);
  check_target(source, target, options.force);
  const Db from = open_database(source, SQLITE_OPEN_READWRITE, "database");
  // One read transaction for the whole copy: every step reads the same snapshot, so the
  // gateway's commits meanwhile neither restart the copy nor get into it half-way.
  exec(from.get(), "BEGIN", "cannot start a read transaction");
  const std::string snapshot_count = query_text(from.get(), "SELECT count(*) FROM transactions",
                                                "the database is not a tillgate database");
  TempCopy temp{target};
  BackupResult result;
  {
    const Db copy = open_database(temp.path(), SQLITE_OPEN_READWRITE, "backup file");
    result.steps = copy_pages(from.get(), copy.get(), options);
    exec(from.get(), "COMMIT", "cannot end the read transaction");
    verify_copy(copy.get(), std::stoll(snapshot_count));
  }
  fsync_path(temp.path(), O_RDONLY);
  publish(temp.path(), target, options.force);
  temp.published();
  result.transactions = std::stoll(snapshot_count);
  std::error_code error;
  result.bytes = fs::file_size(target, error);
  return result;
}

}  // namespace tillgate::store::sqlite
