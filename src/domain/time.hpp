#pragma once
// Time points used everywhere in the domain: UTC, millisecond precision.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tillgate::domain {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// "2024-01-15T10:30:00.000Z": always UTC, always three fraction digits.
std::string format_iso8601(Timestamp at);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z" and the same with a "+HH:MM"/"-HH:MM" offset
// (1 to 9 fraction digits, truncated to milliseconds). Anything else is nullopt.
std::optional<Timestamp> parse_iso8601(std::string_view text);

// The injectable clock: production uses SystemClock, tests may substitute their own.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] Timestamp now() const override;
};

}  // namespace tillgate::domain
