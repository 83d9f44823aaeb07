// webhooks.md, "Endpoints API": create (validation ping, secret shown once, https only
// unless TILLGATE_WEBHOOK_ALLOW_HTTP=1, at most 16), list without secrets, get, partial
// update (a new URL is pinged again), delete.
#include <gtest/gtest.h>

#include "domain/time.hpp"
#include "openapi_check.hpp"
#include "webhook_test_support.hpp"
#include "webhooks/signature.hpp"

namespace tillgate::ft {
namespace {

using namespace std::chrono_literals;

class WebhookEndpointsTest : public WebhookTest {
 protected:
  WebhookReceiver receiver_;
};

TEST_F(WebhookEndpointsTest, CreateValidatesWithASignedPingAndShowsTheSecretOnce) {
  const auto merchant = create_merchant();
  const std::string body =
      R"({"url":")" + receiver_.url("/hooks?shop=1") +
      R"(","events":["payment.completed","payment.failed"],"description":"orders",)"
      R"("metadata":{"team":"payments"}})";
  const auto res = signed_request(merchant, "POST", "/v1/webhooks/endpoints", body);
  ASSERT_EQ(res.status, 201) << res.body;
  const auto created = parse_json(res.body);
  const auto endpoint_id = string_at(created, "endpointId");
  const auto secret = string_at(created, "secret");
  EXPECT_TRUE(endpoint_id.starts_with("wh_"));
  EXPECT_EQ(string_at(created, "url"), receiver_.url("/hooks?shop=1"));
  EXPECT_EQ(json_at(created, "events"), R"(["payment.completed","payment.failed"])");
  EXPECT_EQ(string_at(created, "status"), "active");
  EXPECT_EQ(string_at(created, "format"), "standard");
  EXPECT_EQ(string_at(created, "description"), "orders");
  EXPECT_EQ(json_at(created, "metadata"), R"({"team":"payments"})");
  EXPECT_TRUE(IsIsoMs(created.find("createdAt")));
  EXPECT_TRUE(IsIsoMs(created.find("updatedAt")));
  // whsec_ + standard padded base64 of 32 bytes.
  ASSERT_EQ(secret.size(), 6U + 44U) << secret;
  EXPECT_TRUE(webhooks::webhook_secret_key(secret).has_value());

  // The ping came first, signed with that secret, to the URL as given.
  ASSERT_EQ(receiver_.request_count(), 1U);
  const auto ping = receiver_.requests()[0];
  EXPECT_EQ(ping.method, "POST");
  EXPECT_EQ(ping.target, "/hooks?shop=1");
  const auto payload = parse_json(ping.body);
  EXPECT_EQ(string_at(payload, "eventType"), "ping");
  EXPECT_TRUE(string_at(payload, "eventId").starts_with("evt_"));
  EXPECT_TRUE(IsIsoMs(payload.find("timestamp")));
  EXPECT_EQ(json_at(payload, "data"), "{}");
  const auto violations =
      openapi::Document::served().validate(payload, "#/components/schemas/WebhookPingEvent");
  EXPECT_TRUE(violations.empty()) << openapi::describe(violations);
  EXPECT_EQ(ping.header("webhook-id"), string_at(payload, "eventId"));
  EXPECT_EQ(ping.header("content-type"), "application/json");
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  EXPECT_EQ(webhooks::verify_webhook(secret, ping.header("webhook-id").value_or(""),
                                     ping.header("webhook-timestamp").value_or(""), ping.body,
                                     ping.header("webhook-signature").value_or(""), now),
            std::nullopt);

  // Listed and read without the secret.
  const auto listed = parse_json(signed_request(merchant, "GET", "/v1/webhooks/endpoints").body);
  EXPECT_EQ(int_at(listed, "count"), 1);
  EXPECT_TRUE(IsIsoMs(listed.find("timestamp")));
  ASSERT_EQ(listed.find("endpoints")->as_array().size(), 1U);
  const auto& item = listed.find("endpoints")->as_array()[0];
  EXPECT_EQ(string_at(item, "endpointId"), endpoint_id);
  EXPECT_EQ(item.find("secret"), nullptr);
  const auto one = signed_request(merchant, "GET", "/v1/webhooks/endpoints/" + endpoint_id);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(parse_json(one.body).find("secret"), nullptr);
  EXPECT_EQ(one.body.find(secret), std::string::npos);
}

TEST_F(WebhookEndpointsTest, EventsDefaultToEveryPaymentEventAndFormatToStandard) {
  const auto merchant = create_merchant();
  const auto res = signed_request(merchant, "POST", "/v1/webhooks/endpoints",
                                  R"({"url":")" + receiver_.url() + R"(","format":"nomba"})");
  ASSERT_EQ(res.status, 201) << res.body;
  const auto created = parse_json(res.body);
  EXPECT_EQ(json_at(created, "events"),
            R"(["payment.completed","payment.failed","payment.cancelled","payment.timeout",)"
            R"("payment.voided"])");
  EXPECT_EQ(string_at(created, "format"), "nomba");
  const auto plain = create_endpoint(merchant, receiver_.url());
  const auto read = parse_json(
      signed_request(merchant, "GET", "/v1/webhooks/endpoints/" + plain.endpoint_id).body);
  EXPECT_EQ(string_at(read, "format"), "standard");
  EXPECT_EQ(string_at(read, "description"), "");
  EXPECT_EQ(json_at(read, "metadata"), "{}");
}

TEST_F(WebhookEndpointsTest, AnEndpointThatDoesNotAcceptThePingIsNotSaved) {
  const auto merchant = create_merchant();
  const auto path = "/v1/webhooks/endpoints";
  const auto body = R"({"url":")" + receiver_.url() + R"("})";
  receiver_.script({ReceiverReply::with_status(500)});
  auto res =
      expect_error(signed_request(merchant, "POST", path, body), 422, "ENDPOINT_VALIDATION_FAILED");
  EXPECT_NE(string_at(res, "message").find("HTTP 500"), std::string::npos)
      << string_at(res, "message");
  receiver_.script({ReceiverReply::delayed(1500ms)});  // over the 1 s attempt timeout
  res =
      expect_error(signed_request(merchant, "POST", path, body), 422, "ENDPOINT_VALIDATION_FAILED");
  EXPECT_NE(string_at(res, "message").find("timeout"), std::string::npos)
      << string_at(res, "message");
  receiver_.set_down(true);
  res =
      expect_error(signed_request(merchant, "POST", path, body), 422, "ENDPOINT_VALIDATION_FAILED");
  EXPECT_NE(string_at(res, "message").find("refused"), std::string::npos)
      << string_at(res, "message");
  receiver_.set_down(false);
  const auto listed = parse_json(signed_request(merchant, "GET", path).body);
  EXPECT_EQ(int_at(listed, "count"), 0);
}

TEST_F(WebhookEndpointsTest, InvalidFieldsAreNamedInTheDetails) {
  const auto merchant = create_merchant();
  const auto path = "/v1/webhooks/endpoints";
  const auto field_of = [](const json::Value& error) {
    const auto* details = error.find("details");
    return details && details->is_array() && !details->as_array().empty()
               ? string_at(details->as_array()[0], "field")
               : std::string("(no details)");
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "url"},
      {R"({"url":42})", "url"},
      {R"({"url":"not a url"})", "url"},
      {R"({"url":"ftp://hooks.example/x"})", "url"},
      {R"({"url":"https://user:pw@hooks.example/x"})", "url"},
      {R"({"url":"https://hooks.example/x","events":[]})", "events"},
      {R"({"url":"https://hooks.example/x","events":"payment.completed"})", "events"},
      {R"({"url":"https://hooks.example/x","events":["payment.completed","payment.refunded"]})",
       "events[1]"},
      {R"({"url":"https://hooks.example/x","format":"xml"})", "format"},
      {R"({"url":"https://hooks.example/x","description":7})", "description"},
      {R"({"url":"https://hooks.example/x","metadata":{"a":1}})", "metadata.a"},
      {R"({"url":"https://hooks.example/x","metadata":[]})", "metadata"},
      {R"([1])", "body"},
      {R"({"url":)", "body"},
  };
  for (const auto& [body, field] : cases) {
    SCOPED_TRACE(body);
    const auto error =
        expect_error(signed_request(merchant, "POST", path, body), 400, "VALIDATION_ERROR");
    EXPECT_EQ(field_of(error), field) << json::serialize(error);
  }
  EXPECT_EQ(receiver_.request_count(), 0U);  // nothing invalid is pinged
}

TEST_F(WebhookEndpointsTest, AtMostSixteenEndpointsAndADeletedOneFreesItsPlace) {
  const auto merchant = create_merchant();
  std::vector<Endpoint> endpoints;
  for (int i = 0; i < 16; ++i) {
    endpoints.push_back(create_endpoint(merchant, receiver_.url("/e" + std::to_string(i))));
  }
  const auto pings = receiver_.request_count();
  const auto body = R"({"url":")" + receiver_.url("/seventeen") + R"("})";
  expect_error(signed_request(merchant, "POST", "/v1/webhooks/endpoints", body), 409,
               "ENDPOINT_LIMIT_REACHED");
  EXPECT_EQ(receiver_.request_count(), pings);  // refused before pinging
  // Another merchant has its own sixteen.
  const auto other = create_merchant("Other Shop");
  create_endpoint(other, receiver_.url("/other"));

  const auto deleted =
      signed_request(merchant, "DELETE", "/v1/webhooks/endpoints/" + endpoints[3].endpoint_id);
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_TRUE(deleted.body.empty());
  // Idempotent, like revoking a device; but the endpoint is gone.
  EXPECT_EQ(signed_request(merchant, "DELETE", "/v1/webhooks/endpoints/" + endpoints[3].endpoint_id)
                .status,
            204);
  expect_error(
      signed_request(merchant, "GET", "/v1/webhooks/endpoints/" + endpoints[3].endpoint_id), 404,
      "ENDPOINT_NOT_FOUND");
  expect_error(signed_request(merchant, "PUT", "/v1/webhooks/endpoints/" + endpoints[3].endpoint_id,
                              R"({"status":"disabled"})"),
               404, "ENDPOINT_NOT_FOUND");
  const auto listed = parse_json(signed_request(merchant, "GET", "/v1/webhooks/endpoints").body);
  EXPECT_EQ(int_at(listed, "count"), 15);
  create_endpoint(merchant, receiver_.url("/sixteen-again"));
  expect_error(signed_request(merchant, "DELETE", "/v1/webhooks/endpoints/wh_nosuchendpoint"), 404,
               "ENDPOINT_NOT_FOUND");
}

TEST_F(WebhookEndpointsTest, PartialUpdatePingsOnlyANewUrl) {
  const auto merchant = create_merchant();
  const auto endpoint = create_endpoint(merchant, receiver_.url("/v1"));
  const auto path = "/v1/webhooks/endpoints/" + endpoint.endpoint_id;
  ASSERT_EQ(receiver_.request_count(), 1U);

  auto res =
      signed_request(merchant, "PUT", path,
                     R"({"status":"disabled","description":"paused","events":["payment.failed"]})");
  ASSERT_EQ(res.status, 200) << res.body;
  auto updated = parse_json(res.body);
  EXPECT_EQ(string_at(updated, "status"), "disabled");
  EXPECT_EQ(string_at(updated, "description"), "paused");
  EXPECT_EQ(json_at(updated, "events"), R"(["payment.failed"])");
  EXPECT_EQ(string_at(updated, "url"), receiver_.url("/v1"));
  EXPECT_EQ(updated.find("secret"), nullptr);
  EXPECT_EQ(receiver_.request_count(), 1U);  // no new URL, no ping

  // A new URL that does not answer: refused, nothing changes.
  WebhookReceiver dead;
  dead.set_down(true);
  expect_error(
      signed_request(merchant, "PUT", path, R"({"url":")" + dead.url() + R"(","status":"active"})"),
      422, "ENDPOINT_VALIDATION_FAILED");
  updated = parse_json(signed_request(merchant, "GET", path).body);
  EXPECT_EQ(string_at(updated, "url"), receiver_.url("/v1"));
  EXPECT_EQ(string_at(updated, "status"), "disabled");

  // A new URL that answers: pinged, signed with the endpoint's unchanged secret.
  res = signed_request(merchant, "PUT", path,
                       R"({"url":")" + receiver_.url("/v2") + R"(","status":"active"})");
  ASSERT_EQ(res.status, 200) << res.body;
  updated = parse_json(res.body);
  EXPECT_EQ(string_at(updated, "url"), receiver_.url("/v2"));
  EXPECT_EQ(string_at(updated, "status"), "active");
  ASSERT_EQ(receiver_.request_count(), 2U);
  const auto ping = receiver_.requests()[1];
  EXPECT_EQ(ping.target, "/v2");
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  EXPECT_EQ(webhooks::verify_webhook(endpoint.secret, ping.header("webhook-id").value_or(""),
                                     ping.header("webhook-timestamp").value_or(""), ping.body,
                                     ping.header("webhook-signature").value_or(""), now),
            std::nullopt);

  // Problems are named; format cannot change.
  for (const auto& [body, field] :
       std::vector<std::pair<std::string, std::string>>{{R"({"status":"paused"})", "status"},
                                                        {R"({"url":null})", "url"},
                                                        {R"({"format":"nomba"})", "format"},
                                                        {R"({"events":["ping"]})", "events[0]"}}) {
    const auto error =
        expect_error(signed_request(merchant, "PUT", path, body), 400, "VALIDATION_ERROR");
    EXPECT_NE(json_at(error, "details").find(R"("field":")" + field + R"(")"), std::string::npos)
        << json::serialize(error);
  }
  // null clears description and metadata.
  res = signed_request(merchant, "PUT", path, R"({"description":null,"metadata":null})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(string_at(parse_json(res.body), "description"), "");
}

// Without TILLGATE_WEBHOOK_ALLOW_HTTP only https:// URLs are accepted.
class WebhookHttpsOnlyTest : public GatewayTest {};

TEST_F(WebhookHttpsOnlyTest, PlainHttpUrlsAreRefusedWithoutTheFlag) {
  WebhookReceiver receiver;
  const auto merchant = create_merchant();
  const auto error = expect_error(signed_request(merchant, "POST", "/v1/webhooks/endpoints",
                                                 R"({"url":")" + receiver.url() + R"("})"),
                                  400, "VALIDATION_ERROR");
  EXPECT_NE(json_at(error, "details").find("TILLGATE_WEBHOOK_ALLOW_HTTP"), std::string::npos)
      << json::serialize(error);
  EXPECT_EQ(receiver.request_count(), 0U);
}

// Without TILLGATE_WEBHOOK_ALLOW_PRIVATE a merchant cannot point the gateway at the
// gateway's own host or network (server-side request forgery): the ping is never sent.
class WebhookPublicOnlyTest : public GatewayTest {
 protected:
  EnvMap gateway_env() override { return {{"TILLGATE_WEBHOOK_ALLOW_HTTP", "1"}}; }
};

TEST_F(WebhookPublicOnlyTest, LoopbackAndPrivateUrlsAreRefused) {
  WebhookReceiver receiver;
  const auto merchant = create_merchant();
  for (const std::string& url :
       std::vector<std::string>{receiver.url(), receiver.url("/webhook", "localhost"),
                                "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/hook",
                                "http://[::1]:" + std::to_string(receiver.port()) + "/webhook"}) {
    const auto error = expect_error(
        signed_request(merchant, "POST", "/v1/webhooks/endpoints", R"({"url":")" + url + R"("})"),
        422, "ENDPOINT_VALIDATION_FAILED");
    EXPECT_NE(string_at(error, "message").find("TILLGATE_WEBHOOK_ALLOW_PRIVATE"), std::string::npos)
        << url << ": " << string_at(error, "message");
  }
  EXPECT_EQ(receiver.request_count(), 0U);
}

}  // namespace
}  // namespace tillgate::ft
