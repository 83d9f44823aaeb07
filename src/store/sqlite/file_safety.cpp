#include "store/sqlite/file_safety.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <utility>
#include <vector>

namespace tillgate::store::sqlite {
namespace {

namespace fs = std::filesystem;

[[nodiscard]] std::string errno_text(int error) {
  return std::strerror(error);
}

[[nodiscard]] std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) {
    return "unknown host";
  }
  return name.data();
}

// "pid 123 on host h", from the lock file's text "pid 123\nhost h\n"; best effort, since
// the holder may not have written it yet.
[[nodiscard]] std::string describe_holder(int fd) {
  std::string text(512, '\0');
  const ssize_t got = ::pread(fd, text.data(), text.size(), 0);
  text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  std::istringstream lines(text);
  std::string key;
  std::string value;
  std::string pid = "unknown";
  std::string host = "an unknown host";
  while (lines >> key >> value) {
    if (key == "pid") {
      pid = value;
    } else if (key == "host") {
      host = value;
    }
  }
  return fmt::format("pid {} on host {}", pid, host);
}

void write_holder(int fd, const fs::path& lock_file) {
  const std::string text = fmt::format("pid {}\nhost {}\n", ::getpid(), host_name());
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    throw StoreError(fmt::format("sqlite store: cannot write the lock file {}: {}",
                                 display_path(lock_file), errno_text(errno)));
  }
}

}  // namespace

void create_private_directories(const fs::path& directory) {
  std::vector<fs::path> missing;
  for (fs::path at = directory; !at.empty(); at = at.parent_path()) {
    std::error_code error;
    if (fs::exists(at, error) || at == at.parent_path()) {
      break;
    }
    missing.push_back(at);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      throw StoreError(fmt::format("sqlite store: open: cannot create directory {}: {}",
                                   display_path(*it), errno_text(errno)));
    }
  }
}

bool create_private_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  if (errno == EEXIST) {
    return false;
  }
  throw StoreError(fmt::format("sqlite store: open: cannot create database file {}: {}",
                               display_path(file), errno_text(errno)));
}

bool readable_by_others(const fs::path& file) {
  struct stat status {};
  return ::stat(file.c_str(), &status) == 0 && (status.st_mode & 077) != 0;
}

std::string display_path(const fs::path& path) {
  std::error_code ignored;
  const auto absolute = fs::absolute(path, ignored);
  return (absolute.empty() ? path : absolute).lexically_normal().string();
}

fs::path lock_file_of(const fs::path& database) {
  return fs::path(database.string() + ".lock");
}

WriterLock::WriterLock(const fs::path& database) : lock_file_(lock_file_of(database)) {
  if (database.has_parent_path()) {
    create_private_directories(database.parent_path());
  }
  // No O_TRUNC: the file may be another process's, holding its pid.
  fd_ = ::open(lock_file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw StoreError(fmt::format("sqlite store: cannot open the lock file {}: {}",
                                 display_path(lock_file_), errno_text(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = error == EWOULDBLOCK ? describe_holder(fd_) : "";
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw DatabaseInUse(fmt::format(
          "database {} is in use by another tillgate process ({}); one process writes a "
          "database file: stop that one first (lock file {})",
          display_path(database), holder, display_path(lock_file_)));
    }
    throw StoreError(fmt::format("sqlite store: cannot lock {}: {}", display_path(lock_file_),
                                 errno_text(error)));
  }
  try {
    write_holder(fd_, lock_file_);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

WriterLock::~WriterLock() {
  // The file stays: removing it would let a process that opened the old file and a
  // process that creates a new one both "hold" the lock. Closing releases the flock.
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

WriterLock::WriterLock(WriterLock&& other) noexcept
    : lock_file_(std::move(other.lock_file_)), fd_(std::exchange(other.fd_, -1)) {}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    lock_file_ = std::move(other.lock_file_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

}  // namespace tillgate::store::sqlite
