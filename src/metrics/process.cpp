#include "metrics/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/metrics.hpp"

namespace tillgate::metrics {

namespace {

constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr == text.data()) {
    return std::nullopt;
  }
  return value;
}

std::string_view trim_left(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  return text;
}

// The lines of `text`, each without its newline.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
  }
  return lines;
}

double status_value(const char* key) {
  const auto bytes = status_bytes(read_file("/proc/self/status"), key);
  return bytes ? static_cast<double>(*bytes) : kUnknown;
}

double open_fds() {
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/self/fd", error);
  if (error) {
    return kUnknown;
  }
  double count = 0;
  for (const auto& entry : it) {
    (void)entry;
    ++count;
  }
  return count;
}

}  // namespace

std::optional<std::uint64_t> status_bytes(std::string_view status_text, std::string_view key) {
  for (const auto line : lines_of(status_text)) {
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':') {
      auto rest = trim_left(line.substr(key.size() + 1));
      const auto kib = parse_unsigned(rest);
      if (!kib || !rest.ends_with(" kB")) {
        return std::nullopt;
      }
      return *kib * 1024;
    }
  }
  return std::nullopt;
}

std::optional<double> start_time_seconds(std::string_view stat_text,
                                         std::string_view proc_stat_text, long ticks_per_second) {
  if (ticks_per_second <= 0) {
    return std::nullopt;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are
  // counted from the last ')'. The first after it is field 3 (state); starttime is 22.
  const auto close = stat_text.rfind(')');
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = stat_text.substr(close + 1);
  std::optional<std::uint64_t> start_ticks;
  for (int field = 3; field <= 22; ++field) {
    rest = trim_left(rest);
    const auto end = rest.find(' ');
    const auto token = rest.substr(0, end);
    if (token.empty()) {
      return std::nullopt;
    }
    if (field == 22) {
      start_ticks = parse_unsigned(token);
    }
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  std::optional<std::uint64_t> boot_time;
  for (const auto line : lines_of(proc_stat_text)) {
    if (line.starts_with("btime ")) {
      boot_time = parse_unsigned(trim_left(line.substr(6)));
    }
  }
  if (!start_ticks || !boot_time) {
    return std::nullopt;
  }
  return static_cast<double>(*boot_time) +
         static_cast<double>(*start_ticks) / static_cast<double>(ticks_per_second);
}

namespace {

// User and system CPU of every thread of the process so far.
double cpu_seconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) {
    return kUnknown;
  }
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

void register_process_metrics(Registry& registry) {
  registry.callback_gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
      .set_source([] { return status_value("VmRSS"); });
  registry
      .callback_gauge("tillgate_process_peak_resident_memory_bytes",
                      "Peak resident memory size in bytes (VmHWM of /proc/self/status).")
      .set_source([] { return status_value("VmHWM"); });
  registry.callback_gauge("process_open_fds", "Number of open file descriptors.")
      .set_source(open_fds);
  registry
      .callback_counter("process_cpu_seconds_total",
                        "Total user and system CPU time spent in seconds.")
      .set_source(cpu_seconds);
  // The start does not change: read once.
  const double started = start_time_seconds(read_file("/proc/self/stat"), read_file("/proc/stat"),
                                            sysconf(_SC_CLK_TCK))
                             .value_or(kUnknown);
  registry
      .callback_gauge("process_start_time_seconds",
                      "Start time of the process since the Unix epoch, in seconds.")
      .set_source([started] { return started; });
}

}  // namespace tillgate::metrics
