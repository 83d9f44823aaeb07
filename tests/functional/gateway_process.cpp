#include "gateway_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "crypto/crypto.hpp"

extern char** environ;

namespace tillgate::ft {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

std::vector<std::string> child_environment(const EnvMap& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.substr(0, 9) == "TILLGATE_") {
      continue;
    }
    const auto name = entry.substr(0, entry.find('='));
    if (extra.count(std::string(name)) == 0) {
      out.emplace_back(entry);
    }
  }
  for (const auto& [name, value] : extra) {
    out.push_back(name + "=" + value);
  }
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const EnvMap& env,
                           const std::filesystem::path& cwd,
                           const std::filesystem::path& stderr_path) {
  std::array<int, 2> out_pipe{};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
    throw_errno("pipe2");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  // Nothing else of ours: a test's listening socket (e.g. a webhook receiver taken down)
  // must not live on, accepting into a backlog, in the child. Asio's sockets are not
  // close-on-exec.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  auto args = argv;
  auto arg_ptrs = pointers(args);
  auto env_strings = child_environment(env);
  auto env_ptrs = pointers(env_strings);
  const int rc =
      ::posix_spawn(&pid_, arg_ptrs[0], &actions, nullptr, arg_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    errno = rc;
    throw_errno("posix_spawn " + argv[0]);
  }
  reader_ = std::thread([this, fd = out_pipe[0]] { drain_stdout(fd); });
}

ChildProcess::~ChildProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    (void)wait(10s);
  }
  if (reader_.joinable()) {
    reader_.join();
  }
}

void ChildProcess::drain_stdout(int fd) {
  std::array<char, 4096> chunk{};
  for (;;) {
    const auto n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    const std::lock_guard lock(mutex_);
    stdout_.append(chunk.data(), static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  ::close(fd);
  const std::lock_guard lock(mutex_);
  stdout_closed_ = true;
  changed_.notify_all();
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& needle,
                                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    std::size_t start = 0;
    for (auto end = stdout_.find('\n'); end != std::string::npos;
         start = end + 1, end = stdout_.find('\n', start)) {
      const auto line = stdout_.substr(start, end - start);
      if (line.find(needle) != std::string::npos) {
        return line;
      }
    }
    if (stdout_closed_) {
      return std::nullopt;
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return std::nullopt;
    }
  }
}

std::string ChildProcess::stdout_text() const {
  const std::lock_guard lock(mutex_);
  return stdout_;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) {
    return status_;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = status;
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      status_ = -1;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(5ms);
  }
}

bool ChildProcess::running() {
  return !wait(0ms).has_value();
}

void ChildProcess::send_signal(int signal) {
  if (running()) {
    ::kill(pid_, signal);
  }
}

int ChildProcess::terminate(std::chrono::milliseconds grace) {
  send_signal(SIGTERM);
  if (auto status = wait(grace)) {
    return *status;
  }
  send_signal(SIGKILL);
  return wait(10s).value_or(-1);
}

int exit_code_of(int wait_status) {
  if (wait_status < 0) {
    return -1;
  }
  if (WIFEXITED(wait_status)) {
    return WEXITSTATUS(wait_status);
  }
  if (WIFSIGNALED(wait_status)) {
    return 128 + WTERMSIG(wait_status);
  }
  return -1;
}

CommandResult run_tillgate(const std::vector<std::string>& args, const EnvMap& env,
                           std::chrono::milliseconds timeout) {
  TempDir dir;
  std::vector<std::string> argv{TILLGATE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto err_path = dir.path() / "stderr";
  CommandResult result;
  {
    ChildProcess child(argv, env, dir.path(), err_path);
    const auto status = child.wait(timeout);
    if (status) {
      result.exit_code = exit_code_of(*status);
    } else {
      child.send_signal(SIGKILL);
      (void)child.wait(10s);
    }
    (void)child.wait_for_line("\x01never\x01", 2s);  // until stdout is closed
    result.out = child.stdout_text();
  }
  result.err = read_file(err_path);
  return result;
}

GatewayProcess::GatewayProcess(EnvMap extra_env) : admin_token_("adm_" + random_hex(16)) {
  const char* backend = std::getenv("TILLGATE_TEST_BACKEND");
  if (backend != nullptr && std::string_view{backend} == "postgres") {
    database_ = std::make_unique<store::testing::PgTestDatabase>();
  }
  env_ = {
      {"TILLGATE_LISTEN", "127.0.0.1:0"},
      {"TILLGATE_DB", database_ ? database_->url() : "sqlite:" + (dir() / "tillgate.db").string()},
      {"TILLGATE_ADMIN_TOKEN", admin_token_},
      {"TILLGATE_LOG", "debug"}};
  for (auto& [name, value] : extra_env) {
    env_[name] = value;
  }
  start();
}

GatewayProcess::~GatewayProcess() {
  if (process_) {
    (void)stop(10s);
  }
}

void GatewayProcess::start() {
  if (process_) {
    throw std::logic_error("gateway already running");
  }
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{TILLGATE_BINARY, "serve"},
                                            env_, dir(), stderr_path());
  // Under the sanitizers a cold start with migrations takes a moment.
  const auto line = process_->wait_for_line("listening on ", 30s);
  static const std::regex listening(R"(listening on (\[[^\]]+\]|[^\s:]+):(\d+))");
  std::smatch match;
  if (!line || !std::regex_search(*line, match, listening)) {
    const auto out = process_->stdout_text();
    (void)process_->terminate(5s);
    process_.reset();
    throw std::runtime_error("tillgate serve did not print 'listening on HOST:PORT'; stdout:\n" +
                             out + "\nstderr:\n" + log_tail(stderr_text()));
  }
  host_ = match[1].str();
  if (host_.size() > 2 && host_.front() == '[') {
    host_ = host_.substr(1, host_.size() - 2);
  }
  port_ = static_cast<std::uint16_t>(std::stoi(match[2].str()));
}

int GatewayProcess::stop(std::chrono::milliseconds grace) {
  if (!process_) {
    return last_status_.value_or(-1);
  }
  const int status = process_->terminate(grace);
  process_.reset();
  last_status_ = status;
  return status;
}

void GatewayProcess::kill9() {
  if (!process_) {
    return;
  }
  process_->send_signal(SIGKILL);
  last_status_ = process_->wait(10s).value_or(-1);
  process_.reset();
}

std::string GatewayProcess::url() const {
  return (tls() ? "https://" : "http://") + host_ + ":" + std::to_string(port_);
}

bool GatewayProcess::tls() const {
  const auto it = env_.find("TILLGATE_TLS_CERT_FILE");
  return it != env_.end() && !it->second.empty();
}

std::string GatewayProcess::stderr_text() const {
  return read_file(stderr_path());
}

std::string log_tail(const std::string& text) {
  constexpr std::size_t max_lines = 150;
  constexpr std::size_t max_line = 300;
  std::vector<std::string_view> lines;
  std::string_view rest(text);
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    lines.push_back(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  std::string out;
  if (lines.size() > max_lines) {
    out += "... (" + std::to_string(lines.size() - max_lines) + " earlier lines)\n";
  }
  for (std::size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size();
       ++i) {
    out += lines[i].substr(0, max_line);
    out += lines[i].size() > max_line ? "...\n" : "\n";
  }
  return out;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string random_hex(std::size_t bytes) {
  return crypto::hex_encode(crypto::random_bytes(bytes));
}

}  // namespace tillgate::ft
