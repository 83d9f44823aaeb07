#pragma once
// A merchant's payment request as typed values: what both API facades parse into and the
// coordinator runs. No raw JSON reaches the core except the free-form customerInfo.
#include <optional>
#include <string>
#include <vector>

#include "domain/money.hpp"
#include "json/json.hpp"

namespace tillgate::domain {

struct ProductLine {
  std::string id;
  std::string name;
  domain::Money price;
  int quantity = 1;
};

struct PaymentRequest {
  std::optional<std::string> transaction_id;  // absent: the gateway generates a UUIDv7
  domain::Money amount;
  std::string payment_method;  // CARD | CASH | MOBILE | OTHER
  bool webhook_mode = false;
  std::vector<ProductLine> products;
  json::Value customer_info;  // an object, or null
  std::vector<std::pair<std::string, std::string>> metadata;
  // webhook_mode only: refuse (NO_WEBHOOK_ENDPOINTS) when the merchant has no active
  // endpoint to tell. The Nomba push does not ask for it: its lookup route serves as well.
  // Not part of the canonical request: it changes no payment.
  bool require_webhook_endpoint = true;
};

// The request in canonical JSON (the form stored, echoed and sent to the terminal):
// {"amount","currency","paymentMethod","webhookMode","products","customerInfo","metadata"}.
// Two requests are "the same body" for idempotency when these texts are equal.
[[nodiscard]] json::Value canonical_request(const PaymentRequest& request);

}  // namespace tillgate::domain
