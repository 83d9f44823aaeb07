#include "domain/terminal_outcome_json.hpp"

#include <string>
#include <utility>

namespace tillgate::domain {
namespace {

// The member names, as the codec writes them.
constexpr std::string_view kStatus = "status";
constexpr std::string_view kAuthorizationCode = "authorizationCode";
constexpr std::string_view kReceiptData = "receiptData";
constexpr std::string_view kErrorCode = "errorCode";
constexpr std::string_view kErrorMessage = "errorMessage";
constexpr std::string_view kCompletedAt = "completedAt";

json::Member text_or_null(std::string_view key, const std::optional<std::string>& text) {
  return json::Member{std::string(key), text ? json::Value(*text) : json::Value(nullptr)};
}

// A string member's text, or nullopt for null; false (refused) for any other type.
bool read_text(const json::Value& value, std::optional<std::string>& out) {
  if (value.is_null()) {
    out.reset();
    return true;
  }
  if (!value.is_string()) {
    return false;
  }
  out = value.as_string();
  return true;
}

}  // namespace

json::Value to_json(const TerminalOutcome& outcome) {
  json::Object members;
  members.reserve(6);
  members.push_back(json::Member{std::string(kStatus), json::Value(to_string(outcome.status))});
  members.push_back(text_or_null(kAuthorizationCode, outcome.authorization_code));
  members.push_back(text_or_null(kReceiptData, outcome.receipt_data));
  members.push_back(text_or_null(kErrorCode, outcome.error_code));
  members.push_back(text_or_null(kErrorMessage, outcome.error_message));
  if (outcome.completed_at) {
    members.push_back(json::Member{std::string(kCompletedAt), json::Value(*outcome.completed_at)});
  }
  return json::Value(std::move(members));
}

std::optional<TerminalOutcome> terminal_outcome_from_json(std::string_view text) {
  const auto document = json::parse(text);
  if (!document || !document->is_object()) {
    return std::nullopt;
  }
  std::optional<TerminalStatus> status;
  TerminalOutcome outcome{.status = TerminalStatus::failed};  // replaced by `status` below
  // json::parse refuses duplicate keys, so each member is seen at most once.
  for (const json::Member& member : document->as_object()) {
    bool readable = false;
    if (member.key == kStatus) {
      status =
          member.value.is_string() ? parse_terminal_status(member.value.as_string()) : std::nullopt;
      readable = status.has_value();
    } else if (member.key == kAuthorizationCode) {
      readable = read_text(member.value, outcome.authorization_code);
    } else if (member.key == kReceiptData) {
      readable = read_text(member.value, outcome.receipt_data);
    } else if (member.key == kErrorCode) {
      readable = read_text(member.value, outcome.error_code);
    } else if (member.key == kErrorMessage) {
      readable = read_text(member.value, outcome.error_message);
    } else if (member.key == kCompletedAt) {
      // Not null: the codec never writes it so, and a reader would show the null.
      readable = member.value.is_string();
      if (readable) {
        outcome.completed_at = member.value.as_string();
      }
    }
    if (!readable) {
      return std::nullopt;
    }
  }
  if (!status) {
    return std::nullopt;
  }
  outcome.status = *status;
  return outcome;
}

}  // namespace tillgate::domain
