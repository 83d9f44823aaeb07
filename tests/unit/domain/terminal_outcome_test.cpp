#include "domain/terminal_outcome.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "domain/terminal_outcome_json.hpp"
#include "json/json.hpp"

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

// ---- response_json as the codec writes it today --------------------------------------------

// Each text below is verbatim what terminal::decode (src/terminal/codec.cpp) records as
// response_json for the frame in the comment above it, printed by a scratch program linked
// with the codec at the commit this test was written.

// {"type":"payment.result","transactionId":"TXN-1","status":"SUCCESS",
//  "authorizationCode":"AUTH123456",
//  "receiptData":"VISA ****4242 APPROVED\nMerci, \u00e0 bient\u00f4t \"caf\u00e9\" \\ \t end",
//  "errorCode":"00","errorMessage":"Approved","completedAt":"2024-01-15T12:30:04.5123+02:00"}
constexpr std::string_view kSuccessWithEveryField =
    R"({"status":"SUCCESS","authorizationCode":"AUTH123456","receiptData":"VISA ****4242 APPROVED\nMerci, à bientôt \"café\" \\ \t end","errorCode":"00","errorMessage":"Approved","completedAt":"2024-01-15T10:30:04.512Z"})";

// {"type":"payment.result","transactionId":"TXN-2","status":"CANCELLED",
//  "completedAt":"2024-01-15T10:30:00Z"}
constexpr std::string_view kCancelledWithNone =
    R"({"status":"CANCELLED","authorizationCode":null,"receiptData":null,"errorCode":null,"errorMessage":null,"completedAt":"2024-01-15T10:30:00.000Z"})";

// {"type":"payment.result","transactionId":"TXN-3","status":"FAILED","errorCode":"DECLINED",
//  "errorMessage":"Insufficient funds","completedAt":"2024-01-15T10:30:04.512Z"}
constexpr std::string_view kFailedWithCodeAndMessage =
    R"({"status":"FAILED","authorizationCode":null,"receiptData":null,"errorCode":"DECLINED","errorMessage":"Insufficient funds","completedAt":"2024-01-15T10:30:04.512Z"})";

// {"type":"payment.result","transactionId":"TXN-4","status":"FAILED","authorizationCode":42,
//  "errorCode":"","completedAt":"2024-01-15T10:30:04.512Z"}
// (the codec records a non-string authorizationCode as null, and an empty errorCode as "")
constexpr std::string_view kFailedWithEmptyCode =
    R"({"status":"FAILED","authorizationCode":null,"receiptData":null,"errorCode":"","errorMessage":null,"completedAt":"2024-01-15T10:30:04.512Z"})";

void expect_same_bytes_back(std::string_view recorded, const TerminalOutcome& expected) {
  const auto outcome = terminal_outcome_from_json(recorded);
  ASSERT_TRUE(outcome.has_value()) << recorded;
  EXPECT_EQ(*outcome, expected) << recorded;
  EXPECT_EQ(json::serialize(to_json(*outcome)), recorded);
  EXPECT_EQ(json::serialize(to_json(expected)), recorded);
}

TEST(TerminalOutcomeJson, SuccessWithEveryFieldComesBackByteForByte) {
  expect_same_bytes_back(
      kSuccessWithEveryField,
      TerminalOutcome{
          .status = TerminalStatus::success,
          .authorization_code = "AUTH123456",
          .receipt_data =
              "VISA ****4242 APPROVED\nMerci, \xC3\xA0 bient\xC3\xB4t \"caf\xC3\xA9\" \\ \t end",
          .error_code = "00",
          .error_message = "Approved",
          .completed_at = "2024-01-15T10:30:04.512Z",
      });
}

TEST(TerminalOutcomeJson, OutcomeWithNoOptionalFieldComesBackByteForByte) {
  expect_same_bytes_back(kCancelledWithNone,
                         TerminalOutcome{.status = TerminalStatus::cancelled,
                                         .completed_at = "2024-01-15T10:30:00.000Z"});
}

TEST(TerminalOutcomeJson, FailedWithCodeAndMessageComesBackByteForByte) {
  expect_same_bytes_back(kFailedWithCodeAndMessage,
                         TerminalOutcome{.status = TerminalStatus::failed,
                                         .error_code = "DECLINED",
                                         .error_message = "Insufficient funds",
                                         .completed_at = "2024-01-15T10:30:04.512Z"});
}

TEST(TerminalOutcomeJson, AnEmptyTextStaysEmptyNotNull) {
  expect_same_bytes_back(kFailedWithEmptyCode,
                         TerminalOutcome{.status = TerminalStatus::failed,
                                         .error_code = "",
                                         .completed_at = "2024-01-15T10:30:04.512Z"});
}

TEST(TerminalOutcomeJson, EveryShapeRoundTrips) {
  const std::optional<std::string> texts[] = {std::nullopt, "", "x", "line 1\nline 2 \"q\"",
                                              "\xE2\x82\xAC 10"};
  int checked = 0;
  for (const auto status :
       {TerminalStatus::success, TerminalStatus::failed, TerminalStatus::cancelled}) {
    for (const auto& text : texts) {
      for (const auto& completed_at :
           {std::optional<std::string>{}, std::optional<std::string>{"2024-01-15T10:30:00.000Z"}}) {
        const TerminalOutcome outcome{.status = status,
                                      .authorization_code = text,
                                      .receipt_data = text,
                                      .error_code = text,
                                      .error_message = text,
                                      .completed_at = completed_at};
        const std::string recorded = json::serialize(to_json(outcome));
        EXPECT_EQ(terminal_outcome_from_json(recorded), outcome) << recorded;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 30);
}

TEST(TerminalOutcomeJson, LeavesOutAMissingCompletedAtRatherThanWritingNull) {
  // The payment response's timestamp falls back to updated_at only when completedAt is
  // missing; a null would be shown as null.
  const TerminalOutcome outcome{.status = TerminalStatus::success, .authorization_code = "A1"};
  EXPECT_EQ(
      json::serialize(to_json(outcome)),
      R"({"status":"SUCCESS","authorizationCode":"A1","receiptData":null,"errorCode":null,"errorMessage":null})");
}

TEST(TerminalOutcomeJson, MissingTextMembersReadAsNull) {
  // Shapes some tests store directly (store and webhook tests' fixtures).
  EXPECT_EQ(terminal_outcome_from_json(R"({"status":"SUCCESS"})"),
            TerminalOutcome{.status = TerminalStatus::success});
  EXPECT_EQ(
      terminal_outcome_from_json(R"({"status":"SUCCESS","authorizationCode":"AUTH123456"})"),
      (TerminalOutcome{.status = TerminalStatus::success, .authorization_code = "AUTH123456"}));
  EXPECT_EQ(
      terminal_outcome_from_json(R"({"status":"SUCCESS","receiptData":"line 1\nline 2 \u00e9"})"),
      (TerminalOutcome{.status = TerminalStatus::success,
                       .receipt_data = "line 1\nline 2 \xC3\xA9"}));
  // Members in another order, and whitespace, are read the same.
  EXPECT_EQ(terminal_outcome_from_json(
                " {\"completedAt\":\"2024-01-15T10:30:00.000Z\", \"status\" : \"FAILED\"} "),
            (TerminalOutcome{.status = TerminalStatus::failed,
                             .completed_at = "2024-01-15T10:30:00.000Z"}));
}

TEST(TerminalOutcomeJson, KeepsCompletedAtVerbatim) {
  // Not parsed or re-formatted here: whatever text was recorded is what comes back.
  const auto outcome = terminal_outcome_from_json(
      R"({"status":"SUCCESS","completedAt":"2024-01-15T12:30:04.5123+02:00"})");
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->completed_at, "2024-01-15T12:30:04.5123+02:00");
}

TEST(TerminalOutcomeJson, RefusesTextThatIsNotSuchAnObject) {
  for (const std::string_view text : {
           ""sv,  // not JSON
           "null"sv,
           "{not json"sv,
           R"(["SUCCESS"])"sv,
           R"("SUCCESS")"sv,
           R"({})"sv,                                                // no status
           R"({"authorizationCode":"A1"})"sv,                        // no status
           R"({"status":"success"})"sv,                              // not the exact name
           R"({"status":"COMPLETED"})"sv,                            // a transaction status
           R"({"status":null})"sv,                                   // status not a string
           R"({"status":1})"sv,                                      // status not a string
           R"({"status":"SUCCESS","authorizationCode":42})"sv,       // not a string or null
           R"({"status":"SUCCESS","receiptData":["a"]})"sv,          // not a string or null
           R"({"status":"SUCCESS","errorCode":false})"sv,            // not a string or null
           R"({"status":"SUCCESS","errorMessage":{}})"sv,            // not a string or null
           R"({"status":"SUCCESS","completedAt":null})"sv,           // would show as null
           R"({"status":"SUCCESS","completedAt":1705314600000})"sv,  // not a string
           R"({"status":"SUCCESS","amount":"10.00"})"sv,             // another member
           R"({"status":"SUCCESS","status":"FAILED"})"sv,            // duplicate key
           R"({"status":"SUCCESS"} {"status":"SUCCESS"})"sv,         // two values
       }) {
    EXPECT_EQ(terminal_outcome_from_json(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace tillgate::domain
