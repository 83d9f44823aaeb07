// docs/terminal-protocol.md, the page a terminal maker builds a terminal from: every frame
// example the gateway sends has exactly the members the gateway sends, and every example a
// terminal sends is accepted as printed (its ids and secret swapped for real ones).
#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kDoc = "docs/terminal-protocol.md";

// The example printed after `<!-- frame: NAME -->`.
json::Value doc_example(std::string_view name) {
  const std::string marker = "<!-- frame: " + std::string(name) + " -->";
  return parse_json(block_from_docs(kDoc, marker, "json"));
}

std::vector<std::string> member_names(const json::Value& value) {
  std::vector<std::string> names;
  if (value.is_object()) {
    for (const auto& member : value.as_object()) {
      names.push_back(member.key);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A frame the gateway sent has the type and exactly the members of the page's example.
void expect_as_documented(const json::Value& frame, std::string_view name) {
  const auto example = doc_example(name);
  EXPECT_EQ(string_at(frame, "type"), string_at(example, "type")) << name;
  EXPECT_EQ(member_names(frame), member_names(example))
      << name << ": the gateway sent " << json::serialize(frame);
}

// The page's example with some string members replaced (ids, the secret).
json::Value doc_frame(std::string_view name,
                      std::initializer_list<std::pair<std::string_view, std::string>> values) {
  auto example = doc_example(name);
  if (!example.is_object()) {
    return example;
  }
  for (auto& member : example.as_object()) {
    for (const auto& [key, value] : values) {
      if (member.key == key) {
        member.value = json::Value(value);
      }
    }
  }
  return example;
}

class TerminalDocsTest : public GatewayTest {
 protected:
  // The documented hello, as printed but for the device's credentials; the hello.ok.
  HelloResult documented_hello(const Device& device) {
    auto ws = std::make_unique<WsTestClient>(gateway().host(), gateway().port());
    ws->connect();
    EXPECT_TRUE(ws->send_json(doc_frame(
        "hello", {{"deviceId", device.device_id}, {"deviceSecret", device.device_secret}})));
    auto hello_ok = read_frame(*ws, "hello.ok");
    return {std::move(ws), std::move(hello_ok)};
  }

  // Sends the documented result `name` for `transaction_id`; the acknowledgement.
  json::Value report(WsTestClient& ws, std::string_view name, const std::string& transaction_id) {
    EXPECT_TRUE(ws.send_json(doc_frame(name, {{"transactionId", transaction_id}})));
    return read_frame(ws, "payment.result.ack");
  }
};

std::string full_payment(std::string_view transaction_id) {
  return R"({"transactionId":")" + std::string(transaction_id) +
         R"(","amount":"99.99","currency":"USD","paymentMethod":"CARD",)"
         R"("products":[{"id":"PROD-001","name":"Widget","price":"99.99","quantity":1}],)"
         R"("customerInfo":{"customerId":"CUST-123"},"metadata":{"orderId":"ORD-12345"}})";
}

TEST_F(TerminalDocsTest, HelloRequestAckAndResultsAreAsDocumented) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = documented_hello(device);
  ASSERT_TRUE(ws && ws->is_open());
  expect_as_documented(hello_ok, "hello.ok");

  auto pending = pay_async(merchant, device.device_id, full_payment("TXN-DOC-1"));
  expect_as_documented(read_frame(*ws, "payment.request"), "payment.request");
  ASSERT_TRUE(ws->send_json(doc_frame("payment.ack", {{"transactionId", "TXN-DOC-1"}})));
  const auto ack = report(*ws, "payment.result", "TXN-DOC-1");
  expect_as_documented(ack, "payment.result.ack");
  EXPECT_EQ(string_at(ack, "transactionStatus"), "COMPLETED");
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(pending.get().status, 200);

  // The FAILED example, whose completedAt has an offset rather than Z.
  auto declined = pay_async(merchant, device.device_id, payment_body("5.00", "USD", "TXN-DOC-2"));
  (void)read_frame(*ws, "payment.request");
  EXPECT_EQ(string_at(report(*ws, "payment.result FAILED", "TXN-DOC-2"), "transactionStatus"),
            "FAILED");
  ASSERT_EQ(declined.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(declined.get().status, 200);

  // An ack naming no transaction of this terminal: the documented error frame.
  ASSERT_TRUE(ws->send_json(doc_frame("payment.ack", {{"transactionId", "TXN-NOBODY"}})));
  const auto error = read_frame(*ws, "error");
  expect_as_documented(error, "error");
  EXPECT_EQ(string_at(error, "code"), "PROTOCOL_ERROR");
}

TEST_F(TerminalDocsTest, MerchantCancelIsAsDocumented) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = documented_hello(device);
  ASSERT_TRUE(ws && ws->is_open());
  auto pending = pay_async(merchant, device.device_id, payment_body("3.00", "USD", "TXN-DOC-3"));
  (void)read_frame(*ws, "payment.request");
  const auto res = signed_request(merchant, "POST", "/v1/transactions/TXN-DOC-3/cancel");
  ASSERT_EQ(res.status, 202) << res.body;
  const auto cancel = read_frame(*ws, "payment.cancel");
  expect_as_documented(cancel, "payment.cancel");
  EXPECT_EQ(string_at(cancel, "reason"), "MERCHANT");
  ASSERT_TRUE(ws->send_json(
      result_frame("TXN-DOC-3", "CANCELLED", "", "CANCELLED", "Cancelled on request")));
  EXPECT_EQ(string_at(read_frame(*ws, "payment.result.ack"), "transactionStatus"), "CANCELLED");
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(pending.get().status, 200);
}

// The page's last sequence: a deadline, a timeout, a success too late, the void.
class TerminalDocsTimeoutTest : public TerminalDocsTest {
 protected:
  EnvMap gateway_env() override {
    return {{"TILLGATE_PAYMENT_TIMEOUT_S", "1"}, {"TILLGATE_RECONNECT_GRACE_S", "1"}};
  }
};

TEST_F(TerminalDocsTimeoutTest, SuccessAfterTimeoutIsVoidedAsDocumented) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = documented_hello(device);
  ASSERT_TRUE(ws && ws->is_open());
  auto pending = pay_async(merchant, device.device_id, payment_body("7.00", "USD", "TXN-DOC-7"));
  (void)read_frame(*ws, "payment.request");
  const auto cancel = read_frame(*ws, "payment.cancel", 5s);
  EXPECT_EQ(string_at(cancel, "reason"), "TIMEOUT");
  ASSERT_TRUE(eventually([&] { return transaction_status(merchant, "TXN-DOC-7") == "TIMEOUT"; }));

  ASSERT_TRUE(ws->send_json(doc_frame("payment.result", {{"transactionId", "TXN-DOC-7"}})));
  const auto void_frame = read_frame(*ws, "payment.void");
  expect_as_documented(void_frame, "payment.void");
  EXPECT_EQ(string_at(void_frame, "reason"), "SUCCESS_AFTER_TIMEOUT");
  EXPECT_EQ(string_at(read_frame(*ws, "payment.result.ack"), "transactionStatus"), "VOIDED");
  ASSERT_TRUE(ws->send_json(doc_frame("payment.voided", {{"transactionId", "TXN-DOC-7"}})));
  EXPECT_TRUE(NoFrameWithin(*ws, 300ms)) << "payment.voided is taken without an answer";
  EXPECT_EQ(transaction_status(merchant, "TXN-DOC-7"), "VOIDED");
  (void)await_response(pending, 5s);
}

// The page's card example is stored with the result and shown masked to the merchant; the
// same frame with the full card number is refused whole and changes nothing.
TEST_F(TerminalDocsTest, TheCardExampleIsKeptAndAFullCardNumberIsRefused) {
  const auto merchant = create_merchant();
  const auto device = create_device(merchant);
  auto [ws, hello_ok] = documented_hello(device);
  ASSERT_TRUE(ws && ws->is_open());
  auto pending = pay_async(merchant, device.device_id, payment_body("3.00", "USD", "TXN-DOC-8"));
  (void)read_frame(*ws, "payment.request");

  auto unmasked = doc_frame("payment.result with card", {{"transactionId", "TXN-DOC-8"}});
  for (auto& member : unmasked.as_object()) {
    if (member.key == "card") {
      for (auto& field : member.value.as_object()) {
        if (field.key == "maskedPan") {
          field.value = json::Value("5399831234564297");
        }
      }
    }
  }
  ASSERT_TRUE(ws->send_json(unmasked));
  const auto refused = read_frame(*ws, "error");
  EXPECT_EQ(string_at(refused, "code"), "PROTOCOL_ERROR");
  EXPECT_EQ(json::serialize(refused).find("5399831234564297"), std::string::npos);
  EXPECT_EQ(transaction_status(merchant, "TXN-DOC-8"), "PENDING");

  EXPECT_EQ(string_at(report(*ws, "payment.result with card", "TXN-DOC-8"), "transactionStatus"),
            "COMPLETED");
  (void)await_response(pending, 5s);
  const auto shown = parse_json(get_transaction(merchant, "TXN-DOC-8").body);
  const auto* card = shown.find("response") ? shown.find("response")->find("card") : nullptr;
  ASSERT_TRUE(card != nullptr && card->is_object()) << json::serialize(shown);
  EXPECT_EQ(string_at(*card, "maskedPan"), "539983******4297");
  EXPECT_EQ(string_at(*card, "scheme"), "MASTERCARD");
}

}  // namespace
}  // namespace tillgate::ft
