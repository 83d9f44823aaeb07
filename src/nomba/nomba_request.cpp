#include "nomba/nomba_request.hpp"

#include "domain/ids.hpp"
#include "json/json.hpp"

namespace tillgate::nomba {

boost::system::result<domain::PaymentRequest, std::vector<views::FieldProblem>>
parse_nomba_payment_request(std::string_view body, NombaAmountUnit unit,
                            std::size_t max_json_depth) {
  std::vector<views::FieldProblem> problems;
  auto document = json::parse(body, json::ParseLimits{max_json_depth});
  if (!document) {
    problems.push_back({"body", "is not valid JSON: " + document.error().message});
    return problems;
  }
  if (!document->is_object()) {
    problems.push_back({"body", "must be a JSON object {merchantTxRef, amount, currency}"});
    return problems;
  }
  const json::Value& root = *document;

  std::optional<std::string> reference;
  const auto* tx_ref = root.find("merchantTxRef");
  if (tx_ref == nullptr || tx_ref->is_null()) {
    problems.push_back({"merchantTxRef", "is required: your unique reference for this payment"});
  } else if (!tx_ref->is_string() || !domain::is_valid_transaction_id(tx_ref->as_string())) {
    problems.push_back(
        {"merchantTxRef", "must be a string of 1-64 characters of A-Z a-z 0-9 . _ : -"});
  } else {
    reference = tx_ref->as_string();
  }

  std::optional<domain::Currency> currency;
  const auto currency_text = root.find_string("currency");
  if (!currency_text) {
    problems.push_back({"currency", "is required: an ISO 4217 code such as \"NGN\""});
  } else if (const auto found = domain::find_currency(*currency_text)) {
    currency = *found;
  } else {
    problems.push_back(
        {"currency", "must be an active ISO 4217 code in upper case, such as \"NGN\""});
  }

  std::optional<domain::Money> amount;
  const auto* amount_value = root.find("amount");
  if (amount_value == nullptr || amount_value->is_null()) {
    problems.push_back(
        {"amount", "is required: a whole number of minor units (kobo for NGN), such as 1000"});
  } else {
    // An unknown currency still lets the amount's syntax be checked (with up to 4 decimals).
    auto parsed =
        parse_nomba_amount(*amount_value, currency.value_or(domain::Currency{"XXX", 4}), unit);
    if (!parsed) {
      problems.push_back({"amount", std::string(describe(parsed.error()))});
    } else {
      amount = *parsed;
    }
  }
  if (!problems.empty()) {
    return problems;
  }
  return domain::PaymentRequest{reference, *amount, domain::PaymentMethod::card, true, {}, nullptr,
                                {},        false};
}

}  // namespace tillgate::nomba
