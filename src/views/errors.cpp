#include "views/errors.hpp"

#include "domain/ids.hpp"
#include "json/json.hpp"

namespace tillgate::views {

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::validation_error:
    case ErrorCode::no_webhook_endpoints:
    case ErrorCode::invalid_pairing_code:
      return 400;
    case ErrorCode::unauthorized:
    case ErrorCode::invalid_signature:
    case ErrorCode::timestamp_expired:
    case ErrorCode::replayed_request:
      return 401;
    case ErrorCode::terminal_not_found:
    case ErrorCode::transaction_not_found:
    case ErrorCode::merchant_not_found:
    case ErrorCode::route_not_found:
    case ErrorCode::endpoint_not_found:
    case ErrorCode::delivery_not_found:
      return 404;
    case ErrorCode::method_not_allowed:
      return 405;
    case ErrorCode::payment_in_progress:
    case ErrorCode::duplicate_transaction:
    case ErrorCode::transaction_final:
    case ErrorCode::device_id_taken:
    case ErrorCode::endpoint_limit_reached:
    case ErrorCode::endpoint_inactive:
      return 409;
    case ErrorCode::resume_too_old:
      return 410;  // Gone: the events after it are no longer replayed
    case ErrorCode::payload_too_large:
      return 413;
    case ErrorCode::endpoint_validation_failed:
      return 422;  // the request is valid; the receiver did not accept the ping
    case ErrorCode::rate_limited:
      return 429;
    case ErrorCode::internal_error:
      return 500;
    case ErrorCode::service_unavailable:
    case ErrorCode::store_unavailable:
    case ErrorCode::terminal_offline:
      return 503;
    case ErrorCode::timeout:
      return 504;
  }
  return 500;
}

std::string_view wire_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::validation_error:
      return "VALIDATION_ERROR";
    case ErrorCode::no_webhook_endpoints:
      return "NO_WEBHOOK_ENDPOINTS";
    case ErrorCode::invalid_pairing_code:
      return "INVALID_PAIRING_CODE";
    case ErrorCode::unauthorized:
      return "UNAUTHORIZED";
    case ErrorCode::invalid_signature:
      return "INVALID_SIGNATURE";
    case ErrorCode::timestamp_expired:
      return "TIMESTAMP_EXPIRED";
    case ErrorCode::replayed_request:
      return "REPLAYED_REQUEST";
    case ErrorCode::terminal_not_found:
      return "TERMINAL_NOT_FOUND";
    case ErrorCode::transaction_not_found:
      return "TRANSACTION_NOT_FOUND";
    case ErrorCode::merchant_not_found:
      return "MERCHANT_NOT_FOUND";
    case ErrorCode::route_not_found:
      return "NOT_FOUND";
    case ErrorCode::method_not_allowed:
      return "METHOD_NOT_ALLOWED";
    case ErrorCode::payment_in_progress:
      return "PAYMENT_IN_PROGRESS";
    case ErrorCode::duplicate_transaction:
      return "DUPLICATE_TRANSACTION";
    case ErrorCode::transaction_final:
      return "TRANSACTION_FINAL";
    case ErrorCode::device_id_taken:
      return "DEVICE_ID_TAKEN";
    case ErrorCode::payload_too_large:
      return "PAYLOAD_TOO_LARGE";
    case ErrorCode::rate_limited:
      return "RATE_LIMITED";
    case ErrorCode::internal_error:
      return "INTERNAL_ERROR";
    case ErrorCode::service_unavailable:
      return "SERVICE_UNAVAILABLE";
    case ErrorCode::store_unavailable:
      return "STORE_UNAVAILABLE";
    case ErrorCode::terminal_offline:
      return "TERMINAL_OFFLINE";
    case ErrorCode::timeout:
      return "TIMEOUT";
    case ErrorCode::endpoint_validation_failed:
      return "ENDPOINT_VALIDATION_FAILED";
    case ErrorCode::endpoint_limit_reached:
      return "ENDPOINT_LIMIT_REACHED";
    case ErrorCode::endpoint_not_found:
      return "ENDPOINT_NOT_FOUND";
    case ErrorCode::endpoint_inactive:
      return "ENDPOINT_INACTIVE";
    case ErrorCode::delivery_not_found:
      return "DELIVERY_NOT_FOUND";
    case ErrorCode::resume_too_old:
      return "RESUME_TOO_OLD";
  }
  return "INTERNAL_ERROR";
}

ApiError store_unavailable(std::string message) {
  return ApiError{ErrorCode::store_unavailable,
                  std::move(message),
                  {},
                  std::nullopt,
                  kStoreUnavailableRetryAfterS};
}

net::HttpResponse error_response(const ApiError& error, domain::Timestamp now) {
  json::Object body{
      {"code", json::Value(wire_name(error.code))},
      {"message", json::Value(error.message)},
      {"requestId", json::Value(domain::new_prefixed_id("req_"))},
      {"timestamp", json::Value(domain::format_iso8601(now))},
  };
  if (error.transaction_id) {
    body.push_back({"transactionId", json::Value(*error.transaction_id)});
  }
  if (error.code == ErrorCode::validation_error) {
    json::Array details;
    for (const auto& problem : error.details) {
      details.push_back(json::object(
          {{"field", json::Value(problem.field)}, {"problem", json::Value(problem.problem)}}));
    }
    body.push_back({"details", json::Value(std::move(details))});
  }
  net::HttpResponse response;
  response.status = http_status(error.code);
  response.body = json::serialize(json::Value(std::move(body)));
  if (error.retry_after_s) {
    response.headers.emplace_back("Retry-After", std::to_string(*error.retry_after_s));
  }
  return response;
}

net::HttpResponse error_response(int status, std::string_view code, std::string_view message,
                                 domain::Timestamp now) {
  json::Object body{
      {"code", json::Value(code)},
      {"message", json::Value(message)},
      {"requestId", json::Value(domain::new_prefixed_id("req_"))},
      {"timestamp", json::Value(domain::format_iso8601(now))},
  };
  net::HttpResponse response;
  response.status = status;
  response.body = json::serialize(json::Value(std::move(body)));
  return response;
}

}  // namespace tillgate::views
