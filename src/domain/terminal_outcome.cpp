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

}  // namespace tillgate::domain
