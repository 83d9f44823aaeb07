#include "domain/payment_request.hpp"

namespace tillgate::domain {

json::Value canonical_product(const ProductLine& line) {
  json::Object members = line.members;
  for (auto& member : members) {
    if (member.key == "price" && line.price) {
      member.value = json::Value(line.price->to_major_string());
    }
  }
  return json::Value(std::move(members));
}

json::Value canonical_request(const PaymentRequest& request) {
  json::Array products;
  for (const auto& line : request.products) {
    products.push_back(canonical_product(line));
  }
  json::Object metadata = request.metadata;
  return json::object({{"amount", json::Value(request.amount.to_major_string())},
                       {"currency", json::Value(request.amount.currency().code)},
                       {"paymentMethod", json::Value(to_string(request.payment_method))},
                       {"webhookMode", json::Value(request.webhook_mode)},
                       {"products", json::Value(std::move(products))},
                       {"customerInfo", request.customer_info},
                       {"metadata", json::Value(std::move(metadata))}});
}

}  // namespace tillgate::domain
