// nomba::parse_nomba_payment_request: the Nomba push body {merchantTxRef, amount, currency}
// (nomba-compat.md, "Push a payment"). Input: one byte choosing the amount unit (even:
// major, odd: minor), then the body. Properties beyond "no crash, no sanitizer report":
//  - a refusal names at least one field, each problem a non-empty sentence;
//  - an accepted push is a CARD payment in webhook mode with a valid merchantTxRef as its
//    transactionId, an active currency and an amount above zero;
//  - the amount is the one the unit says: in minor units the JSON integer itself; in major
//    units what Money::parse makes of the number's text;
//  - render_nomba_amount(amount) reads back through parse_nomba_amount to the same amount.
#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/enums.hpp"
#include "domain/ids.hpp"
#include "fuzz_support.hpp"
#include "json/json.hpp"
#include "nomba/nomba_request.hpp"

namespace {

using namespace tillgate;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto unit =
      data[0] % 2 == 0 ? nomba::NombaAmountUnit::major : nomba::NombaAmountUnit::minor;
  const auto body = fuzz::as_text(data + 1, size - 1);
  const auto parsed = nomba::parse_nomba_payment_request(body, unit, 32);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().empty());
    for (const auto& problem : parsed.error()) {
      FUZZ_CHECK(!problem.field.empty() && !problem.problem.empty());
    }
    return 0;
  }
  const auto& request = *parsed;
  FUZZ_CHECK(request.transaction_id && domain::is_valid_transaction_id(*request.transaction_id));
  FUZZ_CHECK(request.payment_method == domain::PaymentMethod::card);
  FUZZ_CHECK(request.webhook_mode);
  FUZZ_CHECK(!request.require_webhook_endpoint);
  FUZZ_CHECK(request.products.empty() && request.metadata.empty());
  FUZZ_CHECK(request.amount.minor_units() > 0);
  const auto currency = request.amount.currency();
  FUZZ_CHECK(domain::find_currency(currency.code).has_value());

  // The amount the body said, read directly.
  const auto document = json::parse(body);
  FUZZ_CHECK(document.has_value());
  const auto* amount = document->find("amount");
  // A JSON number, or a string of the same grammar (nomba-compat.md v2: "1000").
  FUZZ_CHECK(amount != nullptr && (amount->is_number() || amount->is_string()));
  const std::string& text = amount->is_number() ? amount->as_number().text : amount->as_string();
  if (unit == nomba::NombaAmountUnit::minor) {
    const auto whole = domain::Money::parse(text, domain::Currency{currency.code, 0});
    FUZZ_CHECK(whole.has_value() && whole->minor_units() == request.amount.minor_units());
  } else {
    const auto money = domain::Money::parse(text, currency);
    FUZZ_CHECK(money.has_value() && *money == request.amount);
  }

  const auto rendered = nomba::render_nomba_amount(request.amount, unit);
  FUZZ_CHECK(rendered.is_number());
  const auto back = nomba::parse_nomba_amount(rendered, currency, unit);
  FUZZ_CHECK(back.has_value() && *back == request.amount);
  return 0;
}
