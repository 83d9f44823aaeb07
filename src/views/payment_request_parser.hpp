#pragma once
// Parses a merchant's payment request body into typed values, collecting every problem
// with the field it concerns (merchant-api.md sections 3 and 4).
#include <boost/system/result.hpp>
#include <string_view>
#include <vector>

#include "domain/payment_request.hpp"
#include "views/errors.hpp"

namespace tillgate::views {

struct RequestLimits {
  std::size_t max_json_depth{};  // no default: the app's (app::Limits::max_json_depth)
  std::size_t max_products = 100;
  std::size_t max_metadata_keys = 50;
  std::size_t max_metadata_key_chars = 40;
  std::size_t max_metadata_value_chars = 500;
  std::size_t max_customer_info_bytes = 8 * 1024;
};

[[nodiscard]] boost::system::result<domain::PaymentRequest, std::vector<FieldProblem>>
parse_payment_request(std::string_view body, const RequestLimits& limits);

}  // namespace tillgate::views
