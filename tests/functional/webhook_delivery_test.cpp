// webhooks.md, "Events" and "Delivery guarantees", against a real local receiver: every
// final status arrives with the spec's payload, signed; a receiver that fails the first
// attempts, is down for a while, answers too slowly or with non-2xx codes still gets every
// event, exactly once per eventId after deduplication; the deliveries API shows each
// attempt; a failed delivery can be retried by hand.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "domain/time.hpp"
#include "openapi_check.hpp"
#include "webhook_test_support.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class WebhookDeliveryTest : public WebhookTest {
 protected:
  void SetUp() override {
    WebhookTest::SetUp();
    merchant_ = create_merchant();
    endpoint_ = create_endpoint(merchant_, receiver_.url());
    device_ = create_device(merchant_);
    terminal_ = connect_terminal(device_);
  }

  // Waits until the delivery of `transaction_id` has `status`; returns it.
  json::Value wait_delivery(std::string_view transaction_id, std::string_view status) {
    json::Value delivery;
    const bool reached = eventually(
        [&] {
          delivery = only_delivery(merchant_, "?transactionId=" + std::string(transaction_id));
          return string_at(delivery, "status") == status;
        },
        15s);
    EXPECT_TRUE(reached) << "delivery of " << transaction_id << " never " << status << ": "
                         << json::serialize(delivery);
    return delivery;
  }

  static std::vector<json::Value> attempts_of(const json::Value& delivery) {
    const auto* attempts = delivery.find("attempts");
    return attempts != nullptr && attempts->is_array() ? attempts->as_array()
                                                       : std::vector<json::Value>{};
  }

  WebhookReceiver receiver_;
  Merchant merchant_;
  Endpoint endpoint_;
  Device device_;
  HelloResult terminal_;
};

// The data of a payment event: the merchant's payment response plus the terminal.
void expect_payment_data(const json::Value& payload, std::string_view event_type,
                         std::string_view transaction_id, std::string_view status,
                         const std::string& terminal_id) {
  SCOPED_TRACE(json::serialize(payload));
  const auto violations =
      openapi::Document::served().validate(payload, "#/components/schemas/WebhookPaymentEvent");
  EXPECT_TRUE(violations.empty()) << openapi::describe(violations);
  EXPECT_EQ(string_at(payload, "eventType"), event_type);
  EXPECT_TRUE(string_at(payload, "eventId").starts_with("evt_"));
  EXPECT_TRUE(IsIsoMs(payload.find("timestamp")));
  const auto* data = payload.find("data");
  ASSERT_NE(data, nullptr);
  std::vector<std::string> keys;
  for (const auto& member : data->as_object()) {
    keys.push_back(member.key);
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{"transactionId", "status", "amount", "currency",
                                      "paymentMethod", "authorizationCode", "errorCode",
                                      "errorMessage", "receiptData", "terminalId", "metadata"}));
  EXPECT_EQ(string_at(*data, "transactionId"), transaction_id);
  EXPECT_EQ(string_at(*data, "status"), status);
  EXPECT_EQ(json_at(*data, "amount"), R"("12.50")");
  EXPECT_EQ(string_at(*data, "currency"), "USD");
  EXPECT_EQ(string_at(*data, "paymentMethod"), "CARD");
  EXPECT_EQ(string_at(*data, "terminalId"), terminal_id);
  EXPECT_EQ(json_at(*data, "metadata"),
            R"({"orderId":"order-)" + std::string(transaction_id) + R"("})");
}

TEST_F(WebhookDeliveryTest, EachFinalStatusArrivesOnceWithTheSpecPayload) {
  pay_and_answer(merchant_, device_, terminal_, "T-OK", "SUCCESS");
  pay_and_answer(merchant_, device_, terminal_, "T-DECLINED", "FAILED");
  pay_and_answer(merchant_, device_, terminal_, "T-CANCELLED", "CANCELLED");
  ASSERT_TRUE(wait_for_events(receiver_, {"T-OK", "T-DECLINED", "T-CANCELLED"}));
  auto events = expect_once_per_transaction(receiver_, {"T-OK", "T-DECLINED", "T-CANCELLED"});

  const auto& ok = events["T-OK"].payload;
  expect_payment_data(ok, "payment.completed", "T-OK", "SUCCESS", device_.device_id);
  EXPECT_EQ(json_at(*ok.find("data"), "authorizationCode"), R"("AUTH-T-OK")");
  EXPECT_EQ(json_at(*ok.find("data"), "errorCode"), "null");
  EXPECT_EQ(json_at(*ok.find("data"), "receiptData"), R"("functional test receipt")");
  const auto& declined = events["T-DECLINED"].payload;
  expect_payment_data(declined, "payment.failed", "T-DECLINED", "FAILED", device_.device_id);
  EXPECT_EQ(json_at(*declined.find("data"), "errorCode"), R"("INSUFFICIENT_FUNDS")");
  EXPECT_EQ(json_at(*declined.find("data"), "errorMessage"), R"("Declined")");
  EXPECT_EQ(json_at(*declined.find("data"), "authorizationCode"), "null");
  expect_payment_data(events["T-CANCELLED"].payload, "payment.cancelled", "T-CANCELLED",
                      "CANCELLED", device_.device_id);

  // Headers of the Standard Webhooks scheme; the event's time matches the transaction's.
  for (const auto& [id, event] : events) {
    const auto& request = event.request;
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.target, "/webhook");
    EXPECT_EQ(request.header("content-type"), "application/json");
    EXPECT_EQ(request.header("webhook-id"), event.event_id);
    EXPECT_TRUE(request.header("webhook-signature").value_or("").starts_with("v1,"));
    const auto sent = std::stoll(request.header("webhook-timestamp").value_or("0"));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_LE(std::abs(now - sent), 30);
  }
  const auto transaction = parse_json(get_transaction(merchant_, "T-OK").body);
  EXPECT_EQ(json_at(transaction, "completedAt"), json_at(ok, "timestamp"));

  // Each delivery: succeeded at the first attempt, an HTTP 200 and its duration.
  const auto delivery = wait_delivery("T-OK", "succeeded");
  EXPECT_EQ(string_at(delivery, "eventId"), events["T-OK"].event_id);
  EXPECT_EQ(string_at(delivery, "eventType"), "payment.completed");
  EXPECT_EQ(string_at(delivery, "endpointId"), endpoint_.endpoint_id);
  EXPECT_TRUE(string_at(delivery, "deliveryId").starts_with("dlv_"));
  EXPECT_EQ(json_at(delivery, "nextAttemptAt"), "null");
  EXPECT_EQ(int_at(delivery, "attemptCount"), 1);
  // The payload listed is, byte for byte, the body the receiver got and verified.
  EXPECT_EQ(string_at(delivery, "payload"), events["T-OK"].request.body);
  const auto attempts = attempts_of(delivery);
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_TRUE(IsIsoMs(attempts[0].find("at")));
  EXPECT_EQ(int_at(attempts[0], "httpStatus"), 200);
  EXPECT_EQ(json_at(attempts[0], "error"), "null");
  EXPECT_GE(int_at(attempts[0], "durationMs").value_or(-1), 0);
}

TEST_F(WebhookDeliveryTest, TheSignatureVerifiesWithTheOpensslCommandLine) {
  pay_and_answer(merchant_, device_, terminal_, "T-SIG", "SUCCESS");
  ASSERT_TRUE(wait_for_events(receiver_, {"T-SIG"}));
  const auto event = expect_once_per_transaction(receiver_, {"T-SIG"})["T-SIG"];
  const auto& request = event.request;
  // An independent HMAC: the key is the base64 after whsec_, the signed content is
  // "id.timestamp.body", and the header carries "v1," + base64 of the MAC.
  const auto dir = gateway().dir();
  std::ofstream(dir / "signed-content", std::ios::binary)
      << request.header("webhook-id").value_or("") << '.'
      << request.header("webhook-timestamp").value_or("") << '.' << request.body;
  std::ofstream(dir / "secret-b64") << endpoint_.secret.substr(6);
  const auto key_hex =
      run_shell("base64 -d '" + (dir / "secret-b64").string() + "' | od -An -vtx1 | tr -d ' \\n'");
  ASSERT_EQ(key_hex.size(), 64U) << key_hex;
  const auto mac = run_shell("openssl dgst -sha256 -mac HMAC -macopt hexkey:" + key_hex +
                             " -binary '" + (dir / "signed-content").string() + "' | base64");
  ASSERT_FALSE(mac.empty());
  EXPECT_EQ(request.header("webhook-signature"), "v1," + mac);
}

TEST_F(WebhookDeliveryTest, AReceiverFailingTheFirstAttemptsGetsItOnTheScheduleWithJitter) {
  receiver_.script({ReceiverReply::with_status(500), ReceiverReply::with_status(500),
                    ReceiverReply::with_status(500)});
  pay_and_answer(merchant_, device_, terminal_, "T-RETRY", "SUCCESS");
  const auto delivery = wait_delivery("T-RETRY", "succeeded");
  auto events = expect_once_per_transaction(receiver_, {"T-RETRY"});
  EXPECT_EQ(events["T-RETRY"].copies, 4);
  const auto attempts = attempts_of(delivery);
  ASSERT_EQ(attempts.size(), 4U) << json::serialize(delivery);
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    EXPECT_EQ(int_at(attempts[i], "httpStatus"), i < 3 ? 500 : 200);
    EXPECT_EQ(json_at(attempts[i], "error"), "null");
  }
  // TILLGATE_WEBHOOK_RETRY_S=1,1,1: each retry 1 s after the failure, give or take 10%.
  for (std::size_t i = 1; i < attempts.size(); ++i) {
    const auto previous = *domain::parse_iso8601(string_at(attempts[i - 1], "at"));
    const auto at = *domain::parse_iso8601(string_at(attempts[i], "at"));
    const auto gap = (at - previous).count() - int_at(attempts[i - 1], "durationMs").value_or(0);
    EXPECT_GE(gap, 880) << "attempt " << i;
    EXPECT_LE(gap, 1600) << "attempt " << i;
  }
}

TEST_F(WebhookDeliveryTest, AReceiverDownForAWhileGetsItWhenBack) {
  receiver_.set_down(true);
  pay_and_answer(merchant_, device_, terminal_, "T-DOWN", "SUCCESS");
  ASSERT_TRUE(eventually(
      [&] {
        const auto delivery = only_delivery(merchant_, "?transactionId=T-DOWN");
        return int_at(delivery, "attemptCount").value_or(0) >= 2;
      },
      10s));
  receiver_.set_down(false);
  const auto delivery = wait_delivery("T-DOWN", "succeeded");
  ASSERT_TRUE(wait_for_events(receiver_, {"T-DOWN"}));
  expect_once_per_transaction(receiver_, {"T-DOWN"});
  const auto attempts = attempts_of(delivery);
  ASSERT_GE(attempts.size(), 3U);
  EXPECT_EQ(json_at(attempts[0], "httpStatus"), "null");
  EXPECT_NE(string_at(attempts[0], "error").find("refused"), std::string::npos)
      << json::serialize(attempts[0]);
  EXPECT_EQ(int_at(attempts.back(), "httpStatus"), 200);
}

TEST_F(WebhookDeliveryTest, AnAnswerAfterTheAttemptTimeoutIsAFailedAttempt) {
  // The attempt timeout is 1 s here (10 s by default).
  receiver_.script({ReceiverReply::delayed(1800ms), ReceiverReply::dropped(100ms)});
  pay_and_answer(merchant_, device_, terminal_, "T-SLOW", "SUCCESS");
  const auto delivery = wait_delivery("T-SLOW", "succeeded");
  const auto attempts = attempts_of(delivery);
  ASSERT_EQ(attempts.size(), 3U) << json::serialize(delivery);
  EXPECT_NE(string_at(attempts[0], "error").find("timeout after 1000 ms"), std::string::npos)
      << json::serialize(attempts[0]);
  EXPECT_GE(int_at(attempts[0], "durationMs").value_or(0), 1000);
  EXPECT_LT(int_at(attempts[0], "durationMs").value_or(0), 1500);
  EXPECT_NE(string_at(attempts[1], "error").find("closed by the endpoint"), std::string::npos)
      << json::serialize(attempts[1]);
  EXPECT_EQ(int_at(attempts[2], "httpStatus"), 200);
  // The receiver saw the event three times, under one eventId.
  auto events = expect_once_per_transaction(receiver_, {"T-SLOW"});
  EXPECT_EQ(events["T-SLOW"].copies, 3);
}

TEST_F(WebhookDeliveryTest, NonSuccessCodesAreFailedAttempts) {
  receiver_.script({ReceiverReply::with_status(302), ReceiverReply::with_status(404),
                    ReceiverReply::with_status(429)});
  pay_and_answer(merchant_, device_, terminal_, "T-CODES", "FAILED");
  const auto delivery = wait_delivery("T-CODES", "succeeded");
  const auto attempts = attempts_of(delivery);
  ASSERT_EQ(attempts.size(), 4U) << json::serialize(delivery);
  EXPECT_EQ(int_at(attempts[0], "httpStatus"), 302);  // redirects are not followed
  EXPECT_EQ(int_at(attempts[1], "httpStatus"), 404);
  EXPECT_EQ(int_at(attempts[2], "httpStatus"), 429);
  EXPECT_EQ(int_at(attempts[3], "httpStatus"), 200);
}

TEST_F(WebhookDeliveryTest, EveryEventArrivesOnceUnderMixedFaults) {
  // The first replies fail in every way; each event is retried until it gets a 2xx.
  receiver_.script({ReceiverReply::with_status(500), ReceiverReply::dropped(),
                    ReceiverReply::delayed(1500ms), ReceiverReply::with_status(503),
                    ReceiverReply::dropped(200ms), ReceiverReply::with_status(400),
                    ReceiverReply::with_status(500), ReceiverReply::delayed(1200ms, 500)});
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back("T-MIX-" + std::to_string(i));
    pay_and_answer(merchant_, device_, terminal_, ids.back(), i % 2 == 0 ? "SUCCESS" : "FAILED");
  }
  for (const auto& id : ids) {
    (void)wait_delivery(id, "succeeded");
  }
  const auto events = expect_once_per_transaction(receiver_, ids);
  int copies = 0;
  for (const auto& [id, event] : events) {
    copies += event.copies;
  }
  EXPECT_GT(copies, 6);  // the faults cost retries, never an event
}

TEST_F(WebhookDeliveryTest, AFailedDeliveryCanBeRetriedByHand) {
  // Four attempts with TILLGATE_WEBHOOK_RETRY_S=1,1,1, all refused: failed.
  receiver_.set_default(ReceiverReply::with_status(500));
  pay_and_answer(merchant_, device_, terminal_, "T-MANUAL", "SUCCESS");
  auto delivery = wait_delivery("T-MANUAL", "failed");
  EXPECT_EQ(attempts_of(delivery).size(), 4U);
  EXPECT_EQ(json_at(delivery, "nextAttemptAt"), "null");
  EXPECT_EQ(receiver_.request_count(), 1U + 4U);  // the ping, then four attempts

  receiver_.set_default(ReceiverReply::with_status(204));
  const auto delivery_id = string_at(delivery, "deliveryId");
  const auto res =
      signed_request(merchant_, "POST", "/v1/webhooks/deliveries/" + delivery_id + "/retry");
  ASSERT_EQ(res.status, 202) << res.body;
  const auto accepted = parse_json(res.body);
  EXPECT_EQ(string_at(accepted, "deliveryId"), delivery_id);
  EXPECT_EQ(string_at(accepted, "status"), "pending");
  EXPECT_TRUE(IsIsoMs(accepted.find("nextAttemptAt")));
  delivery = wait_delivery("T-MANUAL", "succeeded");
  const auto attempts = attempts_of(delivery);
  ASSERT_EQ(attempts.size(), 5U);
  EXPECT_EQ(int_at(attempts[4], "httpStatus"), 204);
  auto events = expect_once_per_transaction(receiver_, {"T-MANUAL"});
  EXPECT_EQ(events["T-MANUAL"].copies, 5);

  // A succeeded delivery may be sent again too (the receiver deduplicates on eventId).
  ASSERT_EQ(
      signed_request(merchant_, "POST", "/v1/webhooks/deliveries/" + delivery_id + "/retry").status,
      202);
  ASSERT_TRUE(eventually([&] { return receiver_.request_count() == 1U + 6U; }));
  expect_once_per_transaction(receiver_, {"T-MANUAL"});

  expect_error(signed_request(merchant_, "POST", "/v1/webhooks/deliveries/dlv_nosuch/retry"), 404,
               "DELIVERY_NOT_FOUND");
  // A disabled endpoint's deliveries wait for it to be enabled.
  ASSERT_EQ(signed_request(merchant_, "PUT", "/v1/webhooks/endpoints/" + endpoint_.endpoint_id,
                           R"({"status":"disabled"})")
                .status,
            200);
  expect_error(
      signed_request(merchant_, "POST", "/v1/webhooks/deliveries/" + delivery_id + "/retry"), 409,
      "ENDPOINT_INACTIVE");
}

TEST_F(WebhookDeliveryTest, ADisabledEndpointGetsNothingNewAndDeletingFailsWhatIsPending) {
  ASSERT_EQ(signed_request(merchant_, "PUT", "/v1/webhooks/endpoints/" + endpoint_.endpoint_id,
                           R"({"status":"disabled"})")
                .status,
            200);
  WebhookReceiver other;
  const auto second = create_endpoint(merchant_, other.url(), R"(["payment.failed"])");
  pay_and_answer(merchant_, device_, terminal_, "T-DIS-1", "SUCCESS");  // no active subscriber
  pay_and_answer(merchant_, device_, terminal_, "T-DIS-2", "FAILED");   // the second endpoint only
  ASSERT_TRUE(wait_for_events(other, {"T-DIS-2"}));
  const auto listed = deliveries(merchant_);
  ASSERT_EQ(listed.find("deliveries")->as_array().size(), 1U) << json::serialize(listed);
  EXPECT_EQ(string_at(listed.find("deliveries")->as_array()[0], "endpointId"), second.endpoint_id);
  EXPECT_EQ(receiver_.request_count(), 1U);  // the ping only

  // Deleting an endpoint fails its pending deliveries; they stay listed.
  other.set_down(true);
  pay_and_answer(merchant_, device_, terminal_, "T-DIS-3", "FAILED");
  ASSERT_TRUE(eventually([&] {
    return int_at(only_delivery(merchant_, "?transactionId=T-DIS-3"), "attemptCount").value_or(0) >=
           1;
  }));
  ASSERT_EQ(
      signed_request(merchant_, "DELETE", "/v1/webhooks/endpoints/" + second.endpoint_id).status,
      204);
  const auto failed = only_delivery(merchant_, "?transactionId=T-DIS-3");
  EXPECT_EQ(string_at(failed, "status"), "failed");
  EXPECT_EQ(json_at(failed, "nextAttemptAt"), "null");
}

TEST_F(WebhookDeliveryTest, TheDeliveriesListFiltersAndPages) {
  WebhookReceiver second_receiver;
  const auto second = create_endpoint(merchant_, second_receiver.url());
  for (int i = 0; i < 3; ++i) {
    pay_and_answer(merchant_, device_, terminal_, "T-LIST-" + std::to_string(i), "SUCCESS");
  }
  ASSERT_TRUE(wait_for_events(second_receiver, {"T-LIST-0", "T-LIST-1", "T-LIST-2"}));
  const auto all = deliveries(merchant_);
  const auto& items = all.find("deliveries")->as_array();
  ASSERT_EQ(items.size(), 6U);
  EXPECT_EQ(string_at(items[0], "transactionId"), "T-LIST-2");  // newest first
  EXPECT_EQ(string_at(items[5], "transactionId"), "T-LIST-0");
  EXPECT_EQ(json_at(all, "nextCursor"), "null");
  EXPECT_TRUE(IsIsoMs(all.find("timestamp")));

  const auto for_second = deliveries(merchant_, "?endpointId=" + second.endpoint_id);
  ASSERT_EQ(for_second.find("deliveries")->as_array().size(), 3U);
  for (const auto& item : for_second.find("deliveries")->as_array()) {
    EXPECT_EQ(string_at(item, "endpointId"), second.endpoint_id);
  }
  EXPECT_TRUE(deliveries(merchant_, "?status=failed").find("deliveries")->as_array().empty());

  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 4; ++page) {
    const auto listed =
        deliveries(merchant_, "?limit=4" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (const auto& item : listed.find("deliveries")->as_array()) {
      paged.push_back(string_at(item, "deliveryId"));
    }
    cursor = string_at(listed, "nextCursor");
    if (cursor.empty()) {
      break;
    }
  }
  ASSERT_EQ(paged.size(), 6U);
  for (std::size_t i = 0; i < paged.size(); ++i) {
    EXPECT_EQ(paged[i], string_at(items[i], "deliveryId"));
  }

  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"?status=done", "status"},
                                                        {"?limit=0", "limit"},
                                                        {"?limit=201", "limit"},
                                                        {"?cursor=bogus", "cursor"}}) {
    const auto error =
        expect_error(signed_request(merchant_, "GET", "/v1/webhooks/deliveries" + query), 400,
                     "VALIDATION_ERROR");
    EXPECT_NE(json_at(error, "details").find(R"("field":")" + field + R"(")"), std::string::npos)
        << query << " " << json::serialize(error);
  }
}

// TIMEOUT and the VOIDED after it: short deadlines.
class WebhookTimeoutTest : public WebhookTest {
 protected:
  EnvMap gateway_env() override {
    auto env = WebhookTest::gateway_env();
    env["TILLGATE_PAYMENT_TIMEOUT_S"] = "1";
    env["TILLGATE_RECONNECT_GRACE_S"] = "1";
    return env;
  }
};

TEST_F(WebhookTimeoutTest, ATimeoutAndItsLaterVoidEachArriveOnce) {
  WebhookReceiver receiver;
  const auto merchant = create_merchant();
  create_endpoint(merchant, receiver.url());
  const auto device = create_device(merchant);
  auto terminal = connect_terminal(device);
  const auto res = signed_request(
      merchant, "POST", payments_path(device.device_id),
      R"({"amount":"12.50","currency":"USD","paymentMethod":"CARD","webhookMode":true,)"
      R"("metadata":{"orderId":"order-T-LATE"},"transactionId":"T-LATE"})");
  ASSERT_EQ(res.status, 202) << res.body;
  (void)read_frame(*terminal.ws, "payment.request");
  (void)read_frame(*terminal.ws, "payment.cancel", 5s);  // the deadline; no answer
  ASSERT_TRUE(eventually([&] { return transaction_status(merchant, "T-LATE") == "TIMEOUT"; }));
  ASSERT_TRUE(wait_for_events(receiver, {"T-LATE"}));
  // The customer paid after all: VOIDED, announced as its own event.
  ASSERT_TRUE(terminal.ws->send_json(result_frame("T-LATE", "SUCCESS", "AUTH-LATE")));
  (void)read_frame(*terminal.ws, "payment.void");  // sent as the change is applied
  (void)read_frame(*terminal.ws, "payment.result.ack");
  ASSERT_TRUE(eventually([&] { return received_events(receiver).size() == 2; }));

  std::map<std::string, ReceivedEvent> by_type;
  for (const auto& [id, event] : received_events(receiver)) {
    by_type[event.event_type] = event;
  }
  ASSERT_EQ(by_type.size(), 2U);
  expect_payment_data(by_type["payment.timeout"].payload, "payment.timeout", "T-LATE", "TIMEOUT",
                      device.device_id);
  expect_payment_data(by_type["payment.voided"].payload, "payment.voided", "T-LATE", "VOIDED",
                      device.device_id);
  EXPECT_EQ(json_at(*by_type["payment.timeout"].payload.find("data"), "authorizationCode"), "null");
  EXPECT_EQ(json_at(*by_type["payment.voided"].payload.find("data"), "authorizationCode"),
            R"("AUTH-LATE")");
  EXPECT_NE(by_type["payment.timeout"].event_id, by_type["payment.voided"].event_id);
}

// Isolation: endpoints that hang hold their own slots, not the others'.
class WebhookIsolationTest : public WebhookTest {
 protected:
  EnvMap gateway_env() override {
    auto env = WebhookTest::gateway_env();
    env["TILLGATE_WEBHOOK_ATTEMPT_TIMEOUT_MS"] = "4000";
    env["TILLGATE_WEBHOOK_LEASE_S"] = "8";  // at least twice the attempt timeout
    env["TILLGATE_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT"] = "2";
    return env;
  }
};

TEST_F(WebhookIsolationTest, ASlowEndpointDelaysNeitherAnotherEndpointNorAnotherMerchant) {
  WebhookReceiver slow;
  WebhookReceiver healthy_same_merchant;
  WebhookReceiver healthy_other_merchant;
  const auto shop = create_merchant("Shop A");
  create_endpoint(shop, slow.url());  // the ping is answered at once
  slow.set_default(ReceiverReply::delayed(10s));
  create_endpoint(shop, healthy_same_merchant.url());
  const auto other = create_merchant("Shop B");
  create_endpoint(other, healthy_other_merchant.url());
  const auto shop_device = create_device(shop);
  auto shop_terminal = connect_terminal(shop_device);
  const auto other_device = create_device(other);
  auto other_terminal = connect_terminal(other_device);

  // Five events for the slow endpoint: its two slots hang, three wait.
  std::vector<std::string> ids;
  std::vector<std::chrono::milliseconds> latencies;
  const auto latency_of = [](const WebhookReceiver& receiver, const std::string& id,
                             std::chrono::system_clock::time_point committed) {
    for (const auto& [event_id, event] : received_events(receiver)) {
      if (event.transaction_id == id) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(event.request.received_at -
                                                                     committed);
      }
    }
    return std::chrono::milliseconds::max();
  };
  for (int i = 0; i < 5; ++i) {
    ids.push_back("T-ISO-" + std::to_string(i));
    pay_and_answer(shop, shop_device, shop_terminal, ids.back(), "SUCCESS");
    const auto committed = std::chrono::system_clock::now();
    ASSERT_TRUE(wait_for_events(healthy_same_merchant, {ids.back()}, 3s)) << ids.back();
    latencies.push_back(latency_of(healthy_same_merchant, ids.back(), committed));
  }
  // Two attempts hang at the slow endpoint, and no third starts while they do.
  ASSERT_TRUE(eventually([&] { return slow.request_count() == 1U + 2U; }, 3s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(slow.request_count(), 1U + 2U);
  pay_and_answer(other, other_device, other_terminal, "T-ISO-B", "SUCCESS");
  const auto committed = std::chrono::system_clock::now();
  ASSERT_TRUE(wait_for_events(healthy_other_merchant, {"T-ISO-B"}, 3s));
  latencies.push_back(latency_of(healthy_other_merchant, "T-ISO-B", committed));

  // Each healthy delivery arrived within a fraction of the slow endpoint's 4 s attempts.
  for (std::size_t i = 0; i < latencies.size(); ++i) {
    EXPECT_LT(latencies[i], 1000ms) << "delivery " << i;
    std::cout << "[ measure ] healthy delivery " << i << " arrived " << latencies[i].count()
              << " ms after the commit, the slow endpoint holding its 2 slots\n";
  }
  expect_once_per_transaction(healthy_same_merchant, ids);
}

}  // namespace
}  // namespace tillgate::ft
