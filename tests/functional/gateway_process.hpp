#pragma once
// Runs the real `tillgate` binary for functional tests: spawned with posix_spawn in a
// fresh temporary directory, stdout read (by a thread) to learn the port, stderr kept in
// a file to dump when a test fails.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include "../support/temp_dir.hpp"
#include "../unit/store/store_test_support.hpp"

namespace tillgate::ft {

using namespace std::chrono_literals;

using EnvMap = std::map<std::string, std::string>;

using tillgate::testing::TempDir;

// One child process. Its environment is ours minus every TILLGATE_* variable, plus `env`.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const EnvMap& env,
               const std::filesystem::path& cwd, const std::filesystem::path& stderr_path);
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Waits until a stdout line contains `needle`; returns that line, or nullopt at the
  // deadline or when stdout closed first.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout);
  [[nodiscard]] std::string stdout_text() const;
  // The raw wait status once the process ended within `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  [[nodiscard]] bool running();
  void send_signal(int signal);
  // SIGTERM, then SIGKILL after `grace`; returns the wait status.
  int terminate(std::chrono::milliseconds grace);

 private:
  void drain_stdout(int fd);

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string stdout_;
  bool stdout_closed_ = false;
};

// Exit code of a normal exit, or 128 + signal number, or -1.
[[nodiscard]] int exit_code_of(int wait_status);

struct CommandResult {
  int exit_code = -1;  // exit_code_of(); -1 on timeout (the process is killed)
  std::string out;
  std::string err;
};

// Runs `tillgate args...` to completion (killed after `timeout`).
CommandResult run_tillgate(const std::vector<std::string>& args, const EnvMap& env = {},
                           std::chrono::milliseconds timeout = 30s);

class GatewayProcess {
 public:
  // Creates the temp dir and starts `tillgate serve` with the standard test environment
  // (port 0, SQLite in the temp dir, a random admin token, debug logs) plus `extra_env`.
  // With TILLGATE_TEST_BACKEND=postgres in the tests' environment, the database is one of
  // its own on the PostgreSQL test cluster instead (docs/scale-out.md: a manual run of the
  // functional suite on PostgreSQL; the tests of SQLite's files then fail, as they should).
  explicit GatewayProcess(EnvMap extra_env = {});
  ~GatewayProcess();
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // Starts again (same database, same token); throws std::runtime_error when it does not
  // print "listening on HOST:PORT" in time.
  void start();
  // SIGTERM, wait (SIGKILL after the deadline); returns the wait status.
  int stop(std::chrono::milliseconds grace = 20s);
  void kill9();
  void restart() {
    stop();
    start();
  }
  [[nodiscard]] bool running() const { return process_ != nullptr; }
  // The running gateway's process id (-1 when it is not running).
  [[nodiscard]] pid_t pid() const { return process_ != nullptr ? process_->pid() : -1; }

  [[nodiscard]] const std::string& host() const { return host_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // "http://HOST:PORT", or "https://" when the gateway terminates TLS.
  [[nodiscard]] std::string url() const;
  // Whether it was started with TILLGATE_TLS_CERT_FILE (HTTPS and WSS only).
  [[nodiscard]] bool tls() const;
  // The CA file the tests' clients trust for a TLS gateway (set by the test that made it).
  [[nodiscard]] const std::string& client_ca_file() const { return client_ca_file_; }
  void set_client_ca_file(std::string path) { client_ca_file_ = std::move(path); }
  [[nodiscard]] const std::string& admin_token() const { return admin_token_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
  [[nodiscard]] const EnvMap& env() const { return env_; }
  [[nodiscard]] std::filesystem::path stderr_path() const { return dir() / "gateway.stderr"; }
  [[nodiscard]] std::string stderr_text() const;
  [[nodiscard]] std::optional<int> last_exit_status() const { return last_status_; }

 private:
  TempDir dir_;
  std::unique_ptr<store::testing::PgTestDatabase> database_;  // TILLGATE_TEST_BACKEND=postgres
  EnvMap env_;
  std::string admin_token_;
  std::string client_ca_file_;
  std::unique_ptr<ChildProcess> process_;
  std::string host_;
  std::uint16_t port_ = 0;
  std::optional<int> last_status_;
};

[[nodiscard]] std::string read_file(const std::filesystem::path& path);
// The last lines of a log, each cut short: sanitizer reports name types thousands of
// characters long.
[[nodiscard]] std::string log_tail(const std::string& text);
// A random lower-case hex string of 2 * bytes characters.
[[nodiscard]] std::string random_hex(std::size_t bytes);

}  // namespace tillgate::ft
