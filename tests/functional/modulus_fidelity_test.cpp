// Issue 15: an integration written from Modulus Labs' own docs runs unchanged
// (merchant-api.md v2 marks; terminal-protocol.md v2 `card`). Each test does what
// Modulus's reference shows, against the real binary.
#include <cctype>
#include <cstdio>

#include "crypto/crypto.hpp"
#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

// Percent-encodes every byte outside RFC 3986's unreserved set, as a client's URL library
// does for a path segment.
std::string encode_segment(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", byte);
      out += escaped;
    }
  }
  return out;
}

// The `field` of every problem in a VALIDATION_ERROR body.
std::vector<std::string> problem_fields(const json::Value& body) {
  std::vector<std::string> fields;
  if (const auto* details = body.find("details"); details != nullptr && details->is_array()) {
    for (const auto& item : details->as_array()) {
      fields.emplace_back(item.find_string("field").value_or(""));
    }
  }
  return fields;
}

class ModulusFidelityTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    merchant_ = create_merchant("Modulus Shop");
    device_ = create_device(merchant_, "till-modulus");
  }

  client::HttpResponse pay(const std::string& body) {
    auto client = http(30s);
    return client::send_signed(client, merchant_.credentials, "POST",
                               payments_path(device_.device_id), body);
  }

  // Pays `body` on a raw terminal that approves with `result_extra` members added to its
  // payment.result; returns the merchant's 200 body (and the payment.request the terminal
  // got in *request_seen).
  json::Value approve(const std::string& body, std::string_view transaction_id,
                      json::Object result_extra = {}, json::Value* request_seen = nullptr) {
    auto [ws, hello_ok] = connect_terminal(device_);
    if (!ws) {
      ADD_FAILURE() << "the terminal did not connect";
      return json::Value();
    }
    auto pending = pay_async(merchant_, device_.device_id, body);
    const auto request = read_frame(*ws, "payment.request");
    EXPECT_EQ(string_at(request, "transactionId"), transaction_id);
    if (request_seen != nullptr) {
      *request_seen = request;
    }
    auto result = result_frame(transaction_id, "SUCCESS", "AUTH123456");
    for (auto& member : result_extra) {
      result.as_object().push_back(std::move(member));
    }
    EXPECT_TRUE(ws->send_json(result));
    (void)read_frame(*ws, "payment.result.ack");
    const auto res = await_response(pending, 10s);
    if (!res) {
      ADD_FAILURE() << "the merchant's request never finished";
      return json::Value();
    }
    EXPECT_EQ(res->status, 200) << res->body;
    return parse_json(res->body);
  }

  json::Value transaction(std::string_view transaction_id) {
    const auto res =
        signed_request(merchant_, "GET", "/v1/transactions/" + encode_segment(transaction_id));
    EXPECT_EQ(res.status, 200) << res.body;
    return parse_json(res.body);
  }

  Merchant merchant_;
  Device device_;
};

// The request body of Modulus's "Push a payment" page, byte for byte.
constexpr std::string_view kSeedBody = R"({
  "transactionId": "TXN-20240115-001",
  "amount": "99.99",
  "currency": "USD",
  "paymentMethod": "CARD",
  "products": [
    {
      "id": "PROD-001",
      "name": "Widget",
      "price": "99.99",
      "quantity": 1
    }
  ],
  "customerInfo": {
    "customerId": "CUST-123",
    "email": "customer@example.com"
  },
  "metadata": {
    "orderId": "ORD-12345"
  }
})";

TEST_F(ModulusFidelityTest, TheSeedRequestRunsUnchanged) {
  const auto answer = approve(std::string(kSeedBody), "TXN-20240115-001");
  EXPECT_EQ(string_at(answer, "status"), "SUCCESS");
  const auto* response = answer.find("paymentResponse");
  ASSERT_NE(response, nullptr);
  EXPECT_EQ(string_at(*response, "amount"), "99.99");
  EXPECT_EQ(json_at(*response, "metadata"), R"({"orderId":"ORD-12345"})");

  const auto stored = transaction("TXN-20240115-001");
  EXPECT_EQ(string_at(stored, "deviceId"), "till-modulus");
  EXPECT_EQ(string_at(stored, "terminalId"), "till-modulus");
  const auto* request = stored.find("request");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(json_at(*request, "products"),
            R"([{"id":"PROD-001","name":"Widget","price":"99.99","quantity":1}])");
  EXPECT_EQ(json_at(*request, "customerInfo"),
            R"({"customerId":"CUST-123","email":"customer@example.com"})");
}

TEST_F(ModulusFidelityTest, MetadataProductsAndCustomerInfoAreKeptAsSent) {
  const std::string metadata =
      R"({"orderId":"ORD-1","count":3,"ratio":0.250,"big":12345678901234567890,)"
      R"("flag":true,"none":null,"tags":["a",1,{"b":false}],)"
      R"("nested":{"a":{"b":{"c":[1]}}}})";
  const std::string products =
      R"([{"id":"P1","name":"Widget","price":"9.9","quantity":2,"category":"tools",)"
      R"("sku":"SKU-1","brand":"Acme","tax":{"rate":"0.12","amount":"1.19"},"discount":0.5},)"
      R"({"sku":"GIFT-CARD","price":5},{"id":42,"name":"Numbered"}])";
  const std::string customer =
      R"({"customerId":"C-9","email":"a@example.com","loyalty":{"tier":"gold","points":1200},)"
      R"("phones":["+15550100"],"vip":true})";
  const std::string body = R"({"transactionId":"TXN-FREE-1","amount":"24.80","currency":"USD",)"
                           R"("paymentMethod":"CARD","metadata":)" +
                           metadata + R"(,"products":)" + products + R"(,"customerInfo":)" +
                           customer + "}";
  json::Value pushed;
  const auto answer = approve(body, "TXN-FREE-1", {}, &pushed);
  const auto* response = answer.find("paymentResponse");
  ASSERT_NE(response, nullptr);
  EXPECT_EQ(json_at(*response, "metadata"), metadata);
  // The only change: a product's price with the currency's digits.
  const std::string stored_products =
      R"([{"id":"P1","name":"Widget","price":"9.90","quantity":2,"category":"tools",)"
      R"("sku":"SKU-1","brand":"Acme","tax":{"rate":"0.12","amount":"1.19"},"discount":0.5},)"
      R"({"sku":"GIFT-CARD","price":"5.00"},{"id":42,"name":"Numbered"}])";
  const auto stored = transaction("TXN-FREE-1");
  const auto* request = stored.find("request");
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(json_at(*request, "metadata"), metadata);
  EXPECT_EQ(json_at(*request, "products"), stored_products);
  EXPECT_EQ(json_at(*request, "customerInfo"), customer);
  // The terminal was shown the same.
  EXPECT_EQ(json_at(pushed, "products"), stored_products);
  EXPECT_EQ(json_at(pushed, "metadata"), metadata);
  EXPECT_EQ(json_at(pushed, "customerInfo"), customer);
}

TEST_F(ModulusFidelityTest, FreeFormFieldsStayBounded) {
  struct Case {
    std::string name;
    std::string members;  // added to a valid body
    std::string field;    // the problem's field
  };
  const std::string long_key(41, 'k');
  std::string many_keys = "{";
  for (int i = 0; i < 51; ++i) {
    many_keys += (i > 0 ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  }
  many_keys += "}";
  const std::string big_value(8 * 1024, 'x');
  const std::string big_product(4 * 1024, 'p');
  const std::string big_customer(4 * 1024, 'c');
  const std::vector<Case> cases{
      {"metadata too deep", R"("metadata":{"a":{"b":{"c":{"d":{"e":{}}}}}})", "metadata"},
      {"metadata too many keys", "\"metadata\":" + many_keys, "metadata"},
      {"metadata key too long", "\"metadata\":{\"" + long_key + "\":1}", "metadata." + long_key},
      {"metadata too big", R"("metadata":{"v":")" + big_value + "\"}", "metadata"},
      {"metadata not an object", R"("metadata":["a"])", "metadata"},
      {"product too big", R"("products":[{"note":")" + big_product + "\"}]", "products[0]"},
      {"product price", R"("products":[{"price":"1.001"}])", "products[0].price"},
      {"product quantity", R"("products":[{"quantity":0}])", "products[0].quantity"},
      {"product id", R"("products":[{"id":{"x":1}}])", "products[0].id"},
      {"product name", R"("products":[{"name":7}])", "products[0].name"},
      {"product not an object", R"("products":["x"])", "products[0]"},
      {"customerInfo too big", R"("customerInfo":{"note":")" + big_customer + "\"}",
       "customerInfo"},
      {"customerInfo not an object", R"("customerInfo":"C-1")", "customerInfo"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string body =
        R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD",)" + c.members + "}";
    const auto refused = expect_error(pay(body), 400, "VALIDATION_ERROR");
    EXPECT_EQ(problem_fields(refused), std::vector<std::string>{c.field});
  }
  // At the bounds: depth 5, 50 keys of 40 characters.
  std::string fifty = "{";
  for (int i = 0; i < 50; ++i) {
    fifty += (i > 0 ? ",\"" : "\"") + std::string(38, 'k') + std::to_string(10 + i) + "\":1";
  }
  fifty += "}";
  for (const std::string& metadata : {std::string(R"({"a":{"b":{"c":{"d":[1]}}}})"), fifty}) {
    const std::string body =
        R"({"amount":"1.00","currency":"USD","paymentMethod":"CARD","metadata":)" + metadata + "}";
    // Valid: it gets as far as the terminal, which is not connected.
    expect_error(pay(body), 503, "TERMINAL_OFFLINE");
  }
}

TEST_F(ModulusFidelityTest, LooserTransactionIdsWorkInBodiesAndPaths) {
  const std::string id = "TXN/2024#1?x=50%&y=[a]{b}|~!";
  const std::string body = R"({"transactionId":)" + json::serialize(json::Value(id)) +
                           R"(,"amount":"5.00","currency":"USD","paymentMethod":"CARD"})";
  const auto answer = approve(body, id);
  EXPECT_EQ(string_at(answer, "transactionId"), id);
  const auto stored = transaction(id);
  EXPECT_EQ(string_at(stored, "transactionId"), id);
  EXPECT_EQ(string_at(stored, "status"), "COMPLETED");
  // Cancel addresses it the same way (final already: 409 naming it).
  const auto cancel =
      signed_request(merchant_, "POST", "/v1/transactions/" + encode_segment(id) + "/cancel");
  const auto refused = expect_error(cancel, 409, "TRANSACTION_FINAL");
  EXPECT_EQ(string_at(refused, "transactionId"), id);
  // A '%' that starts no escape is taken as it is.
  const std::string percent_id = "50%off";
  (void)approve(R"({"transactionId":"50%off","amount":"1.00","currency":"USD",)"
                R"("paymentMethod":"CARD"})",
                percent_id);
  const auto raw = signed_request(merchant_, "GET", "/v1/transactions/50%off");
  EXPECT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(string_at(parse_json(raw.body), "transactionId"), percent_id);

  // Still refused: empty, over 128, a space, a control character, non-ASCII.
  for (const std::string& bad : {std::string(), std::string(129, 'a'), std::string("TXN 1"),
                                 std::string("TXN\t1"), std::string("TXN-\xc3\xa9")}) {
    SCOPED_TRACE(bad);
    const std::string bad_body = R"({"transactionId":)" + json::serialize(json::Value(bad)) +
                                 R"(,"amount":"5.00","currency":"USD","paymentMethod":"CARD"})";
    const auto res = expect_error(pay(bad_body), 400, "VALIDATION_ERROR");
    EXPECT_EQ(problem_fields(res), std::vector<std::string>{"transactionId"});
  }
  const auto at_bound = std::string(128, 'z');
  expect_error(signed_request(merchant_, "GET", "/v1/transactions/" + at_bound), 404,
               "TRANSACTION_NOT_FOUND");
}

TEST_F(ModulusFidelityTest, ACardOnTheResultIsStoredAndShown) {
  const json::Value card = json::object({{"maskedPan", "539983******4297"},
                                         {"scheme", "MASTERCARD"},
                                         {"issuerBank", "Example Bank"},
                                         {"rrn", "123456789012"},
                                         {"stan", "654321"},
                                         {"expiry", "12/29"}});  // not kept
  const auto answer =
      approve(payment_body("10.00", "USD", "TXN-CARD-1"), "TXN-CARD-1", {{"card", card}});
  EXPECT_EQ(string_at(answer, "status"), "SUCCESS");
  const auto stored = transaction("TXN-CARD-1");
  const auto* response = stored.find("response");
  ASSERT_TRUE(response != nullptr && response->is_object());
  EXPECT_EQ(json_at(*response, "card"),
            R"({"maskedPan":"539983******4297","scheme":"MASTERCARD","issuerBank":)"
            R"("Example Bank","rrn":"123456789012","stan":"654321"})");
}

TEST_F(ModulusFidelityTest, AFullCardNumberIsRefusedAndNeverStored) {
  auto [ws, hello_ok] = connect_terminal(device_);
  ASSERT_TRUE(ws);
  auto pending = pay_async(merchant_, device_.device_id, payment_body("3.00", "USD", "TXN-PAN"));
  (void)read_frame(*ws, "payment.request");
  const std::string pan = "5399831234564297";
  for (const std::string& shown : {pan, std::string("5399 8312 3456 4297"),
                                   std::string("5399831***564297"), std::string("53998312****")}) {
    SCOPED_TRACE(shown);
    auto result = result_frame("TXN-PAN", "SUCCESS", "AUTH1");
    result.as_object().push_back({"card", json::object({{"maskedPan", json::Value(shown)}})});
    ASSERT_TRUE(ws->send_json(result));
    const auto error = read_frame(*ws, "error");
    EXPECT_EQ(string_at(error, "code"), "PROTOCOL_ERROR");
    EXPECT_EQ(string_at(error, "message").find("5399"), std::string::npos);
  }
  auto not_card = result_frame("TXN-PAN", "SUCCESS", "AUTH1");
  not_card.as_object().push_back({"card", json::Value("5399831234564297")});
  ASSERT_TRUE(ws->send_json(not_card));
  EXPECT_EQ(string_at(read_frame(*ws, "error"), "code"), "PROTOCOL_ERROR");
  EXPECT_EQ(transaction_status(merchant_, "TXN-PAN"), "PENDING");

  // The terminal corrects itself: the masked number is recorded.
  auto result = result_frame("TXN-PAN", "SUCCESS", "AUTH1");
  result.as_object().push_back({"card", json::object({{"maskedPan", "539983 **** **** 4297"}})});
  ASSERT_TRUE(ws->send_json(result));
  (void)read_frame(*ws, "payment.result.ack");
  const auto res = await_response(pending, 10s);
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 200) << res->body;
  const auto stored = transaction("TXN-PAN");
  EXPECT_EQ(json_at(*stored.find("response"), "card"), R"({"maskedPan":"539983 **** **** 4297"})");
  EXPECT_EQ(gateway().stderr_text().find(pan.substr(4, 9)), std::string::npos)
      << "the card number reached the log";
}

TEST_F(ModulusFidelityTest, TheSimulatorReportsACardForApprovedPayments) {
  SimulatedTerminal terminal(gateway(), device_, "approve");
  ASSERT_TRUE(terminal.wait_online());
  const auto res = pay(payment_body("7.00", "USD", "TXN-SIM-CARD"));
  ASSERT_EQ(res.status, 200) << res.body;
  const auto stored = transaction("TXN-SIM-CARD");
  const auto* response = stored.find("response");
  ASSERT_TRUE(response != nullptr && response->is_object());
  const auto* card = response->find("card");
  ASSERT_TRUE(card != nullptr && card->is_object()) << json::serialize(*response);
  EXPECT_EQ(string_at(*card, "maskedPan"), "424242******4242");
  EXPECT_EQ(string_at(*card, "scheme"), "VISA");
  // Derived from the transaction id, the same each time: each of the
  // first 12 hex digits of its SHA-256, mod 10; the trace number is the first 6 of them.
  std::string derived;
  for (const char hex : crypto::sha256_hex("TXN-SIM-CARD").substr(0, 12)) {
    const int nibble =
        std::isdigit(static_cast<unsigned char>(hex)) != 0 ? hex - '0' : hex - 'a' + 10;
    derived.push_back(static_cast<char>('0' + nibble % 10));
  }
  EXPECT_EQ(string_at(*card, "rrn"), derived);
  EXPECT_EQ(string_at(*card, "stan"), derived.substr(0, 6));
  // A cash payment has no card.
  const auto cash = pay(payment_body("7.00", "USD", "TXN-SIM-CASH", "CASH"));
  ASSERT_EQ(cash.status, 200) << cash.body;
  EXPECT_EQ(json_at(*transaction("TXN-SIM-CASH").find("response"), "card"), "(absent)");
}

}  // namespace
}  // namespace tillgate::ft
