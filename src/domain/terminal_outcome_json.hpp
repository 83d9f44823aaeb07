#pragma once
// TerminalOutcome and the JSON object the terminal codec records as a transaction's
// response_json today (terminal/codec.cpp), in both directions. Pure.
#include <optional>
#include <string_view>

#include "domain/terminal_outcome.hpp"
#include "json/json.hpp"

namespace tillgate::domain {

// The object the codec records, members in its order:
//   {"status":"SUCCESS","authorizationCode":"A1","receiptData":null,"errorCode":null,
//    "errorMessage":null,"completedAt":"2024-01-15T10:30:04.512Z"}
// A nullopt text member is written as null. completedAt is left out when nullopt (never the
// case for the codec's results), not written as null: readers treat the two differently
// (the payment response's timestamp falls back to updated_at only when it is missing).
// So json::serialize(to_json(o)) is byte for byte what the codec stores for the same result.
[[nodiscard]] json::Value to_json(const TerminalOutcome& outcome);

// Reads such an object back; the codec's texts come back byte for byte through to_json.
// A missing text member reads as nullopt, as a null one does (objects that leave members
// out, as some tests' fixtures do, keep their meaning). Texts are not re-checked against
// the codec's bounds, and completedAt is kept as text, not parsed.
// nullopt for text that is not JSON or not an object, a status that is not exactly
// "SUCCESS", "FAILED" or "CANCELLED" (or none), a text member that is neither a string nor
// null, a completedAt that is not a string, or any other member.
[[nodiscard]] std::optional<TerminalOutcome> terminal_outcome_from_json(std::string_view text);

}  // namespace tillgate::domain
