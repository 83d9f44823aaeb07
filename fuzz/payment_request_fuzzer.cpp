// views::parse_payment_request: a merchant's POST /v1/terminals/{id}/payments body into typed
// values (merchant-api.md sections 3 and 4). Input: the request body. Properties beyond
// "no crash, no sanitizer report":
//  - a refusal names at least one field, each problem a non-empty sentence;
//  - an accepted request keeps every documented limit (merchant-api.md v2): amount and
//    prices above zero in the request's currency, a known payment method, a valid
//    transactionId if any, at most 100 products of at most 4 KiB each with quantities
//    1..10000 when given, metadata of at most 50 keys of 1-40 characters and 8 KiB,
//    customerInfo an object (or null) of at most 4 KiB as JSON;
//  - idempotency is decided on the canonical request, so the canonical form must be stable:
//    parsing serialize(canonical_request(r)) (plus r's transactionId) is accepted and gives
//    the same canonical text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/enums.hpp"
#include "domain/ids.hpp"
#include "fuzz_support.hpp"
#include "json/json.hpp"
#include "views/payment_request_parser.hpp"

namespace {

using namespace tillgate;

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return count;
}

void check_limits(const domain::PaymentRequest& request, const views::RequestLimits& limits) {
  const auto currency = request.amount.currency();
  FUZZ_CHECK(domain::find_currency(currency.code).has_value());
  FUZZ_CHECK(request.amount.minor_units() > 0);
  // One of the named methods (CARD, CASH, MOBILE, OTHER): its wire name reads back as itself.
  FUZZ_CHECK(domain::parse_payment_method(domain::to_string(request.payment_method)) ==
             request.payment_method);
  if (request.transaction_id) {
    FUZZ_CHECK(domain::is_valid_transaction_id(*request.transaction_id));
  }
  FUZZ_CHECK(request.products.size() <= limits.max_products);
  for (const auto& line : request.products) {
    if (line.price) {
      FUZZ_CHECK(line.price->minor_units() > 0 && line.price->currency() == currency);
    }
    const json::Value product = domain::canonical_product(line);
    FUZZ_CHECK(json::serialize(product).size() <= limits.max_product_bytes);
    if (const auto* quantity = product.find("quantity")) {
      const auto value =
          quantity->is_number() ? quantity->as_number().as_int64() : std::optional<std::int64_t>();
      FUZZ_CHECK(value && *value >= 1 && *value <= 10000);
    }
  }
  FUZZ_CHECK(request.metadata.size() <= limits.max_metadata_keys);
  for (const auto& member : request.metadata) {
    FUZZ_CHECK(!member.key.empty() && code_points(member.key) <= limits.max_metadata_key_chars);
  }
  FUZZ_CHECK(json::serialize(json::Value(request.metadata)).size() <= limits.max_metadata_bytes);
  FUZZ_CHECK(request.customer_info.is_null() || request.customer_info.is_object());
  FUZZ_CHECK(json::serialize(request.customer_info).size() <= limits.max_customer_info_bytes ||
             request.customer_info.is_null());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto body = fuzz::as_text(data, size);
  views::RequestLimits limits{};
  limits.max_json_depth = 32;  // the gateway's default (app::Limits::max_json_depth)
  const auto parsed = views::parse_payment_request(body, limits);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().empty());
    for (const auto& problem : parsed.error()) {
      FUZZ_CHECK(!problem.field.empty() && !problem.problem.empty());
    }
    return 0;
  }
  check_limits(*parsed, limits);

  // The canonical form read back: what a retry with the stored body would send.
  json::Value canonical = domain::canonical_request(*parsed);
  const std::string canonical_text = json::serialize(canonical);
  if (parsed->transaction_id) {
    canonical.as_object().push_back({"transactionId", json::Value(*parsed->transaction_id)});
  }
  const auto again = views::parse_payment_request(json::serialize(canonical), limits);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->transaction_id == parsed->transaction_id);
  FUZZ_CHECK(again->amount == parsed->amount);
  FUZZ_CHECK(json::serialize(domain::canonical_request(*again)) == canonical_text);
  return 0;
}
