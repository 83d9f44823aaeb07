#include "views/transaction_view.hpp"

#include "domain/money.hpp"
#include "domain/terminal_outcome_json.hpp"
#include "json/member.hpp"
#include "json/writer.hpp"

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

void write_payment_response_members(json::Writer& out, const store::TransactionRecord& transaction,
                                    PaymentResponseForm form) {
  // No outcome yet: every terminal field null, the time the record's own.
  const domain::TerminalOutcome none{.status = domain::TerminalStatus::failed};
  const domain::TerminalOutcome& result = transaction.outcome ? *transaction.outcome : none;
  out.key("transactionId").string(transaction.transaction_id);
  out.key("status").string(domain::payment_status_name(transaction.status));
  out.key("amount").string(amount_text(transaction));
  out.key("currency").string(transaction.currency);
  out.key("paymentMethod").string(domain::to_string(transaction.payment_method));
  out.key("authorizationCode").string_or_null(result.authorization_code);
  out.key("errorCode").string_or_null(result.error_code);
  out.key("errorMessage").string_or_null(result.error_message);
  out.key("receiptData").string_or_null(result.receipt_data);
  if (form == PaymentResponseForm::answer) {
    out.key("timestamp");
    if (result.completed_at) {
      out.string(*result.completed_at);
    } else {
      out.string(domain::format_iso8601(transaction.updated_at));
    }
  } else {
    out.key("terminalId").string(transaction.device_id);
  }
  // Only the request's metadata, copied as the gateway stored it (compact JSON it wrote).
  const auto metadata = json::member_text(transaction.request_json, "metadata");
  out.key("metadata").raw(metadata ? *metadata : std::string_view("{}"));
}

json::Value payment_response(const store::TransactionRecord& transaction) {
  std::string text;
  json::Writer out(text);
  out.begin_object();
  write_payment_response_members(out, transaction, PaymentResponseForm::answer);
  out.end_object();
  return std::move(json::parse(text).value());
}

std::string payment_answer(const store::TransactionRecord& transaction, domain::Timestamp now) {
  std::string text;
  json::Writer out(text, kPaymentBodyBytes);
  out.begin_object();
  out.key("transactionId").string(transaction.transaction_id);
  out.key("status").string(domain::payment_status_name(transaction.status));
  out.key("paymentResponse").begin_object();
  write_payment_response_members(out, transaction, PaymentResponseForm::answer);
  out.end_object();
  out.key("timestamp").string(domain::format_iso8601(now));
  out.end_object();
  return text;
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

std::optional<std::string> payment_notification(const store::TransactionRecord& transaction,
                                                std::string_view event_id) {
  if (!domain::is_final(transaction.status)) {
    return std::nullopt;
  }
  const bool voided = transaction.status == domain::TransactionStatus::voided;
  std::string text;
  json::Writer out(text, kPaymentBodyBytes);
  out.begin_object();
  out.key("action").string(voided ? "paymentVoided" : "paymentComplete");
  out.key("eventId").string(event_id);
  out.key("transactionId").string(transaction.transaction_id);
  out.key("terminalId").string(transaction.device_id);
  if (voided) {
    out.key("reason").string(transaction.void_reason.value_or("VOIDED"));
  } else {
    out.key("status").string(domain::payment_status_name(transaction.status));
  }
  out.key("paymentResponse").begin_object();
  write_payment_response_members(out, transaction, PaymentResponseForm::answer);
  out.end_object();
  out.end_object();
  return text;
}

}  // namespace tillgate::views
