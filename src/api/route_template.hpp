#pragma once
// The route label of a request in tillgate_http_requests_total: the path template of the
// documented operation it names ("/v1/terminals/{terminalId}/payments"), never the raw
// path, so ids never become label values and the label set stays bounded.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tillgate::api {

class RouteTemplates {
 public:
  // (METHOD, template) pairs: {"POST", "/v1/terminals/{terminalId}/payments"}.
  explicit RouteTemplates(std::vector<std::pair<std::string, std::string>> operations);

  // The operations of an OpenAPI document's "paths" (the router uses the embedded
  // docs/openapi.json, which a test holds to every route). Throws std::invalid_argument
  // when `document` has no "paths" object.
  static RouteTemplates from_openapi(std::string_view document);

  // The template of the operation that `method` `path` (without the query) names; a
  // literal segment wins over a {parameter} at the first place they differ, as in the
  // router. "unmatched" when no operation has this method and path shape.
  [[nodiscard]] std::string_view match(std::string_view method, std::string_view path) const;

  [[nodiscard]] std::size_t size() const { return operations_.size(); }

 private:
  struct Operation {
    std::string method;
    std::string path_template;
    std::vector<std::string> segments;  // "{x}" for a parameter
  };
  std::vector<Operation> operations_;
};

// "/a/b/c" -> {"a","b","c"}; empty segments are kept, so "//" never matches a route. The
// router and the route labels split paths with this one function, so they agree.
[[nodiscard]] std::vector<std::string> path_segments(std::string_view path);

// The method label: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, or UNKNOWN for any
// other token (a client could otherwise send any number of invented methods).
[[nodiscard]] std::string_view method_label(std::string_view method);

}  // namespace tillgate::api
