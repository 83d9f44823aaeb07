#pragma once
// The one table from API error to HTTP status and wire code (merchant-api.md section 2).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"
#include "net/http_message.hpp"

namespace tillgate::views {

enum class ErrorCode {
  validation_error,
  no_webhook_endpoints,
  invalid_pairing_code,
  unauthorized,
  invalid_signature,
  timestamp_expired,
  replayed_request,
  terminal_not_found,
  transaction_not_found,
  merchant_not_found,
  route_not_found,
  method_not_allowed,
  payment_in_progress,
  duplicate_transaction,
  transaction_final,
  device_id_taken,
  payload_too_large,
  rate_limited,
  internal_error,
  service_unavailable,
  store_unavailable,  // the store refused a write (disk full, I/O error): nothing changed
  terminal_offline,
  timeout,
  // Webhooks (webhooks.md; statuses in docs/decisions.md).
  endpoint_validation_failed,
  endpoint_limit_reached,
  endpoint_not_found,
  endpoint_inactive,
  delivery_not_found,
  // The POS WebSocket API's resume (pos-websocket.md): the event is unknown, another
  // merchant's, or older than the retention window; the client reconciles instead.
  resume_too_old,
};

[[nodiscard]] int http_status(ErrorCode code);
[[nodiscard]] std::string_view wire_name(ErrorCode code);

// The problem of a text field the store keeps as text that holds a NUL character (a JSON
// "\u0000"): refused at the edge on both backends, since PostgreSQL's text cannot hold one
// and a NUL cuts a C string short wherever the text goes next.
inline constexpr std::string_view kNoNulCharacter = "must not contain a NUL character (\\u0000)";

struct FieldProblem {
  std::string field;    // "products[0].price"
  std::string problem;  // "must be a decimal string or number"
};

struct ApiError {
  ErrorCode code = ErrorCode::internal_error;
  std::string message;
  std::vector<FieldProblem> details;          // VALIDATION_ERROR only
  std::optional<std::string> transaction_id;  // when the error concerns one
  std::optional<int> retry_after_s;           // RATE_LIMITED, STORE_UNAVAILABLE
};

// Retry-After of a 503 STORE_UNAVAILABLE: long enough for an operator's fix or a
// transient lock to pass, short enough that a waiting till retries soon.
inline constexpr int kStoreUnavailableRetryAfterS = 5;

// 503 STORE_UNAVAILABLE with its Retry-After.
[[nodiscard]] ApiError store_unavailable(std::string message);

// {"code","message","requestId","timestamp"[,"transactionId"][,"details"]} with its status.
[[nodiscard]] net::HttpResponse error_response(const ApiError& error, domain::Timestamp now);
[[nodiscard]] net::HttpResponse error_response(int status, std::string_view code,
                                               std::string_view message, domain::Timestamp now);

}  // namespace tillgate::views
