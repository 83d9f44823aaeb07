// Request validation of POST /v1/terminals/{id}/payments: merchant-api.md sections 2-4.
// The device exists but never connects, so a request that passes validation is answered
// 503 TERMINAL_OFFLINE and one that does not is answered 400 VALIDATION_ERROR.
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
      {payment_body("1.00", "USD", "semi;colon"), "transactionId"},
      {payment_body("1.00", "USD", std::string(65, 'a')), "transactionId"},
      {payment_body("1.00", "USD", "caf\xc3\xa9"), "transactionId"},
      {R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD","transactionId":""})",
       "transactionId"},
  });
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

}  // namespace
}  // namespace tillgate::ft
