#pragma once
// Every HTTP route as data: {method, path template, authentication, handler}. The router
// dispatches by this table and labels every answer in tillgate_http_requests_total with
// the template it matched ("/v1/terminals/{terminalId}/payments", never the raw path, so
// ids never become label values), and a test holds it equal to docs/openapi.json.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_message.hpp"

namespace tillgate::api {

// How a route's caller proves who it is; the router checks it before the handler runs.
enum class Auth {
  none,         // public (service routes, pairing); the failed-authentication budget is not spent
  merchant,     // HMAC-SHA256 of merchant-api.md section 1: the principal is its merchant
  nomba,        // a Bearer access token with accountId (nomba-compat.md): the same
  nomba_token,  // the token grant: its credentials are in the body, checked by the route
  admin,        // Authorization: Bearer TILLGATE_ADMIN_TOKEN
};

// The Nomba-compatible edge answers in Nomba's envelope, errors included.
[[nodiscard]] constexpr bool answers_in_nomba_envelope(Auth auth) {
  return auth == Auth::nomba || auth == Auth::nomba_token;
}

using PathParameters = std::vector<std::pair<std::string, std::string>>;

// What a handler gets: the request, who sent it, and the path's parameters by name.
struct RouteRequest {
  net::HttpRequest http;
  std::string merchant_id;  // the principal of Auth::merchant and Auth::nomba; else empty
  PathParameters parameters;

  // The value of the template's "{name}"; throws std::out_of_range for a name the route's
  // template does not have (a mistake in the table, answered 500).
  [[nodiscard]] const std::string& parameter(std::string_view name) const;
};

using RouteAnswer = boost::asio::awaitable<net::HttpResponse>;
using RouteHandler = std::function<RouteAnswer(RouteRequest)>;

struct Route {
  std::string method;
  std::string path_template;
  Auth auth = Auth::none;
  RouteHandler handler;
  std::vector<std::string> segments;  // "{x}" for a parameter
};

// One line of a surface's routes: {"GET", "/healthz", Auth::none, &ServiceRoutes::healthz}.
template <class Surface>
struct SurfaceRoute {
  std::string_view method;
  std::string_view path_template;
  Auth auth;
  RouteAnswer (Surface::*handler)(RouteRequest);
};

class RouteTable {
 public:
  // Throws std::invalid_argument for a (method, template) already in the table.
  void add(std::string method, std::string path_template, Auth auth, RouteHandler handler);

  // The routes of one surface, each calling its member function; `surface` must outlive
  // the table.
  template <class Surface>
  void add(Surface& surface, std::initializer_list<SurfaceRoute<Surface>> routes) {
    for (const auto& route : routes) {
      auto handler = route.handler;
      add(std::string(route.method), std::string(route.path_template), route.auth,
          [&surface, handler](RouteRequest request) {
            return (surface.*handler)(std::move(request));
          });
    }
  }

  // A request that no route takes and whose path starts with `prefix` is authenticated as
  // `auth` before it is answered 404, as the routes under the prefix are: so an unknown
  // path tells an unauthenticated caller nothing. The longest prefix applies.
  void add_unrouted(std::string prefix, Auth auth);

  struct Match {
    const Route* route = nullptr;  // null: no route has this method and path
    // The authentication the request is checked with: its route's; with none, that of the
    // best route of another method for this path (a wrong method on a Nomba path is the
    // Nomba edge's), else that of the longest unrouted prefix, else none.
    Auth auth = Auth::none;
    PathParameters parameters;  // of `route`
  };

  // The route for `method` and `path` (without the query): same segment count, each
  // literal segment equal and each {parameter} non-empty; where several match, a literal
  // segment wins over a parameter at the first place they differ. Routes whose auth is
  // `excluded` are left out (a request signed for the main API is not the Nomba edge's).
  [[nodiscard]] Match match(std::string_view method, std::string_view path,
                            std::optional<Auth> excluded = std::nullopt) const;

  // The route label: the matched template, or "unmatched".
  [[nodiscard]] std::string_view label(std::string_view method, std::string_view path) const;

  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::pair<std::string, Auth>> unrouted_;  // prefix, auth
};

// "/a/b/c" -> {"a","b","c"}; empty segments are kept, so "//" never matches a route. The
// one path splitter: the table and every route read paths through it.
[[nodiscard]] std::vector<std::string> path_segments(std::string_view path);

// The method label: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, or UNKNOWN for any
// other token (a client could otherwise send any number of invented methods).
[[nodiscard]] std::string_view method_label(std::string_view method);

}  // namespace tillgate::api
