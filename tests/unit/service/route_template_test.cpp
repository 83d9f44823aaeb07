// The route label of tillgate_http_requests_total: a documented template, never a raw path.
#include "api/route_template.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "api/openapi.hpp"
#include "json/json.hpp"

namespace tillgate::api {
namespace {

RouteTemplates sample() {
  return RouteTemplates({{"POST", "/v1/terminals/{terminalId}/payments"},
                         {"POST", "/v1/terminals/payment-request/{terminalId}"},
                         {"GET", "/v1/transactions/{transactionId}"},
                         {"GET", "/v1/transactions/accounts/single"},
                         {"GET", "/v1/transactions"},
                         {"POST", "/v1/devices/codes"},
                         {"DELETE", "/v1/devices/{deviceId}"},
                         {"GET", "/healthz"}});
}

TEST(RouteTemplates, IdsBecomeTheirParameterName) {
  const auto routes = sample();
  EXPECT_EQ(routes.match("POST", "/v1/terminals/till-42/payments"),
            "/v1/terminals/{terminalId}/payments");
  EXPECT_EQ(routes.match("GET", "/v1/transactions/TXN-0001"), "/v1/transactions/{transactionId}");
  EXPECT_EQ(routes.match("GET", "/v1/transactions"), "/v1/transactions");
  EXPECT_EQ(routes.match("GET", "/healthz"), "/healthz");
}

TEST(RouteTemplates, ALiteralSegmentWinsOverAParameter) {
  const auto routes = sample();
  EXPECT_EQ(routes.match("GET", "/v1/transactions/accounts/single"),
            "/v1/transactions/accounts/single");
  EXPECT_EQ(routes.match("POST", "/v1/terminals/payment-request/payments"),
            "/v1/terminals/payment-request/{terminalId}");
  EXPECT_EQ(routes.match("POST", "/v1/devices/codes"), "/v1/devices/codes");
  // The method decides too: DELETE /v1/devices/codes names the device "codes".
  EXPECT_EQ(routes.match("DELETE", "/v1/devices/codes"), "/v1/devices/{deviceId}");
}

TEST(RouteTemplates, AnythingElseIsUnmatched) {
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
    EXPECT_EQ(routes.match(method, path), "unmatched") << method << " " << path;
  }
}

TEST(RouteTemplates, MethodLabelIsFromAFixedSet) {
  for (const auto* method : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    EXPECT_EQ(method_label(method), method);
  }
  EXPECT_EQ(method_label("BREW"), "UNKNOWN");
  EXPECT_EQ(method_label("get"), "UNKNOWN");
  EXPECT_EQ(method_label(""), "UNKNOWN");
}

// The router's table is the served document: each documented operation, called with ids,
// is labelled with its own template.
TEST(RouteTemplates, EveryDocumentedOperationGetsItsOwnTemplate) {
  const auto routes = RouteTemplates::from_openapi(openapi_document());
  const auto document = json::parse(openapi_document(), json::ParseLimits{128});
  ASSERT_TRUE(document.has_value());
  std::size_t operations = 0;
  for (const auto& item : document->find("paths")->as_object()) {
    const std::string concrete =
        std::regex_replace(item.key, std::regex(R"(\{[A-Za-z]+\})"), "id-7");
    for (const auto& operation : item.value.as_object()) {
      std::string method = operation.key;
      for (auto& c : method) {
        c = static_cast<char>(c - 'a' + 'A');
      }
      ++operations;
      EXPECT_EQ(routes.match(method, concrete), item.key) << method << " " << concrete;
    }
  }
  EXPECT_EQ(routes.size(), operations);
  EXPECT_GE(operations, 28u);
  EXPECT_EQ(routes.match("GET", "/metrics"), "/metrics");
  EXPECT_THROW(RouteTemplates::from_openapi("{}"), std::invalid_argument);
  EXPECT_THROW(RouteTemplates::from_openapi("not json"), std::invalid_argument);
}

}  // namespace
}  // namespace tillgate::api
