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

// ---- card (terminal-protocol v2) -----------------------------------------------------------

// What terminal::decode recorded for
// {"type":"payment.result","transactionId":"TXN-5","status":"SUCCESS","authorizationCode":"A1",
//  "completedAt":"2024-01-15T10:30:04.512Z","card":{"stan":"000123","rrn":"123456789012",
//  "issuerBank":"Access Bank","scheme":"MASTERCARD","maskedPan":"539983******4297",
//  "expiry":"12/29"}}
// before the outcome was typed: card members in the codec's order, unknown ones dropped.
constexpr std::string_view kSuccessWithCard =
    R"({"status":"SUCCESS","authorizationCode":"A1","receiptData":null,"errorCode":null,"errorMessage":null,"completedAt":"2024-01-15T10:30:04.512Z","card":{"maskedPan":"539983******4297","scheme":"MASTERCARD","issuerBank":"Access Bank","rrn":"123456789012","stan":"000123"}})";

// ... and for "card":{} and for a card with only some members.
constexpr std::string_view kFailedWithEmptyCard =
    R"({"status":"FAILED","authorizationCode":null,"receiptData":null,"errorCode":"05","errorMessage":null,"completedAt":"2024-01-15T10:30:04.512Z","card":{}})";
constexpr std::string_view kSuccessWithSomeOfTheCard =
    R"({"status":"SUCCESS","authorizationCode":null,"receiptData":null,"errorCode":null,"errorMessage":null,"completedAt":"2024-01-15T10:30:04.512Z","card":{"scheme":"VISA","rrn":""}})";

TEST(TerminalOutcomeJson, CardComesBackByteForByte) {
  expect_same_bytes_back(kSuccessWithCard,
                         TerminalOutcome{.status = TerminalStatus::success,
                                         .authorization_code = "A1",
                                         .completed_at = "2024-01-15T10:30:04.512Z",
                                         .card = CardDetails{.masked_pan = "539983******4297",
                                                             .scheme = "MASTERCARD",
                                                             .issuer_bank = "Access Bank",
                                                             .rrn = "123456789012",
                                                             .stan = "000123"}});
  expect_same_bytes_back(kFailedWithEmptyCard,
                         TerminalOutcome{.status = TerminalStatus::failed,
                                         .error_code = "05",
                                         .completed_at = "2024-01-15T10:30:04.512Z",
                                         .card = CardDetails{}});
  expect_same_bytes_back(kSuccessWithSomeOfTheCard,
                         TerminalOutcome{.status = TerminalStatus::success,
                                         .completed_at = "2024-01-15T10:30:04.512Z",
                                         .card = CardDetails{.scheme = "VISA", .rrn = ""}});
}

TEST(TerminalOutcomeJson, EveryCardShapeRoundTrips) {
  // Each of the 32 subsets of the card's members, each present one with its own text.
  int checked = 0;
  for (unsigned mask = 0; mask < 32; ++mask) {
    auto text = [&](unsigned bit, std::string value) {
      return (mask & bit) != 0 ? std::optional<std::string>(std::move(value)) : std::nullopt;
    };
    const TerminalOutcome outcome{.status = TerminalStatus::success,
                                  .completed_at = "2024-01-15T10:30:00.000Z",
                                  .card = CardDetails{.masked_pan = text(1, "4111 11XX XXXX 1111"),
                                                      .scheme = text(2, "VISA"),
                                                      .issuer_bank = text(4, "B\xC3\xA1nk \"q\""),
                                                      .rrn = text(8, "1"),
                                                      .stan = text(16, "")}};
    const std::string recorded = json::serialize(to_json(outcome));
    EXPECT_EQ(terminal_outcome_from_json(recorded), outcome) << recorded;
    ++checked;
  }
  EXPECT_EQ(checked, 32);
  // The card alone is the `card` the views show.
  EXPECT_EQ(json::serialize(to_json(CardDetails{.masked_pan = "539983******4297", .stan = "7"})),
            R"({"maskedPan":"539983******4297","stan":"7"})");
  EXPECT_EQ(json::serialize(to_json(CardDetails{})), "{}");
}

TEST(TerminalOutcomeJson, RefusesACardThatIsNotSuchAnObject) {
  for (const std::string_view text : {
           R"({"status":"SUCCESS","card":null})"sv,                              // never written so
           R"({"status":"SUCCESS","card":"539983******4297"})"sv,                // not an object
           R"({"status":"SUCCESS","card":[]})"sv,                                // not an object
           R"({"status":"SUCCESS","card":{"scheme":null}})"sv,                   // never written so
           R"({"status":"SUCCESS","card":{"scheme":1}})"sv,                      // not a string
           R"({"status":"SUCCESS","card":{"rrn":{}}})"sv,                        // not a string
           R"({"status":"SUCCESS","card":{"expiry":"12/29"}})"sv,                // another member
           R"({"status":"SUCCESS","card":{"pan":"539983******4297"}})"sv,        // another member
           R"({"status":"SUCCESS","card":{"maskedPan":"5399831234564297"}})"sv,  // a full number
           R"({"status":"SUCCESS","card":{"maskedPan":"5399 8312 3456 4297"}})"sv,
           R"({"status":"SUCCESS","card":{"maskedPan":""}})"sv,  // nothing masked
       }) {
    EXPECT_EQ(terminal_outcome_from_json(text), std::nullopt) << text;
  }
}

TEST(MaskedPan, AcceptsOnlyAMaskedNumber) {
  for (const std::string_view text :
       {"539983******4297"sv, "539983 **** **** 4297"sv, "5399-83XX-XXXX-4297"sv, "****4297"sv,
        "xxxx xxxx xxxx xxxx"sv, "539983*"sv}) {
    EXPECT_TRUE(is_masked_pan(text)) << text;
  }
  for (const std::string_view text :
       {""sv, "5399831234564297"sv, "5399 8312 3456 4297"sv, "5399834******4297"sv,
        "539983******42971"sv, "539983**12**4297"sv, "539983******429a"sv,
        "53998312****************4297"sv}) {
    EXPECT_FALSE(is_masked_pan(text)) << text;
  }
}

}  // namespace
}  // namespace tillgate::domain
