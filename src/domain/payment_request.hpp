#pragma once
// A merchant's payment request as typed values: what both API facades parse into and the
// coordinator runs. Raw JSON reaches the core only where the merchant's data is free-form
// (merchant-api.md section 4, v2): customerInfo, metadata and a product line's members
// other than price, each kept exactly as sent (bounded by the parser).
#include <optional>
#include <string>
#include <vector>

#include "domain/enums.hpp"
#include "domain/money.hpp"
#include "json/json.hpp"

namespace tillgate::domain {

// One product line: every member as the merchant sent it, in its order, except `price`,
// which is held as Money and echoed with the currency's digits ("99.9" -> "99.90").
struct ProductLine {
  std::optional<domain::Money> price;
  json::Object members;  // the `price` member's value here is ignored (see price)
};

struct PaymentRequest {
  std::optional<std::string> transaction_id;  // absent: the gateway generates a UUIDv7
  domain::Money amount;
  PaymentMethod payment_method = PaymentMethod::card;
  bool webhook_mode = false;
  std::vector<ProductLine> products;
  json::Value customer_info;  // an object, or null
  json::Object metadata;      // any JSON values, as sent
  // webhook_mode only: refuse (NO_WEBHOOK_ENDPOINTS) when the merchant has no active
  // endpoint to tell. The Nomba push does not ask for it: its lookup route serves as well.
  // Not part of the canonical request: it changes no payment.
  bool require_webhook_endpoint = true;
};

// The request in canonical JSON (the form stored, echoed and sent to the terminal):
// {"amount","currency","paymentMethod","webhookMode","products","customerInfo","metadata"}.
// Two requests are "the same body" for idempotency when these texts are equal.
[[nodiscard]] json::Value canonical_request(const PaymentRequest& request);
// One product line as canonical_request writes it.
[[nodiscard]] json::Value canonical_product(const ProductLine& line);

}  // namespace tillgate::domain
