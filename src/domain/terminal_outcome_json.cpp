#include "domain/terminal_outcome_json.hpp"

#include <algorithm>
#include <array>
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
constexpr std::string_view kCard = "card";

// The card's members, in the codec's order.
constexpr std::string_view kMaskedPan = "maskedPan";
constexpr std::string_view kScheme = "scheme";
constexpr std::string_view kIssuerBank = "issuerBank";
constexpr std::string_view kRrn = "rrn";
constexpr std::string_view kStan = "stan";

using CardMember = std::optional<std::string> CardDetails::*;
constexpr std::array<std::pair<std::string_view, CardMember>, 5> kCardMembers{{
    {kMaskedPan, &CardDetails::masked_pan},
    {kScheme, &CardDetails::scheme},
    {kIssuerBank, &CardDetails::issuer_bank},
    {kRrn, &CardDetails::rrn},
    {kStan, &CardDetails::stan},
}};

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

// A card object as to_json(CardDetails) writes it; nullopt for anything else.
std::optional<CardDetails> read_card(const json::Value& value) {
  if (!value.is_object()) {
    return std::nullopt;
  }
  CardDetails card;
  for (const json::Member& member : value.as_object()) {
    const auto* known = std::find_if(kCardMembers.begin(), kCardMembers.end(),
                                     [&](const auto& entry) { return entry.first == member.key; });
    if (known == kCardMembers.end() || !member.value.is_string()) {
      return std::nullopt;
    }
    if (known->first == kMaskedPan && !is_masked_pan(member.value.as_string())) {
      return std::nullopt;
    }
    card.*(known->second) = member.value.as_string();
  }
  return card;
}

}  // namespace

json::Value to_json(const CardDetails& card) {
  json::Object members;
  for (const auto& [key, field] : kCardMembers) {
    if (const auto& text = card.*field) {
      members.push_back(json::Member{std::string(key), json::Value(*text)});
    }
  }
  return json::Value(std::move(members));
}

json::Value to_json(const TerminalOutcome& outcome) {
  json::Object members;
  members.reserve(7);
  members.push_back(json::Member{std::string(kStatus), json::Value(to_string(outcome.status))});
  members.push_back(text_or_null(kAuthorizationCode, outcome.authorization_code));
  members.push_back(text_or_null(kReceiptData, outcome.receipt_data));
  members.push_back(text_or_null(kErrorCode, outcome.error_code));
  members.push_back(text_or_null(kErrorMessage, outcome.error_message));
  if (outcome.completed_at) {
    members.push_back(json::Member{std::string(kCompletedAt), json::Value(*outcome.completed_at)});
  }
  if (outcome.card) {
    members.push_back(json::Member{std::string(kCard), to_json(*outcome.card)});
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
    } else if (member.key == kCard) {
      outcome.card = read_card(member.value);
      readable = outcome.card.has_value();
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
