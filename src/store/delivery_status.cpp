// Wire and storage names of a webhook delivery's status (webhooks.md), and its claims.
#include <stdexcept>

#include "store/store.hpp"

namespace tillgate::store {

std::string_view to_string(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::pending:
      return "pending";
    case DeliveryStatus::succeeded:
      return "succeeded";
    case DeliveryStatus::failed:
      return "failed";
  }
  return "pending";
}

std::optional<DeliveryStatus> parse_delivery_status(std::string_view text) {
  for (const auto status :
       {DeliveryStatus::pending, DeliveryStatus::succeeded, DeliveryStatus::failed}) {
    if (to_string(status) == text) {
      return status;
    }
  }
  return std::nullopt;
}

Timestamp claim_lease_end(const DueQuery& query) {
  if (query.lease < std::chrono::milliseconds{1}) {
    throw std::invalid_argument("claim_due_webhook_deliveries: the lease must be at least 1 ms");
  }
  return query.now + query.lease;
}

}  // namespace tillgate::store
