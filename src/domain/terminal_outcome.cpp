#include "domain/terminal_outcome.hpp"

#include <array>

namespace tillgate::domain {

std::string_view to_string(TerminalStatus status) {
  switch (status) {
    case TerminalStatus::success:
      return "SUCCESS";
    case TerminalStatus::failed:
      return "FAILED";
    case TerminalStatus::cancelled:
      return "CANCELLED";
  }
  // Only a value cast from outside the enumerators gets here; "" is no name parse accepts.
  return "";
}

std::optional<TerminalStatus> parse_terminal_status(std::string_view text) {
  constexpr std::array kAll{TerminalStatus::success, TerminalStatus::failed,
                            TerminalStatus::cancelled};
  for (const TerminalStatus status : kAll) {
    if (to_string(status) == text) {
      return status;
    }
  }
  return std::nullopt;
}

bool is_masked_pan(std::string_view text) {
  std::size_t leading = 0;
  std::size_t masked = 0;
  std::size_t trailing = 0;
  for (const char c : text) {
    if (c == ' ' || c == '-') {
      continue;
    }
    const bool digit = c >= '0' && c <= '9';
    if (c == '*' || c == 'X' || c == 'x') {
      if (trailing > 0) {
        return false;  // a second masked run: digits in the middle are not allowed
      }
      ++masked;
    } else if (!digit) {
      return false;
    } else if (masked == 0) {
      ++leading;
    } else {
      ++trailing;
    }
  }
  return masked > 0 && leading <= 6 && trailing <= 4 && leading + masked + trailing <= 19;
}

}  // namespace tillgate::domain
