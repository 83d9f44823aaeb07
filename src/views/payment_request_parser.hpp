#pragma once
// Parses a merchant's payment request body into typed values, collecting every problem
// with the field it concerns (merchant-api.md sections 3 and 4).
#include <boost/system/result.hpp>
#include <string_view>
#include <vector>

#include "domain/payment_request.hpp"
#include "views/errors.hpp"

namespace tillgate::views {

// The bounds of merchant-api.md section 4 (v2); "bytes" are of the member's JSON as the
// gateway serializes it. Going over one is VALIDATION_ERROR naming the field.
struct RequestLimits {
  std::size_t max_json_depth{};  // no default: the app's (app::Limits::max_json_depth)
  std::size_t max_products = 100;
  std::size_t max_product_bytes = 4 * 1024;  // each product line
  std::size_t max_metadata_keys = 50;        // top-level keys
  std::size_t max_metadata_key_chars = 40;
  std::size_t max_metadata_depth = 5;  // the metadata object itself is depth 1
  std::size_t max_metadata_bytes = 8 * 1024;
  std::size_t max_customer_info_bytes = 4 * 1024;
  // A webhook endpoint's metadata (webhooks.md) keeps v1's rule: string values only.
  std::size_t max_metadata_value_chars = 500;
};

[[nodiscard]] boost::system::result<domain::PaymentRequest, std::vector<FieldProblem>>
parse_payment_request(std::string_view body, const RequestLimits& limits);

}  // namespace tillgate::views
