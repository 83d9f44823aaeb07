#pragma once
// A fresh directory under $TMPDIR (or /tmp) for one test, removed on destruction unless
// TILLGATE_TEST_KEEP_TMP is set (to look at a failed test's files). Shared by every test tree.
#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace tillgate::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tillgate-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    path_ = pattern;
  }
  ~TempDir() {
    if (std::getenv("TILLGATE_TEST_KEEP_TMP") != nullptr) {
      return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace tillgate::testing
