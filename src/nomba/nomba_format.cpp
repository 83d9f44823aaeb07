#include "nomba/nomba_format.hpp"

#include <array>
#include <stdexcept>
#include <utility>
#include <vector>

#include "domain/time.hpp"

namespace tillgate::nomba {
namespace {

using domain::TransactionStatus;

using K = NombaErrorKind;

constexpr std::array<NombaErrorMapping, 30> kErrorTable{{
    {"VALIDATION_ERROR", 400, K::validation},
    {"NO_WEBHOOK_ENDPOINTS", 400, K::validation},
    {"INVALID_PAIRING_CODE", 400, K::validation},
    {"BAD_REQUEST", 400, K::validation},
    {"UNAUTHORIZED", 401, K::unauthorized},
    {"INVALID_SIGNATURE", 401, K::unauthorized},
    {"TIMESTAMP_EXPIRED", 401, K::token_expired},
    {"REPLAYED_REQUEST", 401, K::unauthorized},
    {"TERMINAL_NOT_FOUND", 404, K::not_found},
    {"TRANSACTION_NOT_FOUND", 404, K::not_found},
    {"MERCHANT_NOT_FOUND", 404, K::not_found},
    {"NOT_FOUND", 404, K::not_found},
    {"ENDPOINT_NOT_FOUND", 404, K::not_found},
    {"DELIVERY_NOT_FOUND", 404, K::not_found},
    {"METHOD_NOT_ALLOWED", 405, K::validation},
    {"PAYMENT_IN_PROGRESS", 409, K::not_permitted},
    {"DUPLICATE_TRANSACTION", 409, K::do_not_retry},
    {"TRANSACTION_FINAL", 409, K::do_not_retry},
    {"DEVICE_ID_TAKEN", 409, K::do_not_retry},
    {"ENDPOINT_LIMIT_REACHED", 409, K::do_not_retry},
    {"ENDPOINT_INACTIVE", 409, K::do_not_retry},
    {"PAYLOAD_TOO_LARGE", 413, K::validation},
    {"ENDPOINT_VALIDATION_FAILED", 422, K::validation},
    {"RATE_LIMITED", 429, K::retryable},
    {"HEADERS_TOO_LARGE", 431, K::validation},
    {"INTERNAL_ERROR", 500, K::retryable},
    {"SERVICE_UNAVAILABLE", 503, K::retryable},
    {"STORE_UNAVAILABLE", 503, K::retryable},
    {"TERMINAL_OFFLINE", 503, K::retryable},
    {"TIMEOUT", 504, K::retryable},
}};

NombaErrorKind kind_for_status(int http_status) {
  if (http_status == 404) {
    return K::not_found;
  }
  if (http_status == 401 || http_status == 403) {
    return K::unauthorized;
  }
  if (http_status == 409) {
    return K::do_not_retry;
  }
  if (http_status == 429 || http_status >= 500) {
    return K::retryable;
  }
  return K::validation;
}

// "the payment request is not valid: amount must be a JSON number; currency is required".
// The main API's "...: see details" pointer has nothing to point at in Nomba's envelope.
std::string describe_problem(std::string_view message,
                             const std::vector<std::pair<std::string, std::string>>& details) {
  constexpr std::string_view see_details = ": see details";
  if (!details.empty() && message.ends_with(see_details)) {
    message.remove_suffix(see_details.size());
  }
  std::string description(message);
  for (std::size_t i = 0; i < details.size(); ++i) {
    description += i == 0 ? (description.empty() ? "" : ": ") : "; ";
    description += details[i].first;
    if (!details[i].first.empty() && !details[i].second.empty()) {
      description += ' ';
    }
    description += details[i].second;
  }
  return description;
}

std::string trimmed_major(std::string text) {
  if (text.find('.') == std::string::npos) {
    return text;
  }
  while (text.back() == '0') {
    text.pop_back();
  }
  if (text.back() == '.') {
    text.pop_back();
  }
  return text;
}

json::Value optional_text(const std::optional<std::string>& text) {
  return text ? json::Value(*text) : json::Value(nullptr);
}

// A JSON object's non-empty string member, if it has one.
std::optional<std::string> terminal_text(const json::Value& object, std::string_view key) {
  const auto text = object.find_string(key);
  if (!text || text->empty()) {
    return std::nullopt;
  }
  return std::string(*text);
}

// A text the terminal reported, if it sent one that is not empty.
std::optional<std::string> known(const std::optional<std::string>& text) {
  if (!text || text->empty()) {
    return std::nullopt;
  }
  return text;
}

}  // namespace

// ---- Envelope ---------------------------------------------------------------------------

std::string_view nomba_code(NombaErrorKind kind) {
  switch (kind) {
    case K::not_found:
    case K::bad_credentials:
    case K::retryable:
      return "01";
    case K::validation:
    case K::token_expired:
      return "02";
    case K::unauthorized:
      return "401";
    case K::not_permitted:
      return "05";
    case K::do_not_retry:
      return "06";
  }
  return "01";
}

json::Value nomba_success(json::Value data) {
  return json::object({
      {"code", json::Value(success_code)},
      {"description", json::Value(success_description)},
      {"data", std::move(data)},
  });
}

json::Value nomba_error(NombaErrorKind kind, std::string description) {
  return json::object({
      {"code", json::Value(nomba_code(kind))},
      {"description", json::Value(std::move(description))},
      {"data", json::Value(nullptr)},
  });
}

// ---- Errors -----------------------------------------------------------------------------

std::span<const NombaErrorMapping> nomba_error_table() {
  return kErrorTable;
}

NombaErrorKind nomba_error_kind(std::string_view main_code, int http_status) {
  for (const auto& row : kErrorTable) {
    if (row.main_code == main_code) {
      return row.kind;
    }
  }
  return kind_for_status(http_status);
}

NombaErrorKind nomba_error_kind(views::ErrorCode code) {
  return nomba_error_kind(views::wire_name(code), views::http_status(code));
}

net::HttpResponse nomba_error_response(const views::ApiError& error) {
  std::vector<std::pair<std::string, std::string>> details;
  for (const auto& problem : error.details) {
    details.emplace_back(problem.field, problem.problem);
  }
  net::HttpResponse response;
  response.status = views::http_status(error.code);
  response.body = json::serialize(
      nomba_error(nomba_error_kind(error.code), describe_problem(error.message, details)));
  if (error.retry_after_s) {
    response.headers.emplace_back("Retry-After", std::to_string(*error.retry_after_s));
  }
  return response;
}

net::HttpResponse nomba_error_response(const net::HttpResponse& main_api_error) {
  const auto body = json::parse(main_api_error.body);
  if (!body || !body->is_object()) {
    return main_api_error;
  }
  const auto code = body->find_string("code");
  const auto message = body->find_string("message");
  if (!code || !message) {
    return main_api_error;
  }
  std::vector<std::pair<std::string, std::string>> details;
  if (const auto* list = body->find("details"); list != nullptr && list->is_array()) {
    for (const auto& item : list->as_array()) {
      details.emplace_back(std::string(item.find_string("field").value_or("")),
                           std::string(item.find_string("problem").value_or("")));
    }
  }
  net::HttpResponse response = main_api_error;
  response.body = json::serialize(nomba_error(nomba_error_kind(*code, main_api_error.status),
                                              describe_problem(*message, details)));
  response.content_type = "application/json; charset=utf-8";
  return response;
}

// ---- Amounts ----------------------------------------------------------------------------

std::optional<NombaAmountUnit> parse_nomba_amount_unit(std::string_view text) {
  if (text == "major") {
    return NombaAmountUnit::major;
  }
  if (text == "minor") {
    return NombaAmountUnit::minor;
  }
  return std::nullopt;
}

std::string_view to_string(NombaAmountUnit unit) {
  return unit == NombaAmountUnit::minor ? "minor" : "major";
}

std::string_view describe(NombaAmountError error) {
  switch (error) {
    case NombaAmountError::not_a_number:
      return "must be a JSON number or a string of digits, such as 1000";
    case NombaAmountError::not_whole_minor_units:
      return "must be a whole number of minor units (kobo for NGN), without a fraction";
    case NombaAmountError::too_many_decimals:
      return "must have at most the currency's number of decimal places";
    case NombaAmountError::exponent:
      return "must not use exponent notation; write the digits out, such as 1000";
    case NombaAmountError::too_many_digits:
      return "must have at most 15 significant digits";
    case NombaAmountError::not_positive:
      return "must be greater than zero";
    case NombaAmountError::syntax:
      return "must be a plain decimal number";
  }
  return "is not a valid amount";
}

void throw_exception_from_error(NombaAmountError error, const boost::source_location&) {
  throw std::invalid_argument("amount " + std::string(describe(error)));
}

boost::system::result<domain::Money, NombaAmountError> parse_nomba_amount(const json::Value& amount,
                                                                          domain::Currency currency,
                                                                          NombaAmountUnit unit) {
  if (!amount.is_number() && !amount.is_string()) {
    return NombaAmountError::not_a_number;
  }
  const std::string& text = amount.is_number() ? amount.as_number().text : amount.as_string();
  // Minor units are major units of a currency without decimals: the same grammar and
  // limits, and any fraction is refused.
  const domain::Currency grammar =
      unit == NombaAmountUnit::minor ? domain::Currency{currency.code, 0} : currency;
  const auto parsed = domain::Money::parse(text, grammar);
  if (!parsed) {
    switch (parsed.error()) {
      case domain::AmountError::too_many_decimals:
        return unit == NombaAmountUnit::minor ? NombaAmountError::not_whole_minor_units
                                              : NombaAmountError::too_many_decimals;
      case domain::AmountError::exponent:
        return NombaAmountError::exponent;
      case domain::AmountError::too_many_digits:
        return NombaAmountError::too_many_digits;
      case domain::AmountError::not_positive:
        return NombaAmountError::not_positive;
      case domain::AmountError::empty:
      case domain::AmountError::syntax:
      case domain::AmountError::leading_plus:
      case domain::AmountError::whitespace:
        return NombaAmountError::syntax;
    }
    return NombaAmountError::syntax;
  }
  return domain::Money::from_minor_units(parsed->minor_units(), currency);
}

json::Value render_nomba_amount(const domain::Money& money, NombaAmountUnit unit) {
  if (unit == NombaAmountUnit::minor) {
    return json::Value(json::Number{std::to_string(money.minor_units())});
  }
  return json::Value(json::Number{trimmed_major(money.to_major_string())});
}

json::Value render_nomba_amount(const store::TransactionRecord& transaction, NombaAmountUnit unit) {
  const auto currency = domain::find_currency(transaction.currency);
  if (!currency || transaction.amount_minor <= 0) {
    return json::Value(json::Number{std::to_string(transaction.amount_minor)});
  }
  return render_nomba_amount(domain::Money::from_minor_units(transaction.amount_minor, *currency),
                             unit);
}

std::string format_nomba_time(domain::Timestamp at) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(at);
  std::string text = domain::format_iso8601(domain::Timestamp(seconds));
  // "2024-01-15T10:30:00.000Z" -> "2024-01-15T10:30:00Z"
  if (const auto dot = text.rfind('.'); dot != std::string::npos) {
    text.erase(dot, text.size() - 1 - dot);
  }
  return text;
}

// ---- Statuses and response codes --------------------------------------------------------

std::string_view nomba_status(TransactionStatus status) {
  switch (status) {
    case TransactionStatus::pending:
    case TransactionStatus::awaiting_reconnect:
      return "PENDING";
    case TransactionStatus::completed:
      return "SUCCESS";
    case TransactionStatus::failed:
    case TransactionStatus::cancelled:
    case TransactionStatus::timeout:
      return "PAYMENT_FAILED";
    case TransactionStatus::voided:
      return "REVERSED";
  }
  return "PENDING";
}

std::vector<TransactionStatus> statuses_of_nomba_status(std::string_view name) {
  if (name == "SUCCESS") {
    return {TransactionStatus::completed};
  }
  if (name == "PAYMENT_FAILED") {
    return {TransactionStatus::failed, TransactionStatus::cancelled, TransactionStatus::timeout};
  }
  if (name == "PENDING") {
    return {TransactionStatus::pending, TransactionStatus::awaiting_reconnect};
  }
  if (name == "REVERSED") {
    return {TransactionStatus::voided};
  }
  return {};
}

NombaResponseCode nomba_response_code(const store::TransactionRecord& transaction) {
  const auto& result = transaction.outcome;
  const auto terminal_or = [&](std::string_view code, std::string_view message) {
    return NombaResponseCode{
        (result ? known(result->error_code) : std::nullopt).value_or(std::string(code)),
        (result ? known(result->error_message) : std::nullopt).value_or(std::string(message))};
  };
  switch (transaction.status) {
    case TransactionStatus::pending:
    case TransactionStatus::awaiting_reconnect:
      return NombaResponseCode{};
    case TransactionStatus::completed:
      return NombaResponseCode{"00", "Approved"};
    case TransactionStatus::failed:
      return terminal_or("05", "Declined");
    case TransactionStatus::cancelled:
      return terminal_or("17", "Customer cancellation");
    case TransactionStatus::timeout:
      return NombaResponseCode{"68", "Timed out"};
    case TransactionStatus::voided:
      return NombaResponseCode{"06",
                               "Reversed: approved after the timeout and voided on the terminal"};
  }
  return NombaResponseCode{};
}

NombaCardDetails nomba_card_details(const store::TransactionRecord& transaction) {
  if (!transaction.outcome || !transaction.outcome->card) {
    return {};
  }
  const domain::CardDetails& card = *transaction.outcome->card;
  return NombaCardDetails{known(card.masked_pan), known(card.scheme), known(card.rrn),
                          known(card.stan)};
}

// ---- Views ------------------------------------------------------------------------------

std::optional<std::string> device_serial_number(const store::DeviceRecord& device) {
  const auto metadata = json::parse(device.metadata_json);
  if (!metadata || !metadata->is_object()) {
    return std::nullopt;
  }
  return terminal_text(*metadata, "serialNumber");
}

json::Value nomba_transaction_view(const store::TransactionRecord& transaction,
                                   const store::DeviceRecord* device) {
  auto response = nomba_response_code(transaction);
  const auto card = nomba_card_details(transaction);
  const auto serial = device != nullptr ? device_serial_number(*device) : std::nullopt;
  json::Object view{
      {"id", json::Value(transaction.transaction_id)},
      {"status", json::Value(nomba_status(transaction.status))},
      {"amount", render_nomba_amount(transaction, NombaAmountUnit::major)},
      {"currency", json::Value(transaction.currency)},
      {"fixedCharge", json::Value(std::int64_t{0})},
      {"source", json::Value("pos")},
      {"type", json::Value("purchase")},
      {"gatewayMessage", optional_text(response.message)},
      {"responseCode", optional_text(response.code)},
      {"timeCreated", json::Value(format_nomba_time(transaction.created_at))},
      {"timeUpdated", json::Value(format_nomba_time(transaction.updated_at))},
      {"terminalId", json::Value(transaction.device_id)},
      {"posTerminalLabel", json::Value(device != nullptr ? device->label : std::string())},
  };
  const auto add_known = [&view](std::string_view key, const std::optional<std::string>& value) {
    if (value) {
      view.push_back({std::string(key), json::Value(*value)});
    }
  };
  add_known("posSerialNumber", serial);
  view.push_back({"merchantTxRef", json::Value(transaction.transaction_id)});
  view.push_back({"userId", json::Value(transaction.merchant_id)});
  add_known("rrn", card.rrn);
  add_known("stan", card.stan);
  add_known("customerBillerId", card.masked_pan);
  return json::Value(std::move(view));
}

json::Value nomba_payment_accepted(const store::TransactionRecord& transaction,
                                   NombaAmountUnit unit) {
  return json::object({
      {"paymentId", json::Value(transaction.transaction_id)},
      {"merchantTxRef", json::Value(transaction.transaction_id)},
      {"status", json::Value("pending")},
      {"amount", render_nomba_amount(transaction, unit)},
      {"currency", json::Value(transaction.currency)},
      {"createdAt", json::Value(format_nomba_time(transaction.created_at))},
  });
}

}  // namespace tillgate::nomba
