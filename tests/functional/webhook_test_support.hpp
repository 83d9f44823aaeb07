#pragma once
// Shared pieces of the webhook functional tests: a gateway with short webhook timings, the
// endpoints API, a payment driven to a final status over a raw terminal, and what a
// receiver got, deduplicated by eventId as webhooks.md tells receivers to do.
#include <map>
#include <string>
#include <vector>

#include "../support/webhook_receiver.hpp"
#include "test_support.hpp"

namespace tillgate::ft {

using testing::ReceivedRequest;
using testing::ReceiverReply;
using testing::WebhookReceiver;

struct Endpoint {
  std::string endpoint_id;
  std::string secret;
};

// One payment event as a receiver got it.
struct ReceivedEvent {
  std::string event_id;
  std::string event_type;
  std::string transaction_id;
  json::Value payload;
  ReceivedRequest request;  // the first request that carried it
  int copies = 0;           // requests that carried it (retries, redeliveries)
};

class WebhookTest : public GatewayTest {
 protected:
  // http:// allowed (the receiver is plain HTTP), retries 1 s apart, 1 s per attempt.
  EnvMap gateway_env() override;

  // POST /v1/webhooks/endpoints, asserting 201; the receiver answers the ping (a 2xx).
  Endpoint create_endpoint(const Merchant& merchant, const std::string& url,
                           std::string_view events_json = {});
  // A webhookMode payment on a connected raw terminal, answered with `result_status`
  // (SUCCESS, FAILED, CANCELLED) and acknowledged: the status change is committed.
  void pay_and_answer(const Merchant& merchant, const Device& device, HelloResult& terminal,
                      std::string_view transaction_id, std::string_view result_status,
                      std::string_view amount = "12.50");
  // GET /v1/webhooks/deliveries (with `query`, e.g. "?transactionId=T1"), asserting 200.
  json::Value deliveries(const Merchant& merchant, std::string_view query = {});
  // The one delivery listed for `query`, asserting there is exactly one.
  json::Value only_delivery(const Merchant& merchant, std::string_view query);
};

// The payment events a receiver got, by eventId (pings left out).
std::map<std::string, ReceivedEvent> received_events(const WebhookReceiver& receiver);
// Waits until the receiver has a payment event for each of `transaction_ids`.
bool wait_for_events(const WebhookReceiver& receiver,
                     const std::vector<std::string>& transaction_ids,
                     std::chrono::milliseconds timeout = std::chrono::seconds(15));
// Asserts one distinct eventId per transaction (whatever the copies) and that every copy
// of an event has the same body; returns the events by transactionId.
std::map<std::string, ReceivedEvent> expect_once_per_transaction(
    const WebhookReceiver& receiver, const std::vector<std::string>& transaction_ids);

}  // namespace tillgate::ft
