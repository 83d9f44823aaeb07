#include "sim/bench_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace tillgate::sim::bench {

namespace {

std::string read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string describe(int status) {
  if (WIFEXITED(status)) {
    return "exit " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "signal " + std::to_string(WTERMSIG(status));
  }
  return "status " + std::to_string(status);
}

}  // namespace

ServerProcess::ServerProcess(const std::filesystem::path& dir,
                             const std::map<std::string, std::string>& env,
                             std::chrono::milliseconds start_timeout)
    : dir_(dir) {
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (env.count(std::string(entry.substr(0, entry.find('=')))) == 0) {
      env_strings.emplace_back(entry);
    }
  }
  for (const auto& [name, value] : env) {
    env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> env_ptrs;
  for (auto& s : env_strings) {
    env_ptrs.push_back(s.data());
  }
  env_ptrs.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::string serve = "serve";
  std::vector<char*> argv{exe.data(), serve.data(), nullptr};

  const auto out_path = dir_ / "server.stdout";
  const auto err_path = dir_ / "server.stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  const int rc = ::posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error(std::string("cannot start the gateway: ") + std::strerror(rc));
  }
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  constexpr std::string_view marker = "listening on ";
  for (;;) {
    const auto out = read_whole(out_path);
    if (const auto at = out.find(marker); at != std::string::npos) {
      const auto end = out.find('\n', at);
      if (end != std::string::npos) {
        const auto host_port = out.substr(at + marker.size(), end - at - marker.size());
        const auto colon = host_port.rfind(':');
        host_ = host_port.substr(0, colon);
        port_ = static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1)));
        return;
      }
    }
    int status = 0;
    if (exited(status)) {
      throw std::runtime_error("the gateway exited (" + describe(status) + ") before listening:\n" +
                               stderr_tail(20));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop(std::chrono::seconds(2));
      throw std::runtime_error("the gateway did not listen within " +
                               std::to_string(start_timeout.count()) + " ms:\n" + stderr_tail(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

ServerProcess::~ServerProcess() {
  int status = 0;
  if (pid_ > 0 && !exited(status)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
}

bool ServerProcess::exited(int& status) {
  if (reaped_) {
    status = status_;
    return true;
  }
  const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    reaped_ = true;
    status = status_;
    return true;
  }
  return false;
}

ServerProcess::Exit ServerProcess::stop(std::chrono::milliseconds grace) {
  int status = 0;
  if (!exited(status)) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (!exited(status) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!exited(status)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      reaped_ = true;
      return {false, "did not stop within " + std::to_string(grace.count()) + " ms (killed)"};
    }
  }
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, describe(status)};
}

std::string ServerProcess::stderr_tail(std::size_t lines) const {
  std::ifstream in(dir_ / "server.stderr");
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line.substr(0, 400));
    if (last.size() > lines) {
      last.pop_front();
    }
  }
  std::string out;
  for (const auto& l : last) {
    out += "  " + l + "\n";
  }
  return out;
}

std::optional<std::uint64_t> proc_status_bytes(pid_t pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
        line[field.size()] == ':') {
      std::istringstream fields(line.substr(field.size() + 1));
      std::uint64_t kib = 0;
      if (fields >> kib) {
        return kib * 1024;
      }
    }
  }
  return std::nullopt;
}

}  // namespace tillgate::sim::bench
