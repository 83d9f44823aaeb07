#include "webhook_test_support.hpp"

#include <algorithm>
#include <set>

namespace tillgate::ft {

EnvMap WebhookTest::gateway_env() {
  return {{"TILLGATE_WEBHOOK_ALLOW_HTTP", "1"},
          {"TILLGATE_WEBHOOK_ALLOW_PRIVATE", "1"},
          {"TILLGATE_WEBHOOK_RETRY_S", "1,1,1"},
          {"TILLGATE_WEBHOOK_ATTEMPT_TIMEOUT_MS", "1000"},
          // An attempt cut off by a kill is made again this soon (twice the timeout).
          {"TILLGATE_WEBHOOK_LEASE_S", "2"}};
}

Endpoint WebhookTest::create_endpoint(const Merchant& merchant, const std::string& url,
                                      std::string_view events_json) {
  std::string body = R"({"url":")" + url + R"(")";
  if (!events_json.empty()) {
    body += R"(,"events":)" + std::string(events_json);
  }
  body += "}";
  const auto res = signed_request(merchant, "POST", "/v1/webhooks/endpoints", body);
  EXPECT_EQ(res.status, 201) << res.body;
  const auto created = parse_json(res.body);
  Endpoint endpoint{string_at(created, "endpointId"), string_at(created, "secret")};
  EXPECT_TRUE(endpoint.endpoint_id.starts_with("wh_")) << res.body;
  EXPECT_TRUE(endpoint.secret.starts_with("whsec_")) << res.body;
  return endpoint;
}

void WebhookTest::pay_and_answer(const Merchant& merchant, const Device& device,
                                 HelloResult& terminal, std::string_view transaction_id,
                                 std::string_view result_status, std::string_view amount) {
  const std::string body = R"({"amount":")" + std::string(amount) +
                           R"(","currency":"USD","paymentMethod":"CARD","webhookMode":true,)"
                           R"("metadata":{"orderId":"order-)" +
                           std::string(transaction_id) + R"("},"transactionId":")" +
                           std::string(transaction_id) + R"("})";
  const auto res = signed_request(merchant, "POST", payments_path(device.device_id), body);
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(string_at(read_frame(*terminal.ws, "payment.request"), "transactionId"),
            transaction_id);
  json::Value result;
  if (result_status == "SUCCESS") {
    result = result_frame(transaction_id, "SUCCESS", "AUTH-" + std::string(transaction_id));
  } else if (result_status == "FAILED") {
    result = result_frame(transaction_id, "FAILED", "", "INSUFFICIENT_FUNDS", "Declined");
  } else {
    result = result_frame(transaction_id, result_status);
  }
  ASSERT_TRUE(terminal.ws->send_json(result));
  (void)read_frame(*terminal.ws, "payment.result.ack");
}

json::Value WebhookTest::deliveries(const Merchant& merchant, std::string_view query) {
  const auto res = signed_request(merchant, "GET", "/v1/webhooks/deliveries" + std::string(query));
  EXPECT_EQ(res.status, 200) << res.body;
  return parse_json(res.body);
}

json::Value WebhookTest::only_delivery(const Merchant& merchant, std::string_view query) {
  const auto listed = deliveries(merchant, query);
  const auto* items = listed.find("deliveries");
  if (items == nullptr || !items->is_array() || items->as_array().size() != 1) {
    ADD_FAILURE() << "expected one delivery for " << query << ": " << json::serialize(listed);
    return json::Value();
  }
  return items->as_array()[0];
}

std::map<std::string, ReceivedEvent> received_events(const WebhookReceiver& receiver) {
  std::map<std::string, ReceivedEvent> events;
  for (const auto& request : receiver.requests()) {
    auto payload = json::parse(request.body);
    if (!payload || payload->find_string("eventType").value_or("") == "ping") {
      continue;
    }
    const std::string event_id(payload->find_string("eventId").value_or(""));
    auto& event = events[event_id];
    if (event.copies++ == 0) {
      event.event_id = event_id;
      event.event_type = payload->find_string("eventType").value_or("");
      const auto* data = payload->find("data");
      event.transaction_id = data != nullptr ? string_at(*data, "transactionId") : "";
      event.payload = std::move(*payload);
      event.request = request;
    } else {
      EXPECT_EQ(request.body, event.request.body) << "two bodies for one eventId " << event_id;
    }
  }
  return events;
}

bool wait_for_events(const WebhookReceiver& receiver,
                     const std::vector<std::string>& transaction_ids,
                     std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        std::set<std::string> seen;
        for (const auto& [id, event] : received_events(receiver)) {
          seen.insert(event.transaction_id);
        }
        return std::all_of(transaction_ids.begin(), transaction_ids.end(),
                           [&](const std::string& id) { return seen.contains(id); });
      },
      timeout);
}

std::map<std::string, ReceivedEvent> expect_once_per_transaction(
    const WebhookReceiver& receiver, const std::vector<std::string>& transaction_ids) {
  std::map<std::string, ReceivedEvent> by_transaction;
  for (auto& [event_id, event] : received_events(receiver)) {
    EXPECT_TRUE(event_id.starts_with("evt_")) << event_id;
    EXPECT_FALSE(by_transaction.contains(event.transaction_id))
        << "two eventIds for transaction " << event.transaction_id;
    EXPECT_EQ(event.request.header("webhook-id"), event_id);
    by_transaction[event.transaction_id] = event;
  }
  EXPECT_EQ(by_transaction.size(), transaction_ids.size());
  for (const auto& id : transaction_ids) {
    EXPECT_TRUE(by_transaction.contains(id)) << "no event for " << id;
  }
  return by_transaction;
}

}  // namespace tillgate::ft
