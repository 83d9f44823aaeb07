#include "sim/credentials.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "json/json.hpp"

namespace tillgate::sim {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

std::string credentials_path_for(const std::string& journal_path) {
  return journal_path + ".credentials";
}

std::optional<SavedCredentials> load_credentials(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read credentials file " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  const auto parsed = json::parse(text.str());
  const auto device_id = parsed ? parsed->find_string("deviceId") : std::nullopt;
  const auto device_secret = parsed ? parsed->find_string("deviceSecret") : std::nullopt;
  if (!device_id || device_id->empty() || !device_secret || device_secret->empty()) {
    throw std::runtime_error("credentials file " + path +
                             " is not {deviceId, deviceSecret, merchantId}: delete it and pair "
                             "again with a new code");
  }
  return SavedCredentials{std::string(*device_id), std::string(*device_secret),
                          std::string(parsed->find_string("merchantId").value_or(""))};
}

CredentialsWriter::CredentialsWriter(std::string path)
    : path_(std::move(path)), temp_(path_ + ".tmp") {
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw_errno("cannot create " + temp_ + " for the terminal's credentials");
  }
}

CredentialsWriter::~CredentialsWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

void CredentialsWriter::commit(const SavedCredentials& credentials) {
  if (fd_ < 0) {
    throw std::runtime_error("credentials for " + path_ + " were already written");
  }
  const std::string text =
      json::serialize(json::object({{"deviceId", json::Value(credentials.device_id)},
                                    {"deviceSecret", json::Value(credentials.device_secret)},
                                    {"merchantId", json::Value(credentials.merchant_id)}})) +
      "\n";
  std::string_view rest(text);
  while (!rest.empty()) {
    const auto written = ::write(fd_, rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("cannot write " + temp_);
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd_) != 0) {
    throw_errno("cannot fsync " + temp_);
  }
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temp_.c_str());
    errno = rename_errno;
    throw_errno("cannot rename " + temp_ + " to " + path_);
  }
  // The rename is durable once the directory is synced.
  auto dir = std::filesystem::path(path_).parent_path();
  if (dir.empty()) {
    dir = ".";
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace tillgate::sim
