#include "domain/terminal_outcome.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

namespace tillgate::domain {
namespace {

using namespace std::string_view_literals;

// ---- TerminalStatus ------------------------------------------------------------------------

TEST(TerminalStatus, HasTheWireNamesAndRoundTrips) {
  EXPECT_EQ(to_string(TerminalStatus::success), "SUCCESS");
  EXPECT_EQ(to_string(TerminalStatus::failed), "FAILED");
  EXPECT_EQ(to_string(TerminalStatus::cancelled), "CANCELLED");
  for (const auto status :
       {TerminalStatus::success, TerminalStatus::failed, TerminalStatus::cancelled}) {
    EXPECT_EQ(parse_terminal_status(to_string(status)), status) << to_string(status);
  }
}

TEST(TerminalStatus, RefusesAnythingButTheExactName) {
  for (const std::string_view text : {"success"sv, "Success"sv, ""sv, "SUCCESS "sv, " FAILED"sv,
                                      "CANCELED"sv, "COMPLETED"sv, "DECLINED"sv, "failed"sv}) {
    EXPECT_EQ(parse_terminal_status(text), std::nullopt) << '"' << text << '"';
  }
}

}  // namespace
}  // namespace tillgate::domain
