#include "views/transaction_view.hpp"

#include "domain/money.hpp"
#include "domain/terminal_outcome_json.hpp"
#include "json/member.hpp"

namespace tillgate::views {
namespace {

json::Value parsed_or(const std::optional<std::string>& text, json::Value fallback) {
  if (text) {
    if (auto value = json::parse(*text)) {
      return std::move(*value);
    }
  }
  return fallback;
}

json::Value text_or_null(const std::optional<std::string>& text) {
  return text ? json::Value(*text) : json::Value(nullptr);
}

json::Value optional_time(const std::optional<domain::Timestamp>& at) {
  return at ? json::Value(domain::format_iso8601(*at)) : json::Value(nullptr);
}

std::string amount_text(const store::TransactionRecord& transaction) {
  const auto currency = domain::find_currency(transaction.currency);
  if (!currency) {
    return std::to_string(transaction.amount_minor);
  }
  return domain::Money::from_minor_units(transaction.amount_minor, *currency).to_major_string();
}

}  // namespace

// The payment response, plus (terminal-protocol.md v2) the terminal's `card` when it
// reported one; null before the terminal's result.
json::Value transaction_response(const store::TransactionRecord& transaction) {
  if (!transaction.outcome) {
    return json::Value(nullptr);
  }
  json::Value response = payment_response(transaction);
  if (transaction.outcome->card) {
    response.as_object().push_back({"card", domain::to_json(*transaction.outcome->card)});
  }
  return response;
}

json::Value payment_response(const store::TransactionRecord& transaction) {
  // No outcome yet: every terminal field null, the time the record's own.
  const domain::TerminalOutcome none{.status = domain::TerminalStatus::failed};
  const domain::TerminalOutcome& result = transaction.outcome ? *transaction.outcome : none;
  // Only the request's metadata: the rest of it (products, customer) is not built.
  auto metadata = json::parse_member(transaction.request_json, "metadata");
  return json::object({
      {"transactionId", json::Value(transaction.transaction_id)},
      {"status", json::Value(domain::payment_status_name(transaction.status))},
      {"amount", json::Value(amount_text(transaction))},
      {"currency", json::Value(transaction.currency)},
      {"paymentMethod", json::Value(domain::to_string(transaction.payment_method))},
      {"authorizationCode", text_or_null(result.authorization_code)},
      {"errorCode", text_or_null(result.error_code)},
      {"errorMessage", text_or_null(result.error_message)},
      {"receiptData", text_or_null(result.receipt_data)},
      {"timestamp",
       json::Value(result.completed_at.value_or(domain::format_iso8601(transaction.updated_at)))},
      {"metadata", metadata ? std::move(*metadata) : json::Value(json::Object{})},
  });
}

json::Value payment_answer(const store::TransactionRecord& transaction, domain::Timestamp now) {
  return json::object({
      {"transactionId", json::Value(transaction.transaction_id)},
      {"status", json::Value(domain::payment_status_name(transaction.status))},
      {"paymentResponse", payment_response(transaction)},
      {"timestamp", json::Value(domain::format_iso8601(now))},
  });
}

json::Value transaction_view(const store::TransactionRecord& transaction) {
  json::Value request = parsed_or(transaction.request_json, json::Value(json::Object{}));
  if (request.is_object()) {
    request.as_object().insert(
        request.as_object().begin(),
        json::Member{"transactionId", json::Value(transaction.transaction_id)});
  }
  return json::object({
      {"transactionId", json::Value(transaction.transaction_id)},
      {"terminalId", json::Value(transaction.device_id)},
      {"deviceId", json::Value(transaction.device_id)},  // v2: Modulus's name, the same id
      {"status", json::Value(domain::to_string(transaction.status))},
      {"request", std::move(request)},
      {"response", transaction_response(transaction)},
      {"createdAt", json::Value(domain::format_iso8601(transaction.created_at))},
      {"updatedAt", json::Value(domain::format_iso8601(transaction.updated_at))},
      {"completedAt", optional_time(transaction.completed_at)},
      {"voidedAt", optional_time(transaction.voided_at)},
      {"voidReason",
       transaction.void_reason ? json::Value(*transaction.void_reason) : json::Value(nullptr)},
  });
}

json::Value payment_notification(const store::TransactionRecord& transaction,
                                 std::string_view event_id) {
  if (!domain::is_final(transaction.status)) {
    return json::Value(nullptr);
  }
  const bool voided = transaction.status == domain::TransactionStatus::voided;
  json::Object members{
      {"action", json::Value(voided ? "paymentVoided" : "paymentComplete")},
      {"eventId", json::Value(event_id)},
      {"transactionId", json::Value(transaction.transaction_id)},
      {"terminalId", json::Value(transaction.device_id)},
  };
  if (voided) {
    members.push_back({"reason", json::Value(transaction.void_reason.value_or("VOIDED"))});
  } else {
    members.push_back({"status", json::Value(domain::payment_status_name(transaction.status))});
  }
  members.push_back({"paymentResponse", payment_response(transaction)});
  return json::Value(std::move(members));
}

}  // namespace tillgate::views
