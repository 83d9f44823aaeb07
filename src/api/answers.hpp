#pragma once
// The answers every route surface builds: JSON with a status, the API's error body, 204,
// 429 with Retry-After, and a body read under the JSON depth limit.
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "json/json.hpp"
#include "net/http_message.hpp"
#include "net/rate_limiter.hpp"
#include "views/errors.hpp"
#include "views/payment_request_parser.hpp"

namespace tillgate::api {

[[nodiscard]] net::HttpResponse json_answer(int status, const json::Value& body);
// The same with a body already written as JSON text (json::Writer).
[[nodiscard]] net::HttpResponse json_text_answer(int status, std::string body);
// {"code","message","requestId","timestamp"} with the code's status.
[[nodiscard]] net::HttpResponse error_answer(views::ErrorCode code, std::string message,
                                             domain::Timestamp now);
// 204 No Content.
[[nodiscard]] net::HttpResponse no_content();
// An answer known at once, as a route's awaitable (for a route that is no coroutine itself).
[[nodiscard]] boost::asio::awaitable<net::HttpResponse> answered(net::HttpResponse response);

// `view` (an object) with "timestamp": now appended.
[[nodiscard]] json::Value with_timestamp(json::Value view, domain::Timestamp now);

// 429 RATE_LIMITED with Retry-After when `key` is over its rate; nullopt when admitted
// (the request then took one token).
[[nodiscard]] std::optional<net::HttpResponse> over_rate(net::RateLimiter& limiter,
                                                         std::string_view key,
                                                         domain::Timestamp now);

// The body as JSON, no deeper than limits.max_json_depth.
[[nodiscard]] boost::system::result<json::Value, json::ParseError> parse_body(
    std::string_view body, const views::RequestLimits& limits);
// As parse_body, but an empty body is an empty object (the routes whose fields are all
// optional).
[[nodiscard]] boost::system::result<json::Value, json::ParseError> parse_optional_body(
    std::string_view body, const views::RequestLimits& limits);

}  // namespace tillgate::api
