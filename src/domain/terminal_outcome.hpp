#pragma once
// What a terminal reported in its payment.result, as the gateway records it with the
// transaction. Today it is stored as response_json, the JSON object text the terminal codec
// (terminal/codec.cpp) builds; terminal_outcome_json.hpp converts between the two, byte for
// byte, so a later step can store and pass this value instead.
#include <optional>
#include <string>
#include <string_view>

namespace tillgate::domain {

// payment.result's status: "SUCCESS", "FAILED", "CANCELLED".
enum class TerminalStatus { success, failed, cancelled };
[[nodiscard]] std::string_view to_string(TerminalStatus status);
// Exact and case-sensitive, as the codec checks it.
[[nodiscard]] std::optional<TerminalStatus> parse_terminal_status(std::string_view text);

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

  friend bool operator==(const TerminalOutcome&, const TerminalOutcome&) = default;
};

}  // namespace tillgate::domain
