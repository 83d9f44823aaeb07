#pragma once
// TerminalOutcome and the JSON object text the store keeps as a transaction's response_json,
// in both directions: the store's edge (store/sqlite/transactions.cpp) and the views' card
// use these. Pure.
#include <optional>
#include <string_view>

#include "domain/terminal_outcome.hpp"
#include "json/json.hpp"

namespace tillgate::domain {

// The object, members in the order the codec wrote it before the outcome was typed:
//   {"status":"SUCCESS","authorizationCode":"A1","receiptData":null,"errorCode":null,
//    "errorMessage":null,"completedAt":"2024-01-15T10:30:04.512Z"[,"card":{...}]}
// A nullopt text member is written as null; card is left out when nullopt, and is written as
// to_json(CardDetails) says. completedAt is left out when nullopt (never the
// case for the codec's results), not written as null: readers treat the two differently
// (the payment response's timestamp falls back to updated_at only when it is missing).
// So json::serialize(to_json(o)) is byte for byte what the codec stores for the same result.
[[nodiscard]] json::Value to_json(const TerminalOutcome& outcome);

// {"maskedPan":"539983******4297","scheme":"MASTERCARD","issuerBank":"...","rrn":"...",
//  "stan":"..."}: only the members known, in that order (none: {}), never null. This is the
// `card` the payment's views show.
[[nodiscard]] json::Value to_json(const CardDetails& card);

// Reads such an object back; the codec's texts come back byte for byte through to_json.
// A missing text member reads as nullopt, as a null one does (objects that leave members
// out, as some tests' fixtures do, keep their meaning). Texts are not re-checked against
// the codec's bounds, and completedAt is kept as text, not parsed.
// nullopt for text that is not JSON or not an object, a status that is not exactly
// "SUCCESS", "FAILED" or "CANCELLED" (or none), a text member that is neither a string nor
// null, a completedAt that is not a string, a card that is not an object of string members
// among those above (null ones too: to_json never writes them), a maskedPan that is not
// masked (is_masked_pan: a full card number is never read back to be shown), or any other
// member.
[[nodiscard]] std::optional<TerminalOutcome> terminal_outcome_from_json(std::string_view text);

}  // namespace tillgate::domain
