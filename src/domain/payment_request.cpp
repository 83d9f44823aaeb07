#include "domain/payment_request.hpp"

namespace tillgate::domain {

json::Value canonical_request(const PaymentRequest& request) {
  json::Array products;
  for (const auto& line : request.products) {
    json::Object members = line.members;
    for (auto& member : members) {
      if (member.key == "price" && line.price) {
        member.value = json::Value(line.price->to_major_string());
      }
    }
    products.emplace_back(std::move(members));
  }
  json::Object metadata = request.metadata;
  return json::object({{"amount", json::Value(request.amount.to_major_string())},
                       {"currency", json::Value(request.amount.currency().code)},
                       {"paymentMethod", json::Value(request.payment_method)},
                       {"webhookMode", json::Value(request.webhook_mode)},
                       {"products", json::Value(std::move(products))},
                       {"customerInfo", request.customer_info},
                       {"metadata", json::Value(std::move(metadata))}});
}

}  // namespace tillgate::domain
