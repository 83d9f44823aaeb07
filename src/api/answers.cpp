#include "api/answers.hpp"

#include <utility>

namespace tillgate::api {

net::HttpResponse json_answer(int status, const json::Value& body) {
  return json_text_answer(status, json::serialize(body));
}

net::HttpResponse json_text_answer(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

net::HttpResponse error_answer(views::ErrorCode code, std::string message, domain::Timestamp now) {
  return views::error_response(
      views::ApiError{code, std::move(message), {}, std::nullopt, std::nullopt}, now);
}

net::HttpResponse no_content() {
  return net::HttpResponse{204, {}, "application/json; charset=utf-8", {}};
}

boost::asio::awaitable<net::HttpResponse> answered(net::HttpResponse response) {
  co_return response;
}

json::Value with_timestamp(json::Value view, domain::Timestamp now) {
  view.as_object().push_back({"timestamp", json::Value(domain::format_iso8601(now))});
  return view;
}

std::optional<net::HttpResponse> over_rate(net::RateLimiter& limiter, std::string_view key,
                                           domain::Timestamp now) {
  const auto retry_after = limiter.admit(key, net::RateLimiter::Clock::now());
  if (!retry_after) {
    return std::nullopt;
  }
  views::ApiError problem{views::ErrorCode::rate_limited,
                          "too many requests: retry after " + std::to_string(retry_after->count()) +
                              " s (the Retry-After header)",
                          {},
                          std::nullopt,
                          static_cast<int>(retry_after->count())};
  return views::error_response(problem, now);
}

boost::system::result<json::Value, json::ParseError> parse_body(
    std::string_view body, const views::RequestLimits& limits) {
  return json::parse(body, json::ParseLimits{limits.max_json_depth});
}

boost::system::result<json::Value, json::ParseError> parse_optional_body(
    std::string_view body, const views::RequestLimits& limits) {
  if (body.empty()) {
    return json::Value(json::Object{});
  }
  return parse_body(body, limits);
}

}  // namespace tillgate::api
