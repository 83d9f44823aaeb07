#pragma once
// The files of a SQLite database hold API secrets: whatever the gateway creates for them
// is private to its user (directories 0700, files 0600), and one process at a time writes
// a database (WriterLock).
#include <filesystem>
#include <string>

#include "store/store.hpp"

namespace tillgate::store::sqlite {

// Creates the missing directories of `directory`, each mode 0700; directories that exist
// already keep their mode. Throws StoreError naming the directory.
void create_private_directories(const std::filesystem::path& directory);

// Creates `file` empty with mode 0600 when it does not exist yet (an empty file is an empty
// SQLite database). SQLite creates a database's -wal, -shm and -journal files with the
// mode of the database file, so they are 0600 too. Answers whether it created the file;
// throws StoreError when it can neither create nor find it.
bool create_private_file(const std::filesystem::path& file);

// Whether group or others may read or write `file` (false when it does not exist).
[[nodiscard]] bool readable_by_others(const std::filesystem::path& file);

// `path` as an operator should read it in a message: absolute (TILLGATE_DB may be
// relative to a working directory they do not see).
[[nodiscard]] std::string display_path(const std::filesystem::path& path);

// The lock file of a database: "<database>.lock", beside it.
[[nodiscard]] std::filesystem::path lock_file_of(const std::filesystem::path& database);

// Another process holds the database's writer lock.
class DatabaseInUse : public StoreError {
 public:
  using StoreError::StoreError;
};

// One writer per database file: an exclusive flock(2) on "<database>.lock", held for the
// life of this object, with the holder's pid and host name written in the file. The
// kernel drops the lock when its holder dies, even by kill -9, so the pid left in the file
// by a dead holder never blocks anyone: only the flock decides, the text is for messages.
class WriterLock {
 public:
  // Creates the database's directory (0700) and the lock file (0600) when missing, then
  // takes the lock without waiting. Throws DatabaseInUse naming the database file and the
  // holder (pid and host) when another open file holds it, StoreError for other failures.
  explicit WriterLock(const std::filesystem::path& database);
  ~WriterLock();
  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  [[nodiscard]] const std::filesystem::path& lock_file() const { return lock_file_; }

 private:
  std::filesystem::path lock_file_;
  int fd_ = -1;
};

}  // namespace tillgate::store::sqlite
