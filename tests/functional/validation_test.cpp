// Request validation of POST /v1/terminals/{id}/payments: merchant-api.md sections 2-4.
// The device exists but never connects, so a request that passes validation is answered
// 503 TERMINAL_OFFLINE and one that does not is answered 400 VALIDATION_ERROR.
#include <algorithm>
#include <set>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

struct Case {
  std::string body;
  std::string field;  // expected in details[].field; empty: not checked
};

class ValidationTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    merchant_ = create_merchant("Validation Shop");
    device_ = create_device(merchant_, "till-validation");
  }

  client::HttpResponse post(const std::string& body) {
    auto client = http();
    return client::send_signed(client, merchant_.credentials, "POST",
                               payments_path(device_.device_id), body);
  }

  void expect_invalid(const std::vector<Case>& cases) {
    for (const auto& c : cases) {
      SCOPED_TRACE(c.body);
      const auto res = post(c.body);
      const auto body = expect_error(res, 400, "VALIDATION_ERROR");
      const auto* details = body.find("details");
      if (details == nullptr || !details->is_array()) {
        ADD_FAILURE() << "details[] missing: " << res.body;
        continue;
      }
      if (c.field.empty()) {
        continue;
      }
      bool found = false;
      for (const auto& detail : details->as_array()) {
        EXPECT_TRUE(detail.find_string("field").has_value()) << res.body;
        EXPECT_TRUE(detail.find_string("problem").has_value()) << res.body;
        found = found || detail.find_string("field") == c.field;
      }
      EXPECT_TRUE(found) << "no details[].field == '" << c.field << "': " << res.body;
    }
  }

  Merchant merchant_;
  Device device_;
};

TEST_F(ValidationTest, MalformedJson) {
  expect_invalid({{R"({"amount":"1.00","currency":"USD",)", ""},
                  {R"({"amount":"1.00" "currency":"USD"})", ""},
                  {"not json", ""},
                  {R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD"} trailing)", ""}});
}

TEST_F(ValidationTest, BodyThatIsNotAnObject) {
  expect_invalid({{"[]", ""}, {R"("CARD")", ""}, {"42", ""}, {"null", ""}});
}

TEST_F(ValidationTest, WrongTypes) {
  expect_invalid({
      {R"({"amount":true,"currency":"USD","paymentMethod":"CARD"})", "amount"},
      {R"({"amount":["1.00"],"currency":"USD","paymentMethod":"CARD"})", "amount"},
      {R"({"amount":"1.00","currency":840,"paymentMethod":"CARD"})", "currency"},
      {R"({"amount":"1.00","currency":"USD","paymentMethod":1})", "paymentMethod"},
      {R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD","transactionId":7})",
       "transactionId"},
      {R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD","webhookMode":"yes"})",
       "webhookMode"},
  });
}

TEST_F(ValidationTest, MissingRequiredFields) {
  expect_invalid({
      {R"({"currency":"USD","paymentMethod":"CARD"})", "amount"},
      {R"({"amount":"1.00","paymentMethod":"CARD"})", "currency"},
      {R"({"amount":"1.00","currency":"USD"})", "paymentMethod"},
      {R"({"amount":null,"currency":"USD","paymentMethod":"CARD"})", "amount"},
      {"{}", "amount"},
  });
}

TEST_F(ValidationTest, BadCurrency) {
  expect_invalid({
      {payment_body("1.00", "usd"), "currency"},
      {payment_body("1.00", "XYZ"), "currency"},
      {payment_body("1.00", "US"), "currency"},
      {payment_body("1.00", ""), "currency"},
  });
}

TEST_F(ValidationTest, BadAmounts) {
  std::vector<Case> cases;
  for (const auto* amount : {"1.234", "0", "0.00", "-1", "1e2", " 5", "5 ", "+5", "",
                             "1234567890123456", "abc", "1.2.3", "NaN", "Infinity", ".5", "1,00"}) {
    cases.push_back({payment_body(amount, "USD"), "amount"});
  }
  // JSON numbers follow the same rules.
  for (const auto* amount : {"1e2", "-1", "0", "1.234", "1E2", "12345678901234567"}) {
    cases.push_back(
        {std::string(R"({"amount":)") + amount + R"(,"currency":"USD","paymentMethod":"CARD"})",
         "amount"});
  }
  cases.push_back({payment_body("1.5", "JPY"), "amount"});
  cases.push_back({payment_body("1.0001", "KWD"), "amount"});
  expect_invalid(cases);
}

TEST_F(ValidationTest, BadPaymentMethod) {
  expect_invalid({
      {payment_body("1.00", "USD", "", "CHEQUE"), "paymentMethod"},
      {payment_body("1.00", "USD", "", "card"), "paymentMethod"},
      {payment_body("1.00", "USD", "", ""), "paymentMethod"},
  });
}

TEST_F(ValidationTest, BadTransactionId) {
  expect_invalid({
      {payment_body("1.00", "USD", "has space"), "transactionId"},
      {payment_body("1.00", "USD", "tab\there"), "transactionId"},
      {payment_body("1.00", "USD", std::string(129, 'a')), "transactionId"},
      {payment_body("1.00", "USD", "caf\xc3\xa9"), "transactionId"},
      {R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD","transactionId":""})",
       "transactionId"},
  });
}

// A payment body with one extra member, e.g. with_field("products", "[...]").
std::string with_field(std::string_view name, std::string_view json_value) {
  return R"({"amount":"10.00","currency":"USD","paymentMethod":"CARD",")" + std::string(name) +
         R"(":)" + std::string(json_value) + "}";
}

std::string products_json(std::size_t count) {
  std::string items;
  for (std::size_t i = 0; i < count; ++i) {
    items += (i == 0 ? "" : ",");
    items += R"({"id":"p)" + std::to_string(i) + R"(","name":"Item","price":"1.00","quantity":1})";
  }
  return "[" + items + "]";
}

std::string metadata_json(std::size_t keys, std::size_t key_chars, std::size_t value_chars) {
  std::string members;
  for (std::size_t i = 0; i < keys; ++i) {
    std::string key = "k" + std::to_string(i);
    key.resize(std::max(key_chars, key.size()), 'x');
    members += (i == 0 ? "" : ",");
    members += "\"" + key + "\":\"" + std::string(value_chars, 'v') + "\"";
  }
  return "{" + members + "}";
}

TEST_F(ValidationTest, Products) {
  expect_invalid({
      {with_field("products", R"({"id":"p"})"), "products"},
      {with_field("products", products_json(101)), "products"},
      {with_field("products", R"([42])"), "products[0]"},
      // (v2) id, name, price and quantity are checked when present, none is required.
      {with_field("products", R"([{"id":{"x":1},"name":"Tea"}])"), "products[0].id"},
      {with_field("products", R"([{"id":"p","name":["Tea"]}])"), "products[0].name"},
      {with_field("products", R"([{"id":"p","name":"Tea","price":null}])"), "products[0].price"},
      {with_field("products", R"([{"id":"p","name":"Tea","price":"1.001","quantity":1}])"),
       "products[0].price"},
      {with_field("products", R"([{"id":"p","name":"Tea","price":-1,"quantity":1}])"),
       "products[0].price"},
      {with_field("products", R"([{"id":"p","name":"Tea","price":"1.00","quantity":0}])"),
       "products[0].quantity"},
      {with_field("products", R"([{"id":"p","name":"Tea","price":"1.00","quantity":10001}])"),
       "products[0].quantity"},
      {with_field("products", R"([{"id":"p","name":"Tea","price":"1.00","quantity":1.5}])"),
       "products[0].quantity"},
      {with_field("products", R"([{"id":"p","name":"Tea","price":"1.00","quantity":"2"}])"),
       "products[0].quantity"},
      // The index names the bad line, not the first one.
      {with_field("products", R"([{"id":"a","name":"A","price":"1.00","quantity":1},)"
                              R"({"id":"b","name":"B","price":"x","quantity":1}])"),
       "products[1].price"},
  });
}

TEST_F(ValidationTest, Metadata) {
  expect_invalid({
      {with_field("metadata", R"(["a"])"), "metadata"},
      {with_field("metadata", R"("text")"), "metadata"},
      {with_field("metadata", metadata_json(51, 3, 1)), "metadata"},
      // (v2) values may be any JSON: depth and size are bounded instead.
      {with_field("metadata", R"({"a":{"b":{"c":{"d":{"e":[]}}}}})"), "metadata"},
      {with_field("metadata", R"({"order":")" + std::string(8200, 'v') + R"("})"), "metadata"},
      {with_field("metadata", metadata_json(1, 41, 1)), ""},
  });
}

TEST_F(ValidationTest, CustomerInfo) {
  expect_invalid({
      {with_field("customerInfo", R"("Jane")"), "customerInfo"},
      {with_field("customerInfo", R"([1,2])"), "customerInfo"},
      {with_field("customerInfo", R"({"note":")" + std::string(9000, 'n') + R"("})"),
       "customerInfo"},
      {with_field("customerInfo", R"({"note":")" + std::string(4090, 'n') + R"("})"),
       "customerInfo"},
  });
}

TEST_F(ValidationTest, EveryProblemIsReportedAtOnce) {
  const auto res =
      post(R"({"amount":"-1","currency":"usd","paymentMethod":"CHEQUE","webhookMode":1,)"
           R"("metadata":{"a":{"b":{"c":{"d":{"e":{}}}}}},"products":[{"id":"p","quantity":0}]})");
  const auto body = expect_error(res, 400, "VALIDATION_ERROR");
  std::set<std::string> fields;
  for (const auto& detail : body.find("details")->as_array()) {
    fields.insert(std::string(detail.find_string("field").value_or("")));
  }
  for (const auto* field :
       {"currency", "amount", "paymentMethod", "webhookMode", "metadata", "products[0].quantity"}) {
    EXPECT_TRUE(fields.contains(field)) << field << " not in " << res.body;
  }
}

TEST_F(ValidationTest, LimitsThemselvesAreAccepted) {
  for (const auto& body : std::vector<std::string>{
           with_field("products", products_json(100)),
           with_field("metadata", metadata_json(50, 40, 100)),
           with_field("metadata", R"({"n":1.50,"b":false,"z":null,"a":[1,{"x":{"y":[]}}]})"),
           with_field("products", R"([{"sku":"S-1","tax":{"rate":"0.2"}},{}])"),
           with_field("customerInfo", R"({"note":")" + std::string(4000, 'n') + R"("})"),
           payment_body("1.00", "USD", std::string(128, '~')),
           payment_body("1.00", "USD", "semi;colon/slash?#%&+=\"quoted\""),
           with_field("metadata", R"({"caf\u00e9":"\u00e9t\u00e9"})"),
           with_field("customerInfo", R"({"name":"Jane","email":"j@example.com","tier":2})"),
           with_field("products", R"([{"id":7,"name":"Tea","price":2.5,"quantity":10000}])"),
       }) {
    SCOPED_TRACE(body.substr(0, 120));
    expect_error(post(body), 503, "TERMINAL_OFFLINE");
  }
}

TEST_F(ValidationTest, ValidRequestsPassValidation) {
  for (const auto& body : std::vector<std::string>{
           payment_body("99.99", "USD"),
           payment_body("0.01", "USD"),
           payment_body("1000", "JPY"),
           payment_body("1.000", "KWD"),
           payment_body("123456789012345", "JPY"),
           R"({"amount":99.99,"currency":"USD","paymentMethod":"CASH"})",
           R"({"amount":1000,"currency":"USD","paymentMethod":"MOBILE"})",
           payment_body("5", "EUR", std::string(64, 'Z')),
           payment_body("5", "EUR", "A.b_c:d-9", "OTHER"),
           R"({"amount":"5.00","currency":"USD","paymentMethod":"CARD","unknownField":{"x":1}})",
       }) {
    SCOPED_TRACE(body);
    expect_error(post(body), 503, "TERMINAL_OFFLINE");
  }
}

// A text field the store keeps as it is (a merchant's name, a device's or a pairing code's
// label, a webhook endpoint's description) refuses a NUL character, a JSON "\u0000", on
// both backends alike (PostgreSQL's text cannot hold one): 400 naming the field, nothing
// stored.
TEST_F(GatewayTest, TextFieldsTheStoreKeepsRefuseANulCharacter) {
  const auto named_field = [](const client::HttpResponse& res) {
    const auto error = expect_error(res, 400, "VALIDATION_ERROR");
    const auto* details = error.find("details");
    return details != nullptr && details->is_array() && !details->as_array().empty()
               ? string_at(details->as_array().front(), "field")
               : std::string("(no details)");
  };
  EXPECT_EQ(named_field(admin("POST", "/admin/v1/merchants", R"({"name":"Shop\u0000B"})")), "name");
  const auto merchant = create_merchant("NUL Shop");
  const auto devices = "/admin/v1/merchants/" + merchant.merchant_id + "/devices";
  EXPECT_EQ(named_field(admin("POST", devices, R"({"label":"Front\u0000till"})")), "label");
  EXPECT_EQ(named_field(signed_request(merchant, "POST", "/v1/devices/codes",
                                       R"({"label":"Front\u0000till"})")),
            "label");
  EXPECT_EQ(named_field(signed_request(
                merchant, "POST", "/v1/webhooks/endpoints",
                R"({"url":"https://hooks.example/x","description":"orders\u0000"})")),
            "description");
  // Nothing was stored: the merchant has no device and no endpoint.
  const auto terminals = signed_request(merchant, "GET", "/v1/terminals");
  EXPECT_EQ(terminals.body.find("Front"), std::string::npos) << terminals.body;
  const auto endpoints = signed_request(merchant, "GET", "/v1/webhooks/endpoints");
  EXPECT_EQ(endpoints.body.find("orders"), std::string::npos) << endpoints.body;
  // Without the NUL the same requests are accepted.
  EXPECT_EQ(admin("POST", devices, R"({"label":"Front till"})").status, 201);
}

}  // namespace
}  // namespace tillgate::ft
