#pragma once
// A paired simulated terminal's identity on disk, kept next to its journal so that a
// restart with the same journal reconnects without a new pairing code. The file is
// JOURNAL.credentials, mode 0600, one JSON object {deviceId, deviceSecret, merchantId},
// written whole (temp file, fsync, rename): a crash leaves no file or a complete one.
#include <optional>
#include <string>

namespace tillgate::sim {

struct SavedCredentials {
  std::string device_id;
  std::string device_secret;
  std::string merchant_id;
};

// "till.journal" -> "till.journal.credentials".
[[nodiscard]] std::string credentials_path_for(const std::string& journal_path);

// nullopt when the file does not exist; throws std::runtime_error when it exists but
// cannot be read or is not a credentials file.
[[nodiscard]] std::optional<SavedCredentials> load_credentials(const std::string& path);

// Claims the place for the credentials before a one-time code is spent: the constructor
// creates PATH.tmp (0600) or throws std::runtime_error, so an unwritable directory is
// found before pairing, not after. commit() writes, fsyncs and renames it into place;
// without commit() the destructor removes the temp file.
class CredentialsWriter {
 public:
  explicit CredentialsWriter(std::string path);
  ~CredentialsWriter();
  CredentialsWriter(const CredentialsWriter&) = delete;
  CredentialsWriter& operator=(const CredentialsWriter&) = delete;

  // Throws std::runtime_error.
  void commit(const SavedCredentials& credentials);

 private:
  std::string path_;
  std::string temp_;
  int fd_ = -1;
};

}  // namespace tillgate::sim
