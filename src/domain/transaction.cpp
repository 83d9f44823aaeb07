#include "domain/transaction.hpp"

#include <array>
#include <utility>

namespace tillgate::domain {
namespace {

constexpr std::array<std::pair<TransactionStatus, std::string_view>, 7> kStatusNames{{
    {TransactionStatus::pending, "PENDING"},
    {TransactionStatus::awaiting_reconnect, "AWAITING_RECONNECT"},
    {TransactionStatus::completed, "COMPLETED"},
    {TransactionStatus::failed, "FAILED"},
    {TransactionStatus::cancelled, "CANCELLED"},
    {TransactionStatus::timeout, "TIMEOUT"},
    {TransactionStatus::voided, "VOIDED"},
}};

}  // namespace

std::string_view to_string(TransactionStatus status) {
  for (const auto& [candidate, name] : kStatusNames) {
    if (candidate == status) {
      return name;
    }
  }
  return "UNKNOWN";
}

std::optional<TransactionStatus> parse_transaction_status(std::string_view text) {
  for (const auto& [status, name] : kStatusNames) {
    if (name == text) {
      return status;
    }
  }
  return std::nullopt;
}

bool is_final(TransactionStatus status) {
  switch (status) {
    case TransactionStatus::pending:
    case TransactionStatus::awaiting_reconnect:
      return false;
    case TransactionStatus::completed:
    case TransactionStatus::failed:
    case TransactionStatus::cancelled:
    case TransactionStatus::timeout:
    case TransactionStatus::voided:
      return true;
  }
  return false;
}

std::string_view payment_status_name(TransactionStatus status) {
  return status == TransactionStatus::completed ? "SUCCESS" : to_string(status);
}

// decide() and to_string(TransactionEvent): see the state machine table (domain helper).

}  // namespace tillgate::domain
