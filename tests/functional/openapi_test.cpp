// docs/openapi.json: served byte for byte, covers every route of the router, and the
// response check (openapi_check.hpp) that every helper runs really rejects wrong answers.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <boost/asio/io_context.hpp>

#include "../support/temp_dir.hpp"
#include "api/console_routes.hpp"
#include "api/openapi.hpp"
#include "api/route_table.hpp"
#include "app/config.hpp"
#include "app/gateway.hpp"
#include "openapi_check.hpp"
#include "test_support.hpp"
#include "views/errors.hpp"

namespace tillgate::ft {
namespace {

using openapi::Document;

const std::string kSourceDir = TILLGATE_SOURCE_DIR;

std::string source_file(const std::string& relative) {
  std::ifstream in(kSourceDir + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << relative;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

json::Value parsed(std::string_view text) {
  auto value = json::parse(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value ? std::move(*value) : json::Value();
}

const Document& doc() {
  return Document::served();
}

// ---- the document, served ----------------------------------------------------------------

class OpenapiTest : public GatewayTest {};

TEST_F(OpenapiTest, ServedByteForByteAsDocsOpenapiJson) {
  const std::string file = source_file("docs/openapi.json");
  ASSERT_FALSE(file.empty());
  const auto first_difference = [&file](std::string_view served) {
    const auto end = std::min(served.size(), file.size());
    std::size_t i = 0;
    while (i < end && served[i] == file[i]) {
      ++i;
    }
    return std::to_string(served.size()) + " bytes against the file's " +
           std::to_string(file.size()) + ", first difference at byte " + std::to_string(i);
  };
  EXPECT_TRUE(api::openapi_document() == file) << "the binary embeds another document (rebuild): "
                                               << first_difference(api::openapi_document());
  const auto res = plain_request("GET", "/openapi.json");
  ASSERT_EQ(res.status, 200);
  EXPECT_TRUE(res.body == file) << "served " << first_difference(res.body);
  EXPECT_NE(res.header("content-type").value_or("").find("application/json"), std::string::npos)
      << res.header("content-type").value_or("(none)");
  const auto document = parsed(res.body);
  EXPECT_EQ(string_at(document, "openapi"), "3.1.0");
}

TEST_F(OpenapiTest, ServiceEndpointsAnswerAsDocumented) {
  // plain_request checks each answer against the document.
  EXPECT_EQ(plain_request("GET", "/healthz").status, 200);
  EXPECT_EQ(plain_request("GET", "/readyz").status, 200);
  const auto metrics = plain_request("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("content-type").value_or(""),
            "text/plain; version=0.0.4; charset=utf-8");
  expect_error(plain_request("GET", "/no/such/route"), 404, "NOT_FOUND");
}

// "/a/{b}/c" -> {"a", "{b}", "c"}
std::vector<std::string> segments_of(std::string_view path) {
  std::vector<std::string> parts(1);
  for (const char c : path.substr(1)) {
    if (c == '/') {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

std::string upper(std::string text) {
  for (auto& c : text) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return text;
}

// Each documented operation reaches a route of the router: called with proper credentials
// (ids of nothing, except an API key that exists), none answers the router's "no route"
// (404 NOT_FOUND, or on the Nomba paths 404 "01" "no route ..."), and every answer agrees
// with the document (the helpers check it).
TEST_F(OpenapiTest, EveryDocumentedOperationIsARoute) {
  const auto merchant = create_merchant("OpenAPI Shop");
  const auto key =
      parse_json(admin("POST", "/admin/v1/merchants/" + merchant.merchant_id + "/keys").body);
  // The Nomba-compatible routes take an access token with the accountId header.
  const auto issued = plain_request(
      "POST", "/v1/auth/token/issue",
      json::serialize(
          json::object({{"grant_type", json::Value("client_credentials")},
                        {"client_id", json::Value(merchant.credentials.api_key)},
                        {"client_secret", json::Value(merchant.credentials.api_secret)}})),
      {{"accountId", merchant.merchant_id}});
  ASSERT_EQ(issued.status, 200) << issued.body;
  const auto issued_body = parse_json(issued.body);
  const auto* issued_data = issued_body.find("data");
  ASSERT_NE(issued_data, nullptr) << issued.body;
  const client::HeaderList nomba_headers = {
      {"Authorization", "Bearer " + string_at(*issued_data, "access_token")},
      {"accountId", merchant.merchant_id}};
  const std::map<std::string, std::string> ids = {
      {"{terminalId}", "till-nobody"},       {"{transactionId}", "TXN-NOBODY"},
      {"{deviceId}", "till-nobody"},         {"{merchantId}", merchant.merchant_id},
      {"{endpointId}", "wh_nobody"},         {"{deliveryId}", "dlv_nobody"},
      {"{apiKey}", string_at(key, "apiKey")}};
  std::size_t operations = 0;
  for (const auto& item : doc().root().find("paths")->as_object()) {
    std::string target;
    for (const auto& segment : segments_of(item.key)) {
      target += "/" + (ids.contains(segment) ? ids.at(segment) : segment);
    }
    for (const auto& operation : item.value.as_object()) {
      const std::string method = upper(operation.key);
      SCOPED_TRACE(method + " " + target);
      ++operations;
      const std::string body = method == "POST" ? "{}" : "";
      const auto* security = operation.value.find("security");
      client::HttpResponse res;
      if (item.key.starts_with("/admin/")) {
        res = admin(method, target, body);
      } else if (security != nullptr && json::serialize(*security) == R"([{"NombaBearer":[]}])") {
        res = plain_request(method, target, body, nomba_headers);
      } else if (security != nullptr && security->as_array().empty()) {
        res = plain_request(method, target, body);
      } else {
        res = signed_request(merchant, method, target, body);
      }
      // GET /metrics answers text (the helpers checked it against the document).
      const bool json_answer =
          res.header("content-type").value_or("").find("application/json") != std::string::npos;
      const auto answer = res.body.empty() || !json_answer ? json::Value() : parse_json(res.body);
      EXPECT_FALSE(res.status == 404 && (string_at(answer, "code") == "NOT_FOUND" ||
                                         string_at(answer, "description").starts_with("no route")))
          << "the router has no such route: " << res.body;
    }
  }
  EXPECT_EQ(operations, 37u);
}

// ---- the document, read -----------------------------------------------------------------

// Every route of the gateway's route table (the one the router dispatches by) is a
// documented operation, found as the document's own matcher finds it: a new route cannot go
// undocumented.
TEST(OpenapiDocument, CoversEveryRouteOfTheRouter) {
  const tillgate::testing::TempDir dir;
  app::Config config;
  config.database_url = "sqlite:" + (dir.path() / "tillgate.db").string();
  boost::asio::io_context io;
  const app::Gateway gateway(io, config);
  std::size_t routes_checked = 0;
  for (const auto& route : gateway.routes().routes()) {
    if (api::ConsoleRoutes::serves(route.path_template)) {
      continue;  // the console's pages (docs/console.md), not operations of the API
    }
    ++routes_checked;
    const std::string concrete =
        std::regex_replace(route.path_template, std::regex(R"(\{[A-Za-z]+\})"), "x1");
    const auto operation = doc().find_operation(route.method, concrete);
    ASSERT_TRUE(operation.has_value()) << "the router routes " << route.method << " "
                                       << route.path_template << ", which docs/openapi.json lacks";
    EXPECT_EQ(operation->path_template, route.path_template);
  }
  EXPECT_GE(routes_checked, 10u) << "the router's route table is empty; update this test";
  // And the routes by template, as merchant-api.md and operations.md name them.
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/healthz"},
      {"GET", "/readyz"},
      {"GET", "/metrics"},
      {"GET", "/openapi.json"},
      {"POST", "/v1/terminals/{terminalId}/payments"},
      {"GET", "/v1/transactions/{transactionId}"},
      {"GET", "/v1/transactions"},
      {"POST", "/v1/transactions/{transactionId}/cancel"},
      {"GET", "/v1/terminals"},
      {"POST", "/v1/devices/codes"},
      {"POST", "/v1/devices/pair"},
      {"DELETE", "/v1/devices/{deviceId}"},
      {"POST", "/v1/webhooks/endpoints"},
      {"GET", "/v1/webhooks/endpoints"},
      {"GET", "/v1/webhooks/endpoints/{endpointId}"},
      {"PUT", "/v1/webhooks/endpoints/{endpointId}"},
      {"DELETE", "/v1/webhooks/endpoints/{endpointId}"},
      {"GET", "/v1/webhooks/deliveries"},
      {"POST", "/v1/webhooks/deliveries/{deliveryId}/retry"},
      {"POST", "/v1/auth/token/issue"},
      {"POST", "/v1/terminals/payment-request/{terminalId}"},
      {"GET", "/v1/transactions/accounts/single"},
      {"POST", "/v1/auth/token/refresh"},
      {"POST", "/v1/auth/token/revoke"},
      {"POST", "/v1/transactions/accounts"},
      {"GET", "/v1/transactions/accounts"},
      {"GET", "/v1/accounts/terminals"},
      {"POST", "/v1/webhooks/re-push"},
      {"POST", "/v1/webhooks/bulk-re-push"},
      {"POST", "/v1/webhooks/event-logs"},
      {"POST", "/admin/v1/merchants"},
      {"GET", "/admin/v1/merchants"},
      {"GET", "/admin/v1/merchants/{merchantId}"},
      {"PATCH", "/admin/v1/merchants/{merchantId}"},
      {"POST", "/admin/v1/merchants/{merchantId}/keys"},
      {"DELETE", "/admin/v1/merchants/{merchantId}/keys/{apiKey}"},
      {"POST", "/admin/v1/merchants/{merchantId}/devices"},
  };
  std::size_t documented_operations = 0;
  for (const auto& item : doc().root().find("paths")->as_object()) {
    documented_operations += item.value.as_object().size();
  }
  EXPECT_EQ(documented_operations, routes.size());
  for (const auto& [method, path] : routes) {
    std::string concrete = std::regex_replace(path, std::regex(R"(\{[A-Za-z]+\})"), "x1");
    const auto operation = doc().find_operation(method, concrete);
    ASSERT_TRUE(operation.has_value()) << method << " " << path;
    EXPECT_EQ(operation->path_template, path);
  }
}

TEST(OpenapiDocument, EveryOperationListsTheStatusesAnyRouteCanAnswer) {
  std::set<std::string> operation_ids;
  for (const auto& item : doc().root().find("paths")->as_object()) {
    for (const auto& operation : item.value.as_object()) {
      SCOPED_TRACE(operation.key + " " + item.key);
      const auto* id = operation.value.find("operationId");
      ASSERT_TRUE(id && id->is_string());
      EXPECT_TRUE(operation_ids.insert(id->as_string()).second) << "duplicate operationId";
      const auto* responses = operation.value.find("responses");
      ASSERT_TRUE(responses && responses->is_object());
      for (const auto* status : {"413", "500", "503"}) {
        EXPECT_NE(responses->find(status), nullptr) << status;
      }
      const bool merchant_route = item.key.starts_with("/v1/");
      const bool pairing = item.key == "/v1/devices/pair";
      bool nomba = false;
      if (const auto* tags = operation.value.find("tags"); tags != nullptr && tags->is_array()) {
        for (const auto& tag : tags->as_array()) {
          nomba = nomba || (tag.is_string() && tag.as_string() == "nomba");
        }
      }
      if (merchant_route) {
        EXPECT_NE(responses->find("429"), nullptr) << "every /v1 route is rate limited";
        const auto* security = operation.value.find("security");
        ASSERT_NE(security, nullptr);
        if (pairing) {
          EXPECT_TRUE(security->as_array().empty());
        } else if (nomba) {
          // A token is issued for the API key in the body; the other Nomba routes take it.
          EXPECT_NE(responses->find("401"), nullptr);
          EXPECT_EQ(json::serialize(*security),
                    item.key.starts_with("/v1/auth/token/") ? "[]" : R"([{"NombaBearer":[]}])");
          // Every error in Nomba's envelope ({"code":"..","description","data":null}),
          // none in the main API's.
          const std::string concrete =
              std::regex_replace(item.key, std::regex(R"(\{[A-Za-z]+\})"), "x1");
          const client::HeaderList headers = {{"Content-Type", "application/json"},
                                              {"Retry-After", "1"}};
          const std::string main_error =
              R"({"code":"NOT_FOUND","message":"m","requestId":"req_a","timestamp":"2024-01-15T10:30:00.000Z"})";
          for (const auto& response : responses->as_object()) {
            if (response.key.starts_with("2")) {
              continue;
            }
            const int status = std::stoi(response.key);
            bool nomba_error = false;
            for (const std::string code : {"01", "02", "401", "05", "06"}) {
              const std::string body =
                  R"({"code":")" + code + R"(","description":"what is wrong","data":null})";
              nomba_error = nomba_error || doc()
                                               .check_response(upper(operation.key), concrete,
                                                               status, headers, body)
                                               .empty();
            }
            EXPECT_TRUE(nomba_error) << response.key << " is not in Nomba's envelope";
            EXPECT_FALSE(
                doc()
                    .check_response(upper(operation.key), concrete, status, headers, main_error)
                    .empty())
                << response.key << " accepts the main API's Error";
          }
        } else {
          EXPECT_NE(responses->find("401"), nullptr);
          EXPECT_EQ(json::serialize(*security), R"([{"ApiKey":[],"Timestamp":[],"Signature":[]}])");
        }
      }
      if (item.key.starts_with("/admin/")) {
        EXPECT_NE(responses->find("401"), nullptr);
        EXPECT_NE(responses->find("404"), nullptr) << "the admin API can be off";
      }
    }
  }
}

TEST(OpenapiDocument, ErrorCodesAreEveryWireCode) {
  const auto* codes = doc().resolve("#/components/schemas/ErrorCode/enum");
  ASSERT_TRUE(codes && codes->is_array());
  std::set<std::string> documented;
  for (const auto& code : codes->as_array()) {
    documented.insert(code.as_string());
  }
  // Every enumerator, those added later too: past the last one wire_name answers
  // INTERNAL_ERROR, which is in the list.
  for (int i = 0; i < 256; ++i) {
    const auto code = std::string(views::wire_name(static_cast<views::ErrorCode>(i)));
    EXPECT_TRUE(documented.contains(code)) << code;
  }
  for (const auto* code : {"INVALID_PAIRING_CODE", "BAD_REQUEST", "HEADERS_TOO_LARGE"}) {
    EXPECT_TRUE(documented.contains(code)) << code;
  }
}

TEST(OpenapiDocument, UsesOnlyKeywordsTheCheckImplementsAndEveryRefResolves) {
  const auto unsupported = doc().unsupported_keywords();
  EXPECT_TRUE(unsupported.empty()) << ::testing::PrintToString(unsupported);
  // Every $ref anywhere (schemas, responses, parameters, headers) resolves.
  std::size_t refs = 0;
  const auto walk = [&](const auto& self, const json::Value& node) -> void {
    if (node.is_object()) {
      for (const auto& member : node.as_object()) {
        if (member.key == "$ref") {
          ++refs;
          EXPECT_NE(doc().resolve(member.value.as_string()), nullptr) << member.value.as_string();
        } else {
          self(self, member.value);
        }
      }
    } else if (node.is_array()) {
      for (const auto& item : node.as_array()) {
        self(self, item);
      }
    }
  };
  walk(walk, doc().root());
  EXPECT_GT(refs, 50u);
}

TEST(OpenapiDocument, SchemaExamplesValidate) {
  for (const auto& schema : doc().root().find("components")->find("schemas")->as_object()) {
    const auto* examples = schema.value.find("examples");
    if (examples == nullptr) {
      continue;
    }
    for (const auto& example : examples->as_array()) {
      const auto violations = doc().validate(example, "#/components/schemas/" + schema.key);
      EXPECT_TRUE(violations.empty()) << schema.key << openapi::describe(violations);
    }
  }
}

// ---- the check cannot pass silently -----------------------------------------------------

const std::string kError =
    R"({"code":"TERMINAL_OFFLINE","message":"terminal till-1 is not connected","requestId":"req_abc234","timestamp":"2024-01-15T10:30:00.000Z"})";

TEST(OpenapiCheck, ErrorSchemaAcceptsTheSpecBodyAndRejectsWrongOnes) {
  EXPECT_TRUE(doc().validate(parsed(kError), "#/components/schemas/Error").empty());
  const std::vector<std::pair<std::string, std::string>> wrong = {
      {R"({"code":"TERMINAL_OFFLINE","message":"m","timestamp":"2024-01-15T10:30:00.000Z"})",
       "/required"},
      {R"({"code":"NO_SUCH_CODE","message":"m","requestId":"req_a","timestamp":"2024-01-15T10:30:00.000Z"})",
       "/enum"},
      {R"({"code":"TIMEOUT","message":"m","requestId":"req_a","timestamp":"2024-01-15T10:30:00Z"})",
       "/pattern"},
      {R"({"code":"TIMEOUT","message":"m","requestId":"req_a","timestamp":"2024-01-15T10:30:00.000Z","extra":1})",
       "/additionalProperties"},
      {R"({"code":"TIMEOUT","message":7,"requestId":"req_a","timestamp":"2024-01-15T10:30:00.000Z"})",
       "/type"},
      {R"({"code":"VALIDATION_ERROR","message":"m","requestId":"req_a","timestamp":"2024-01-15T10:30:00.000Z","details":[{"field":"amount"}]})",
       "/required"},
  };
  for (const auto& [body, keyword] : wrong) {
    const auto violations = doc().validate(parsed(body), "#/components/schemas/Error");
    ASSERT_FALSE(violations.empty()) << body;
    EXPECT_TRUE(violations.front().schema_path.ends_with(keyword))
        << body << openapi::describe(violations);
  }
}

TEST(OpenapiCheck, TypeArraysNullableRefsAndComposition) {
  const auto terminal = parsed(R"({"terminalId":"t1","deviceId":"t1","connectionId":null,
      "label":"","status":"offline","connectedAt":null,"lastActivity":null,"metadata":{}})");
  EXPECT_TRUE(doc().validate(terminal, "#/components/schemas/Terminal").empty());
  auto bad = parsed(R"({"terminalId":"t1","deviceId":"t1","connectionId":5,
      "label":"","status":"asleep","connectedAt":null,"lastActivity":"yesterday","metadata":{}})");
  const auto violations = doc().validate(bad, "#/components/schemas/Terminal");
  std::set<std::string> where;
  for (const auto& v : violations) {
    where.insert(v.instance_path);
  }
  EXPECT_EQ(where, (std::set<std::string>{"/connectionId", "/status", "/lastActivity"}))
      << openapi::describe(violations);

  // oneOf [PaymentResponse, null]; allOf in TransactionDetail; integer vs number.
  const auto detail =
      parsed(R"({"transactionId":"T1","terminalId":"t1","deviceId":"t1","status":"PENDING",
      "request":{"transactionId":"T1","amount":"1.00","currency":"USD","paymentMethod":"CARD",
        "webhookMode":false,"products":[{"id":"p","name":"n","price":"1.00","quantity":1}],
        "customerInfo":null,"metadata":{}},
      "response":null,"createdAt":"2024-01-15T10:30:00.000Z","updatedAt":"2024-01-15T10:30:00.000Z",
      "completedAt":null,"voidedAt":null,"voidReason":null,"timestamp":"2024-01-15T10:30:00.000Z"})");
  EXPECT_TRUE(doc().validate(detail, "#/components/schemas/TransactionDetail").empty())
      << openapi::describe(doc().validate(detail, "#/components/schemas/TransactionDetail"));
  auto text = json::serialize(detail);
  auto no_timestamp = parsed(std::regex_replace(text, std::regex(R"(,"timestamp":"[^"]+")"), ""));
  EXPECT_FALSE(doc().validate(no_timestamp, "#/components/schemas/TransactionDetail").empty());
  auto bad_response = parsed(std::regex_replace(text, std::regex(R"("response":null)"),
                                                R"("response":{"status":"SUCCESS"})"));
  EXPECT_FALSE(doc().validate(bad_response, "#/components/schemas/TransactionDetail").empty());
  auto fractional =
      parsed(std::regex_replace(text, std::regex(R"("quantity":1)"), R"("quantity":1.5)"));
  EXPECT_FALSE(doc().validate(fractional, "#/components/schemas/TransactionDetail").empty());
}

TEST(OpenapiCheck, ResponsesOfRoutesStatusesAndHeaders) {
  const client::HeaderList json_type = {{"Content-Type", "application/json; charset=utf-8"}};
  // Documented and right.
  EXPECT_TRUE(
      doc().check_response("GET", "/healthz", 200, json_type, R"({"status":"ok"})").empty());
  // A status the operation does not list.
  EXPECT_FALSE(doc().check_response("GET", "/v1/terminals", 404, json_type, kError).empty());
  // The right status with the wrong body; the failure names the schema path.
  const auto problems = doc().check_response("GET", "/v1/terminals?x=1", 200, json_type,
                                             R"({"terminals":[],"count":"0"})");
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.front().find("#/components/schemas/TerminalList"), std::string::npos)
      << problems.front();
  // A 2xx from an undocumented route, and an undocumented route's error that is no Error.
  EXPECT_FALSE(doc().check_response("GET", "/v2/terminals", 200, json_type, "{}").empty());
  EXPECT_FALSE(
      doc().check_response("GET", "/v2/terminals", 404, json_type, R"({"error":"nope"})").empty());
  // An undocumented route's Error, as hostile tests provoke: fine.
  EXPECT_TRUE(doc().check_response("GET", "/v2/terminals", 404, json_type, kError).empty());
  // 429 needs Retry-After.
  const std::string limited =
      R"({"code":"RATE_LIMITED","message":"slow down","requestId":"req_a","timestamp":"2024-01-15T10:30:00.000Z"})";
  EXPECT_FALSE(doc().check_response("GET", "/v1/terminals", 429, json_type, limited).empty());
  auto with_retry = json_type;
  with_retry.emplace_back("Retry-After", "1");
  EXPECT_TRUE(doc().check_response("GET", "/v1/terminals", 429, with_retry, limited).empty());
  // A code that does not belong to the status.
  EXPECT_FALSE(
      doc()
          .check_response(
              "GET", "/v1/transactions/T1", 404, json_type,
              R"({"code":"TERMINAL_NOT_FOUND","message":"m","requestId":"req_a","timestamp":"2024-01-15T10:30:00.000Z"})")
          .empty());
  // 204 has no body; JSON needs its content type.
  EXPECT_TRUE(doc().check_response("DELETE", "/v1/devices/t1", 204, {}, "").empty());
  EXPECT_FALSE(doc().check_response("DELETE", "/v1/devices/t1", 204, {}, "{}").empty());
  EXPECT_FALSE(doc()
                   .check_response("GET", "/healthz", 200, {{"Content-Type", "text/plain"}},
                                   R"({"status":"ok"})")
                   .empty());
  // A text answer (GET /metrics): its content type, and its body against a string schema.
  const client::HeaderList text_type = {
      {"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
  EXPECT_TRUE(
      doc().check_response("GET", "/metrics", 200, text_type, "# TYPE a counter\na 1\n").empty());
  EXPECT_FALSE(doc().check_response("GET", "/metrics", 200, json_type, "a 1\n").empty());
  EXPECT_FALSE(doc().check_response("GET", "/metrics", 200, text_type, "").empty());  // minLength
}

TEST(OpenapiCheck, LiteralSegmentsWinOverParameters) {
  EXPECT_EQ(doc().find_operation("POST", "/v1/devices/codes")->path_template, "/v1/devices/codes");
  EXPECT_EQ(doc().find_operation("POST", "/v1/devices/pair")->path_template, "/v1/devices/pair");
  EXPECT_EQ(doc().find_operation("DELETE", "/v1/devices/codes")->path_template,
            "/v1/devices/{deviceId}");
  EXPECT_EQ(doc().find_operation("GET", "/v1/transactions?limit=2")->path_template,
            "/v1/transactions");
  EXPECT_FALSE(doc().find_operation("PUT", "/v1/terminals").has_value());
  EXPECT_FALSE(doc().find_operation("GET", "/v1/transactions/").has_value());
  EXPECT_EQ(doc().find_operation("POST", "/v1/terminals/payment-request/till-1")->path_template,
            "/v1/terminals/payment-request/{terminalId}");
  EXPECT_EQ(doc().find_operation("POST", "/v1/terminals/till-1/payments")->path_template,
            "/v1/terminals/{terminalId}/payments");
  EXPECT_EQ(doc()
                .find_operation("GET", "/v1/transactions/accounts/single?merchantTxRef=T1")
                ->path_template,
            "/v1/transactions/accounts/single");
}

TEST(OpenapiCheck, NombaRoutesAnswerNombasEnvelope) {
  const client::HeaderList json_type = {{"Content-Type", "application/json"}};
  const std::string token =
      R"({"code":"00","description":"Success","data":{"businessId":"mch_a","access_token":"aGVhZA.Ym9keQ.c2ln","refresh_token":"rt_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG","expiresAt":"2024-01-15T11:00:00Z"}})";
  EXPECT_TRUE(doc().check_response("POST", "/v1/auth/token/issue", 200, json_type, token).empty());
  // Milliseconds are not Nomba's times.
  EXPECT_FALSE(doc()
                   .check_response("POST", "/v1/auth/token/issue", 200, json_type,
                                   std::regex_replace(token, std::regex("00Z"), "00.000Z"))
                   .empty());
  // The main API's Error is no Nomba route's error, nor is a Nomba code of another status.
  const std::string bad_credentials =
      R"({"code":"01","description":"send the accountId header: your merchant id","data":null})";
  EXPECT_TRUE(doc()
                  .check_response("POST", "/v1/auth/token/issue", 401, json_type, bad_credentials)
                  .empty());
  const std::string unauthorized =
      R"({"code":"401","description":"the access token is not valid","data":null})";
  EXPECT_FALSE(
      doc().check_response("POST", "/v1/auth/token/issue", 401, json_type, kError).empty());
  EXPECT_FALSE(doc()
                   .check_response("POST", "/v1/terminals/payment-request/till-1", 404, json_type,
                                   unauthorized)
                   .empty());
  // 429 needs Retry-After here too.
  const std::string limited = R"({"code":"01","description":"too many requests","data":null})";
  const std::string lookup = "/v1/transactions/accounts/single?merchantTxRef=T1";
  EXPECT_FALSE(doc().check_response("GET", lookup, 429, json_type, limited).empty());
  auto with_retry = json_type;
  with_retry.emplace_back("Retry-After", "1");
  EXPECT_TRUE(doc().check_response("GET", lookup, 429, with_retry, limited).empty());
  // Another method on a Nomba path is refused in Nomba's envelope with the path's 404;
  // anything else there, and a Nomba body on an undocumented path, is still wrong.
  const std::string no_route =
      R"({"code":"01","description":"no route GET /v1/auth/token/issue: tokens are issued with POST","data":null})";
  EXPECT_TRUE(
      doc().check_response("GET", "/v1/auth/token/issue", 404, json_type, no_route).empty());
  EXPECT_TRUE(doc()
                  .check_response("DELETE", "/v1/terminals/payment-request/till-1", 404, json_type,
                                  no_route)
                  .empty());
  EXPECT_FALSE(doc().check_response("GET", "/v1/auth/token/issue", 200, json_type, token).empty());
  EXPECT_FALSE(
      doc().check_response("GET", "/v1/auth/token/issue", 404, json_type, unauthorized).empty());
  EXPECT_FALSE(
      doc().check_response("GET", "/v2/auth/token/issue", 404, json_type, no_route).empty());
  // The push answer's status is the literal "pending"; the lookup's are Nomba's names.
  const std::string pushed =
      R"({"code":"00","description":"Success","data":{"paymentId":"T1","merchantTxRef":"T1","status":"pending","amount":1000,"currency":"NGN","createdAt":"2024-01-15T10:30:00Z"}})";
  const std::string push = "/v1/terminals/payment-request/till-1";
  EXPECT_TRUE(doc().check_response("POST", push, 200, json_type, pushed).empty());
  EXPECT_FALSE(doc()
                   .check_response("POST", push, 200, json_type,
                                   std::regex_replace(pushed, std::regex("pending"), "PENDING"))
                   .empty());
  const std::string found =
      R"({"code":"00","description":"Success","data":{"id":"T1","status":"PENDING","amount":1000.5,"currency":"NGN","fixedCharge":0,"source":"pos","type":"purchase","gatewayMessage":null,"responseCode":null,"timeCreated":"2024-01-15T10:30:00Z","timeUpdated":"2024-01-15T10:30:00Z","terminalId":"till-1","posTerminalLabel":"Front desk","merchantTxRef":"T1","userId":"mch_a"}})";
  EXPECT_TRUE(doc().check_response("GET", lookup, 200, json_type, found).empty());
  EXPECT_FALSE(doc()
                   .check_response(
                       "GET", lookup, 200, json_type,
                       std::regex_replace(found, std::regex("\"PENDING\""), "\"PENDING_PAYMENT\""))
                   .empty());
}

TEST(OpenapiCheck, KeywordsItCannotCheckAreReportedNotIgnored) {
  const Document odd(R"({"openapi":"3.1.0","paths":{},"components":{"schemas":{
      "X":{"type":"object","patternProperties":{"^a":{"type":"string"}}}}}})");
  EXPECT_EQ(odd.unsupported_keywords(),
            (std::vector<std::string>{"#/components/schemas/X: patternProperties"}));
  EXPECT_FALSE(odd.validate(parsed(R"({"a":1})"), "#/components/schemas/X").empty());
}

}  // namespace
}  // namespace tillgate::ft
