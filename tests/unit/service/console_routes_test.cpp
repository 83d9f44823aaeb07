// The console surface's pure parts: If-None-Match matching, the security headers, which
// templates are the console's, and the embedded table (docs/console.md).
#include "api/console_routes.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tillgate::api {
namespace {

constexpr std::string_view kTag = "\"0123456789abcdef0123456789abcdef\"";

TEST(ConsoleRoutes, IfNoneMatchMatchesByTheWeakComparison) {
  EXPECT_TRUE(if_none_match_matches(kTag, kTag));
  EXPECT_TRUE(if_none_match_matches("W/" + std::string(kTag), kTag));
  EXPECT_TRUE(if_none_match_matches("\"a\",  " + std::string(kTag) + " ,\"b\"", kTag));
  EXPECT_TRUE(if_none_match_matches("*", kTag));
  EXPECT_FALSE(if_none_match_matches("\"0123456789abcdef0123456789abcdee\"", kTag));
  EXPECT_FALSE(if_none_match_matches("", kTag));
  EXPECT_FALSE(if_none_match_matches(",,,", kTag));
  EXPECT_FALSE(if_none_match_matches("0123456789abcdef0123456789abcdef", kTag));  // unquoted
}

std::string header(const std::vector<std::pair<std::string, std::string>>& headers,
                   std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

TEST(ConsoleRoutes, SecurityHeadersNameOnlyAValidHostInThePolicy) {
  const auto good = console_security_headers("127.0.0.1:8080");
  const auto policy = header(good, "Content-Security-Policy");
  EXPECT_NE(policy.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(policy.find("script-src 'self';"), std::string::npos);
  EXPECT_NE(policy.find("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"),
            std::string::npos);
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe"), std::string::npos);
  EXPECT_EQ(header(good, "X-Frame-Options"), "DENY");
  EXPECT_EQ(header(good, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(good, "Referrer-Policy"), "no-referrer");
  // A Host that would inject a directive or another origin is left out of the policy.
  for (const char* hostile : {"evil.example; script-src *", "a b", "x\"y", "", "h/ost"}) {
    const auto policy_for = header(console_security_headers(hostile), "Content-Security-Policy");
    EXPECT_NE(policy_for.find("connect-src 'self';"), std::string::npos) << hostile;
    EXPECT_EQ(policy_for.find("evil"), std::string::npos) << hostile;
  }
}

TEST(ConsoleRoutes, ServesOnlyTheRootAndTheConsolesPaths) {
  EXPECT_TRUE(ConsoleRoutes::serves("/"));
  EXPECT_TRUE(ConsoleRoutes::serves("/console"));
  EXPECT_TRUE(ConsoleRoutes::serves("/console/js/console.js"));
  EXPECT_FALSE(ConsoleRoutes::serves("/consoles"));
  EXPECT_FALSE(ConsoleRoutes::serves("/v1/terminals"));
  EXPECT_FALSE(ConsoleRoutes::serves("/healthz"));
}

TEST(ConsoleRoutes, TheEmbeddedTableHasBothPagesWithTypesAndDistinctStrongEtags) {
  const auto& assets = embedded::web_asset_table();
  std::set<std::string_view> paths;
  std::set<std::string_view> etags;
  for (const auto& asset : assets) {
    EXPECT_TRUE(asset.path.starts_with("/console/")) << asset.path;
    EXPECT_FALSE(asset.body.empty()) << asset.path;
    EXPECT_EQ(asset.etag.size(), 34u) << asset.path;
    EXPECT_FALSE(asset.etag.starts_with("W/")) << asset.path;
    paths.insert(asset.path);
    etags.insert(asset.etag);
  }
  EXPECT_EQ(paths.size(), assets.size());
  EXPECT_EQ(etags.size(), assets.size());
  EXPECT_TRUE(paths.contains("/console/"));
  EXPECT_TRUE(paths.contains("/console/terminal"));
  EXPECT_TRUE(paths.contains("/console/js/console.js"));
}

TEST(ConsoleRoutes, OffAddsNoRouteOnAddsOneForEachFileAndTheRedirects) {
  ConsoleRoutes disabled(false);  // the surfaces outlive their tables
  ConsoleRoutes enabled(true);
  RouteTable off;
  disabled.add_routes(off);
  EXPECT_TRUE(off.routes().empty());
  RouteTable on;
  enabled.add_routes(on);
  EXPECT_EQ(on.routes().size(), embedded::web_asset_table().size() + 2);
  EXPECT_EQ(on.label("GET", "/console/terminal"), "/console/terminal");
  EXPECT_EQ(on.match("POST", "/console/").route, nullptr);
}

}  // namespace
}  // namespace tillgate::api
