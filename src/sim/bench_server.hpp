#pragma once
// The gateway a `tillgate bench` run starts for itself: `/proc/self/exe serve` as a child
// process on 127.0.0.1 port 0, with a fresh SQLite file in a directory of its own.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tillgate::sim::bench {

class ServerProcess {
 public:
  // Starts the child in `dir` with this process's environment plus `env` (which wins),
  // stdout and stderr going to dir/server.stdout and dir/server.stderr, and waits until it
  // prints "listening on HOST:PORT". Throws std::runtime_error (with the end of its
  // stderr) when it exits or does not listen within `start_timeout`.
  ServerProcess(const std::filesystem::path& dir, const std::map<std::string, std::string>& env,
                std::chrono::milliseconds start_timeout);
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::string& host() const { return host_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }

  // SIGTERM, then SIGKILL after `grace`; a description of how it ended ("exit 0",
  // "signal 9") and whether that was a clean exit 0.
  struct Exit {
    bool clean = false;
    std::string description;
  };
  Exit stop(std::chrono::milliseconds grace);

  // The last `lines` lines of its stderr.
  [[nodiscard]] std::string stderr_tail(std::size_t lines) const;

 private:
  [[nodiscard]] bool exited(int& status);

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string host_;
  std::uint16_t port_ = 0;
};

// A field of /proc/PID/status in bytes ("VmRSS", "VmHWM"), or nullopt.
[[nodiscard]] std::optional<std::uint64_t> proc_status_bytes(pid_t pid, std::string_view field);

}  // namespace tillgate::sim::bench
