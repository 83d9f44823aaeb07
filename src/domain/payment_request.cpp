#include "domain/payment_request.hpp"

namespace tillgate::domain {

json::Value canonical_request(const PaymentRequest& request) {
  json::Array products;
  for (const auto& line : request.products) {
    products.push_back(json::object({{"id", json::Value(line.id)},
                                     {"name", json::Value(line.name)},
                                     {"price", json::Value(line.price.to_major_string())},
                                     {"quantity", json::Value(line.quantity)}}));
  }
  json::Object metadata;
  for (const auto& [key, value] : request.metadata) {
    metadata.push_back({key, json::Value(value)});
  }
  return json::object({{"amount", json::Value(request.amount.to_major_string())},
                       {"currency", json::Value(request.amount.currency().code)},
                       {"paymentMethod", json::Value(request.payment_method)},
                       {"webhookMode", json::Value(request.webhook_mode)},
                       {"products", json::Value(std::move(products))},
                       {"customerInfo", request.customer_info},
                       {"metadata", json::Value(std::move(metadata))}});
}

}  // namespace tillgate::domain
