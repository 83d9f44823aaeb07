#pragma once
// The browser console and the virtual terminal (docs/console.md): static pages embedded in
// the binary, served under /console/ with strict security headers, each file a route of
// the table (its template is its path, so metrics label it and nothing else). They use
// only the public APIs; this surface serves bytes and holds no state. TILLGATE_CONSOLE=0
// adds no route at all: "/" and "/console/..." then answer 404 like any unknown path.
#include <string_view>

#include "api/console_assets.hpp"
#include "api/route_table.hpp"

namespace tillgate::api {

class ConsoleRoutes {
 public:
  explicit ConsoleRoutes(bool enabled);

  void add_routes(RouteTable& table);

  // Whether a route template is one of this surface's ("/", "/console", "/console/..."):
  // pages, not operations of the API, so docs/openapi.json does not list them.
  [[nodiscard]] static bool serves(std::string_view path_template);

  RouteAnswer redirect_to_console(RouteRequest request);

 private:
  bool enabled_;
};

// The answer for one embedded file: 200 with its bytes, or 304 without them when the
// request's If-None-Match names its ETag; both with the security headers.
[[nodiscard]] net::HttpResponse console_asset_answer(const ConsoleAsset& asset,
                                                     const net::HttpRequest& request);

// The headers of every console answer: the Content-Security-Policy (no inline script, no
// other origin; the page's own host over ws/wss for the WebSockets), nosniff, no referrer,
// no framing. `host` is the request's Host; one with any character a host cannot have is
// left out of the policy ('self' still covers the page's own origin).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> console_security_headers(
    std::string_view host);

// Whether an If-None-Match value (a list of entity tags, or "*") matches `etag` by the weak
// comparison RFC 9110 prescribes for it (a W/ prefix is ignored).
[[nodiscard]] bool if_none_match_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace tillgate::api
