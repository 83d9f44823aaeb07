#pragma once
// The process's own gauges, read from /proc/self at scrape time: resident memory and its
// peak, open file descriptors, start time. Linux only; a value that cannot be read is NaN.
#include <cstdint>
#include <optional>
#include <string_view>

namespace tillgate::metrics {

class Registry;

// Registers process_resident_memory_bytes, tillgate_process_peak_resident_memory_bytes,
// process_open_fds and process_start_time_seconds on `registry`.
void register_process_metrics(Registry& registry);

// Parsers, pure (exposed for tests).

// The "kB" value of `key` ("VmRSS", "VmHWM") in /proc/<pid>/status, in bytes.
[[nodiscard]] std::optional<std::uint64_t> status_bytes(std::string_view status_text,
                                                        std::string_view key);
// The process's start in seconds since the Unix epoch, from /proc/<pid>/stat (field 22,
// starttime, in clock ticks since boot), the "btime" line of /proc/stat and the clock ticks
// per second.
[[nodiscard]] std::optional<double> start_time_seconds(std::string_view stat_text,
                                                       std::string_view proc_stat_text,
                                                       long ticks_per_second);

}  // namespace tillgate::metrics
