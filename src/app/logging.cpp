#include "app/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>

#include "app/config.hpp"
#include "domain/time.hpp"
#include "json/json.hpp"

namespace tillgate::app {
namespace {

class JsonLineSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    const auto at = std::chrono::time_point_cast<std::chrono::milliseconds>(message.time);
    std::string line = json::serialize(json::object({
        {"time", json::Value(domain::format_iso8601(domain::Timestamp{at.time_since_epoch()}))},
        {"level",
         json::Value(std::string_view(spdlog::level::to_string_view(message.level).data(),
                                      spdlog::level::to_string_view(message.level).size()))},
        {"msg", json::Value(std::string_view(message.payload.data(), message.payload.size()))},
    }));
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

void configure_logging(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw ConfigError("TILLGATE_LOG must be trace, debug, info, warn, error or off; got '" + level +
                      "'");
  }
  auto logger = std::make_shared<spdlog::logger>("tillgate", std::make_shared<JsonLineSink>());
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace tillgate::app
