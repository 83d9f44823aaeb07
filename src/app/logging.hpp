#pragma once
#include <string>

namespace tillgate::app {

// Logs go to stderr as JSON lines: {"time","level","msg"}. `level` is a spdlog level name
// (trace, debug, info, warn, error, critical, off); unknown names are a ConfigError.
void configure_logging(const std::string& level);

}  // namespace tillgate::app
