#include "views/payment_request_parser.hpp"

#include <algorithm>
#include <array>

#include "domain/enums.hpp"
#include "domain/ids.hpp"

namespace tillgate::views {
namespace {

using domain::PaymentRequest;
using domain::ProductLine;

// Counts code points, so a 40-character key may be longer than 40 bytes in UTF-8.
std::size_t char_count(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) {
    count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return count;
}

class Checker {
 public:
  void problem(std::string field, std::string text) {
    problems_.push_back({std::move(field), std::move(text)});
  }
  std::vector<FieldProblem>& problems() { return problems_; }

 private:
  std::vector<FieldProblem> problems_;
};

std::optional<domain::Money> read_amount(const json::Value* value, domain::Currency currency,
                                         const std::string& field, Checker& check) {
  if (value == nullptr || value->is_null()) {
    check.problem(field, "is required");
    return std::nullopt;
  }
  std::string_view text;
  if (value->is_number()) {
    text = value->as_number().text;
  } else if (value->is_string()) {
    text = value->as_string();
  } else {
    check.problem(field, "must be a decimal string such as \"99.99\" or a JSON number");
    return std::nullopt;
  }
  auto money = domain::Money::parse(text, currency);
  if (!money) {
    check.problem(field, std::string(domain::describe(money.error())));
    return std::nullopt;
  }
  return *money;
}

// The quantity of a product line, 1..10000; 0 when not such an integer.
int read_quantity(const json::Value* value) {
  if (value == nullptr || !value->is_number()) {
    return 0;
  }
  const auto parsed = value->as_number().as_int64();
  return parsed && *parsed >= 1 && *parsed <= 10000 ? static_cast<int>(*parsed) : 0;
}

// A product's id or name: a string when present (an id may also be an integer, as v1
// allowed); any other member is the merchant's own and is not looked at.
void check_product_text(const json::Value* value, bool integer_allowed, const std::string& field,
                        Checker& check) {
  if (value == nullptr || value->is_string()) {
    return;
  }
  if (integer_allowed && value->is_number() && value->as_number().as_int64()) {
    return;
  }
  check.problem(field, integer_allowed ? "must be a string or an integer" : "must be a string");
}

// A product line, when present `price` (an amount) and `quantity` (1..10000) checked.
void read_product(const json::Value& item, domain::Currency currency, const RequestLimits& limits,
                  const std::string& base, domain::PaymentRequest& request, Checker& check) {
  if (!item.is_object()) {
    check.problem(base, "must be an object");
    return;
  }
  const std::size_t problems = check.problems().size();
  check_product_text(item.find("id"), true, base + ".id", check);
  check_product_text(item.find("name"), false, base + ".name", check);
  std::optional<domain::Money> price;
  if (const auto* value = item.find("price"); value != nullptr) {
    price = read_amount(value, currency, base + ".price", check);
  }
  if (const auto* quantity = item.find("quantity");
      quantity != nullptr && read_quantity(quantity) == 0) {
    check.problem(base + ".quantity", "must be an integer from 1 to 10000");
  }
  if (check.problems().size() != problems) {
    return;
  }
  ProductLine line{price, item.as_object()};
  // Measured as stored (the price with the currency's digits), so that the stored request
  // parses again within the bound.
  if (json::serialize(domain::canonical_product(line)).size() > limits.max_product_bytes) {
    check.problem(base,
                  "must be at most " + std::to_string(limits.max_product_bytes) + " bytes as JSON");
    return;
  }
  request.products.push_back(std::move(line));
}

void read_products(const json::Value* value, domain::Currency currency, const RequestLimits& limits,
                   domain::PaymentRequest& request, Checker& check) {
  if (value == nullptr || value->is_null()) {
    return;
  }
  if (!value->is_array()) {
    check.problem("products", "must be an array");
    return;
  }
  const auto& items = value->as_array();
  if (items.size() > limits.max_products) {
    check.problem("products",
                  "must have at most " + std::to_string(limits.max_products) + " items");
    return;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    read_product(items[i], currency, limits, "products[" + std::to_string(i) + "]", request, check);
  }
}

// Nesting of arrays and objects: a scalar is 0, {} or [] is 1, {"a":[]} is 2.
std::size_t json_depth(const json::Value& value) {
  std::size_t deepest = 0;
  if (value.is_object()) {
    for (const auto& member : value.as_object()) {
      deepest = std::max(deepest, json_depth(member.value));
    }
    return deepest + 1;
  }
  if (value.is_array()) {
    for (const auto& item : value.as_array()) {
      deepest = std::max(deepest, json_depth(item));
    }
    return deepest + 1;
  }
  return 0;
}

void read_metadata(const json::Value* value, const RequestLimits& limits,
                   domain::PaymentRequest& request, Checker& check) {
  if (value == nullptr || value->is_null()) {
    return;
  }
  if (!value->is_object()) {
    check.problem("metadata", "must be an object");
    return;
  }
  const auto& members = value->as_object();
  const std::size_t problems = check.problems().size();
  if (members.size() > limits.max_metadata_keys) {
    check.problem("metadata",
                  "must have at most " + std::to_string(limits.max_metadata_keys) + " keys");
  }
  if (json_depth(*value) > limits.max_metadata_depth) {
    check.problem("metadata", "must be nested at most " +
                                  std::to_string(limits.max_metadata_depth) + " levels deep");
  }
  if (json::serialize(*value).size() > limits.max_metadata_bytes) {
    check.problem("metadata", "must be at most " + std::to_string(limits.max_metadata_bytes) +
                                  " bytes as JSON");
  }
  for (const auto& member : members) {
    if (member.key.empty() || char_count(member.key) > limits.max_metadata_key_chars) {
      check.problem(
          "metadata." + member.key,
          "key must have 1-" + std::to_string(limits.max_metadata_key_chars) + " characters");
    }
  }
  if (check.problems().size() == problems) {
    request.metadata = members;
  }
}

void read_options(const json::Value& body, const RequestLimits& limits,
                  domain::PaymentRequest& request, Checker& check) {
  if (const auto* id = body.find("transactionId"); id != nullptr && !id->is_null()) {
    if (!id->is_string() || !domain::is_valid_transaction_id(id->as_string())) {
      check.problem("transactionId", "must be 1-128 printable ASCII characters (! to ~, no space)");
    } else {
      request.transaction_id = id->as_string();
    }
  }
  if (const auto* mode = body.find("webhookMode"); mode != nullptr && !mode->is_null()) {
    if (!mode->is_bool()) {
      check.problem("webhookMode", "must be true or false");
    } else {
      request.webhook_mode = mode->as_bool();
    }
  }
  if (const auto* info = body.find("customerInfo"); info != nullptr && !info->is_null()) {
    if (!info->is_object()) {
      check.problem("customerInfo", "must be an object");
    } else if (json::serialize(*info).size() > limits.max_customer_info_bytes) {
      check.problem(
          "customerInfo",
          "must be at most " + std::to_string(limits.max_customer_info_bytes) + " bytes as JSON");
    } else {
      request.customer_info = *info;
    }
  }
  read_metadata(body.find("metadata"), limits, request, check);
}

}  // namespace

boost::system::result<domain::PaymentRequest, std::vector<FieldProblem>> parse_payment_request(
    std::string_view body, const RequestLimits& limits) {
  Checker check;
  auto document = json::parse(body, json::ParseLimits{limits.max_json_depth});
  if (!document) {
    check.problem("body", "is not valid JSON: " + document.error().message);
    return std::move(check.problems());
  }
  if (!document->is_object()) {
    check.problem("body", "must be a JSON object");
    return std::move(check.problems());
  }
  const json::Value& root = *document;

  // An unknown currency still lets the amount's syntax be checked (with up to 4 decimals).
  domain::Currency currency{"XXX", 4};
  const auto currency_text = root.find_string("currency");
  if (!currency_text) {
    check.problem("currency", "is required: an ISO 4217 code such as \"USD\"");
  } else if (const auto found = domain::find_currency(*currency_text)) {
    currency = *found;
  } else {
    check.problem("currency", "must be an active ISO 4217 code in upper case, such as \"USD\"");
  }
  const auto amount = read_amount(root.find("amount"), currency, "amount", check);

  const auto method_text = root.find_string("paymentMethod");
  const auto method = method_text ? domain::parse_payment_method(*method_text) : std::nullopt;
  if (!method) {
    check.problem("paymentMethod", "is required: one of CARD, CASH, MOBILE, OTHER");
  }

  domain::PaymentRequest request{std::nullopt,
                                 amount.value_or(domain::Money::from_minor_units(1, currency)),
                                 method.value_or(domain::PaymentMethod::card),
                                 false,
                                 {},
                                 nullptr,
                                 {},
                                 true};
  read_options(root, limits, request, check);
  read_products(root.find("products"), currency, limits, request, check);
  if (!check.problems().empty()) {
    return std::move(check.problems());
  }
  return request;
}

}  // namespace tillgate::views
