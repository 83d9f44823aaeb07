// The files of a SQLite database (issue 19, items 3 and 5): one writer per file (the lock
// beside it), private modes for everything the gateway creates, and the online backup.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "store/database_lock.hpp"
#include "store/database_url.hpp"
#include "store/sqlite/backup.hpp"
#include "store/sqlite/file_safety.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/statement.hpp"
#include "store_test_support.hpp"

namespace tillgate::store::testing {
namespace {

namespace fs = std::filesystem;
using sqlite::BackupError;
using sqlite::BackupOptions;
using sqlite::DatabaseInUse;
using sqlite::WriterLock;

[[nodiscard]] unsigned mode_of(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    return 0;
  }
  return status.st_mode & 07777;
}

[[nodiscard]] std::string text_of(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The message of the exception `action` throws as E ("" if it throws none, a failure if it
// throws another type).
template <typename E, typename F>
std::string thrown(F&& action) {
  try {
    action();
  } catch (const E& error) {
    return error.what();
  }
  ADD_FAILURE() << "nothing was thrown";
  return "";
}

TEST(WriterLockTest, ASecondHolderIsRefusedWithTheFileAndThePid) {
  TempDir dir;
  const auto db = dir.path() / "tillgate.db";
  const WriterLock first{db};
  EXPECT_EQ(text_of(db.string() + ".lock").find("pid " + std::to_string(::getpid())), 0U);
  // flock(2) locks belong to an open file: a second open in the same process conflicts
  // just as another process does.
  const auto message = thrown<DatabaseInUse>([&] { WriterLock second{db}; });
  EXPECT_NE(message.find(db.string()), std::string::npos) << message;
  EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;
  EXPECT_NE(message.find("host "), std::string::npos) << message;
}

TEST(WriterLockTest, IsReleasedWithItsHolderAndAStalePidDoesNotBlock) {
  TempDir dir;
  const auto db = dir.path() / "tillgate.db";
  { const WriterLock first{db}; }
  const WriterLock again{db};  // released by the first one's end
  TempDir other;
  const auto stale_db = other.path() / "tillgate.db";
  std::ofstream(stale_db.string() + ".lock") << "pid 999999\nhost elsewhere\n";
  const WriterLock taken{stale_db};  // a dead holder's text, no flock: taken
  EXPECT_EQ(text_of(stale_db.string() + ".lock").find("pid " + std::to_string(::getpid())), 0U);
}

TEST(WriterLockTest, LockDatabaseFollowsTheUrl) {
  TempDir dir;
  const auto url = "sqlite:" + (dir.path() / "x.db").string();
  const auto lock = lock_database(url);
  EXPECT_TRUE(lock.held());
  EXPECT_THROW((void)lock_database(url), DatabaseInUse);
  EXPECT_THROW((void)lock_database("sqlite:"), StoreError);
  EXPECT_THROW((void)lock_database("mysql://h/db"), StoreError);
  // PostgreSQL: no lock, several nodes share the database (nothing is connected to).
  EXPECT_FALSE(lock_database("postgresql://nobody@127.0.0.1:1/none").held());
}

// SQLite keeps no memory statistics in the gateway's process: with them every allocation
// SQLite makes takes a process-wide mutex. The first connection opened applies it.
TEST(SqliteLibraryTest, KeepsNoMemoryStatisticsOnceAConnectionOpened) {
  TempDir dir;
  sqlite::Connection connection((dir.path() / "library.db").string());
  connection.exec("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (randomblob(100000));", "test",
                  "allocate");
  EXPECT_EQ(sqlite3_memory_used(), 0);
  EXPECT_EQ(sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1), SQLITE_MISUSE);  // settled for the process
}

TEST(FileModesTest, CreatedDirectoriesAreOwnerOnlyAndTheDatabaseFilesToo) {
  TempDir dir;
  const auto db = dir.path() / "a" / "b" / "tillgate.db";
  const WriterLock lock{db};
  {
    sqlite::SqliteStore store{db};
    store.insert_merchant(make_merchant("m1"));
    ASSERT_TRUE(fs::exists(db.string() + "-wal"));
    ASSERT_TRUE(fs::exists(db.string() + "-shm"));
    EXPECT_EQ(mode_of(db.string() + "-wal"), 0600U);
    EXPECT_EQ(mode_of(db.string() + "-shm"), 0600U);
  }
  EXPECT_EQ(mode_of(dir.path() / "a"), 0700U);
  EXPECT_EQ(mode_of(dir.path() / "a" / "b"), 0700U);
  EXPECT_EQ(mode_of(db), 0600U);
  EXPECT_EQ(mode_of(db.string() + ".lock"), 0600U);
}

TEST(FileModesTest, AnExistingDirectoryAndFileKeepTheirModes) {
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const auto db = dir.path() / "tillgate.db";
  std::ofstream{db}.close();
  ASSERT_EQ(::chmod(db.c_str(), 0640), 0);
  { sqlite::SqliteStore store{db}; }
  EXPECT_EQ(mode_of(dir.path()), 0755U);
  EXPECT_EQ(mode_of(db), 0640U);  // the operator's choice; the gateway warns
}

class BackupTest : public StoreTest {
 protected:
  void add_transactions(int count) {
    for (int i = 0; i < count; ++i) {
      auto transaction = make_transaction("m1", "t" + std::to_string(next_++), "d1");
      ASSERT_EQ(store_->insert_transaction(transaction), InsertOutcome::inserted);
      StatusChange change;
      change.merchant_id = "m1";
      change.transaction_id = transaction.transaction_id;
      change.expected = TransactionStatus::pending;
      change.next = TransactionStatus::completed;
      change.cause = "terminal_result";
      change.at = ms(1'700'000'001'000);
      ASSERT_TRUE(store_->change_status(change).has_value());
    }
  }

  [[nodiscard]] fs::path target() const { return dir_.path() / "backup.db"; }

  int next_ = 0;
};

TEST_P(BackupTest, CopiesTheLiveDatabaseToAPrivateCheckedFile) {
  add_transactions(3);
  BackupOptions options;
  options.pages_per_step = 1;  // many steps, each a separate sqlite3_backup_step
  options.step_pause = std::chrono::milliseconds(0);
  const auto result = sqlite::backup_database(db_path(), target(), options);
  EXPECT_EQ(result.transactions, 3);
  EXPECT_GT(result.steps, 3);
  EXPECT_EQ(result.bytes, fs::file_size(target()));
  EXPECT_EQ(mode_of(target()), 0600U);
  EXPECT_FALSE(fs::exists(target().string() + "-wal"));  // a self-contained file
  // Nothing but the copy is left beside it.
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".backup.db.tmp"), std::string::npos);
  }
  sqlite::SqliteStore restored{target()};
  EXPECT_EQ(restored.find_transaction("m1", "t2")->status, TransactionStatus::completed);
  EXPECT_EQ(restored.find_transaction("m1", "t2")->amount_minor,
            make_transaction("m1", "t2", "d1").amount_minor);
}

TEST_P(BackupTest, TakesOneSnapshotWhileTheStoreKeepsWriting) {
  add_transactions(50);
  BackupOptions options;
  options.pages_per_step = 1;
  options.step_pause = std::chrono::milliseconds(2);
  // The store writes between the steps (same process, another connection): the copy is
  // the snapshot at its start, not a restart, and not a mixture.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    while (!done) {
      add_transactions(1);
    }
  });
  auto copying = std::async(std::launch::async,
                            [&] { return sqlite::backup_database(db_path(), target(), options); });
  // A copy that restarts at every commit would not end while the writer writes.
  const bool ended = copying.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  done = true;
  writer.join();
  const auto result = copying.get();
  EXPECT_TRUE(ended) << "the copy restarted at the writer's commits instead of reading one "
                        "snapshot";
  EXPECT_GE(result.transactions, 50);
  EXPECT_LT(result.transactions, next_);
  RawDb copy{target()};
  EXPECT_EQ(copy.query_int("SELECT count(*) FROM transactions"), result.transactions);
  EXPECT_EQ(copy.query_text("PRAGMA integrity_check"), "ok");
}

TEST_P(BackupTest, RefusesAnExistingTargetUnlessForced) {
  add_transactions(1);
  std::ofstream(target()) << "keep me";
  const auto message =
      thrown<BackupError>([&] { (void)sqlite::backup_database(db_path(), target(), {}); });
  EXPECT_NE(message.find("already exists"), std::string::npos) << message;
  EXPECT_NE(message.find("--force"), std::string::npos) << message;
  EXPECT_EQ(text_of(target()), "keep me");
  BackupOptions force;
  force.force = true;
  EXPECT_EQ(sqlite::backup_database(db_path(), target(), force).transactions, 1);
  EXPECT_EQ(mode_of(target()), 0600U);
}

TEST_P(BackupTest, RefusesTheLiveDatabaseAndItsFilesAsTarget) {
  for (const std::string suffix : {"", "-wal", "-shm", ".lock"}) {
    BackupOptions force;
    force.force = true;  // not even when forced
    const auto message = thrown<BackupError>(
        [&] { (void)sqlite::backup_database(db_path(), db_path().string() + suffix, force); });
    EXPECT_NE(message.find("live database"), std::string::npos) << suffix << ": " << message;
  }
  // The same file by another spelling.
  const auto message = thrown<BackupError>(
      [&] { (void)sqlite::backup_database(db_path(), dir_.path() / "." / "tillgate.db", {}); });
  EXPECT_NE(message.find("live database"), std::string::npos) << message;
  EXPECT_EQ(store_->find_merchant("m1")->merchant_id, "m1");
}

TEST_P(BackupTest, RefusesAMissingDatabaseWithoutCreatingIt) {
  const auto missing = dir_.path() / "nope.db";
  const auto message =
      thrown<BackupError>([&] { (void)sqlite::backup_database(missing, target(), {}); });
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_FALSE(fs::exists(target()));
}

TEST_P(BackupTest, RefusesADirectoryThatIsMissingOrNotWritable) {
  auto message = thrown<BackupError>(
      [&] { (void)sqlite::backup_database(db_path(), dir_.path() / "no" / "b.db", {}); });
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  message = thrown<BackupError>([&] { (void)sqlite::backup_database(db_path(), dir_.path(), {}); });
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
  // Not writable even by root: sysfs refuses new files to everyone.
  if (!fs::is_directory("/sys")) {
    GTEST_SKIP() << "no /sys";
  }
  message = thrown<BackupError>(
      [&] { (void)sqlite::backup_database(db_path(), "/sys/tillgate-backup.db", {}); });
  EXPECT_NE(message.find("cannot write in /sys"), std::string::npos) << message;
}

TEST_P(BackupTest, RefusesAFileThatIsNotATillgateDatabase) {
  const auto other = dir_.path() / "other.db";
  std::ofstream(other) << "not a database, only text that is long enough to look like one...";
  const auto message =
      thrown<BackupError>([&] { (void)sqlite::backup_database(other, target(), {}); });
  EXPECT_NE(message.find("backup: "), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(target()));
}

TILLGATE_SQLITE_ONLY(BackupTest);

}  // namespace
}  // namespace tillgate::store::testing
