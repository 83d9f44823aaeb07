// The route table: how a request finds its route and its authentication, and the route
// label of tillgate_http_requests_total (a documented template, never a raw path). The
// gateway's own table is held to docs/openapi.json.
#include "api/route_table.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <regex>
#include <set>
#include <stdexcept>

#include "../../support/temp_dir.hpp"
#include "api/console_routes.hpp"
#include "api/openapi.hpp"
#include "app/config.hpp"
#include "app/gateway.hpp"
#include "json/json.hpp"

namespace tillgate::api {
namespace {

RouteAnswer unused(RouteRequest /*request*/) {
  co_return net::HttpResponse{};
}

RouteTable sample() {
  RouteTable routes;
  for (const auto& [method, path_template, auth] :
       std::vector<std::tuple<std::string, std::string, Auth>>{
           {"POST", "/v1/terminals/{terminalId}/payments", Auth::merchant},
           {"POST", "/v1/terminals/payment-request/{terminalId}", Auth::nomba},
           {"GET", "/v1/transactions/{transactionId}", Auth::merchant},
           {"GET", "/v1/transactions/accounts/single", Auth::nomba},
           {"GET", "/v1/transactions", Auth::merchant},
           {"POST", "/v1/devices/codes", Auth::merchant},
           {"POST", "/v1/devices/pair", Auth::none},
           {"DELETE", "/v1/devices/{deviceId}", Auth::merchant},
           {"POST", "/v1/auth/token/issue", Auth::nomba_token},
           {"GET", "/admin/v1/merchants", Auth::admin},
           {"GET", "/healthz", Auth::none}}) {
    routes.add(method, path_template, auth, &unused);
  }
  routes.add_unrouted("/v1/", Auth::merchant);
  routes.add_unrouted("/admin/", Auth::admin);
  return routes;
}

TEST(RouteTable, IdsBecomeTheirParameterName) {
  const auto routes = sample();
  EXPECT_EQ(routes.label("POST", "/v1/terminals/till-42/payments"),
            "/v1/terminals/{terminalId}/payments");
  EXPECT_EQ(routes.label("GET", "/v1/transactions/TXN-0001"), "/v1/transactions/{transactionId}");
  EXPECT_EQ(routes.label("GET", "/v1/transactions"), "/v1/transactions");
  EXPECT_EQ(routes.label("GET", "/healthz"), "/healthz");
}

TEST(RouteTable, ALiteralSegmentWinsOverAParameter) {
  const auto routes = sample();
  EXPECT_EQ(routes.label("GET", "/v1/transactions/accounts/single"),
            "/v1/transactions/accounts/single");
  EXPECT_EQ(routes.label("POST", "/v1/terminals/payment-request/payments"),
            "/v1/terminals/payment-request/{terminalId}");
  EXPECT_EQ(routes.label("POST", "/v1/devices/codes"), "/v1/devices/codes");
  // The method decides too: DELETE /v1/devices/codes names the device "codes".
  EXPECT_EQ(routes.label("DELETE", "/v1/devices/codes"), "/v1/devices/{deviceId}");
}

TEST(RouteTable, AnythingElseIsUnmatched) {
  const auto routes = sample();
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/terminals/till-42/payments"},  // wrong method
           {"POST", "/v1/terminals//payments"},        // an empty id is no id
           {"POST", "/v1/terminals/x/payments/"},      // another shape
           {"GET", "/healthz/x"},
           {"GET", ""},
           {"GET", "healthz"},
           {"BREW", "/healthz"},
           {"GET", "/no/such/route/id-123456"}}) {
    EXPECT_EQ(routes.label(method, path), "unmatched") << method << " " << path;
  }
}

TEST(RouteTable, MethodLabelIsFromAFixedSet) {
  for (const auto* method : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    EXPECT_EQ(method_label(method), method);
  }
  EXPECT_EQ(method_label("BREW"), "UNKNOWN");
  EXPECT_EQ(method_label("get"), "UNKNOWN");
  EXPECT_EQ(method_label(""), "UNKNOWN");
}

TEST(RouteTable, AMatchCarriesTheRouteItsAuthAndItsParameters) {
  const auto routes = sample();
  const auto found = routes.match("POST", "/v1/terminals/till-42/payments");
  ASSERT_NE(found.route, nullptr);
  EXPECT_EQ(found.auth, Auth::merchant);
  RouteRequest request{{}, "mch_1", found.parameters};
  EXPECT_EQ(request.parameter("terminalId"), "till-42");
  EXPECT_THROW((void)request.parameter("transactionId"), std::out_of_range);
  EXPECT_EQ(routes.match("POST", "/v1/devices/pair").auth, Auth::none);
}

// A request signed for the main API leaves the Nomba routes out: a terminal may be called
// "payment-request".
TEST(RouteTable, AnExcludedAuthLeavesItsRoutesOut) {
  const auto routes = sample();
  const auto signed_push =
      routes.match("POST", "/v1/terminals/payment-request/payments", Auth::nomba);
  ASSERT_NE(signed_push.route, nullptr);
  EXPECT_EQ(signed_push.route->path_template, "/v1/terminals/{terminalId}/payments");
  EXPECT_EQ(signed_push.auth, Auth::merchant);
  EXPECT_EQ(signed_push.parameters.front().second, "payment-request");
  EXPECT_EQ(routes.match("POST", "/v1/terminals/payment-request/payments").auth, Auth::nomba);
}

// An unmatched request is authenticated as its path's API before its 404: as the routes of
// another method on the same path when they authenticate, else by its prefix.
TEST(RouteTable, AnUnmatchedRequestIsAuthenticatedAsItsPathsApi) {
  const auto routes = sample();
  const auto auth_of = [&routes](std::string_view method, std::string_view path) {
    const auto found = routes.match(method, path);
    EXPECT_EQ(found.route, nullptr) << method << " " << path;
    return found.auth;
  };
  EXPECT_EQ(auth_of("GET", "/v1/auth/token/issue"), Auth::nomba_token);
  EXPECT_EQ(auth_of("DELETE", "/v1/terminals/payment-request/till-1"), Auth::nomba);
  EXPECT_EQ(auth_of("GET", "/v1/devices/pair"), Auth::merchant);  // the pair route is public
  EXPECT_EQ(auth_of("GET", "/v1/no-such-route"), Auth::merchant);
  EXPECT_EQ(auth_of("PUT", "/admin/v1/merchants"), Auth::admin);
  EXPECT_EQ(auth_of("GET", "/admin/anything"), Auth::admin);
  EXPECT_EQ(auth_of("POST", "/healthz"), Auth::none);
  EXPECT_EQ(auth_of("GET", "/v1"), Auth::none);
  EXPECT_EQ(auth_of("GET", "/admin"), Auth::none);
}

TEST(RouteTable, ARouteIsInTheTableOnce) {
  auto routes = sample();
  EXPECT_THROW(routes.add("GET", "/healthz", Auth::none, &unused), std::invalid_argument);
  EXPECT_NO_THROW(routes.add("HEAD", "/healthz", Auth::none, &unused));
}

// The documented operations: (METHOD, template) of every path item of the document.
std::set<std::pair<std::string, std::string>> documented_operations() {
  const auto document = json::parse(openapi_document(), json::ParseLimits{128});
  EXPECT_TRUE(document.has_value());
  std::set<std::pair<std::string, std::string>> operations;
  for (const auto& item : document->find("paths")->as_object()) {
    for (const auto& operation : item.value.as_object()) {
      std::string method = operation.key;
      for (auto& c : method) {
        c = static_cast<char>(c - 'a' + 'A');
      }
      operations.emplace(method, item.key);
    }
  }
  return operations;
}

// The gateway's table is the served document, no more and no less: each documented
// operation, called with ids, is labelled with its own template.
TEST(RouteTable, TheGatewaysRoutesAreTheDocumentedOperations) {
  const tillgate::testing::TempDir dir;
  app::Config config;
  config.database_url = "sqlite:" + (dir.path() / "tillgate.db").string();
  boost::asio::io_context io;
  const app::Gateway gateway(io, config);
  const auto& routes = gateway.routes();

  std::set<std::pair<std::string, std::string>> table;
  std::size_t console_pages = 0;  // the console's pages are not operations of the API
  for (const auto& route : routes.routes()) {
    if (ConsoleRoutes::serves(route.path_template)) {
      ++console_pages;
      continue;
    }
    table.emplace(route.method, route.path_template);
  }
  const auto documented = documented_operations();
  EXPECT_EQ(table, documented);
  EXPECT_EQ(routes.routes().size(), documented.size() + console_pages);  // no route twice
  EXPECT_GE(console_pages, 4u);
  EXPECT_GE(documented.size(), 28u);
  for (const auto& [method, path_template] : documented) {
    const std::string concrete =
        std::regex_replace(path_template, std::regex(R"(\{[A-Za-z]+\})"), "id-7");
    EXPECT_EQ(routes.label(method, concrete), path_template) << method << " " << concrete;
  }
  EXPECT_EQ(routes.label("GET", "/metrics"), "/metrics");
}

}  // namespace
}  // namespace tillgate::api
