#pragma once
// What a terminal reported in its payment.result, as the gateway records it with the
// transaction. The terminal codec (terminal/codec.cpp) decodes a result into this value, and
// the core passes it (coordinator, store records, events, views); only the store turns it
// into text, its response_json column, through terminal_outcome_json.hpp.
#include <optional>
#include <string>
#include <string_view>

namespace tillgate::domain {

// payment.result's status: "SUCCESS", "FAILED", "CANCELLED".
enum class TerminalStatus { success, failed, cancelled };
[[nodiscard]] std::string_view to_string(TerminalStatus status);
// Exact and case-sensitive, as the codec checks it.
[[nodiscard]] std::optional<TerminalStatus> parse_terminal_status(std::string_view text);

// A card number as a terminal may show it: at most the first 6 and the last 4 digits, the
// rest masked ('*', 'X', 'x'), spaces and dashes allowed as separators
// ("539983******4297", "539983 **** **** 4297"). False for anything else, a full number
// above all: that must never be stored or shown.
[[nodiscard]] bool is_masked_pan(std::string_view text);

// terminal-protocol.md (v2): the optional `card` of payment.result, each member when the
// terminal sent it as a string within the codec's bound (maskedPan 32 bytes and masked as
// is_masked_pan says, scheme 32, issuerBank 128, rrn 32, stan 32). The codec refuses a
// result whose card breaks a bound, and drops members it does not know.
struct CardDetails {
  std::optional<std::string> masked_pan = std::nullopt;   // "539983******4297"
  std::optional<std::string> scheme = std::nullopt;       // "MASTERCARD"
  std::optional<std::string> issuer_bank = std::nullopt;  // "Access Bank"
  std::optional<std::string> rrn = std::nullopt;          // retrieval reference number
  std::optional<std::string> stan = std::nullopt;         // system trace audit number

  friend bool operator==(const CardDetails&, const CardDetails&) = default;
};

struct TerminalOutcome {
  // No default: with -Wmissing-field-initializers, an initializer that names other members
  // but not this one does not build.
  TerminalStatus status;

  // As the terminal sent them, when each was a JSON string within the codec's bound
  // (authorizationCode 64 bytes, receiptData 16 KiB, errorCode 64, errorMessage 512);
  // otherwise (absent, null, another type, too long) nullopt. An empty string stays "",
  // distinct from nullopt: the payment response shows "" as sent.
  std::optional<std::string> authorization_code = std::nullopt;
  std::optional<std::string> receipt_data = std::nullopt;
  std::optional<std::string> error_code = std::nullopt;
  std::optional<std::string> error_message = std::nullopt;

  // The terminal's completedAt as recorded, kept verbatim here. The codec does not record
  // the terminal's own text: it requires an ISO 8601 time and records it re-formatted as
  // UTC with milliseconds ("2024-01-15T10:30:04.512Z", format_iso8601). nullopt only for a
  // recorded object without completedAt, which the codec never writes.
  std::optional<std::string> completed_at = std::nullopt;

  // The card, when the result had one (an empty object is a card with no member known).
  std::optional<CardDetails> card = std::nullopt;

  friend bool operator==(const TerminalOutcome&, const TerminalOutcome&) = default;
};

}  // namespace tillgate::domain
