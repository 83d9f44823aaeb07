// merchant-api.md section 2: "A merchant never learns anything about another merchant's
// terminals or transactions: those answer exactly as if they did not exist (404)."
// This walks every merchant route with another merchant's ids.
#include <gtest/gtest.h>

#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

// A webhook test gateway: http:// receivers allowed, so that A can have an endpoint.
class CrossMerchantTest : public WebhookTest {};

TEST_F(CrossMerchantTest, EveryRouteAnswersAnotherMerchantsIdsAsIfTheyDidNotExist) {
  // Merchant A: a webhook endpoint, a connected terminal, one finished and one unfinished
  // transaction (the finished one with its webhook delivery).
  const auto a = create_merchant("Shop A");
  WebhookReceiver a_receiver;
  const auto a_endpoint = create_endpoint(a, a_receiver.url());
  const auto a_device = create_device(a, "a-till-1");
  auto a_terminal = connect_terminal(a_device);
  const auto a_connection = string_at(a_terminal.hello_ok, "connectionId");
  auto done = pay_async(a, a_device.device_id, payment_body("5.00", "USD", "A-DONE"));
  (void)read_frame(*a_terminal.ws, "payment.request");
  ASSERT_TRUE(a_terminal.ws->send_json(result_frame("A-DONE", "SUCCESS", "AUTH000001")));
  (void)read_frame(*a_terminal.ws, "payment.result.ack");
  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(done.get().status, 200);
  auto open = pay_async(a, a_device.device_id, payment_body("6.00", "USD", "A-OPEN"));
  (void)read_frame(*a_terminal.ws, "payment.request");
  json::Value a_delivery;
  ASSERT_TRUE(eventually([&] {
    a_delivery = only_delivery(a, "?transactionId=A-DONE");
    return string_at(a_delivery, "status") == "succeeded";
  }));
  const auto a_delivery_id = string_at(a_delivery, "deliveryId");
  ASSERT_FALSE(a_delivery_id.empty());

  // Merchant B, with a terminal of its own.
  const auto b = create_merchant("Shop B");
  const auto b_device = create_device(b, "b-till-1");

  // Each of A's ids answers B exactly as an id that exists nowhere.
  const auto same_as_missing = [&](std::string_view method, const std::string& a_target,
                                   const std::string& missing_target, std::string_view body,
                                   int status, std::string_view code) {
    SCOPED_TRACE(std::string(method) + " " + a_target);
    expect_error(signed_request(b, method, a_target, body), status, code);
    expect_error(signed_request(b, method, missing_target, body), status, code);
  };
  const auto pay_body = payment_body("1.00", "USD", "B-PROBE");
  same_as_missing("POST", payments_path(a_device.device_id), payments_path("no-such-till"),
                  pay_body, 404, "TERMINAL_NOT_FOUND");
  same_as_missing("POST", payments_path(a_connection), payments_path("conn_nosuchconnection"),
                  pay_body, 404, "TERMINAL_NOT_FOUND");
  same_as_missing("GET", "/v1/transactions/A-DONE", "/v1/transactions/NO-SUCH", "", 404,
                  "TRANSACTION_NOT_FOUND");
  same_as_missing("GET", "/v1/transactions/A-OPEN", "/v1/transactions/NO-SUCH", "", 404,
                  "TRANSACTION_NOT_FOUND");
  same_as_missing("POST", "/v1/transactions/A-OPEN/cancel", "/v1/transactions/NO-SUCH/cancel", "",
                  404, "TRANSACTION_NOT_FOUND");
  same_as_missing("POST", "/v1/transactions/A-DONE/cancel", "/v1/transactions/NO-SUCH/cancel", "",
                  404, "TRANSACTION_NOT_FOUND");
  same_as_missing("DELETE", "/v1/devices/" + a_device.device_id, "/v1/devices/no-such-till", "",
                  404, "TERMINAL_NOT_FOUND");
  const std::string a_endpoint_path = "/v1/webhooks/endpoints/" + a_endpoint.endpoint_id;
  const std::string missing_endpoint_path = "/v1/webhooks/endpoints/wh_nosuchendpoint";
  same_as_missing("GET", a_endpoint_path, missing_endpoint_path, "", 404, "ENDPOINT_NOT_FOUND");
  same_as_missing("PUT", a_endpoint_path, missing_endpoint_path, R"({"status":"disabled"})", 404,
                  "ENDPOINT_NOT_FOUND");
  same_as_missing("PUT", a_endpoint_path, missing_endpoint_path,
                  R"({"url":")" + a_receiver.url("/hijacked") + R"("})", 404, "ENDPOINT_NOT_FOUND");
  same_as_missing("DELETE", a_endpoint_path, missing_endpoint_path, "", 404, "ENDPOINT_NOT_FOUND");
  same_as_missing("POST", "/v1/webhooks/deliveries/" + a_delivery_id + "/retry",
                  "/v1/webhooks/deliveries/dlv_nosuchdelivery/retry", "", 404,
                  "DELIVERY_NOT_FOUND");

  // The Nomba edge (nomba-compat.md) too: B's token finds none of A's things, and does
  // not work with A's accountId.
  const auto b_token_answer = plain_request(
      "POST", "/v1/auth/token/issue",
      json::serialize(json::object({{"grant_type", "client_credentials"},
                                    {"client_id", json::Value(b.credentials.api_key)},
                                    {"client_secret", json::Value(b.credentials.api_secret)}})),
      {{"accountId", b.merchant_id}});
  ASSERT_EQ(b_token_answer.status, 200) << b_token_answer.body;
  const auto b_token = string_at(*parse_json(b_token_answer.body).find("data"), "access_token");
  const auto nomba_as = [&](const std::string& account, std::string_view method,
                            const std::string& target, std::string_view body, int status,
                            std::string_view code) {
    SCOPED_TRACE(std::string(method) + " " + target + " as " + account);
    const auto res = plain_request(
        method, target, body, {{"Authorization", "Bearer " + b_token}, {"accountId", account}});
    EXPECT_EQ(res.status, status) << res.body;
    EXPECT_EQ(string_at(parse_json(res.body), "code"), code) << res.body;
  };
  const std::string nomba_body = R"({"merchantTxRef":"B-NOMBA","amount":1,"currency":"USD"})";
  for (const std::string& terminal :
       {a_device.device_id, a_connection, std::string("no-such-till")}) {
    nomba_as(b.merchant_id, "POST", "/v1/terminals/payment-request/" + terminal, nomba_body, 404,
             "01");
  }
  for (const std::string query :
       {"merchantTxRef=A-DONE", "transactionRef=A-OPEN", "merchantTxRef=NO-SUCH"}) {
    nomba_as(b.merchant_id, "GET", "/v1/transactions/accounts/single?" + query, "", 404, "01");
    nomba_as(a.merchant_id, "GET", "/v1/transactions/accounts/single?" + query, "", 401, "401");
  }
  nomba_as(a.merchant_id, "POST", "/v1/terminals/payment-request/" + a_device.device_id, nomba_body,
           401, "401");

  // Lists show B only its own things, whatever the filter names.
  const auto terminals = parse_json(signed_request(b, "GET", "/v1/terminals").body);
  const auto* terminal_list = terminals.find("terminals");
  ASSERT_NE(terminal_list, nullptr);
  ASSERT_EQ(terminal_list->as_array().size(), 1U) << json::serialize(terminals);
  EXPECT_EQ(string_at(terminal_list->as_array()[0], "deviceId"), b_device.device_id);
  for (const std::string target :
       {"/v1/transactions", "/v1/transactions?terminalId=a-till-1",
        "/v1/transactions?status=COMPLETED", "/v1/transactions?status=PENDING&limit=200"}) {
    const auto res = signed_request(b, "GET", target);
    ASSERT_EQ(res.status, 200) << target << " " << res.body;
    const auto listed = parse_json(res.body);
    ASSERT_NE(listed.find("transactions"), nullptr);
    EXPECT_TRUE(listed.find("transactions")->as_array().empty()) << target << " " << res.body;
  }

  for (const std::string& target :
       std::vector<std::string>{"/v1/webhooks/endpoints", "/v1/webhooks/deliveries",
                                "/v1/webhooks/deliveries?endpointId=" + a_endpoint.endpoint_id,
                                "/v1/webhooks/deliveries?transactionId=A-DONE&status=succeeded"}) {
    const auto res = signed_request(b, "GET", target);
    ASSERT_EQ(res.status, 200) << target << " " << res.body;
    const auto listed = parse_json(res.body);
    const auto* items =
        listed.find(target.starts_with("/v1/webhooks/endpoints") ? "endpoints" : "deliveries");
    ASSERT_NE(items, nullptr) << res.body;
    EXPECT_TRUE(items->as_array().empty()) << target << " " << res.body;
  }

  // B may use A's transactionId for its own payment: an independent transaction, no 409.
  auto b_terminal = connect_terminal(b_device);
  auto b_payment = pay_async(b, b_device.device_id, payment_body("7.00", "USD", "A-OPEN"));
  EXPECT_EQ(string_at(read_frame(*b_terminal.ws, "payment.request"), "amount"), "7.00");
  ASSERT_TRUE(b_terminal.ws->send_json(result_frame("A-OPEN", "FAILED", "", "DECLINED", "No")));
  ASSERT_EQ(b_payment.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(string_at(parse_json(b_payment.get().body), "status"), "FAILED");

  // A's world is untouched: still connected, its open payment still open and on its
  // terminal only, and nothing of B's reached A's terminal.
  EXPECT_EQ(a_terminal.ws->read(300ms).kind, WsEvent::Kind::timeout);
  const auto a_open = parse_json(get_transaction(a, "A-OPEN").body);
  EXPECT_EQ(string_at(a_open, "status"), "PENDING");
  EXPECT_NE(json_at(a_open, "request").find(R"("amount":"6.00")"), std::string::npos)
      << json_at(a_open, "request");
  const auto a_terminals = parse_json(signed_request(a, "GET", "/v1/terminals").body);
  EXPECT_EQ(string_at(a_terminals.find("terminals")->as_array()[0], "status"), "online");
  ASSERT_TRUE(a_terminal.ws->send_json(result_frame("A-OPEN", "SUCCESS", "AUTH000002")));
  EXPECT_EQ(string_at(read_frame(*a_terminal.ws, "payment.result.ack"), "transactionStatus"),
            "COMPLETED");
  ASSERT_EQ(open.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(open.get().status, 200);
  // A's endpoint and delivery are as they were; B's probes reached no receiver.
  const auto a_endpoint_now = parse_json(signed_request(a, "GET", a_endpoint_path).body);
  EXPECT_EQ(string_at(a_endpoint_now, "status"), "active");
  EXPECT_EQ(string_at(a_endpoint_now, "url"), a_receiver.url());
  EXPECT_EQ(int_at(only_delivery(a, "?transactionId=A-DONE"), "attemptCount"),
            int_at(a_delivery, "attemptCount"));
  for (const auto& request : a_receiver.requests()) {
    EXPECT_EQ(request.target, "/webhook");
  }
}

}  // namespace
}  // namespace tillgate::ft
